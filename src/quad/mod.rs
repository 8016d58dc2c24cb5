//! Log-space adaptive quadrature of partition functions in 1–4 dimensions, with global minimisation.
//!
//! `log Z(β) = log ∫ exp(-β E(z)) dz` is computed as `-β E* + log I` where `E*` is the global
//! minimum found by a multistart search and `I = ∫ exp(-β (E - E*))`, so nothing overflows or
//! underflows for any β. The mass is located before it is integrated:
//!
//! - 1D (module `line`): every local minimiser becomes a breakpoint, with further breakpoints at ±2 and
//!   ±5 local widths (the distance where `β(E - E(z_m))` reaches 1); half-lines beyond are mapped
//!   to `[0, 1)` after centring; a globally adaptive Gauss–Kronrod G10–K21 rule integrates the
//!   vector `(w, w·g_1, …)` with `w = exp(-β(E - E*))`.
//! - 2D with several minima or a non-isolated minimum (a ring): nested 1D, the outer integrand
//!   being the free energy of each slice, with the slice errors carried as an observable.
//! - 2–4D with one isolated minimum: whitening `z = z* + L t`, `L Lᵀ = (β H)⁻¹`, then h-adaptive
//!   Genz–Malik cubature (module `cubature`) on a product of per-axis pieces mapped to finite boxes.
//!   A minimum that is Gaussian at the weight's scale is first integrated by product
//!   Gauss–Hermite rules in the whitened frame (module `hermite`).
//! - Integer variables are summed exactly (log-sum-exp of the continuous parts).
//!
//! Divergent partition functions are refused ([`QuadError::Diverges`]), NaN energies are errors
//! naming the point, and a result that did not reach its tolerance carries
//! [`Status::NotConverged`] with its best estimate.

// Numeric kernels index several parallel arrays by the same loop variable, and the internal
// drivers pass the problem's parameters explicitly rather than through ad-hoc structs.
#![allow(clippy::needless_range_loop)]

mod audit;
mod bounds;
mod cdf;
mod cubature;
mod gk;
mod hermite;
mod line;
mod minimize;
mod minimum;
#[cfg(test)]
mod minimum_tests;
#[cfg(test)]
mod mixture_tests;
mod nd;
mod problem;
mod rays;
#[cfg(test)]
mod shape_tests;
#[cfg(test)]
mod status_tests;
mod valley;
use audit::audit;

pub use cdf::{CDF_PIECES, CDF_TOL, Cdf1d, TAIL_CUT};

use crate::domain::IntRange;
pub use crate::estimate::{Estimate, Termination};
use crate::expr::Interval;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::energy::{Energy, FnEnergy};

pub use crate::domain::VarDomain;
pub use minimum::{
    MIN_ARGMIN_BOXES, MIN_ARGMIN_REL, MIN_BOXES, MIN_GAP_REL, Minimum, minima_found, minimize,
    minimize_within,
};
use problem::*;
use rays::*;

/// A minimum more than this many `1/β` above the global one carries a weight below e^-50: it is
/// not a separate mode (nD) nor a breakpoint (1D).
pub(crate) const SIGNIFICANT: f64 = 50.0;

/// Largest number of integer combinations summed over.
pub const MAX_DISCRETE_COMBINATIONS: u64 = 100_000;

/// The integration domain: one [`VarDomain`] per variable, in the energy's coordinate order.
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    /// The variables' ranges.
    pub vars: Vec<VarDomain>,
}

impl Domain {
    /// Validates and builds a domain.
    ///
    /// # Errors
    /// [`QuadError::InvalidDomain`] if a bound is NaN, a continuous range has `lo >= hi` or an
    /// end at the wrong infinity, an integer range is empty, there are more than 4 continuous
    /// variables, or more than [`MAX_DISCRETE_COMBINATIONS`] integer combinations.
    pub fn new(vars: Vec<VarDomain>) -> Result<Self, QuadError> {
        if vars.is_empty() {
            return Err(QuadError::InvalidDomain(
                "the domain has no variables".into(),
            ));
        }
        let mut n_cont = 0;
        let mut combos: u64 = 1;
        for (i, v) in vars.iter().enumerate() {
            match *v {
                VarDomain::Continuous { lo, hi } => {
                    n_cont += 1;
                    if lo.is_nan() || hi.is_nan() {
                        return Err(QuadError::InvalidDomain(format!(
                            "variable {} has a NaN bound",
                            i + 1
                        )));
                    }
                    if lo == f64::INFINITY || hi == f64::NEG_INFINITY || lo >= hi {
                        return Err(QuadError::InvalidDomain(format!(
                            "variable {} has an empty range {lo}..{hi}",
                            i + 1
                        )));
                    }
                }
                VarDomain::Integer { lo, hi } => {
                    if lo > hi {
                        return Err(QuadError::InvalidDomain(format!(
                            "variable {} has an empty integer range {lo}..{hi}",
                            i + 1
                        )));
                    }
                    let n = IntRange { lo, hi }.len();
                    combos = combos.saturating_mul(u64::try_from(n).unwrap_or(u64::MAX));
                }
            }
        }
        if n_cont > 4 {
            return Err(QuadError::InvalidDomain(format!(
                "{n_cont} continuous variables: at most 4 are supported"
            )));
        }
        if combos > MAX_DISCRETE_COMBINATIONS {
            return Err(QuadError::InvalidDomain(format!(
                "{combos} integer combinations: at most {MAX_DISCRETE_COMBINATIONS} are summed"
            )));
        }
        Ok(Self { vars })
    }

    /// A domain of continuous variables only.
    ///
    /// # Errors
    /// As [`Domain::new`].
    pub fn continuous(ranges: &[(f64, f64)]) -> Result<Self, QuadError> {
        Self::new(
            ranges
                .iter()
                .map(|&(lo, hi)| VarDomain::Continuous { lo, hi })
                .collect(),
        )
    }

    /// Number of variables.
    pub fn dim(&self) -> usize {
        self.vars.len()
    }

    fn continuous_indices(&self) -> Vec<usize> {
        self.vars
            .iter()
            .enumerate()
            .filter(|(_, v)| matches!(v, VarDomain::Continuous { .. }))
            .map(|(i, _)| i)
            .collect()
    }

    /// Every combination of the integer variables (values in domain order), one per entry.
    fn discrete_combinations(&self) -> Vec<Vec<(usize, f64)>> {
        let mut out: Vec<Vec<(usize, f64)>> = vec![Vec::new()];
        for (i, v) in self.vars.iter().enumerate() {
            if let Some(range) = v.integers() {
                let n = usize::try_from(range.len()).unwrap_or(usize::MAX);
                let mut next = Vec::with_capacity(out.len().saturating_mul(n));
                for prefix in &out {
                    for k in range.values() {
                        let mut p = prefix.clone();
                        p.push((i, k));
                        next.push(p);
                    }
                }
                out = next;
            }
        }
        out
    }
}

/// Options of the integrator.
#[derive(Debug, Clone)]
pub struct QuadOptions {
    /// Target error of `log Z` (absolute; equivalently the relative error of `Z`). `None` uses
    /// [`default_tolerance`] for the number of continuous variables.
    pub abs_tol: Option<f64>,
    /// Budget of energy evaluations (minimisation, probes and quadrature alike).
    pub max_evals: u64,
    /// Known minimisers (full points, integer coordinates ignored), searched first: use them
    /// for wells too narrow for any search to find.
    pub hints: Vec<Vec<f64>>,
    /// Typical length scale of the energy (the search grid is scaled by it), if known.
    pub length_scale: Option<f64>,
}

impl Default for QuadOptions {
    fn default() -> Self {
        Self {
            abs_tol: None,
            max_evals: 20_000_000,
            hints: Vec::new(),
            length_scale: None,
        }
    }
}

/// Default target error of `log Z` with `n_continuous` continuous variables:
/// 1e-9 in 1D (or 1e-12 relative to |log Z|, whichever is larger), 1e-8 in 2D, 1e-7 in 3D,
/// 1e-5 in 4D, 1e-12 for a pure sum.
pub fn default_tolerance(n_continuous: usize) -> f64 {
    match n_continuous {
        0 => 1e-12,
        1 => 1e-9,
        2 => 1e-8,
        3 => 1e-7,
        _ => 1e-5,
    }
}

/// The largest error of `log Z` a result may carry and still be called converged, for a
/// target tolerance `tol`: the tolerance itself, or 1e-5 (the 4D default) when the rounding
/// floor of a large `|log Z|` or the 1D default's 1e-12 relative to `|log Z|` is above it. The rule's own error is measured as a relative error
/// of `Z`, which does not grow with `|log Z|`, so a wrong `log Z` cannot loosen the test.
pub fn max_converged_error(tol: f64) -> f64 {
    tol.max(MAX_ROUNDING_ERROR)
}

/// See [`max_converged_error`].
const MAX_ROUNDING_ERROR: f64 = 1e-5;

/// The relative error of Z whose error of log Z, `−ln(1 − rel)`, is `log_tol`: the rules
/// stop on `rel`, and aimed at `log_tol` itself they report a little more (`rel + rel²/2`).
/// A 4D Gaussian in a box stopped a hair below `rel = 1e-5` and came out at 1.0000045e-5 with
/// 1e-5 asked, not converged.
pub(crate) fn rel_error_for(log_tol: f64) -> f64 {
    -(-log_tol).exp_m1()
}

/// Whether a numeric result reached its tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The error estimate is within the tolerance (or at the rounding floor).
    Converged,
    /// Budget exhausted or tolerance not reached; the estimate is the best available and the
    /// reason is in [`LogZ::reason`].
    NotConverged,
}

/// A log partition function with its error and diagnostics.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogZ {
    /// `log Z = log ∫ exp(-β E)`.
    pub log_z: f64,
    /// Bound on the error of `log_z` (rule error + rounding floor + inner errors).
    pub abs_error: f64,
    /// Lowest energy found (global minimum), `F_∞`.
    pub min_energy: f64,
    /// A global minimiser (full point, integer coordinates included).
    pub argmin: Vec<f64>,
    /// Energy evaluations: minimisation, divergence probes and quadrature.
    pub evaluations: u64,
    /// Whether the tolerance was reached: `converged` exactly when [`LogZ::termination`] is
    /// [`Termination::Converged`].
    pub status: Status,
    /// Why the integration stopped (the one termination type of [`crate::estimate`]): never
    /// converged with a non-finite value or error, or an error above
    /// [`max_converged_error`] of the tolerance.
    pub termination: Termination,
    /// Why the status is not converged, or a note (e.g. tolerance below the rounding floor).
    pub reason: Option<String>,
    /// Part of `abs_error` due to rounding of `β E` in f64 (≈ β·ε·|E|).
    pub rounding_floor: f64,
    /// Laplace approximation `-βE* + (d/2) log(2π/β) - ½ log det H` when the minimum is
    /// isolated and the Hessian was computed (nD whitened path), else `None`.
    pub laplace_log_z: Option<f64>,
    /// The inverse temperature.
    pub beta: f64,
}

impl LogZ {
    /// `log Z` as the crate's one estimate type.
    pub fn estimate(&self) -> Estimate {
        Estimate::new(self.log_z, self.abs_error, self.termination)
    }
    /// Free energy `F = -(1/β) log Z`.
    pub fn free_energy(&self, beta: f64) -> f64 {
        -self.log_z / beta
    }
    /// Error bound of [`LogZ::free_energy`]: `abs_error / β`.
    pub fn free_energy_error(&self, beta: f64) -> f64 {
        self.abs_error / beta
    }
}

/// Gibbs expectations `⟨g_k⟩ = ∫ g_k e^{-βE} / Z`, with `log Z`, from [`expectations`].
#[derive(Debug, Clone)]
pub struct Expectations {
    /// `log Z` and its diagnostics, computed on the same nodes.
    pub log_z: LogZ,
    /// `⟨g_k⟩` for each observable.
    pub values: Vec<f64>,
    /// Error bound of each `⟨g_k⟩` (absolute).
    pub errors: Vec<f64>,
    /// `⟨|g_k|⟩`, the scale against which the relative tolerance is applied.
    pub abs_means: Vec<f64>,
}

/// Errors of the integrator: invalid input or a partition function that does not exist.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuadError {
    /// `∫ exp(-βE) = ∞`.
    #[error("the partition function diverges: {direction}")]
    Diverges {
        /// 0-based index of the variable along which it diverges, if along one axis.
        axis: Option<usize>,
        /// Human-readable direction, e.g. `exp(-βE) does not decay as z1 → +inf`.
        direction: String,
    },
    /// The energy falls to `-inf` at a point where `exp(-βE)` grows more slowly than `r^-d`
    /// in some direction, so `∫ exp(-βE)` may be finite; no rule here integrates a singular
    /// weight, so the integral is refused, never reported as divergent or converged.
    #[error(
        "the energy falls to -inf at {point:?}, where exp(-βE) grows like r^-{exponent:.2} along some direction (below r^-{dim}, so the partition function may be finite), but singular weights are not integrated: remove the singularity by a change of variables, or cut a small ball around the point out of the domain"
    )]
    Singular {
        /// The full point where the energy is `-inf`.
        point: Vec<f64>,
        /// The smallest growth exponent `a` of `exp(-βE) ~ r^-a` over the rays probed.
        exponent: f64,
        /// The number of continuous variables.
        dim: usize,
    },
    /// The energy returned NaN.
    #[error("the energy is NaN at {point:?}")]
    NotANumber {
        /// The full point.
        point: Vec<f64>,
    },
    /// The domain is unusable.
    #[error("invalid domain: {0}")]
    InvalidDomain(String),
    /// β must be positive and finite.
    #[error("invalid inverse temperature {0}: β must be positive and finite")]
    InvalidBeta(f64),
    /// The energy's dimension differs from the domain's.
    #[error("the energy takes {energy} variables but the domain has {domain}")]
    DimensionMismatch {
        /// `Energy::dim()`.
        energy: usize,
        /// `Domain::dim()`.
        domain: usize,
    },
    /// Options are unusable (e.g. a negative tolerance or a hint of the wrong length).
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

/// Observables `g(z, out)`: writes `n_obs` values at the full point `z`.
pub type Observables<'a> = &'a (dyn Fn(&[f64], &mut [f64]) + Sync);

/// Result of integrating one continuous problem.
pub(crate) struct PartResult {
    pub log_z: f64,
    pub abs_error: f64,
    pub min_energy: f64,
    pub argmin: Vec<f64>,
    pub converged: bool,
    pub reason: Option<String>,
    pub rounding_floor: f64,
    pub laplace: Option<f64>,
    /// `⟨g_k⟩`, their errors and `⟨|g_k|⟩`.
    pub obs: Vec<f64>,
    pub obs_err: Vec<f64>,
    pub obs_abs: Vec<f64>,
    /// Every local minimiser the search located, for the mass audit: in 1D the points, in
    /// 2–4D their continuous coordinates one after the other (`dim` numbers each).
    pub minima: Vec<f64>,
}

impl PartResult {
    /// A converged `log Z` without observables, its error including the rounding floor
    /// `floor`, and the lowest point `(E, full point)` seen.
    pub(crate) fn converged_log_z(
        log_z: f64,
        abs_error: f64,
        floor: f64,
        (min_energy, argmin): (f64, Vec<f64>),
    ) -> PartResult {
        PartResult {
            minima: Vec::new(),
            log_z,
            abs_error,
            min_energy,
            argmin,
            converged: true,
            reason: None,
            rounding_floor: floor,
            laplace: None,
            obs: Vec::new(),
            obs_err: Vec::new(),
            obs_abs: Vec::new(),
        }
    }
}

fn tolerance_for(n_cont: usize, opts: &QuadOptions) -> f64 {
    opts.abs_tol.unwrap_or_else(|| default_tolerance(n_cont))
}

type Enclosures = Vec<Option<bounds::Enclosure>>;

/// What one part (the energy at fixed integer values) is integrated for: the named arguments
/// shared by the 1D and nD integrators and the mass audit.
#[derive(Clone, Copy)]
pub(crate) struct PartSpec<'a> {
    /// Inverse temperature.
    pub beta: f64,
    /// The observables, if any, writing `n_obs` values.
    pub obs: Option<Observables<'a>>,
    /// Number of observables (0 without).
    pub n_obs: usize,
    /// Absolute tolerance on `log Z`.
    pub tol: f64,
    /// Evaluations this part may still spend.
    pub budget: u64,
    /// The caller's options (hints, length scale, tolerances).
    pub opts: &'a QuadOptions,
}

fn run(
    energy: &dyn Energy,
    domain: &Domain,
    beta: f64,
    obs: Option<(Observables<'_>, usize)>,
    opts: &QuadOptions,
    certify: Option<(f64, usize)>,
) -> Result<(Expectations, Enclosures), QuadError> {
    check_inputs(energy, domain, Some(beta), opts)?;
    let mut enclosures = Vec::new();
    let probs = problems(energy, domain);
    let n_cont = domain.continuous_indices().len();
    let tol = tolerance_for(n_cont, opts);
    let n_obs = obs.map_or(0, |o| o.1);
    let mut parts = Vec::with_capacity(probs.len());
    let mut used: u64 = 0;
    for p in &probs {
        let spec = PartSpec {
            beta,
            obs: obs.map(|o| o.0),
            n_obs,
            tol,
            budget: opts.max_evals.saturating_sub(used).max(1),
            opts,
        };
        let r = match n_cont {
            0 => {
                let e = p.eval(&[])?;
                let mut g = vec![0.0; n_obs];
                if let Some((f, _)) = obs {
                    f(&p.template, &mut g);
                }
                PartResult {
                    minima: Vec::new(),
                    log_z: -beta * e,
                    abs_error: 4.0 * f64::EPSILON * (beta * e).abs(),
                    min_energy: e,
                    argmin: p.template.clone(),
                    converged: true,
                    reason: None,
                    rounding_floor: 4.0 * f64::EPSILON * (beta * e).abs(),
                    laplace: None,
                    obs_abs: g.iter().map(|v| v.abs()).collect(),
                    obs_err: vec![0.0; n_obs],
                    obs: g,
                }
            }
            1 => line::integrate_problem(p, &spec)?,
            _ => nd::integrate_problem(p, &spec)?,
        };
        let r = if n_cont > 0 {
            audit(p, &spec, r, certify, &mut enclosures)?
        } else {
            r
        };
        used += p.count();
        parts.push(r);
    }
    Ok((combine(parts, used, beta, n_obs, tol), enclosures))
}

/// The sum of independent parts of one integral (the discrete combinations of a domain, or
/// the modes of a partition of unity): `log Z` their log-sum-exp, errors weighted by each
/// part's share of `Z` (not the worst case), observables their weighted means, the lowest
/// point theirs. Converged when every part is; the first reason given is kept.
pub(crate) fn sum_parts(parts: &[PartResult], n_obs: usize) -> PartResult {
    let finite: Vec<&PartResult> = parts
        .iter()
        .filter(|p| p.log_z > f64::NEG_INFINITY)
        .collect();
    let max = finite
        .iter()
        .map(|p| p.log_z)
        .fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = parts
        .iter()
        .map(|p| {
            if max.is_finite() {
                (p.log_z - max).exp()
            } else {
                0.0
            }
        })
        .collect();
    let sw: f64 = weights.iter().sum();
    let log_z = if sw > 0.0 {
        max + sw.ln()
    } else {
        f64::NEG_INFINITY
    };
    let mut abs_error = 0.0;
    let mut floor: f64 = 0.0;
    let mut values = vec![0.0; n_obs];
    let mut errors = vec![0.0; n_obs];
    let mut abs_means = vec![0.0; n_obs];
    for (p, w) in parts.iter().zip(&weights) {
        let pw = if sw > 0.0 { w / sw } else { 0.0 };
        abs_error += pw * p.abs_error;
        floor = floor.max(p.rounding_floor);
        for k in 0..n_obs {
            values[k] += pw * p.obs[k];
            abs_means[k] += pw * p.obs_abs[k];
            // A relative error δ in one part's weight moves ⟨g⟩ by at most δ·pw·|g_k - ⟨g⟩|.
            errors[k] += pw * (p.obs_err[k] + 2.0 * p.abs_error * p.obs_abs[k]);
        }
    }
    let best = parts
        .iter()
        .min_by(|a, b| a.min_energy.total_cmp(&b.min_energy));
    PartResult {
        minima: Vec::new(),
        log_z,
        abs_error,
        min_energy: best.map_or(f64::INFINITY, |b| b.min_energy),
        argmin: best.map_or_else(Vec::new, |b| b.argmin.clone()),
        converged: parts.iter().all(|p| p.converged),
        reason: parts.iter().find_map(|p| p.reason.clone()),
        rounding_floor: floor,
        laplace: None,
        obs: values,
        obs_err: errors,
        obs_abs: abs_means,
    }
}

fn combine(
    parts: Vec<PartResult>,
    evaluations: u64,
    beta: f64,
    n_obs: usize,
    tol: f64,
) -> Expectations {
    let PartResult {
        log_z,
        abs_error,
        min_energy,
        argmin,
        rounding_floor: floor,
        obs: values,
        obs_err: errors,
        obs_abs: abs_means,
        converged: all_converged,
        mut reason,
        ..
    } = sum_parts(&parts, n_obs);
    let mut termination = if all_converged {
        Termination::Converged
    } else {
        Termination::ToleranceNotReached
    };
    // The rule of the one estimate type, and an absolute test that a wrong |log Z| cannot move.
    let est = Estimate::new(log_z, abs_error, termination);
    if est.termination() != termination {
        termination = est.termination();
        reason = Some(format!(
            "{} (log Z = {log_z:e}, error bound {abs_error:e}): the integrand is not resolved",
            termination.describe()
        ));
    } else if termination == Termination::Converged && abs_error > max_converged_error(tol) {
        termination = Termination::ToleranceNotReached;
        reason = Some(format!(
            "the error bound {abs_error:.3e} of log Z exceeds {:.1e} (tolerance {tol:.1e}): log Z is not resolved in f64",
            max_converged_error(tol)
        ));
    }
    if termination == Termination::Converged {
        for (k, e) in errors.iter().enumerate() {
            if !e.is_finite() || !values[k].is_finite() {
                termination = Termination::ErrorNotFinite;
                reason = Some(format!("observable {k}: its error bound is not finite"));
            }
        }
    }
    let converged = termination == Termination::Converged;
    let laplace = if parts.len() == 1 {
        parts[0].laplace
    } else {
        None
    };
    Expectations {
        log_z: LogZ {
            log_z,
            abs_error,
            min_energy,
            argmin,
            evaluations,
            status: if converged {
                Status::Converged
            } else {
                Status::NotConverged
            },
            termination,
            reason,
            rounding_floor: floor,
            laplace_log_z: laplace,
            beta,
        },
        values,
        errors,
        abs_means,
    }
}

/// `log Z = log ∫ exp(-β E(z)) dz` over `domain` (integer variables summed).
///
/// # Errors
/// [`QuadError::Diverges`] if the integral is infinite, [`QuadError::NotANumber`] if the energy
/// is NaN at an evaluated point, and the input errors ([`QuadError::InvalidDomain`],
/// [`QuadError::InvalidBeta`], [`QuadError::DimensionMismatch`], [`QuadError::InvalidOption`]).
/// Not reaching the tolerance is not an error: see [`LogZ::status`].
pub fn log_partition(
    energy: &dyn Energy,
    domain: &Domain,
    beta: f64,
    opts: &QuadOptions,
) -> Result<LogZ, QuadError> {
    run(energy, domain, beta, None, opts, None).map(|e| e.0.log_z)
}

/// A certified enclosure of `log Z` (from [`certify_log_partition`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Certified {
    /// `log Z ≥ lo`, from lower sums of interval enclosures.
    pub lo: f64,
    /// `log Z ≤ hi`, from upper sums (`+inf` when nothing bounds it).
    pub hi: f64,
    /// Boxes in the final partitions.
    pub boxes: usize,
    /// Interval evaluations of the energy and its gradient.
    pub interval_evaluations: u64,
    /// Whether part of the upper bound is a geometric extrapolation of the mass beyond
    /// `±8·2^40` length scales (infinite domains), not an enclosure.
    pub tail_extrapolated: bool,
}

impl Certified {
    /// `hi - lo`.
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }
}

/// `log Z` with a certified enclosure `[lo, hi]` refined to width `target` or until `max_boxes`
/// boxes per integer combination; the enclosure is `None` when the energy has no interval
/// enclosure ([`Energy::enclose`]). The estimate is as [`log_partition`]'s, audited against the
/// enclosure.
///
/// # Errors
/// As [`log_partition`], and [`QuadError::InvalidOption`] for a target that is not positive.
pub fn certify_log_partition(
    energy: &dyn Energy,
    domain: &Domain,
    beta: f64,
    opts: &QuadOptions,
    target: f64,
    max_boxes: usize,
) -> Result<(LogZ, Option<Certified>), QuadError> {
    if target.is_nan() || target <= 0.0 {
        return Err(QuadError::InvalidOption(format!(
            "the certified width must be positive, got {target}"
        )));
    }
    let (e, encs) = run(
        energy,
        domain,
        beta,
        None,
        opts,
        Some((target, max_boxes.max(1))),
    )?;
    let mut cert: Option<Certified> = None;
    let mut los = Vec::new();
    let mut his = Vec::new();
    for enc in &encs {
        let Some(enc) = enc else {
            return Ok((e.log_z, None));
        };
        los.push(enc.lo);
        his.push(enc.hi);
        let c = cert.get_or_insert(Certified {
            lo: 0.0,
            hi: 0.0,
            boxes: 0,
            interval_evaluations: 0,
            tail_extrapolated: false,
        });
        c.boxes += enc.boxes;
        c.interval_evaluations += enc.interval_evals;
        c.tail_extrapolated |= enc.tail_extrapolated;
    }
    let lse = |v: &[f64]| {
        let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if m.is_finite() {
            m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
        } else {
            m
        }
    };
    if let Some(c) = cert.as_mut() {
        c.lo = lse(&los);
        c.hi = lse(&his);
    }
    Ok((e.log_z, cert))
}

/// Gibbs expectations of `n_obs` observables, computed on the same nodes as `log Z`.
///
/// `observables(z, out)` writes `g_1(z), …, g_n(z)` at the full point `z`. The adaptive rule
/// integrates the vector `(e^{-βE}, g_1 e^{-βE}, …)` and refines until every component meets
/// the tolerance relative to its scale `∫ |g_k| e^{-βE}`; `errors[k]` bounds the error of
/// `⟨g_k⟩` (absolute).
///
/// # Errors
/// As [`log_partition`].
pub fn expectations(
    energy: &dyn Energy,
    domain: &Domain,
    beta: f64,
    observables: Observables<'_>,
    n_obs: usize,
    opts: &QuadOptions,
) -> Result<Expectations, QuadError> {
    run(energy, domain, beta, Some((observables, n_obs)), opts, None).map(|e| e.0)
}

#[cfg(test)]
mod tests;
