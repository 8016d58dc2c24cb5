//! Samplers for Gibbs densities: exact, random-walk Metropolis, MALA and HMC, behind one trait.
//!
//! A sampler draws from a density ∝ exp(−E) given by an [`Energy`], the same trait `quad`
//! integrates (with β folded in here: [`ScaledTarget`]); `Target` is its former name, kept as
//! an alias. Gradient samplers call [`Energy::grad`] (a finite difference unless the energy
//! gives its own, as [`FnTarget`] does). A
//! [`Kernel`] is one Markov transition; kernels are validated at construction so stepping cannot
//! fail. [`run_chains`] runs several chains in parallel with per-chain seeds derived from
//! (seed, chain index), so the output is bit-identical whatever the thread count.
//! [`invariance_test`] is the exactly calibrated sampler test: start many chains at exact draws,
//! take K kernel steps, and test the (i.i.d.) final states with the battery.
//!
//! # Example: test your own sampler in a `#[test]`
//! ```
//! use ebmcheck::sample::{self, FnTarget, Rng};
//! use ebmcheck::stats::{BatteryOptions, Reference, assert_battery_passes, special};
//! use rand::Rng as _;
//! use rand_distr::{Distribution, StandardNormal};
//!
//! // Target: N(0, 1), energy y²/2.
//! let target = FnTarget::new(1, |y: &[f64]| 0.5 * y[0] * y[0], |y: &[f64], g: &mut [f64]| {
//!     g[0] = y[0];
//!     0.5 * y[0] * y[0]
//! });
//! // My sampler: a random-walk Metropolis step written as a closure (state, rng) -> state.
//! let my_kernel = |y: &[f64], rng: &mut Rng| -> Vec<f64> {
//!     let z: f64 = StandardNormal.sample(rng);
//!     let prop = y[0] + 1.5 * z;
//!     if rng.random::<f64>().ln() < 0.5 * (y[0] * y[0] - prop * prop) { vec![prop] } else { y.to_vec() }
//! };
//! let reference = Reference::new()
//!     .moment("mean of y1", |y| y[0], 0.0, Some(1.0))
//!     .moment("mean of y1^2", |y| y[0] * y[0], 1.0, Some(2f64.sqrt()))
//!     .cdf("y1", |y| y[0], special::cdf);
//! let exact = |rng: &mut Rng| vec![StandardNormal.sample(rng)];
//! let opts = sample::InvarianceOptions {
//!     n_chains: 20_000,
//!     k_steps: 10,
//!     battery: BatteryOptions::default(),
//!     seed: 42,
//! };
//! let report = sample::invariance_test(&target, &my_kernel, &exact, &reference, &opts).unwrap();
//! assert_battery_passes(&report);
//! ```

mod chains;
pub mod ensemble;
mod estimate;
mod exact;
mod kernels;
pub mod reference;
mod target;
pub mod zoo;

#[cfg(test)]
mod realistic;
#[cfg(test)]
mod selftest;

pub use chains::{ChainSet, InvarianceOptions, chain_seed, invariance_test, rng_for, run_chains};
pub use estimate::{
    CdkResult, McAverage, cd_k, cd_k_states, check_estimate, iid_estimate, mc_estimate,
    single_sample,
};
pub use exact::{Categorical, InverseCdf};
pub use kernels::{Hmc, Kernel, Mala, RandomWalkMetropolis, State};
pub use reference::{
    KernelRun, QuadReference, ReferenceError, ReferenceJson, ReferenceOptions, SamplerTestOutcome,
    SharedEnergy, judge_draws, moment_tolerance, quadrature_reference, sampler_test, test_draws,
    test_kernel,
};
pub use target::{Energy, FiniteDiffTarget, FnTarget, ScaledTarget, ShiftedTarget, Target};

/// The random number generator used by every sampler.
pub type Rng = rand_xoshiro::Xoshiro256PlusPlus;

/// Errors of the sampling module (bad parameters or inputs; never a statistical outcome).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    /// A kernel or sampler parameter is out of range.
    #[error("invalid parameter {name} = {value}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Offending value.
        value: f64,
    },
    /// A state has the wrong dimension.
    #[error("state of dimension {got} for a target of dimension {want}")]
    Dimension {
        /// Dimension given.
        got: usize,
        /// Dimension of the target.
        want: usize,
    },
    /// An initial state has non-finite energy.
    #[error("initial state of chain {chain} has non-finite energy {energy}")]
    BadInit {
        /// Chain index.
        chain: usize,
        /// Its energy.
        energy: f64,
    },
    /// No chains were requested.
    #[error("no chains")]
    NoChains,
    /// The statistics rejected the draws' shape or the options.
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
}
