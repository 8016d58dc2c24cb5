//! Sampling targets: closure adapters and transformed energies (β folded in), all implementing
//! the one [`Energy`] trait of the numeric core.

pub use crate::energy::Energy;

/// The name samplers used for their energy before there was one trait: a Gibbs density
/// ∝ exp(−E(y)) is sampled from an [`Energy`] with β already folded in (outside the support
/// the energy is +∞; such proposals are always rejected). Implement [`Energy`] (`dim`, `eval`
/// and, for gradient samplers, `grad`); `Target` is kept so code naming it still compiles.
pub use crate::energy::Energy as Target;

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

impl<E, G> Energy for FnTarget<E, G>
where
    E: Fn(&[f64]) -> f64 + Sync,
    G: Fn(&[f64], &mut [f64]) -> f64 + Sync,
{
    fn dim(&self) -> usize {
        self.dim
    }
    fn eval(&self, y: &[f64]) -> f64 {
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

impl<E: Fn(&[f64]) -> f64 + Sync> Energy for FiniteDiffTarget<E> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn eval(&self, y: &[f64]) -> f64 {
        (self.energy)(y)
    }
    fn grad(&self, y: &[f64], g: &mut [f64]) -> f64 {
        crate::energy::central_difference(&self.energy, y, self.h, g)
    }
}

/// The target with energy multiplied by `beta` (a different temperature).
pub struct ScaledTarget<'a> {
    /// The original target.
    pub inner: &'a dyn Energy,
    /// Factor applied to the energy.
    pub beta: f64,
}

impl Energy for ScaledTarget<'_> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn eval(&self, y: &[f64]) -> f64 {
        self.beta * self.inner.eval(y)
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
    pub inner: &'a dyn Energy,
    /// Translation.
    pub shift: Vec<f64>,
}

impl Energy for ShiftedTarget<'_> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn eval(&self, y: &[f64]) -> f64 {
        let x: Vec<f64> = y.iter().zip(&self.shift).map(|(a, b)| a - b).collect();
        self.inner.eval(&x)
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
        let fd = FiniteDiffTarget::new(2, |y: &[f64]| t.eval(y), 1e-5);
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
