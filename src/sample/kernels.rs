//! Markov kernels behind one trait: random-walk Metropolis, MALA and HMC, plus closures `(state, rng) -> state`.

use super::{Energy, Rng, SampleError};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};

/// A chain's state with its cached energy (and gradient, when a kernel computed it).
#[derive(Debug, Clone)]
pub struct State {
    /// Position.
    pub y: Vec<f64>,
    /// energy(y).
    pub energy: f64,
    /// ∇energy(y), if known.
    pub grad: Option<Vec<f64>>,
}

impl State {
    /// Evaluates the energy at `y`.
    pub fn new(target: &dyn Energy, y: Vec<f64>) -> Self {
        let energy = target.eval(&y);
        Self {
            y,
            energy,
            grad: None,
        }
    }

    fn grad(&mut self, target: &dyn Energy) -> &[f64] {
        if self.grad.is_none() {
            let mut g = vec![0.0; self.y.len()];
            self.energy = target.grad(&self.y, &mut g);
            self.grad = Some(g);
        }
        self.grad.as_deref().unwrap_or(&[])
    }
}

/// One Markov transition that should leave exp(−energy) invariant.
pub trait Kernel: Sync {
    /// Advances `state` by one transition; `scale` multiplies the kernel's step size (1 unless
    /// adapted during warmup). Returns whether a proposal was accepted.
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool;

    /// Target acceptance rate for step-size adaptation during warmup, if enabled.
    fn adapt_target(&self) -> Option<f64> {
        None
    }
}

/// Any closure `(state, rng) -> new state` is a kernel (users' own samplers). Its "acceptance" is
/// the fraction of steps that moved.
impl<F> Kernel for F
where
    F: Fn(&[f64], &mut Rng) -> Vec<f64> + Sync,
{
    fn step(&self, target: &dyn Energy, state: &mut State, _scale: f64, rng: &mut Rng) -> bool {
        let next = self(&state.y, rng);
        #[allow(
            clippy::float_cmp,
            reason = "a rejected move returns the identical state"
        )]
        let moved = next != state.y;
        if moved {
            *state = State::new(target, next);
        }
        moved
    }
}

fn gauss(rng: &mut Rng) -> f64 {
    StandardNormal.sample(rng)
}

fn check_positive(name: &'static str, value: f64) -> Result<(), SampleError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(SampleError::InvalidParameter { name, value })
    }
}

fn check_accept_target(value: f64) -> Result<(), SampleError> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(SampleError::InvalidParameter {
            name: "target_accept",
            value,
        })
    }
}

/// Metropolis–Hastings acceptance in log space; NaN (e.g. ∞ − ∞) rejects.
pub(crate) fn accept(log_ratio: f64, rng: &mut Rng) -> bool {
    let u: f64 = rng.random();
    u.ln() < log_ratio
}

/// Random-walk Metropolis with isotropic Gaussian proposals y' = y + step·ξ.
#[derive(Debug, Clone)]
pub struct RandomWalkMetropolis {
    step: f64,
    adapt: Option<f64>,
}

impl RandomWalkMetropolis {
    /// # Errors
    /// [`SampleError::InvalidParameter`] unless `step` is finite and positive.
    pub fn new(step: f64) -> Result<Self, SampleError> {
        check_positive("step", step)?;
        Ok(Self { step, adapt: None })
    }

    /// Adapts the step during warmup toward acceptance rate `target_accept` (e.g. 0.3).
    ///
    /// # Errors
    /// [`SampleError::InvalidParameter`] unless 0 < `target_accept` < 1.
    pub fn with_adaptation(mut self, target_accept: f64) -> Result<Self, SampleError> {
        check_accept_target(target_accept)?;
        self.adapt = Some(target_accept);
        Ok(self)
    }
}

impl Kernel for RandomWalkMetropolis {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        let s = self.step * scale;
        let prop: Vec<f64> = state.y.iter().map(|v| v + s * gauss(rng)).collect();
        let e = target.eval(&prop);
        if accept(state.energy - e, rng) {
            *state = State {
                y: prop,
                energy: e,
                grad: None,
            };
            true
        } else {
            false
        }
    }
    fn adapt_target(&self) -> Option<f64> {
        self.adapt
    }
}

/// Metropolis-adjusted Langevin: y' = y − h∇E(y) + √(2h)ξ with the Hastings correction
/// (`step` is the Langevin time step h).
#[derive(Debug, Clone)]
pub struct Mala {
    step: f64,
    adapt: Option<f64>,
}

impl Mala {
    /// # Errors
    /// [`SampleError::InvalidParameter`] unless `step` is finite and positive.
    pub fn new(step: f64) -> Result<Self, SampleError> {
        check_positive("step", step)?;
        Ok(Self { step, adapt: None })
    }

    /// Adapts the step during warmup toward acceptance rate `target_accept` (e.g. 0.57).
    ///
    /// # Errors
    /// [`SampleError::InvalidParameter`] unless 0 < `target_accept` < 1.
    pub fn with_adaptation(mut self, target_accept: f64) -> Result<Self, SampleError> {
        check_accept_target(target_accept)?;
        self.adapt = Some(target_accept);
        Ok(self)
    }
}

/// log q(to | from) up to a constant for the Langevin proposal with step h.
fn langevin_log_q(to: &[f64], from: &[f64], grad_from: &[f64], h: f64) -> f64 {
    -to.iter()
        .zip(from)
        .zip(grad_from)
        .map(|((t, f), g)| (t - f + h * g).powi(2))
        .sum::<f64>()
        / (4.0 * h)
}

/// One Langevin proposal from `y` with gradient `g`.
pub(crate) fn langevin_proposal(y: &[f64], g: &[f64], h: f64, rng: &mut Rng) -> Vec<f64> {
    let s = (2.0 * h).sqrt();
    y.iter()
        .zip(g)
        .map(|(v, gi)| v - h * gi + s * gauss(rng))
        .collect()
}

impl Kernel for Mala {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        let h = self.step * scale;
        let g = state.grad(target).to_vec();
        let prop = langevin_proposal(&state.y, &g, h, rng);
        let mut gp = vec![0.0; prop.len()];
        let e = target.grad(&prop, &mut gp);
        let log_ratio = state.energy - e + langevin_log_q(&state.y, &prop, &gp, h)
            - langevin_log_q(&prop, &state.y, &g, h);
        if accept(log_ratio, rng) {
            *state = State {
                y: prop,
                energy: e,
                grad: Some(gp),
            };
            true
        } else {
            false
        }
    }
    fn adapt_target(&self) -> Option<f64> {
        self.adapt
    }
}

/// Hamiltonian Monte Carlo with unit mass, `n_leapfrog` leapfrog steps of size `step_size`, and
/// the Metropolis test on H = E + |p|²/2.
#[derive(Debug, Clone)]
pub struct Hmc {
    step_size: f64,
    n_leapfrog: usize,
    adapt: Option<f64>,
}

impl Hmc {
    /// # Errors
    /// [`SampleError::InvalidParameter`] unless `step_size` is finite and positive and `n_leapfrog ≥ 1`.
    pub fn new(step_size: f64, n_leapfrog: usize) -> Result<Self, SampleError> {
        check_positive("step_size", step_size)?;
        if n_leapfrog == 0 {
            return Err(SampleError::InvalidParameter {
                name: "n_leapfrog",
                value: 0.0,
            });
        }
        Ok(Self {
            step_size,
            n_leapfrog,
            adapt: None,
        })
    }

    /// Adapts the step size during warmup toward acceptance rate `target_accept` (e.g. 0.8).
    ///
    /// # Errors
    /// [`SampleError::InvalidParameter`] unless 0 < `target_accept` < 1.
    pub fn with_adaptation(mut self, target_accept: f64) -> Result<Self, SampleError> {
        check_accept_target(target_accept)?;
        self.adapt = Some(target_accept);
        Ok(self)
    }
}

/// Leapfrog trajectory: returns (y, p, energy, grad) at the end. `first_kick` is the fraction of
/// a step used for the first momentum kick (½ for a correct leapfrog; the zoo uses 1).
pub(crate) fn leapfrog(
    target: &dyn Energy,
    y0: &[f64],
    g0: &[f64],
    p0: &[f64],
    eps: f64,
    n: usize,
    first_kick: f64,
) -> (Vec<f64>, Vec<f64>, f64, Vec<f64>) {
    let mut y = y0.to_vec();
    let mut p: Vec<f64> = p0
        .iter()
        .zip(g0)
        .map(|(p, g)| p - first_kick * eps * g)
        .collect();
    let mut g = vec![0.0; y.len()];
    let mut e = f64::NAN;
    for i in 0..n {
        y.iter_mut().zip(&p).for_each(|(y, p)| *y += eps * p);
        e = target.grad(&y, &mut g);
        let kick = if i + 1 == n { 0.5 * eps } else { eps };
        p.iter_mut().zip(&g).for_each(|(p, g)| *p -= kick * g);
    }
    (y, p, e, g)
}

impl Kernel for Hmc {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        let eps = self.step_size * scale;
        let g0 = state.grad(target).to_vec();
        let p0: Vec<f64> = (0..state.y.len()).map(|_| gauss(rng)).collect();
        let (y, p, e, g) = leapfrog(target, &state.y, &g0, &p0, eps, self.n_leapfrog, 0.5);
        let k0: f64 = p0.iter().map(|v| v * v).sum::<f64>() / 2.0;
        let k1: f64 = p.iter().map(|v| v * v).sum::<f64>() / 2.0;
        if accept(state.energy + k0 - e - k1, rng) {
            *state = State {
                y,
                energy: e,
                grad: Some(g),
            };
            true
        } else {
            false
        }
    }
    fn adapt_target(&self) -> Option<f64> {
        self.adapt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::stats::targets;
    use rand::SeedableRng;

    #[test]
    fn constructors_validate() {
        assert!(RandomWalkMetropolis::new(0.0).is_err());
        assert!(Mala::new(f64::NAN).is_err());
        assert!(Hmc::new(0.1, 0).is_err());
        assert!(
            Hmc::new(0.1, 5)
                .and_then(|h| h.with_adaptation(1.5))
                .is_err()
        );
    }

    #[test]
    fn leapfrog_is_reversible() {
        // L0 check (sampler-testing.md §4): forward L steps, negate p, L steps back → start.
        let t = targets::ring();
        let y0 = [0.8, -0.3];
        let p0 = [0.4, 1.1];
        let mut g0 = [0.0; 2];
        t.grad(&y0, &mut g0);
        let (y1, p1, _, g1) = leapfrog(&t, &y0, &g0, &p0, 0.05, 20, 0.5);
        let back: Vec<f64> = p1.iter().map(|v| -v).collect();
        let (y2, p2, _, _) = leapfrog(&t, &y1, &g1, &back, 0.05, 20, 0.5);
        for i in 0..2 {
            assert!((y2[i] - y0[i]).abs() < 1e-12 && (p2[i] + p0[i]).abs() < 1e-12);
        }
    }

    #[test]
    fn mala_detailed_balance_identity() {
        // p(x) q(x'|x) a(x,x') = p(x') q(x|x') a(x',x) in log form, at random pairs.
        let t = targets::double_well_1d();
        let mut rng = Rng::seed_from_u64(5);
        let h = 0.1;
        for _ in 0..20 {
            let x = vec![gauss(&mut rng)];
            let (mut gx, mut gy) = (vec![0.0], vec![0.0]);
            let ex = t.grad(&x, &mut gx);
            let y = langevin_proposal(&x, &gx, h, &mut rng);
            let ey = t.grad(&y, &mut gy);
            let fwd = -ex + langevin_log_q(&y, &x, &gx, h);
            let bwd = -ey + langevin_log_q(&x, &y, &gy, h);
            let a_xy = (bwd - fwd).min(0.0);
            let a_yx = (fwd - bwd).min(0.0);
            assert!((fwd + a_xy - (bwd + a_yx)).abs() < 1e-12);
        }
    }
}
