//! A zoo of deliberately **buggy** kernels (and two exact reference kernels) for the tool's
//! self-test: each reproduces a classic sampler bug from `docs/sampler-testing.md` §5, so the
//! test suite can prove that the battery catches it. Do not use them to sample.

use super::kernels::{accept, langevin_proposal, leapfrog};
use super::{Energy, Kernel, Rng, ScaledTarget, ShiftedTarget, State};
use rand_distr::{Distribution, StandardNormal};

fn gauss(rng: &mut Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// Bug: MH with a multiplicative log-normal proposal y' = y·exp(σξ) (asymmetric) accepted on
/// p(y')/p(y) only, without the Hastings factor y'/y. On Gamma(3,1) it samples Gamma(2,1).
#[derive(Debug, Clone)]
pub struct AsymmetricNoHastings {
    /// Log-scale proposal sd.
    pub sigma: f64,
}

impl Kernel for AsymmetricNoHastings {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        let prop: Vec<f64> = state
            .y
            .iter()
            .map(|v| v * (self.sigma * scale * gauss(rng)).exp())
            .collect();
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
}

/// Bug: unadjusted Langevin (ULA), y' = y − h∇E + √(2h)ξ with no Metropolis step. Its
/// stationary law is biased by O(h) (variance σ²/(1 − h/(2σ²)) on a Gaussian).
#[derive(Debug, Clone)]
pub struct Ula {
    /// Langevin time step h.
    pub step: f64,
}

impl Kernel for Ula {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        let mut g = vec![0.0; state.y.len()];
        target.grad(&state.y, &mut g);
        let y = langevin_proposal(&state.y, &g, self.step * scale, rng);
        *state = State::new(target, y);
        true
    }
}

/// Bug: "record only accepted moves": the recorded chain is the sequence of accepted states,
/// which is the inner kernel retried until it accepts (up to `max_tries`).
#[derive(Debug, Clone)]
pub struct RecordAcceptedOnly<K> {
    /// The (correct) kernel whose rejections are dropped.
    pub inner: K,
    /// Give up after this many rejections in a row.
    pub max_tries: usize,
}

impl<K: Kernel> Kernel for RecordAcceptedOnly<K> {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        (0..self.max_tries).any(|_| self.inner.step(target, state, scale, rng))
    }
}

/// Bug: samples exp(−β·E) instead of exp(−E) (wrong temperature).
#[derive(Debug, Clone)]
pub struct WrongTemperature<K> {
    /// The (correct) kernel, run on the wrong target.
    pub inner: K,
    /// The wrong inverse temperature.
    pub beta: f64,
}

impl<K: Kernel> Kernel for WrongTemperature<K> {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        let t = ScaledTarget {
            inner: target,
            beta: self.beta,
        };
        // The cached energy belongs to the original target: re-evaluate it for the scaled one.
        let mut s = State::new(&t, state.y.clone());
        let acc = self.inner.step(&t, &mut s, scale, rng);
        *state = State::new(target, s.y);
        acc
    }
}

/// Bug: a wrong energy, E(y − shift) (e.g. a shifted well).
#[derive(Debug, Clone)]
pub struct WrongEnergy<K> {
    /// The (correct) kernel, run on the shifted target.
    pub inner: K,
    /// The shift.
    pub shift: Vec<f64>,
}

impl<K: Kernel> Kernel for WrongEnergy<K> {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        let t = ShiftedTarget {
            inner: target,
            shift: self.shift.clone(),
        };
        let mut s = State::new(&t, state.y.clone());
        let acc = self.inner.step(&t, &mut s, scale, rng);
        *state = State::new(target, s.y);
        acc
    }
}

/// Bug: a chain stuck in one mode: the inner kernel's moves that change the sign of y₁ are
/// rejected. (Restricted to a half-space it is still invariant there, so only a chain started in
/// one mode, not the invariance test, reveals it: the mode masses are wrong.)
#[derive(Debug, Clone)]
pub struct ModeLocked<K> {
    /// The (correct) kernel.
    pub inner: K,
}

impl<K: Kernel> Kernel for ModeLocked<K> {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        let before = state.clone();
        let acc = self.inner.step(target, state, scale, rng);
        if acc && (state.y[0] > 0.0) != (before.y[0] > 0.0) {
            *state = before;
            return false;
        }
        acc
    }
}

/// Bug: HMC whose accept test ignores the kinetic energy (accepts on ΔE only).
#[derive(Debug, Clone)]
pub struct HmcNoKinetic {
    /// Leapfrog step size.
    pub step_size: f64,
    /// Leapfrog steps.
    pub n_leapfrog: usize,
}

/// Bug: HMC whose first momentum half-kick is a full kick (wrong leapfrog).
#[derive(Debug, Clone)]
pub struct HmcFullFirstKick {
    /// Leapfrog step size.
    pub step_size: f64,
    /// Leapfrog steps.
    pub n_leapfrog: usize,
}

fn hmc_step(
    target: &dyn Energy,
    state: &mut State,
    eps: f64,
    n: usize,
    first_kick: f64,
    with_kinetic: bool,
    rng: &mut Rng,
) -> bool {
    let mut g0 = vec![0.0; state.y.len()];
    state.energy = target.grad(&state.y, &mut g0);
    let p0: Vec<f64> = (0..state.y.len()).map(|_| gauss(rng)).collect();
    let (y, p, e, g) = leapfrog(target, &state.y, &g0, &p0, eps, n, first_kick);
    let dk = if with_kinetic {
        (p0.iter().map(|v| v * v).sum::<f64>() - p.iter().map(|v| v * v).sum::<f64>()) / 2.0
    } else {
        0.0
    };
    if accept(state.energy - e + dk, rng) {
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

impl Kernel for HmcNoKinetic {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        hmc_step(
            target,
            state,
            self.step_size * scale,
            self.n_leapfrog,
            0.5,
            false,
            rng,
        )
    }
}

impl Kernel for HmcFullFirstKick {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        hmc_step(
            target,
            state,
            self.step_size * scale,
            self.n_leapfrog,
            1.0,
            true,
            rng,
        )
    }
}

/// Correct systematic-scan Gibbs for the standard bivariate normal with correlation ρ
/// (energy ½ yᵀΣ⁻¹y, unit variances): y₁ | y₂ ~ N(ρy₂, 1 − ρ²), then y₂ | y₁ (new) likewise.
/// It ignores the target argument.
#[derive(Debug, Clone)]
pub struct Gibbs2dGaussian {
    /// Correlation.
    pub rho: f64,
}

/// Bug: Gibbs for the same Gaussian updating both coordinates from the **old** values
/// (synchronous/Jacobi): the marginals stay N(0, 1) but the correlation decays to 0.
#[derive(Debug, Clone)]
pub struct SynchronousGibbs {
    /// Correlation.
    pub rho: f64,
}

impl Kernel for Gibbs2dGaussian {
    fn step(&self, target: &dyn Energy, state: &mut State, _scale: f64, rng: &mut Rng) -> bool {
        let s = (1.0 - self.rho * self.rho).sqrt();
        let y1 = self.rho * state.y[1] + s * gauss(rng);
        let y2 = self.rho * y1 + s * gauss(rng);
        *state = State::new(target, vec![y1, y2]);
        true
    }
}

impl Kernel for SynchronousGibbs {
    fn step(&self, target: &dyn Energy, state: &mut State, _scale: f64, rng: &mut Rng) -> bool {
        let s = (1.0 - self.rho * self.rho).sqrt();
        let y1 = self.rho * state.y[1] + s * gauss(rng);
        let y2 = self.rho * state.y[0] + s * gauss(rng);
        *state = State::new(target, vec![y1, y2]);
        true
    }
}

/// Exact kernel for the standard normal N(0, I) only: y' = ρy + √(1 − ρ²)ξ (an AR(1) that leaves
/// N(0, I) invariant; the CD-k closed form of §3.10). It ignores the target argument.
#[derive(Debug, Clone)]
pub struct GaussianAr1 {
    /// Autocorrelation per step.
    pub rho: f64,
}

impl Kernel for GaussianAr1 {
    fn step(&self, target: &dyn Energy, state: &mut State, _scale: f64, rng: &mut Rng) -> bool {
        let s = (1.0 - self.rho * self.rho).sqrt();
        let y: Vec<f64> = state
            .y
            .iter()
            .map(|v| self.rho * v + s * gauss(rng))
            .collect();
        *state = State::new(target, y);
        true
    }
}
