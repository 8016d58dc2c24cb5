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
//! - Integer variables are summed exactly (log-sum-exp of the continuous parts).
//!
//! Divergent partition functions are refused ([`QuadError::Diverges`]), NaN energies are errors
//! naming the point, and a result that did not reach its tolerance carries
//! [`Status::NotConverged`] with its best estimate.

// Numeric kernels index several parallel arrays by the same loop variable, and the internal
// drivers pass the problem's parameters explicitly rather than through ad-hoc structs.
#![allow(clippy::needless_range_loop)]

mod bounds;
mod cdf;
mod cubature;
mod gk;
mod hermite;
mod line;
mod minimize;
mod nd;
#[cfg(test)]
mod status_tests;
mod valley;

pub use cdf::{CDF_PIECES, CDF_TOL, Cdf1d, TAIL_CUT};

use crate::domain::IntRange;
pub use crate::estimate::{Estimate, Termination};
use crate::expr::Interval;
use std::sync::atomic::{AtomicU64, Ordering};

pub use crate::energy::{Energy, FnEnergy};

pub use crate::domain::VarDomain;

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

/// Result of [`minimize`].
#[derive(Debug, Clone)]
pub struct Minimum {
    /// Lowest energy found.
    pub value: f64,
    /// Where it is (full point).
    pub argmin: Vec<f64>,
    /// Energy evaluations used.
    pub evaluations: u64,
    /// Other local minima found, `(value, location)`, sorted by value.
    pub local_minima: Vec<(f64, Vec<f64>)>,
    /// Certified lower bound of the energy over the domain, by branch and bound on interval
    /// enclosures (`-inf` when the energy has none or nothing bounds it).
    pub lower_bound: f64,
    /// `value − lower_bound`: the error of `value` as the global minimum (`+inf` when there
    /// is no certified lower bound).
    pub abs_error: f64,
    /// Converged when the gap closed to [`MIN_GAP_REL`]`·max(1, |value|)` within
    /// [`MIN_BOXES`] boxes.
    pub status: Status,
    /// Why not converged.
    pub reason: Option<String>,
    /// Certified bound on `|argmin − z*|` (largest over coordinates) for every global
    /// minimiser `z*`: the hull of the boxes that may hold one ([`MIN_ARGMIN_BOXES`]). `+inf`
    /// when not certified (more than one continuous coordinate, several problems, no
    /// enclosure, or a tie between distinct points).
    pub argmin_error: f64,
}

impl Minimum {
    /// Why the search stopped, as the crate's one termination type: converged when the
    /// certified gap closed; the error not finite when nothing bounds the energy from below;
    /// else the tolerance (the gap target) not reached.
    pub fn termination(&self) -> Termination {
        if self.status == Status::Converged {
            Termination::Converged
        } else if !self.abs_error.is_finite() {
            Termination::ErrorNotFinite
        } else {
            Termination::ToleranceNotReached
        }
    }
    /// The minimum value as the crate's one estimate type (error: the certified gap).
    pub fn estimate(&self) -> Estimate {
        Estimate::new(self.value, self.abs_error, self.termination())
    }
    /// The minimiser of a one-coordinate problem as an estimate (error: the certified hull
    /// of the minimisers, [`Minimum::argmin_error`]); `None` with several coordinates.
    pub fn argmin_estimate(&self) -> Option<Estimate> {
        let [x] = self.argmin[..] else {
            return None;
        };
        let t = if self.argmin_error.is_finite() {
            self.termination()
        } else {
            Termination::ErrorNotFinite
        };
        Some(Estimate::new(x, self.argmin_error, t))
    }
}

/// Boxes the certified hull of the minimisers may examine (one continuous coordinate).
pub const MIN_ARGMIN_BOXES: usize = 5_000;
/// Width, relative to `max(1, |argmin|)`, to which the minimiser's boxes are refined.
pub const MIN_ARGMIN_REL: f64 = 1e-10;

/// Target of the certified gap of [`minimize`], relative to `max(1, |value|)`.
pub const MIN_GAP_REL: f64 = 1e-9;
/// Boxes the branch and bound of [`minimize`] may examine per problem.
pub const MIN_BOXES: usize = 20_000;

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

/// The energy restricted to fixed integer values, evaluated with counting and NaN checks.
pub(crate) struct Problem<'a> {
    energy: &'a dyn Energy,
    /// Full point template (integer coordinates set).
    template: Vec<f64>,
    /// Indices of the continuous coordinates in the full point.
    cont: Vec<usize>,
    /// Continuous bounds in the same order.
    bounds: Vec<(f64, f64)>,
    evals: AtomicU64,
}

impl<'a> Problem<'a> {
    fn dim(&self) -> usize {
        self.cont.len()
    }

    fn full_point(&self, x: &[f64]) -> Vec<f64> {
        let mut p = self.template.clone();
        for (k, &i) in self.cont.iter().enumerate() {
            p[i] = x[k];
        }
        p
    }

    fn full_box(&self, b: &[Interval]) -> Vec<Interval> {
        let mut full: Vec<Interval> = self.template.iter().map(|&v| Interval::point(v)).collect();
        for (k, &i) in self.cont.iter().enumerate() {
            full[i] = b[k];
        }
        full
    }

    /// The energy's enclosure over the continuous box `b`.
    pub(crate) fn enclose(&self, b: &[Interval]) -> Option<Interval> {
        self.energy.enclose(&self.full_box(b))
    }

    /// The continuous coordinates' gradient enclosures over `b`, into `out`.
    pub(crate) fn enclose_gradient(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        let mut g = vec![Interval::ENTIRE; self.template.len()];
        if !self.energy.enclose_gradient(&self.full_box(b), &mut g) {
            return false;
        }
        for (k, &i) in self.cont.iter().enumerate() {
            out[k] = g[i];
        }
        true
    }

    /// The continuous coordinates' Hessian enclosures over `b`, row-major into `out`.
    pub(crate) fn enclose_hessian(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        let n = self.template.len();
        let mut h = vec![Interval::ENTIRE; n * n];
        if !self.energy.enclose_hessian(&self.full_box(b), &mut h) {
            return false;
        }
        let d = self.dim();
        for (k, &i) in self.cont.iter().enumerate() {
            for (l, &j) in self.cont.iter().enumerate() {
                out[k * d + l] = h[i * n + j];
            }
        }
        true
    }

    pub(crate) fn has_enclosure(&self) -> bool {
        self.energy.has_enclosure()
    }

    /// The energy's fingerprint with the integer coordinates, ranges and layout of this
    /// problem: equal keys, equal problems ([`Energy::fingerprint`]).
    pub(crate) fn key(&self) -> Option<Vec<u64>> {
        let fp = self.energy.fingerprint()?;
        let mut key = vec![(fp >> 64) as u64, fp as u64, self.template.len() as u64];
        key.extend(self.template.iter().map(|x| x.to_bits()));
        key.extend(self.cont.iter().map(|&i| i as u64));
        key.extend(
            self.bounds
                .iter()
                .flat_map(|(a, b)| [a.to_bits(), b.to_bits()]),
        );
        Some(key)
    }

    pub(crate) fn has_gradient_enclosure(&self) -> bool {
        let b = vec![Interval::point(0.0); self.dim()];
        let mut g = vec![Interval::ENTIRE; self.dim()];
        self.enclose_gradient(&b, &mut g)
    }

    fn count(&self) -> u64 {
        self.evals.load(Ordering::Relaxed)
    }

    /// Energy at continuous coordinates `x`.
    fn eval(&self, x: &[f64]) -> Result<f64, QuadError> {
        self.evals.fetch_add(1, Ordering::Relaxed);
        let full_d = self.template.len();
        // Points are small: build them on the stack (this is the hot path in 1D).
        let mut buf = [0.0; 16];
        let e = if full_d <= buf.len() {
            let p = &mut buf[..full_d];
            p.copy_from_slice(&self.template);
            for (k, &i) in self.cont.iter().enumerate() {
                p[i] = x[k];
            }
            self.energy.eval(p)
        } else {
            self.energy.eval(&self.full_point(x))
        };
        if e.is_nan() {
            return Err(QuadError::NotANumber {
                point: self.full_point(x),
            });
        }
        Ok(e)
    }

    /// Energies at `out.len()` continuous points stored row-major in `xs`.
    fn eval_batch(&self, xs: &[f64], out: &mut [f64]) -> Result<(), QuadError> {
        let d = self.dim();
        let full_d = self.template.len();
        let n = out.len();
        if d == full_d && d > 0 {
            // No integer coordinates: the continuous point is the full point, pass it through
            // without copying (this is the hot path of every rule).
            self.evals.fetch_add(n as u64, Ordering::Relaxed);
            self.energy.eval_batch(&xs[..n * d], out);
            for (j, e) in out.iter().enumerate() {
                if e.is_nan() {
                    return Err(QuadError::NotANumber {
                        point: xs[j * d..(j + 1) * d].to_vec(),
                    });
                }
            }
            return Ok(());
        }
        let mut pts = Vec::with_capacity(n * full_d);
        for x in xs.chunks_exact(d.max(1)).take(n) {
            pts.extend_from_slice(&self.template);
            let base = pts.len() - full_d;
            for (k, &i) in self.cont.iter().enumerate() {
                pts[base + i] = x[k];
            }
        }
        self.evals.fetch_add(n as u64, Ordering::Relaxed);
        self.energy.eval_batch(&pts, out);
        for (j, e) in out.iter().enumerate() {
            if e.is_nan() {
                return Err(QuadError::NotANumber {
                    point: pts[j * full_d..(j + 1) * full_d].to_vec(),
                });
            }
        }
        Ok(())
    }
}

fn check_inputs(
    energy: &dyn Energy,
    domain: &Domain,
    beta: Option<f64>,
    opts: &QuadOptions,
) -> Result<(), QuadError> {
    if energy.dim() != domain.dim() {
        return Err(QuadError::DimensionMismatch {
            energy: energy.dim(),
            domain: domain.dim(),
        });
    }
    // Re-validate: the fields are public, so the domain may not come from `Domain::new`.
    Domain::new(domain.vars.clone())?;
    if let Some(b) = beta
        && !(b > 0.0 && b.is_finite())
    {
        return Err(QuadError::InvalidBeta(b));
    }
    if let Some(t) = opts.abs_tol
        && !(t > 0.0 && t.is_finite())
    {
        return Err(QuadError::InvalidOption(format!(
            "the tolerance must be positive, got {t}"
        )));
    }
    if let Some(s) = opts.length_scale
        && !(s > 0.0 && s.is_finite())
    {
        return Err(QuadError::InvalidOption(format!(
            "the length scale must be positive, got {s}"
        )));
    }
    for h in &opts.hints {
        if h.len() != domain.dim() || h.iter().any(|v| !v.is_finite()) {
            return Err(QuadError::InvalidOption(format!(
                "hint {h:?} must have {} finite coordinates",
                domain.dim()
            )));
        }
    }
    Ok(())
}

pub(crate) fn problems<'a>(energy: &'a dyn Energy, domain: &Domain) -> Vec<Problem<'a>> {
    let cont = domain.continuous_indices();
    let bounds: Vec<(f64, f64)> = cont
        .iter()
        .map(|&i| match domain.vars[i] {
            VarDomain::Continuous { lo, hi } => (lo, hi),
            VarDomain::Integer { .. } => (0.0, 0.0),
        })
        .collect();
    domain
        .discrete_combinations()
        .into_iter()
        .map(|combo| {
            let mut template = vec![0.0; domain.dim()];
            for (i, v) in combo {
                template[i] = v;
            }
            Problem {
                energy,
                template,
                cont: cont.clone(),
                bounds: bounds.clone(),
                evals: AtomicU64::new(0),
            }
        })
        .collect()
}

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
    /// Every local minimiser the 1D search located (empty in 2–4D), for the mass audit.
    pub minima: Vec<f64>,
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

/// Target width and box budget of the mass audit that every 1D result passes (about 10 ms).
const AUDIT_1D: (f64, usize) = (1e-4, 4_000);
/// The same in 2D (about 0.1 s). In 3–4D the audit runs only with `certify`: boxes there
/// do not reach a useful width within an affordable budget.
const AUDIT_2D: (f64, usize) = (1e-2, 12_000);

/// Checks a part's estimate against certified bounds of its `log Z` (module `bounds`): an
/// estimate below the certified lower bound has missed mass, so the integrator is run again
/// with the heaviest certified boxes as hints; an estimate still outside the bounds is not
/// converged, and the reason states the bounds. With `certify` the bounds are computed to
/// that target and budget in any dimension and kept in `out`.
fn audit(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    r: PartResult,
    certify: Option<(f64, usize)>,
    out: &mut Vec<Option<bounds::Enclosure>>,
) -> Result<PartResult, QuadError> {
    let (beta, opts) = (spec.beta, spec.opts);
    let d = p.dim();
    let (target, max_boxes) = match (certify, d) {
        (Some(c), _) => c,
        (None, 1) => AUDIT_1D,
        (None, 2) => AUDIT_2D,
        _ => return Ok(r),
    };
    if !p.has_enclosure() || !r.log_z.is_finite() || !r.min_energy.is_finite() {
        out.push(None);
        return Ok(r);
    }
    // The audit can only withdraw a claim of convergence (or find missed mass for one): a
    // result already not converged claims nothing it could withdraw.
    if certify.is_none() && !r.converged {
        return Ok(r);
    }
    // Bounds narrower than the result's own claimed error cannot contradict it.
    let target = if certify.is_none() {
        target.max(r.abs_error)
    } else {
        target
    };
    let centre: Vec<f64> = p.cont.iter().map(|&i| r.argmin[i]).collect();
    // A 1D energy whose every mode holding mass was located (certified from the gradient's
    // sign on a cover of the line) hides none elsewhere: the boxes would only re-derive the
    // mass the integrator measured, at a hundred times its cost.
    if certify.is_none()
        && d == 1
        && bounds::modes_located_1d(p, &r.minima, beta, r.min_energy, r.log_z, target)
    {
        return Ok(r);
    }
    // A 2D energy certified convex over the whole domain has one mode, the one found.
    if certify.is_none() && d == 2 && bounds::convex_2d(p) {
        return Ok(r);
    }
    let scale = vec![opts.length_scale.unwrap_or(1.0); d];
    let Some(enc) =
        bounds::enclose_log_z_cached(p, beta, r.min_energy, &centre, &scale, target, max_boxes)?
    else {
        out.push(None);
        return Ok(r);
    };
    let outside = |r: &PartResult| {
        let slack = 1e-12 * (1.0 + r.log_z.abs());
        r.log_z + r.abs_error + slack < enc.lo || r.log_z - r.abs_error - slack > enc.hi
    };
    let mut r = r;
    if outside(&r) && r.log_z < enc.lo && !enc.heavy.is_empty() {
        // Mass was missed: search again from the boxes that certainly hold it.
        let mut o = opts.clone();
        for h in &enc.heavy {
            o.hints.push(p.full_point(h));
        }
        let again = PartSpec {
            budget: opts.max_evals.saturating_sub(p.count()).max(1),
            opts: &o,
            ..*spec
        };
        let again = match d {
            1 => line::integrate_problem(p, &again)?,
            _ => nd::integrate_problem(p, &again)?,
        };
        r = again;
    }
    if outside(&r) {
        r.converged = false;
        r.reason = Some(format!(
            "the estimate {:.10} ± {:.2e} lies outside the certified bounds [{:.10}, {:.10}] of log Z \
             from interval enclosures of the energy: mass was missed or the error is underestimated",
            r.log_z, r.abs_error, enc.lo, enc.hi
        ));
    }
    out.push(Some(enc));
    Ok(r)
}

fn combine(
    parts: Vec<PartResult>,
    evaluations: u64,
    beta: f64,
    n_obs: usize,
    tol: f64,
) -> Expectations {
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
    let mut termination = if parts.iter().all(|p| p.converged) {
        Termination::Converged
    } else {
        Termination::ToleranceNotReached
    };
    let mut reason = parts.iter().find_map(|p| p.reason.clone());
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
            min_energy: best.map_or(f64::INFINITY, |b| b.min_energy),
            argmin: best.map_or_else(Vec::new, |b| b.argmin.clone()),
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

/// Every minimum the search of [`minimize`] finds, `(energy, point)` lowest first, made
/// consistent with the results of [`log_partition`] at several β (`results`): the one with the
/// lowest `min_energy` replaces the search's entry for the same basin (see
/// `consistent_minima`), so the list's first entry is that result's minimum. A search that
/// fails gives no minima besides the result's.
pub fn minima_found(
    energy: &dyn Energy,
    domain: &Domain,
    opts: &QuadOptions,
    results: &[&LogZ],
) -> Vec<(f64, Vec<f64>)> {
    let minima: Vec<(f64, Vec<f64>)> = match minimize(energy, domain, opts) {
        Ok(m) => std::iter::once((m.value, m.argmin))
            .chain(m.local_minima)
            .collect(),
        Err(_) => Vec::new(),
    };
    match results
        .iter()
        .min_by(|a, b| a.min_energy.total_cmp(&b.min_energy))
    {
        Some(lz) => consistent_minima(energy, minima, lz.min_energy, &lz.argmin),
        None => minima,
    }
}

/// The search's minima made consistent with the result: the integrator polishes its global
/// minimiser further (and may find a lower point while integrating), so the search's entry for
/// the same basin — the nearest one, when the energy at the midpoint does not rise above both
/// ends (no barrier between them) — is replaced by the result's `(min_energy, argmin)`, which
/// is otherwise added; the list is sorted lowest first, so its first entry is the result's.
fn consistent_minima(
    energy: &dyn Energy,
    mut minima: Vec<(f64, Vec<f64>)>,
    e0: f64,
    x0: &[f64],
) -> Vec<(f64, Vec<f64>)> {
    if !e0.is_finite() || x0.iter().any(|x| !x.is_finite()) {
        return minima;
    }
    let dist = |x: &[f64]| -> f64 {
        x.iter()
            .zip(x0)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt()
    };
    let same_basin = |e: f64, x: &[f64]| -> bool {
        if x.len() != x0.len() || !e.is_finite() {
            return false;
        }
        let mid: Vec<f64> = x.iter().zip(x0).map(|(a, b)| 0.5 * (a + b)).collect();
        let em = energy.eval(&mid);
        em <= e.max(e0) + 1e-12 * (1.0 + e.abs().max(e0.abs()))
    };
    let nearest = minima
        .iter()
        .enumerate()
        .min_by(|a, b| dist(&a.1.1).total_cmp(&dist(&b.1.1)))
        .map(|(i, _)| i);
    if let Some(i) = nearest {
        if minima[i].0 >= e0 && same_basin(minima[i].0, &minima[i].1) {
            minima.remove(i);
        }
    }
    minima.push((e0, x0.to_vec()));
    minima.sort_by(|a, b| a.0.total_cmp(&b.0));
    minima
}

/// Global minimum of the energy over the domain (integer variables enumerated).
///
/// # Errors
/// [`QuadError::NotANumber`] if the energy is NaN at a searched point, [`QuadError::Diverges`]
/// if the search runs off to `-inf` energy, and the input errors.
pub fn minimize(
    energy: &dyn Energy,
    domain: &Domain,
    opts: &QuadOptions,
) -> Result<Minimum, QuadError> {
    minimize_within(energy, domain, opts, 0.0)
}

/// [`minimize`] for an energy known only to within `±slack` at every point (an objective with
/// an inner integral's error): its [`Minimum::argmin_error`] then covers every point whose
/// computed energy is within `2·slack` of the minimum, where the true minimiser may lie
/// (`E_true(z) ≤ E_true(x)` gives `E(z) ≤ E(x) + 2·slack`). The value and its certified gap are
/// those of the computed energy; the caller adds the slack to the value's error.
///
/// # Errors
/// As [`minimize`].
pub fn minimize_within(
    energy: &dyn Energy,
    domain: &Domain,
    opts: &QuadOptions,
    slack: f64,
) -> Result<Minimum, QuadError> {
    check_inputs(energy, domain, None, opts)?;
    let probs = problems(energy, domain);
    let mut all: Vec<(f64, Vec<f64>)> = Vec::new();
    let mut found: Vec<(f64, Vec<f64>)> = Vec::with_capacity(probs.len());
    for p in &probs {
        let mins = match p.dim() {
            0 => vec![(p.eval(&[])?, Vec::new())],
            1 => line::minima_of_problem(p, opts)?,
            _ => minimize::minimize_nd(p, opts)?,
        };
        found.push(
            mins.first()
                .cloned()
                .unwrap_or((f64::INFINITY, vec![0.0; p.dim()])),
        );
        for (v, x) in mins {
            all.push((v, p.full_point(&x)));
        }
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut value, mut argmin) = all
        .first()
        .cloned()
        .unwrap_or((f64::INFINITY, vec![f64::NAN; domain.dim()]));
    // The certified lower bound: each problem's branch and bound, to the gap target of the
    // lowest value (a lower point met on the way becomes the minimum).
    let target = MIN_GAP_REL * value.abs().max(1.0);
    let mut lower_bound = f64::INFINITY;
    let mut reason = None;
    for (p, (v, x)) in probs.iter().zip(&found) {
        if p.dim() == 0 {
            lower_bound = lower_bound.min(*v);
            continue;
        }
        let centre: Vec<f64> = if x.iter().all(|c| c.is_finite()) {
            x.clone()
        } else {
            vec![0.0; p.dim()]
        };
        match bounds::certified_min_lower(p, *v, &centre, target, MIN_BOXES) {
            Some(mb) => {
                lower_bound = lower_bound.min(mb.lower);
                if mb.best < value {
                    value = mb.best;
                    argmin = p.full_point(&mb.best_point);
                }
                if !mb.closed && reason.is_none() {
                    reason = Some(format!(
                        "branch and bound on interval enclosures left a gap of {:.3e} \
                         between the minimum found and its certified lower bound after {} \
                         boxes (target {target:.1e})",
                        mb.best - mb.lower,
                        mb.boxes
                    ));
                }
            }
            None => {
                lower_bound = f64::NEG_INFINITY;
                reason = Some("the energy has no interval enclosure to bound its minimum".into());
            }
        }
    }
    let argmin_error = argmin_error(&probs, &found, &argmin, value, 2.0 * slack.max(0.0));
    let evaluations = probs.iter().map(Problem::count).sum();
    let abs_error = value - lower_bound;
    let closed = abs_error.is_finite() && abs_error <= target;
    let status = if closed && reason.is_none() {
        Status::Converged
    } else {
        Status::NotConverged
    };
    if status == Status::NotConverged && reason.is_none() {
        reason = Some(format!(
            "the minimum found is {abs_error:.3e} above its certified lower bound (target {target:.1e})"
        ));
    }
    Ok(Minimum {
        value,
        argmin,
        evaluations,
        local_minima: all.into_iter().skip(1).collect(),
        lower_bound,
        abs_error,
        status,
        reason: if status == Status::Converged {
            None
        } else {
            reason
        },
        argmin_error,
    })
}

/// Certified error of the minimiser `argmin` (full coordinates) of the lowest `value`, over every
/// point whose energy is within `slack` of it (0 for an exact energy): one problem with one
/// continuous coordinate refines the boxes that may hold such a point
/// ([`bounds::certified_argmin_hull`]); problems without continuous coordinates (each one
/// integer point) give the largest distance to a point within `slack` of the lowest, so a tie
/// is an error of the distance between the tied points. `+inf` otherwise.
fn argmin_error(
    probs: &[Problem<'_>],
    found: &[(f64, Vec<f64>)],
    argmin: &[f64],
    value: f64,
    slack: f64,
) -> f64 {
    if probs.iter().all(|p| p.dim() == 0) {
        // Each problem's value was found already (`found`, one per problem).
        if !value.is_finite() || !argmin.iter().all(|x| x.is_finite()) {
            return f64::INFINITY;
        }
        return probs
            .iter()
            .zip(found)
            .filter(|(_, (v, _))| *v <= value + slack)
            .map(|(p, _)| {
                p.full_point(&[])
                    .iter()
                    .zip(argmin)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
    }
    let [p] = probs else {
        return f64::INFINITY;
    };
    if !argmin.iter().all(|x| x.is_finite()) {
        return f64::INFINITY;
    }
    let xs: Vec<f64> = p.cont.iter().map(|&i| argmin[i]).collect();
    let convex = bounds::strongly_convex_certificate(p, &xs, slack).map_or(f64::INFINITY, |c| c.1);
    if p.dim() != 1 {
        return convex;
    }
    let x = xs[0];
    let point = [Interval::point(x)];
    let Some(best_hi) = p.enclose(&point).map(|e| e.hi) else {
        return f64::INFINITY;
    };
    let width = MIN_ARGMIN_REL * x.abs().max(1.0);
    match bounds::certified_argmin_hull(p, best_hi + slack, &[x], width, MIN_ARGMIN_BOXES) {
        Some((lo, hi)) if lo[0] <= hi[0] => (x - lo[0]).max(hi[0] - x).max(0.0).min(convex),
        _ => convex,
    }
}

/// Distances (in units of the energy's length scale) at which a ray's tail is probed.
pub(crate) const PROBE_NEAR: f64 = 1e8;
/// See [`PROBE_NEAR`].
pub(crate) const PROBE_FAR: f64 = 1e16;

/// The growth rate of `β(E − E*)` along a ray, per unit of `log r`, from its values `q1` and
/// `q2` at [`PROBE_NEAR`] and [`PROBE_FAR`]; `None` when the energy is `+inf` far out (a wall).
pub(crate) fn ray_slope(q1: f64, q2: f64) -> Option<f64> {
    if q2 == f64::INFINITY {
        None
    } else if q1 == f64::NEG_INFINITY || q2 == f64::NEG_INFINITY {
        Some(f64::NEG_INFINITY)
    } else {
        Some((q2 - q1) / (PROBE_FAR / PROBE_NEAR).ln())
    }
}

/// Whether `β(E − E*)` grows between the probes like a power of `r` with exponent at least 0.5
/// (not a logarithm): then `exp(-βE)` decays faster than any power along the ray, for any β.
pub(crate) fn ray_grows_like_a_power(q1: f64, q2: f64) -> bool {
    q1 > 0.0 && q2 > q1 && (q2 / q1).ln() / (PROBE_FAR / PROBE_NEAR).ln() >= 0.5
}

/// Radii beyond [`PROBE_FAR`] (each the square of the one before, in length scales) at which
/// [`ray_decides_divergence`] looks when the first two probes cannot tell a slow power from a
/// logarithm.
pub(crate) const PROBE_FURTHER: [f64; 3] = [1e32, 1e64, 1e128];

/// The divergence decision of one ray from `β(E − E*)` at [`PROBE_NEAR`] and [`PROBE_FAR`]
/// (`q1`, `q2`) and, fetched through `further` only when those two cannot decide, at
/// [`PROBE_FURTHER`] (times the same length scale; a non-finite value ends the list).
///
/// On radii that square each time, a logarithmic growth `c·log r + b` keeps the ratio of
/// successive values near 2, and its slope per unit of `log r` is `c` (the constant cancels);
/// a power `r^a` multiplies the ratio by `r^a` each time, however small `a` is (`|z|^0.05`:
/// 2.5, 6.3, 40, 1585). A power is normalisable along the ray at any β; a logarithm with
/// slope `c` makes `exp(-βE)` decay like `r^-c`, integrable in one dimension only when
/// `c > 1` (`0.5·log(1 + z²)` at β = 1 has `c = 1` exactly: divergent). The ray diverges when
/// the growth is not a power and the far slope is at most `diverges_at` (1 + 1e-6 in 1D,
/// where the rounding of the probes is far below 1e-6; the nD rays keep 0.95, since one ray's
/// slope does not decide a d-dimensional integral), or the energy falls below `E*` far out.
pub(crate) fn ray_decides_divergence(
    q1: f64,
    q2: f64,
    diverges_at: f64,
    further: &mut dyn FnMut(f64) -> Result<f64, QuadError>,
) -> Result<bool, QuadError> {
    if ray_grows_like_a_power(q1, q2) {
        return Ok(false);
    }
    let Some(slope) = ray_slope(q1, q2) else {
        return Ok(false);
    };
    if q2 < 0.0 || slope == f64::NEG_INFINITY {
        return Ok(true);
    }
    if slope.is_nan() || slope > diverges_at.max(1.0) + 0.1 {
        return Ok(false);
    }
    // Ambiguous: a slope near the critical one, or a slow growth that may be a small power.
    let mut rs = vec![PROBE_NEAR, PROBE_FAR];
    let mut qs = vec![q1, q2];
    for r in PROBE_FURTHER {
        let q = further(r)?;
        if !q.is_finite() {
            break;
        }
        rs.push(r);
        qs.push(q);
    }
    let n = qs.len();
    if n >= 4 && qs.iter().all(|q| *q > 0.0) {
        let ratios: Vec<f64> = qs.windows(2).map(|w| w[1] / w[0]).collect();
        let rising = ratios.windows(2).all(|w| w[1] > w[0] * (1.0 + 1e-9));
        if rising && ratios[ratios.len() - 1] > 2.2 {
            return Ok(false);
        }
    }
    // Clearly sub-critical between the first probes (the rule before the further ones): a
    // slice far out whose energy varies below its own rounding reads a slope of 0 there.
    if slope < RAY_DIVERGES_AT {
        return Ok(true);
    }
    let far_slope = (qs[n - 1] - qs[n - 2]) / (rs[n - 1] / rs[n - 2]).ln();
    Ok(qs[n - 1] < 0.0 || far_slope <= diverges_at)
}

/// The critical slope of a 1D ray (see [`ray_decides_divergence`]): `exp(-βE) ~ r^-c` is
/// integrable only for `c > 1`; 1e-6 above it is far beyond the probes' rounding.
pub(crate) const LINE_DIVERGES_AT: f64 = 1.0 + 1e-6;
/// The nD rays' threshold (the old one): a single direction's slope does not decide a
/// d-dimensional integral, so only clearly sub-critical slopes are refused there.
pub(crate) const RAY_DIVERGES_AT: f64 = 0.95;

/// Name of a direction for messages: `z2 → +inf` (1-based variable index).
pub(crate) fn direction_name(axis: usize, positive: bool) -> String {
    format!(
        "exp(-βE) does not decay as z{} → {}inf",
        axis + 1,
        if positive { "+" } else { "-" }
    )
}

#[cfg(test)]
mod tests;
