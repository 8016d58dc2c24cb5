//! The exact maximum-likelihood gradient of an energy-based model, its finite-difference
//! cross-check, and Monte-Carlo estimators (N-sample and MCMC averages, CD-k) judged against it.
//!
//! The loss for data points `y_i` is `L(w) = mean_i F_w(y_i) + (1/β) log ∫ exp(−βF_w(y')) dy'`
//! with `F = −(1/β) log ∫ exp(−βE) dz` when there are latents (`F = E` otherwise). It is written
//! as an expression and evaluated by the [engine](crate::engine), and so is the exact gradient
//! `mean_i ⟨∂E/∂w⟩_{p(z|y_i)} − ⟨∂E/∂w⟩_{p(y', z)}` (symbolic derivative under the integral,
//! quadrature). The finite difference is the engine's Richardson-extrapolated difference of `L`:
//! a second, independent route.
//!
//! Monte Carlo replaces the contrastive term by an average over draws of `(y', z)` from the
//! model; the data term stays exact, so each draw gives one value of the lecture's
//! single-sample estimator `∂F(y_data)/∂w − ∂E(ŷ, ẑ)/∂w`, and the N-sample (or MCMC) average of
//! these is judged by [`judge`]: a z-test against the exact value at family-wise α with Holm
//! across parameters, `inconclusive` when the effective sample size is below [`MIN_ESS`] or the
//! chains disagree (split R-hat above [`MAX_RHAT`]).
//!
//! Contrastive divergence (CD-k) replaces the model's draws by the states of chains started at
//! the data after `k` kernel steps. Its bias is a finding, reported with its size (and, for a
//! Gaussian energy under the unadjusted Langevin kernel, the exactly predicted shrink factor
//! `1 − ρᵏ`); it does not change [`GradResult::status`].
//!
//! ```
//! use ebmcheck::expr::{Context, parse};
//! use ebmcheck::grad::{GradOptions, GradProblem, Status, Variable, run};
//!
//! let mut context = Context::new();
//! context.set_param("w", 0.5);
//! let problem = GradProblem {
//!     context,
//!     energy: parse("0.5*(y - w)^2").unwrap(),
//!     predicted: vec![Variable::continuous("y", f64::NEG_INFINITY, f64::INFINITY)],
//!     latent: vec![],
//!     data: vec![vec![1.0, 2.0]],
//!     wrt: vec!["w".into()],
//!     beta: 1.0,
//! };
//! let result = run(&problem, &GradOptions::default()).unwrap();
//! // ∂L/∂w = mean(w − y_i) − ⟨w − y'⟩ = 0.5 − 1.5 − 0 = −1.
//! assert!((result.params[0].exact.value + 1.0).abs() < 1e-7);
//! assert_eq!(result.status, Status::Pass);
//! ```

mod error;
pub mod estimators;
mod judge;
mod model;
mod pipeline;
mod sampler;

use crate::budgets::{self, Budget};
use crate::remedy::Remedy;
use std::collections::BTreeMap;

pub use error::GradError;
pub(crate) use error::{engine_error, engine_error_at};
pub use judge::{McInput, McJudgement, judge};
use model::{Model, lit, validate};
pub use pipeline::run;
pub use sampler::SamplerKind;

use crate::domain::VarDomain;
use crate::engine::{Engine, Point, Termination, Value};
use crate::expr::{Context, Definition, Expr, Span, parse};
use crate::sample::{McAverage, iid_estimate, mc_estimate, single_sample};
use crate::stats::{StatisticalDecision, Verdict, ess};

/// Below this absolute level a tolerance counts as able to detect any error that matters (the
/// power rule's floor, as in `check`).
pub use crate::estimate::POWER_FLOOR;
/// Default family-wise false-alarm rate of the Monte-Carlo z-tests (Holm across parameters).
pub use crate::stats::ALPHA;
/// A standard error from fewer effective samples than this is not trusted.
pub use crate::stats::MIN_ESS;
/// Chains whose split R-hat exceeds this disagree: the verdict cannot be `pass`.
pub const MAX_RHAT: f64 = 1.01;
/// The default number of Monte-Carlo draws (over all chains) of the library and of the power
/// figures; the command line asks for it explicitly with `--mc N`.
pub const DEFAULT_DRAWS: usize = 40_000;
/// Relative agreement required of a Monte-Carlo average whose draws are all equal.
const CONSTANT_TOL: f64 = 1e-12;
/// Name of the energy as a definition in the context (a clash with a user name is refused).
const ENERGY_NAME: &str = "ebmcheckGradEnergy";

/// A predicted or latent variable and its domain.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Its name in the energy.
    pub name: String,
    /// A real interval or an integer range.
    pub domain: VarDomain,
}

impl Variable {
    /// A continuous variable on `[lo, hi]` (either end may be infinite).
    pub fn continuous(name: &str, lo: f64, hi: f64) -> Self {
        Variable {
            name: name.to_string(),
            domain: VarDomain::Continuous { lo, hi },
        }
    }

    /// An integer variable on `lo..=hi`.
    pub fn integer(name: &str, lo: i64, hi: i64) -> Self {
        Variable {
            name: name.to_string(),
            domain: VarDomain::Integer { lo, hi },
        }
    }

    fn contains(&self, x: f64) -> bool {
        match self.domain {
            VarDomain::Continuous { lo, hi } => x >= lo && x <= hi,
            #[allow(clippy::cast_precision_loss, reason = "integer ranges are small")]
            VarDomain::Integer { lo, hi } => x.fract() == 0.0 && x >= lo as f64 && x <= hi as f64,
        }
    }
}

/// The model, its data and the parameters to differentiate in.
#[derive(Debug, Clone)]
pub struct GradProblem {
    /// Parameters (with values) and definitions the energy may call.
    pub context: Context,
    /// The energy `E(y, z)` (or `F(y)` without latents), as parsed (definitions not inlined).
    pub energy: Expr,
    /// The predicted variables `y` (1–3).
    pub predicted: Vec<Variable>,
    /// The latent variables `z` (0–3; at most 4 variables together).
    pub latent: Vec<Variable>,
    /// One column of observed values per predicted variable, in order, all of the same length:
    /// the i-th values form the i-th data point.
    pub data: Vec<Vec<f64>>,
    /// Parameters to differentiate in (each has a value in `context`).
    pub wrt: Vec<String>,
    /// Inverse temperature β > 0.
    pub beta: f64,
}

/// How to estimate and judge.
#[derive(Debug, Clone)]
pub struct GradOptions {
    /// Total Monte-Carlo draws over all chains (`None`: no Monte Carlo). MCMC rounds up to a
    /// multiple of the number of chains (4).
    pub mc: Option<usize>,
    /// The sampler (`None`: exact for at most one continuous variable, else `mh`).
    pub sampler: Option<SamplerKind>,
    /// Initial step of the Markov kernel (`None`: [`SamplerKind::default_step`]).
    pub step: Option<f64>,
    /// Seed of every sampler.
    pub seed: u64,
    /// Sample at this inverse temperature instead of β: a deliberately wrong sampler.
    pub sample_beta: Option<f64>,
    /// Contrastive divergence with this many kernel steps (`None`: not computed). It uses
    /// `mc` negative samples ([`DEFAULT_DRAWS`] without `mc`) and the sampler's kernel when it is
    /// a Markov kernel, MALA otherwise, at its initial step (CD does not adapt).
    pub cd: Option<usize>,
    /// Family-wise false-alarm rate of the z-tests.
    pub alpha: f64,
    /// Keep the per-draw values of the single-sample estimator (for figures).
    pub keep_draws: bool,
}

impl Default for GradOptions {
    fn default() -> Self {
        GradOptions {
            mc: None,
            sampler: None,
            step: None,
            seed: 0,
            sample_beta: None,
            cd: None,
            alpha: ALPHA,
            keep_draws: false,
        }
    }
}

/// The verdict of a gradient check: the crate's one verdict type (`pass`, `fail` or
/// `inconclusive`).
pub use crate::estimate::Verdict as Status;

/// A Monte-Carlo estimate of one gradient component, judged against the exact value.
#[derive(Debug, Clone)]
pub struct McEstimate {
    /// The estimate of the gradient (exact data term minus the average over draws), its MCSE,
    /// ESS and the spread of the single-sample estimator.
    pub estimate: McAverage,
    /// `(estimate − exact)/mcse` (0 when every draw gives the same exact value).
    pub z: f64,
    /// The smallest |estimate − exact| the z-test could detect: the MCSE times the two-sided
    /// critical value of Holm's strictest step (α over the number of tests).
    pub power: f64,
    /// The lecture's single-sample estimator: the value from the first draw, with the spread
    /// of the single-sample values as its standard error and ESS 1 (unbiased, but with the full
    /// spread of one draw).
    pub single_sample: McAverage,
    /// With [`GradOptions::keep_draws`]: the single-sample estimates, one vector per chain.
    pub draws: Option<Vec<Vec<f64>>>,
}

/// Contrastive divergence's estimate of one gradient component, and how biased it is.
#[derive(Debug, Clone)]
pub struct CdEstimate {
    /// The CD-k estimate (exact data term minus the average over the chains' final states).
    pub estimate: McAverage,
    /// `estimate − exact`.
    pub bias: f64,
    /// `bias / |exact|` (NaN when the exact gradient is 0).
    pub relative_bias: f64,
    /// `(estimate − exact)/mcse`.
    pub z: f64,
    /// Whether the z-test (Holm across parameters, at α) rejects CD-k = exact.
    pub biased: bool,
    /// For a Gaussian energy under ULA with an observable linear in y: the predicted ratio
    /// `CD-k / exact = 1 − ρᵏ`, `ρ = 1 − hβ ∂²E/∂y²`.
    pub shrink_factor: Option<f64>,
    /// With a shrink factor: `(estimate − shrink·exact)/mcse`.
    pub z_predicted: Option<f64>,
}

/// Everything computed for one parameter.
#[derive(Debug, Clone)]
pub struct ParamResult {
    /// The parameter.
    pub name: String,
    /// The exact gradient (quadrature).
    pub exact: Value,
    /// The exact contrastive term `⟨∂E/∂w⟩_{p(y', z)}`.
    pub model_term: Value,
    /// The Richardson finite difference of the loss.
    pub finite_difference: Value,
    /// Whether exact and finite difference agree within their errors.
    pub agree: bool,
    /// The smallest difference between exact and finite difference this comparison could have
    /// detected (its tolerance: twice the summed error bounds plus a 1e-10 relative floor).
    pub power: f64,
    /// The comparison's verdict: `pass` when they agree and the power rule
    /// ([`crate::estimate::power_rule`]) holds, `fail` when they differ by more than the power,
    /// `inconclusive` when the power is not finite or not below the compared values.
    pub agreement: Status,
    /// The Monte-Carlo estimate, with `mc`.
    pub monte_carlo: Option<McEstimate>,
    /// Contrastive divergence, with `cd`.
    pub contrastive_divergence: Option<CdEstimate>,
}

/// How the Monte-Carlo draws were made.
#[derive(Debug, Clone)]
pub struct McRun {
    /// The sampler.
    pub sampler: SamplerKind,
    /// Draws requested over all chains.
    pub draws: usize,
    /// Acceptance rate of each chain (1 for exact draws).
    pub acceptance: Vec<f64>,
    /// The statistical decision's summary.
    pub summary: String,
}

/// How the CD-k chains were run.
#[derive(Debug, Clone)]
pub struct CdRun {
    /// Kernel steps per chain.
    pub k: usize,
    /// The kernel.
    pub sampler: SamplerKind,
    /// Its step.
    pub step: f64,
    /// Number of chains (negative samples).
    pub chains: usize,
    /// Acceptance rate over all steps.
    pub acceptance: f64,
}

/// The result of [`run`].
#[derive(Debug, Clone)]
pub struct GradResult {
    /// Inverse temperature.
    pub beta: f64,
    /// Number of data points.
    pub n_data: usize,
    /// The loss `L(w)`.
    pub loss: Value,
    /// One entry per parameter, in the order of [`GradProblem::wrt`].
    pub params: Vec<ParamResult>,
    /// The Monte-Carlo run, with `mc`.
    pub monte_carlo: Option<McRun>,
    /// The CD-k run, with `cd`.
    pub contrastive_divergence: Option<CdRun>,
    /// The verdict (CD-k's bias does not enter it).
    pub status: Status,
    /// Why the status is not `pass` (or notes), one sentence each.
    pub reasons: Vec<String>,
}

#[cfg(test)]
mod tests;
