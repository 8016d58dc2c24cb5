//! Targets: energies (β folded in) with gradients, closure adapters, and transformed targets.

/// A Gibbs density ∝ exp(−energy(y)) on ℝ^dim (β already folded into the energy).
///
/// Outside the support the energy is +∞; such proposals are always rejected.
pub trait Target: Sync {
    /// Dimension of y.
    fn dim(&self) -> usize;
    /// The energy; density ∝ exp(−energy).
    fn energy(&self, y: &[f64]) -> f64;
    /// Fills `g` with ∇energy(y) and returns the energy.
    fn grad(&self, y: &[f64], g: &mut [f64]) -> f64;
}

/// A target from an energy closure and a gradient closure (the gradient closure returns the energy).
pub struct FnTarget<E, G> {
    dim: usize,
    energy: E,
    grad: G,
}

impl<E, G> FnTarget<E, G>
where
    E: Fn(&[f64]) -> f64 + Sync,
    G: Fn(&[f64], &mut [f64]) -> f64 + Sync,
{
    /// Wraps the closures.
    pub fn new(dim: usize, energy: E, grad: G) -> Self {
        Self { dim, energy, grad }
    }
}

impl<E, G> Target for FnTarget<E, G>
where
    E: Fn(&[f64]) -> f64 + Sync,
    G: Fn(&[f64], &mut [f64]) -> f64 + Sync,
{
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&self, y: &[f64]) -> f64 {
        (self.energy)(y)
    }
    fn grad(&self, y: &[f64], g: &mut [f64]) -> f64 {
        (self.grad)(y, g)
    }
}

/// A target from an energy closure alone, with a central finite-difference gradient
/// (step h·max(1, |yᵢ|); error O(h²)). A fallback when no symbolic derivative is available.
pub struct FiniteDiffTarget<E> {
    dim: usize,
    energy: E,
    h: f64,
}

impl<E: Fn(&[f64]) -> f64 + Sync> FiniteDiffTarget<E> {
    /// Wraps the closure with relative step `h` (1e-5 is a good default for smooth energies).
    pub fn new(dim: usize, energy: E, h: f64) -> Self {
        Self { dim, energy, h }
    }
}

impl<E: Fn(&[f64]) -> f64 + Sync> Target for FiniteDiffTarget<E> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn energy(&self, y: &[f64]) -> f64 {
        (self.energy)(y)
    }
    fn grad(&self, y: &[f64], g: &mut [f64]) -> f64 {
        let mut x = y.to_vec();
        for i in 0..self.dim {
            let step = self.h * y[i].abs().max(1.0);
            x[i] = y[i] + step;
            let up = (self.energy)(&x);
            x[i] = y[i] - step;
            let down = (self.energy)(&x);
            x[i] = y[i];
            g[i] = (up - down) / (2.0 * step);
        }
        (self.energy)(y)
    }
}

/// The target with energy multiplied by `beta` (a different temperature).
pub struct ScaledTarget<'a> {
    /// The original target.
    pub inner: &'a dyn Target,
    /// Factor applied to the energy.
    pub beta: f64,
}

impl Target for ScaledTarget<'_> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn energy(&self, y: &[f64]) -> f64 {
        self.beta * self.inner.energy(y)
    }
    fn grad(&self, y: &[f64], g: &mut [f64]) -> f64 {
        let e = self.inner.grad(y, g);
        g.iter_mut().for_each(|v| *v *= self.beta);
        self.beta * e
    }
}

/// The target translated by `shift`: energy(y − shift).
pub struct ShiftedTarget<'a> {
    /// The original target.
    pub inner: &'a dyn Target,
    /// Translation.
    pub shift: Vec<f64>,
}

impl Target for ShiftedTarget<'_> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn energy(&self, y: &[f64]) -> f64 {
        let x: Vec<f64> = y.iter().zip(&self.shift).map(|(a, b)| a - b).collect();
        self.inner.energy(&x)
    }
    fn grad(&self, y: &[f64], g: &mut [f64]) -> f64 {
        let x: Vec<f64> = y.iter().zip(&self.shift).map(|(a, b)| a - b).collect();
        self.inner.grad(&x, g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::stats::targets;

    #[test]
    fn finite_difference_gradient_matches_analytic() {
        let t = targets::ring();
        let fd = FiniteDiffTarget::new(2, |y: &[f64]| t.energy(y), 1e-5);
        for y in [[0.3, -1.2], [1.1, 0.4], [-0.7, 0.05]] {
            let (mut g1, mut g2) = ([0.0; 2], [0.0; 2]);
            t.grad(&y, &mut g1);
            fd.grad(&y, &mut g2);
            for i in 0..2 {
                assert!(
                    (g1[i] - g2[i]).abs() < 1e-7 * (1.0 + g1[i].abs()),
                    "{y:?}: {g1:?} vs {g2:?}"
                );
            }
        }
    }
}
