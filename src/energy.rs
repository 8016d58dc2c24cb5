//! The one energy trait of the numeric core: what quadrature integrates and samplers sample.
//!
//! An [`Energy`] is a function of `dim` coordinates with, optionally, its gradient and interval
//! enclosures. `quad` integrates `exp(-β E)` with β passed separately; a sampler draws from a
//! density ∝ `exp(-E)`, so β is folded into the energy it is given (`sample::ScaledTarget`).
//! A sampler author writes the energy once: [`Energy::eval`] alone is enough for quadrature
//! and for value-only samplers (random-walk Metropolis); gradient samplers (MALA, HMC) call
//! [`Energy::grad`], which defaults to a central finite difference and should be overridden
//! with the exact gradient when one is known.

use crate::expr::Interval;

/// Relative step of the default finite-difference gradient ([`Energy::grad`]): the step on
/// coordinate `i` is `FD_STEP · max(1, |zᵢ|)`, so the error is O(step²) for smooth energies.
pub const FD_STEP: f64 = 1e-5;

/// An energy over `R^d` (or a subset: `+inf` outside the support).
///
/// The point has one coordinate per variable, in order (for quadrature, the variables of the
/// `quad::Domain`); integer variables are passed as exact integral `f64` values. `+inf` is an
/// allowed value (zero weight; a sampler always rejects a proposal there); NaN is an error for
/// quadrature. The quadrature may call [`Energy::eval_batch`] with many points at once.
pub trait Energy: Sync {
    /// Number of variables (continuous and integer) the energy takes.
    fn dim(&self) -> usize;
    /// Energy at one point `z` (`z.len() == self.dim()`).
    fn eval(&self, z: &[f64]) -> f64;
    /// Energies at `out.len()` points stored row-major in `points` (n × dim).
    fn eval_batch(&self, points: &[f64], out: &mut [f64]) {
        let d = self.dim().max(1);
        for (p, o) in points.chunks_exact(d).zip(out.iter_mut()) {
            *o = self.eval(p);
        }
    }
    /// Fills `g` with the gradient ∇E(z) and returns E(z).
    ///
    /// The default is a central finite difference with relative step [`FD_STEP`]
    /// ([`central_difference`]); an energy that knows its gradient should override it, since
    /// gradient samplers (MALA, HMC) call it at every step.
    fn grad(&self, z: &[f64], g: &mut [f64]) -> f64 {
        central_difference(&|x: &[f64]| self.eval(x), z, FD_STEP, g)
    }
    /// An enclosure of the energy over the box `b` (one interval per variable, ends possibly
    /// infinite, integer variables as single points): every value at a point of the box lies
    /// inside, rounding included. `None` (the default) when the energy cannot say; the
    /// quadrature then cannot certify the mass of regions it did not integrate.
    fn enclose(&self, b: &[Interval]) -> Option<Interval> {
        let _ = b;
        None
    }
    /// Enclosures of the partial derivatives over the box `b`, written to `out` (one per
    /// variable); `false` (the default) when not available.
    fn enclose_gradient(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        let _ = (b, out);
        false
    }
    /// Whether [`Energy::enclose`] can answer.
    fn has_enclosure(&self) -> bool {
        false
    }
    /// Enclosures of the second partial derivatives over the box `b`, written row-major to
    /// `out` (`d × d`); `false` (the default) when not available. Only energies with
    /// continuous first derivatives may answer (a kink's second derivative is not a function).
    fn enclose_hessian(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        let _ = (b, out);
        false
    }
    /// The components of an energy written as a mixture (`-logsumexp(-E1, -E2, …)`,
    /// `-log(Σ w·exp(-Eᵢ))`, `min(E1, E2, …)`), over the same variables; empty (the default)
    /// when it is none or cannot say. Every mode of `exp(-βE)` lies at or near a minimum of
    /// one of them, so the quadrature's search for minima also starts from theirs.
    fn components(&self) -> Vec<&dyn Energy> {
        Vec::new()
    }
    /// A hash of the energy as a function (equal energies, equal hashes), under which the
    /// quadrature may reuse the certified bounds it computed for an earlier, identical problem;
    /// `None` (the default) when the energy cannot say.
    fn fingerprint(&self) -> Option<u128> {
        None
    }
}

/// Central finite-difference gradient of `f` at `z` with relative step `h` (the step on
/// coordinate `i` is `h · max(1, |zᵢ|)`; error O(h²) for smooth `f`), written to `g`; returns
/// `f(z)`. Takes `2·dim + 1` evaluations.
pub fn central_difference(f: &dyn Fn(&[f64]) -> f64, z: &[f64], h: f64, g: &mut [f64]) -> f64 {
    let mut x = z.to_vec();
    for i in 0..z.len() {
        let step = h * z[i].abs().max(1.0);
        x[i] = z[i] + step;
        let up = f(&x);
        x[i] = z[i] - step;
        let down = f(&x);
        x[i] = z[i];
        g[i] = (up - down) / (2.0 * step);
    }
    f(z)
}

/// Adapter making a closure an [`Energy`]: `FnEnergy::new(2, |z: &[f64]| z[0] * z[0] + z[1].abs())`.
/// Its gradient is the default finite difference; `sample::FnTarget` takes an exact one.
pub struct FnEnergy<F> {
    dim: usize,
    f: F,
}

impl<F: Fn(&[f64]) -> f64 + Sync> FnEnergy<F> {
    /// Wraps `f`, which takes points of `dim` coordinates.
    pub fn new(dim: usize, f: F) -> Self {
        Self { dim, f }
    }
}

impl<F: Fn(&[f64]) -> f64 + Sync> Energy for FnEnergy<F> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn eval(&self, z: &[f64]) -> f64 {
        (self.f)(z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_only_energy_gets_a_finite_difference_gradient() {
        // E = z0² z1 + sin z1: ∇E = (2 z0 z1, z0² + cos z1).
        let e = FnEnergy::new(2, |z: &[f64]| z[0] * z[0] * z[1] + z[1].sin());
        for z in [[0.3, -1.2], [1.1, 0.4], [-70.0, 0.05]] {
            let mut g = [0.0; 2];
            let v = e.grad(&z, &mut g);
            assert_eq!(v.to_bits(), e.eval(&z).to_bits());
            let exact = [2.0 * z[0] * z[1], z[0] * z[0] + z[1].cos()];
            for i in 0..2 {
                // O(h²) truncation (h = 1e-5·max(1, |zᵢ|)) plus rounding ~1e-16·|E|/h: below 3e-9
                // at these points.
                let tol = 1e-7 * (1.0 + exact[i].abs());
                assert!(
                    (g[i] - exact[i]).abs() < tol,
                    "{z:?}: {g:?} vs {exact:?} (tol {tol:e})"
                );
            }
        }
    }
}
