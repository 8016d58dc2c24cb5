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

pub mod estimators;
mod sampler;

use crate::budgets::{self, Budget};
use crate::remedy::Remedy;
use std::collections::BTreeMap;

pub use sampler::SamplerKind;

use crate::domain::VarDomain;
use crate::engine::{Engine, Point, Termination, Value};
use crate::expr::{Context, Definition, Expr, Span, parse};
use crate::sample::{Estimate, iid_estimate, mc_estimate, single_sample};
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

/// What can go wrong before a gradient exists: invalid input, an energy that cannot be
/// integrated or compiled. Statistical outcomes are never errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GradError {
    /// The problem is ill-posed (message and an optional hint).
    #[error("{message}")]
    Input {
        /// What is wrong.
        message: String,
        /// How to fix it, in words.
        help: Option<String>,
        /// How to fix it, as data (the binary words it with its flags).
        remedy: Option<Remedy>,
    },
    /// The energy uses names that are neither variables nor parameters with values.
    #[error("the energy uses {} without a value", quoted(.0))]
    UnknownNames(Vec<String>),
    /// Sampling needs the energy as a closed expression (no integrals inside).
    #[error("the energy cannot be compiled for sampling: {message}")]
    NotClosed {
        /// Why it cannot be compiled.
        message: String,
    },
    /// A numeric step (quadrature, minimisation, difference) refused.
    #[error("{what}: {message}")]
    Numeric {
        /// Which quantity.
        what: String,
        /// The numeric module's message.
        message: String,
        /// Where in the energy's text the failing node is, when the engine named a node of it
        /// (the spans of [`GradProblem::energy`]; generated text around it has none).
        span: Option<Span>,
    },
    /// A bug: an internal invariant does not hold.
    #[error("internal: {0}")]
    Internal(String),
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl GradError {
    fn input(message: impl Into<String>) -> Self {
        GradError::Input {
            message: message.into(),
            help: None,
            remedy: None,
        }
    }

    fn input_help(message: impl Into<String>, help: impl Into<String>) -> Self {
        GradError::Input {
            message: message.into(),
            help: Some(help.into()),
            remedy: None,
        }
    }

    pub(crate) fn input_remedy(message: impl Into<String>, remedy: Remedy) -> Self {
        GradError::Input {
            message: message.into(),
            help: Some(remedy.to_string()),
            remedy: Some(remedy),
        }
    }

    /// The fix as data, when there is one (the binary words it with its flags).
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            GradError::Input { remedy, .. } => remedy.clone(),
            GradError::UnknownNames(_) => Some(Remedy::DeclareOrSet),
            GradError::NotClosed { .. } => Some(Remedy::ClosedEnergy),
            GradError::Numeric { .. } | GradError::Internal(_) => None,
        }
    }

    /// A hint on how to fix the input, when there is one.
    pub fn help(&self) -> Option<String> {
        match self {
            GradError::Input { help, .. } => help.clone(),
            GradError::UnknownNames(_) => Some(Remedy::DeclareOrSet.to_string()),
            GradError::NotClosed { .. } => Some(Remedy::ClosedEnergy.to_string()),
            GradError::Numeric { message, .. } if message.contains("diverges") => Some(
                "exp(-beta*E) must be integrable: the energy must grow in every direction of the domain"
                    .into(),
            ),
            GradError::Numeric { .. } | GradError::Internal(_) => None,
        }
    }
}

pub(crate) fn engine_error(e: &impl std::fmt::Display, what: &str) -> GradError {
    GradError::Numeric {
        what: what.to_string(),
        message: e.to_string(),
        span: None,
    }
}

/// An engine error with its place in the energy's text, when it has one: the loss and the
/// gradients are generated text whose nodes carry the empty span, and the energy inlined into
/// them keeps its own ([`Context::keep_spans_of`]).
pub(crate) fn engine_error_at(e: &crate::engine::EngineError, what: &str) -> GradError {
    GradError::Numeric {
        what: what.to_string(),
        message: e.to_string(),
        span: e.span.filter(|s| s.end > s.start),
    }
}

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
    pub estimate: Estimate,
    /// `(estimate − exact)/mcse` (0 when every draw gives the same exact value).
    pub z: f64,
    /// The smallest |estimate − exact| the z-test could detect: the MCSE times the two-sided
    /// critical value of Holm's strictest step (α over the number of tests).
    pub power: f64,
    /// The lecture's single-sample estimator: the value from the first draw, with the spread
    /// of the single-sample values as its standard error and ESS 1 (unbiased, but with the full
    /// spread of one draw).
    pub single_sample: Estimate,
    /// With [`GradOptions::keep_draws`]: the single-sample estimates, one vector per chain.
    pub draws: Option<Vec<Vec<f64>>>,
}

/// Contrastive divergence's estimate of one gradient component, and how biased it is.
#[derive(Debug, Clone)]
pub struct CdEstimate {
    /// The CD-k estimate (exact data term minus the average over the chains' final states).
    pub estimate: Estimate,
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

/// One Monte-Carlo estimate to judge against its exact value.
#[derive(Debug, Clone)]
pub struct McInput {
    /// Name of the tested quantity (e.g. `d loss / d w`).
    pub name: String,
    /// The estimate with its MCSE and ESS (`sd` is the spread of the per-draw values).
    pub estimate: Estimate,
    /// The exact value, with its numeric error bound.
    pub exact: Value,
    /// Split R-hat across chains, for MCMC with several chains.
    pub rhat: Option<f64>,
}

/// The outcome of [`judge`].
#[derive(Debug, Clone)]
pub struct McJudgement {
    /// `(estimate − exact)/mcse` per input (0 for an exact constant, ±∞ for a constant that
    /// differs from the exact value).
    pub z: Vec<f64>,
    /// Whether each input's test rejects (after Holm).
    pub reject: Vec<bool>,
    /// Pass, fail or inconclusive.
    pub verdict: Verdict,
    /// Why it is not a pass.
    pub reasons: Vec<String>,
    /// One-paragraph summary of the tests.
    pub summary: String,
}

/// The decision of `ebmcheck grad`: a two-sided z-test of each estimate against its exact value,
/// Holm across the inputs at family-wise `alpha`; `inconclusive` when an ESS is below
/// [`MIN_ESS`] or an R-hat above [`MAX_RHAT`]; an estimate whose draws are all equal must
/// equal the exact value within its numeric error.
pub fn judge(inputs: &[McInput], alpha: f64) -> McJudgement {
    let mut decision = StatisticalDecision::new(alpha, MIN_ESS);
    let mut mismatch: Vec<String> = Vec::new();
    let mut z = Vec::with_capacity(inputs.len());
    let mut tested = Vec::with_capacity(inputs.len());
    for input in inputs {
        let est = &input.estimate;
        let gap = est.estimate - input.exact.value;
        if est.sd > 0.0 {
            tested.push(true);
            decision.add_z_test(
                &input.name,
                est.estimate,
                est.mcse,
                est.ess,
                input.exact.value,
            );
            z.push(gap / est.mcse);
        } else if gap.abs() <= 2.0 * input.exact.error + CONSTANT_TOL * input.exact.value.abs() {
            // The observable takes one value under the model: the average is exact.
            tested.push(false);
            z.push(0.0);
        } else {
            tested.push(false);
            mismatch.push(format!(
                "{}: every draw gives the same value, and the estimate {} differs from the exact {}",
                input.name, est.estimate, input.exact.value
            ));
            z.push(gap.signum() * f64::INFINITY);
        }
        if let Some(rhat) = input.rhat
            && rhat > MAX_RHAT
        {
            decision.add_reason(format!(
                "{}: split R-hat {rhat:.3} > {MAX_RHAT}: the chains disagree; run longer",
                input.name
            ));
        }
    }
    let d = decision.finish();
    let mut tests = d.tests.iter();
    let reject = tested
        .iter()
        .zip(&z)
        .map(|(t, zi)| {
            if *t {
                tests.next().is_some_and(|o| o.reject)
            } else {
                zi.is_infinite()
            }
        })
        .collect();
    let verdict = if mismatch.is_empty() {
        d.verdict
    } else {
        Verdict::Fail
    };
    mismatch.extend(d.reasons.iter().cloned());
    McJudgement {
        z,
        reject,
        verdict,
        reasons: mismatch,
        summary: d.summary,
    }
}

/// A number as expression text (shortest round-trip form, parenthesised for signs).
fn lit(x: f64) -> String {
    format!("({x:e})")
}

fn parse_text(text: &str) -> Result<Expr, GradError> {
    parse(text).map_err(|d| {
        GradError::Internal(format!(
            "internal expression `{text}` does not parse: {}",
            d.message
        ))
    })
}

/// Checks the problem: variable counts and names, β, parameters, data.
fn validate(p: &GradProblem, opts: &GradOptions) -> Result<(), GradError> {
    if p.predicted.is_empty() {
        return Err(GradError::input_remedy(
            "no predicted variable",
            Remedy::DeclarePredicted,
        ));
    }
    if p.predicted.len() > 3 || p.latent.len() > 3 || p.predicted.len() + p.latent.len() > 4 {
        return Err(GradError::input(
            "too many variables: y and z may have 1–3 dimensions each, at most 4 together",
        ));
    }
    let names: Vec<&str> = p
        .predicted
        .iter()
        .chain(&p.latent)
        .map(|v| v.name.as_str())
        .collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(GradError::input(format!(
                "the variable `{n}` is declared twice"
            )));
        }
        if n.ends_with('\'') {
            return Err(GradError::input_help(
                format!(
                    "the variable `{n}` ends with a prime, which `grad` reserves for the model's samples"
                ),
                "rename it",
            ));
        }
    }
    for (what, b) in [("beta", Some(p.beta)), ("sample beta", opts.sample_beta)] {
        if let Some(b) = b
            && !(b.is_finite() && b > 0.0)
        {
            return Err(GradError::input(format!(
                "{what} = {b}: the inverse temperature must be positive and finite"
            )));
        }
    }
    let bindings = p.context.bindings();
    for (i, w) in p.wrt.iter().enumerate() {
        if w.is_empty() {
            return Err(GradError::input("an empty parameter name in wrt"));
        }
        if names.contains(&w.as_str()) {
            return Err(GradError::input(format!(
                "`{w}` is a variable, not a parameter to differentiate in"
            )));
        }
        if bindings.number(w).is_none() {
            return Err(GradError::input_remedy(
                format!("the parameter `{w}` has no value"),
                Remedy::SetNumber(w.clone()),
            ));
        }
        if p.wrt[..i].contains(w) {
            return Err(GradError::input(format!(
                "`{w}` is listed twice among the parameters"
            )));
        }
    }
    if p.wrt.is_empty() {
        return Err(GradError::input("no parameter to differentiate in"));
    }
    if p.data.len() != p.predicted.len() {
        return Err(GradError::input(format!(
            "{} data columns for {} predicted variables",
            p.data.len(),
            p.predicted.len()
        )));
    }
    for (v, col) in p.predicted.iter().zip(&p.data) {
        if col.is_empty() {
            return Err(GradError::input_remedy(
                format!("the predicted variable `{}` has no data", v.name),
                Remedy::AddData(v.name.clone()),
            ));
        }
        if let Some(x) = col.iter().find(|x| !x.is_finite() || !v.contains(**x)) {
            return Err(GradError::input(format!(
                "the data value {x} is outside the domain of `{}`",
                v.name
            )));
        }
    }
    if p.data.iter().any(|c| c.len() != p.data[0].len()) {
        let counts: Vec<String> = p
            .predicted
            .iter()
            .zip(&p.data)
            .map(|(v, c)| format!("{} has {}", v.name, c.len()))
            .collect();
        return Err(GradError::input(format!(
            "the data counts differ ({}): the i-th values of all variables form the i-th data point",
            counts.join(", ")
        )));
    }
    if opts.mc == Some(0) {
        return Err(GradError::input(
            "the number of Monte-Carlo draws must be positive",
        ));
    }
    if opts.cd == Some(0) {
        return Err(GradError::input(
            "contrastive divergence needs at least one kernel step",
        ));
    }
    // Work budgets, checked before anything is allocated for the draws.
    let draws = opts.mc.map_or(0, |n| n as u128);
    let steps = opts.cd.map_or(0, |k| k as u128);
    for (b, wanted, what) in [
        (Budget::Draws, draws, "`mc`"),
        (
            Budget::Draws,
            steps.saturating_mul(draws.max(1)),
            "`cd` steps times the `mc` draws",
        ),
    ] {
        if let Err(e) = budgets::check(b, wanted, what) {
            return Err(GradError::input_help(e.message(), e.help()));
        }
    }
    if let Some(h) = opts.step
        && !(h.is_finite() && h > 0.0)
    {
        return Err(GradError::input(format!(
            "the kernel step {h} must be positive and finite"
        )));
    }
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(GradError::input(format!(
            "the false-alarm rate {} must be in (0, 1)",
            opts.alpha
        )));
    }
    Ok(())
}

/// The model built from a problem: the engine and the energy's call as text.
struct Model {
    engine: Engine,
    /// The energy with the context's definitions inlined.
    inlined: Expr,
    vars: Vec<Variable>,
    zlist: Vec<String>,
    yprimes: Vec<String>,
    b: String,
    n_data: usize,
}

impl Model {
    fn new(p: &GradProblem) -> Result<Model, GradError> {
        let mut ctx = p.context.clone();
        let inlined = ctx
            .inline(&p.energy)
            .map_err(|d| GradError::input(d.message))?;
        let vars: Vec<Variable> = p.predicted.iter().chain(&p.latent).cloned().collect();
        let names: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
        let bindings = ctx.bindings();
        let unknown: Vec<String> = crate::expr::free_variables(&inlined)
            .into_iter()
            .filter(|v| {
                !names.contains(v)
                    && !matches!(
                        bindings.get(v),
                        Some(crate::expr::Value::Number(_) | crate::expr::Value::List(_))
                    )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(GradError::UnknownNames(unknown));
        }
        if ctx.definition(ENERGY_NAME).is_some() {
            return Err(GradError::input(format!(
                "`{ENERGY_NAME}` is reserved by `grad`"
            )));
        }
        ctx.add_definition(Definition {
            name: ENERGY_NAME.to_string(),
            name_span: Span::default(),
            params: names,
            body: p.energy.clone(),
        })
        .map_err(|d| GradError::input(d.message))?;
        ctx.keep_spans_of(ENERGY_NAME);
        let domains: BTreeMap<String, VarDomain> =
            vars.iter().map(|v| (v.name.clone(), v.domain)).collect();
        Ok(Model {
            engine: Engine::new(ctx, domains),
            inlined,
            zlist: p.latent.iter().map(|v| v.name.clone()).collect(),
            yprimes: p.predicted.iter().map(|v| format!("{}'", v.name)).collect(),
            vars,
            b: lit(p.beta),
            n_data: p.data.first().map_or(0, Vec::len),
        })
    }

    fn call(&self, yargs: &[String]) -> String {
        let mut a = yargs.to_vec();
        a.extend(self.zlist.iter().cloned());
        format!("{ENERGY_NAME}({})", a.join(", "))
    }

    fn model_binds(&self) -> String {
        let mut v = self.yprimes.clone();
        v.extend(self.zlist.iter().cloned());
        v.join(", ")
    }

    /// Parses generated text around calls of the energy; its own nodes get the empty span, so
    /// an error's span, when it has one, is in the energy's text.
    fn prepare(&self, text: &str) -> Result<Expr, GradError> {
        let generated = crate::expr::with_span(&parse_text(text)?, Span::default());
        self.engine
            .prepare(&generated)
            .map_err(|e| engine_error_at(&e, "the loss cannot be built"))
    }
}

/// Computes the loss, the exact gradient, its finite-difference cross-check, and with
/// [`GradOptions::mc`] / [`GradOptions::cd`] the Monte-Carlo and CD-k estimates, judged.
///
/// # Errors
/// [`GradError`] for an ill-posed problem (see its variants), a divergent or non-integrable
/// energy, or an energy that cannot be compiled for sampling. Non-convergence and statistical
/// outcomes are not errors: they are in [`GradResult::status`] and [`GradResult::reasons`].
#[allow(
    clippy::too_many_lines,
    reason = "one pipeline, in the order of the module docs"
)]
pub fn run(p: &GradProblem, opts: &GradOptions) -> Result<GradResult, GradError> {
    validate(p, opts)?;
    let m = Model::new(p)?;
    let b = &m.b;
    let data_args = |i: usize| -> Vec<String> { p.data.iter().map(|col| lit(col[i])).collect() };
    #[allow(clippy::cast_precision_loss, reason = "data counts are small")]
    let n = lit(m.n_data as f64);
    let data_free: Vec<String> = (0..m.n_data)
        .map(|i| {
            let e = m.call(&data_args(i));
            if m.zlist.is_empty() {
                e
            } else {
                format!("(-1/{b}*log(int[{}](exp(-{b}*{e}))))", m.zlist.join(", "))
            }
        })
        .collect();
    let loss_text = format!(
        "({})/{n} + 1/{b}*log(int[{}](exp(-{b}*{})))",
        data_free.join(" + "),
        m.model_binds(),
        m.call(&m.yprimes)
    );
    let loss_expr = m.prepare(&loss_text)?;
    let origin = Point::new();
    let loss = m
        .engine
        .eval(&loss_expr, &origin)
        .map_err(|e| engine_error_at(&e, "the loss cannot be evaluated"))?;

    let mut params = Vec::new();
    let mut power_reasons = Vec::new();
    for w in &p.wrt {
        let (exact, mv) = exact_gradient(&m, p, w)?;
        let fd = m.engine.richardson(&loss_expr, &origin, w).map_err(|e| {
            engine_error_at(
                &e,
                &format!(
                    "the finite difference of the loss in `{w}` (steps up to ±1e-2·max(1, |{w}|))"
                ),
            )
        })?;
        let (tol, agreement, why) = agreement(&exact, &fd, mv.value.abs());
        let agree = agreement == Status::Pass;
        if let Some(why) = why {
            power_reasons.push(format!("`{w}`: exact against finite difference: {why}"));
        }
        params.push(ParamResult {
            name: w.clone(),
            exact,
            model_term: mv,
            finite_difference: fd,
            agree,
            power: tol,
            agreement,
            monte_carlo: None,
            contrastive_divergence: None,
        });
    }

    let mut reasons: Vec<String> = power_reasons;
    if !loss.converged()
        || params
            .iter()
            .any(|r| !r.exact.converged() || !r.finite_difference.converged())
    {
        reasons.push(
            "a quadrature did not reach its tolerance: the exact values are not certified".into(),
        );
    }
    let sample_beta = opts.sample_beta.unwrap_or(p.beta);
    let mut mc_run = None;
    let mut mc_verdict = Verdict::Pass;
    let needs_draws = opts.mc.is_some() || opts.cd.is_some();
    let compiled = if needs_draws {
        Some(sampler::Compiled::new(
            &m.engine, &m.vars, &p.wrt, &m.inlined,
        )?)
    } else {
        None
    };
    if let (Some(total), Some(c)) = (opts.mc, &compiled) {
        let kind = opts
            .sampler
            .unwrap_or_else(|| sampler::default_sampler(&m.vars));
        let model = sampler::Sampled {
            engine: &m.engine,
            compiled: c,
            vars: &m.vars,
            energy: &m.inlined,
            beta: sample_beta,
        };
        let run = sampler::sample(&model, kind, opts.step, total, opts.seed)?;
        let inputs: Vec<McInput> = params
            .iter()
            .zip(&run.values)
            .map(|(row, values)| {
                let refs: Vec<&[f64]> = values.iter().map(Vec::as_slice).collect();
                let est = if kind.is_markov() {
                    mc_estimate(&refs)
                } else {
                    iid_estimate(&values.concat())
                };
                // The data term is exact: the estimate is data − ⟨∂E/∂w⟩_draws.
                let data_term = row.exact.value + row.model_term.value;
                McInput {
                    name: format!("d loss / d {}", row.name),
                    estimate: Estimate {
                        estimate: data_term - est.estimate,
                        ..est
                    },
                    exact: row.exact.clone(),
                    rhat: (kind.is_markov() && refs.len() > 1).then(|| ess::split_rhat(&refs)),
                }
            })
            .collect();
        let j = judge(&inputs, opts.alpha);
        #[allow(clippy::cast_precision_loss)]
        let critical =
            crate::stats::special::quantile(1.0 - opts.alpha / (2.0 * inputs.len().max(1) as f64));
        for (((row, input), z), values) in params.iter_mut().zip(inputs).zip(&j.z).zip(run.values) {
            let data_term = row.exact.value + row.model_term.value;
            let first = values.iter().find_map(|c| c.first()).copied();
            row.monte_carlo = Some(McEstimate {
                power: critical * input.estimate.mcse + 2.0 * input.exact.error,
                estimate: input.estimate,
                z: *z,
                single_sample: Estimate {
                    mcse: input.estimate.sd,
                    sd: input.estimate.sd,
                    ..single_sample(first.map_or(f64::NAN, |g| data_term - g))
                },
                draws: opts.keep_draws.then(|| {
                    values
                        .iter()
                        .map(|c| c.iter().map(|g| data_term - g).collect())
                        .collect()
                }),
            });
        }
        mc_verdict = j.verdict;
        reasons.extend(j.reasons);
        mc_run = Some(McRun {
            sampler: kind,
            draws: total,
            acceptance: run.acceptance,
            summary: j.summary,
        });
    }
    let mut cd_run = None;
    if let (Some(k), Some(c)) = (opts.cd, &compiled) {
        let kind = opts
            .sampler
            .filter(|s| s.is_markov())
            .unwrap_or(SamplerKind::Mala);
        let step = opts.step.unwrap_or_else(|| kind.default_step(sample_beta));
        let chains = opts.mc.unwrap_or(DEFAULT_DRAWS);
        let model = sampler::Sampled {
            engine: &m.engine,
            compiled: c,
            vars: &m.vars,
            energy: &m.inlined,
            beta: sample_beta,
        };
        let cd = sampler::CdChains {
            kind,
            step,
            k,
            chains,
            seed: opts.seed,
        };
        let (values, acceptance) = sampler::contrastive(&model, m.zlist.len(), &p.data, &cd)?;
        let shrink = gaussian_shrink(&m, p, sample_beta, kind, step, k);
        let inputs: Vec<McInput> = params
            .iter()
            .zip(&values)
            .map(|(row, v)| {
                let est = iid_estimate(v);
                let data_term = row.exact.value + row.model_term.value;
                McInput {
                    name: format!("CD-{k} d loss / d {}", row.name),
                    estimate: Estimate {
                        estimate: data_term - est.estimate,
                        ..est
                    },
                    exact: row.exact.clone(),
                    rhat: None,
                }
            })
            .collect();
        let j = judge(&inputs, opts.alpha);
        for (i, (row, input)) in params.iter_mut().zip(inputs).enumerate() {
            let e = input.estimate;
            let bias = e.estimate - row.exact.value;
            let factor = shrink.get(i).copied().flatten();
            row.contrastive_divergence = Some(CdEstimate {
                estimate: e,
                bias,
                relative_bias: if row.exact.value.abs() > 0.0 {
                    bias / row.exact.value.abs()
                } else {
                    f64::NAN
                },
                z: j.z[i],
                biased: j.reject[i],
                shrink_factor: factor,
                z_predicted: factor.map(|f| (e.estimate - f * row.exact.value) / e.mcse),
            });
        }
        cd_run = Some(CdRun {
            k,
            sampler: kind,
            step,
            chains,
            acceptance,
        });
    }

    let status =
        if params.iter().any(|r| r.agreement == Status::Fail) || mc_verdict == Verdict::Fail {
            Status::Fail
        } else if !reasons.is_empty() || mc_verdict == Verdict::Inconclusive {
            Status::Inconclusive
        } else {
            Status::Pass
        };
    Ok(GradResult {
        beta: p.beta,
        n_data: m.n_data,
        loss,
        params,
        monte_carlo: mc_run,
        contrastive_divergence: cd_run,
        status,
        reasons,
    })
}

/// Exact against finite difference: the comparison's power (its tolerance: twice the summed
/// error bounds plus a 1e-10 relative floor), its verdict, and why it cannot fail when the power
/// rule says so. The gradient is the difference of the data term and the model term
/// `⟨∂E/∂w⟩` (of size `terms`): a power below that size detects an error in either, even where
/// they cancel to a gradient of 0.
fn agreement(exact: &Value, fd: &Value, terms: f64) -> (f64, Status, Option<String>) {
    let tol =
        2.0 * (exact.error + fd.error) + 1e-10 * exact.value.abs().max(fd.value.abs()).max(1.0);
    let differ = tol.is_finite() && (exact.value - fd.value).abs() > tol;
    let scale = exact.value.abs().max(fd.value.abs()).max(terms);
    if differ {
        (tol, Status::Fail, None)
    } else if let Some(why) = crate::estimate::power_rule(tol, scale, POWER_FLOOR) {
        (tol, Status::Inconclusive, Some(why))
    } else {
        (tol, Status::Pass, None)
    }
}

/// The exact gradient in `w` and the exact contrastive term: `mean_i ⟨∂E/∂w⟩_{p(z|y_i)} −
/// ⟨∂E/∂w⟩_{p(y', z)}`, each integral by quadrature.
fn exact_gradient(m: &Model, p: &GradProblem, w: &str) -> Result<(Value, Value), GradError> {
    let b = &m.b;
    #[allow(clippy::cast_precision_loss, reason = "data counts are small")]
    let n = lit(m.n_data as f64);
    let data_terms: Vec<String> = (0..m.n_data)
        .map(|i| {
            let args: Vec<String> = p.data.iter().map(|col| lit(col[i])).collect();
            let e = m.call(&args);
            if m.zlist.is_empty() {
                format!("diff[{w}]({e})")
            } else {
                format!(
                    "expect[{} ~ exp(-{b}*{e})](diff[{w}]({e}))",
                    m.zlist.join(", ")
                )
            }
        })
        .collect();
    let data_expr = m.prepare(&format!("({})/{n}", data_terms.join(" + ")))?;
    let e = m.call(&m.yprimes);
    let model_expr = m.prepare(&format!(
        "expect[{} ~ exp(-{b}*{e})](diff[{w}]({e}))",
        m.model_binds()
    ))?;
    let what = format!("the gradient in `{w}`");
    let origin = Point::new();
    let dv = m
        .engine
        .eval(&data_expr, &origin)
        .map_err(|e| engine_error_at(&e, &what))?;
    let mv = m
        .engine
        .eval(&model_expr, &origin)
        .map_err(|e| engine_error_at(&e, &what))?;
    let exact = Value::new(
        dv.value - mv.value,
        dv.error + mv.error,
        Termination::from_converged(dv.converged() && mv.converged()),
    );
    Ok((exact, mv))
}

/// For a Gaussian energy in one predicted variable on the real line (no latents) under ULA, the
/// chain's mean moves exactly as `m ← μ + ρ(m − μ)` with `ρ = 1 − hβA`, `A = ∂²E/∂y²`, so for
/// an observable linear in `y` CD-k equals `(1 − ρᵏ)` times the exact gradient. `None` for each
/// parameter where that does not hold.
fn gaussian_shrink(
    m: &Model,
    p: &GradProblem,
    beta: f64,
    kind: SamplerKind,
    step: f64,
    k: usize,
) -> Vec<Option<f64>> {
    let none = vec![None; p.wrt.len()];
    let [y] = p.predicted.as_slice() else {
        return none;
    };
    let full_line = matches!(y.domain, VarDomain::Continuous { lo, hi } if lo == f64::NEG_INFINITY && hi == f64::INFINITY);
    if kind != SamplerKind::Ula || !p.latent.is_empty() || !full_line {
        return none;
    }
    let second = |e: &Expr| -> Option<Expr> {
        let d = m.engine.derivative(e, &y.name).ok()?;
        m.engine.derivative(&d, &y.name).ok()
    };
    let Some(a_expr) = second(&m.inlined) else {
        return none;
    };
    if m.engine.free_variables(&a_expr).contains(&y.name) {
        return none;
    }
    let Ok(a) = m.engine.eval(&a_expr, &Point::new()) else {
        return none;
    };
    let rho = 1.0 - step * beta * a.value;
    let Ok(k) = i32::try_from(k) else {
        return none;
    };
    p.wrt
        .iter()
        .map(|w| {
            let g = m.engine.derivative(&m.inlined, w).ok()?;
            let g2 = second(&g)?;
            let zero = m.engine.eval(&g2, &Point::new()).ok()?;
            (!m.engine.free_variables(&g2).contains(&y.name) && zero.value.abs() < 1e-12)
                .then(|| 1.0 - rho.powi(k))
        })
        .collect()
}

#[cfg(test)]
mod tests;
