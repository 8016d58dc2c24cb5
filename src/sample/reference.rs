//! Exact references for the sampler test, computed by quadrature from an energy: moments, region
//! masses (basins of attraction or quantile bins) and CDFs (of each coordinate in 1D, of E(y) in
//! any dimension), ready for [`crate::stats::run_battery`].
//!
//! Choices (they decide what is tested, so they are written down here):
//! * **Moments** (smooth integrands) come from [`quad::expectations`] on one set of nodes: the
//!   mean and second moment of each coordinate, the cross moments yᵢyⱼ, and the mean of E(y);
//!   their exact standard deviations (from the fourth moments) are passed to the battery.
//! * **Basins.** A point belongs to the basin of the nearest local minimiser in the Mahalanobis
//!   metric of the exact covariance (a Voronoi partition in globally whitened coordinates). This
//!   is not steepest descent, but it is a fixed partition whose exact mass we compute, so the test
//!   stays exact; for separated wells it coincides with the basins where the mass is. In 1D the
//!   basins are exact: intervals between minima cut at the energy's maximum between them. Minima
//!   whose Boltzmann factor relative to the global one is below e^−[`BASIN_CUT`] are ignored; at
//!   most [`MAX_BASINS`] (lowest energies) are kept. With one minimum the regions are the four
//!   quartile bins of y₁ instead.
//! * **Regions in 3–4D** are bins of every coordinate: cut midway between the minima where they
//!   are more than a standard deviation apart along it (one mode per bin), otherwise at its mean
//!   and mean ± 0.674 sd. Each bin's mass is Z of its slab over the sum of the slabs' Z, by
//!   [`quad::log_partition`] on boxes (error ~1e-5 or better); the CDF of E is tabulated on a
//!   2^20-point grid there too, which reaches only ~1e-2 (3D) or ~5e-2 (4D).
//! * **Indicator integrals** in 2D (basin masses, bins, the CDF of E) use a midpoint tensor grid
//!   over mean ± [`BOX_SDS`] sd per coordinate (clipped to the domain), with about
//!   [`ReferenceOptions::grid_points`] points; the same quantities on a grid of half the
//!   resolution give the error estimate, together with the grid's missing mass against Z from
//!   quadrature. In 1D the coordinate CDF and region masses use [`Cdf1d`] and E's CDF uses a 1D
//!   grid on the [`Cdf1d`] support.
//! * **The CDF of E** is tabulated at [`E_CDF_KNOTS`] + 1 quantile knots and interpolated linearly
//!   (monotone); the interpolation adds at most 1/[`E_CDF_KNOTS`] to the tabulation error. Its KS/AD
//!   tests are included as exact if the total error is below [`E_CDF_MAX_ERROR`], far below the
//!   KS resolution (≈ 1.36/√n) at any realistic number of thinned draws; up to
//!   [`E_CDF_MARGIN_MAX`] the KS test subtracts the error from its distance (conservative: its
//!   false-alarm rate stays below α) and there is no AD test; beyond that both are left out
//!   with a note. Region masses need an error below [`REGION_MAX_ERROR`].

// Grid kernels index several parallel per-axis arrays by the same loop variable.
#![allow(clippy::needless_range_loop)]

use crate::quad::{self, Cdf1d, Domain, Energy, QuadError, QuadOptions, Status, VarDomain};
use crate::stats::{BatteryOptions, BatteryReport, Draws, Reference, StatsError, run_battery};
use std::sync::Arc;

/// Minima whose Boltzmann factor relative to the global minimum is below e^−BASIN_CUT are not basins.
pub const BASIN_CUT: f64 = 30.0;
/// Largest number of basins tested.
pub const MAX_BASINS: usize = 8;
/// Half-width of the tabulation box in exact standard deviations.
pub const BOX_SDS: f64 = 8.0;
/// Number of pieces of the tabulated CDF of E.
pub const E_CDF_KNOTS: usize = 16_384;
/// Largest tabulation error of the CDF of E for its KS/AD tests to be included.
pub const E_CDF_MAX_ERROR: f64 = 1e-3;

/// Largest tabulation error of the CDF of E(y) for a conservative KS test (the error is
/// subtracted from the KS distance): beyond it the test could only see gross departures.
pub const E_CDF_MARGIN_MAX: f64 = 0.1;

/// Default target error of the moment quadrature in `d` dimensions: 1e-8 in 1D, 1e-7 in 2D,
/// 1e-5 in 3D, 1e-4 in 4D (relative to the scale of each moment). Even the last is 40 times
/// below the smallest standard error a moment test can have at 60 000 independent draws
/// (1/√60 000 ≈ 4e-3 standard deviations), and it keeps the 3–4D quadrature to seconds.
pub fn moment_tolerance(d: usize) -> f64 {
    match d {
        0 | 1 => 1e-8,
        2 => 1e-7,
        3 => 1e-5,
        _ => 1e-4,
    }
}

/// Largest tabulation error of the region masses for their tests to be included: a twentieth
/// of a standard error of a mass near ½ at 60 000 independent draws.
pub const REGION_MAX_ERROR: f64 = 1e-4;

/// Options of [`quadrature_reference`].
#[derive(Debug, Clone)]
pub struct ReferenceOptions {
    /// Points of the fine tabulation grid (2–4D indicator integrals and the CDF of E).
    pub grid_points: usize,
    /// Options of the moment quadrature; `abs_tol: None` uses [`moment_tolerance`].
    pub quad: QuadOptions,
}

impl Default for ReferenceOptions {
    fn default() -> Self {
        Self {
            grid_points: 1 << 20,
            // 4D moments need ~1.2M evaluations (AR(1) Gaussian, measured). On the 2D ring and
            // double well the nested rule stalls at errors ~1e-6 after ~250k evaluations and then
            // spends any budget without gain: 2M bounds that waste (~10 s with a compiled
            // energy) while leaving 4D room.
            quad: QuadOptions {
                abs_tol: None,
                max_evals: 2_000_000,
                ..QuadOptions::default()
            },
        }
    }
}

/// Errors of [`quadrature_reference`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReferenceError {
    /// The quadrature refused the problem (divergent, NaN energy, bad domain or β).
    #[error(transparent)]
    Quad(#[from] QuadError),
    /// Integer variables are not supported by the sampler test.
    #[error("variable {0} is an integer variable; the sampler test takes continuous variables")]
    Integer(usize),
    /// The battery refused the draws or the options (e.g. α outside (0, 1)).
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// The chains could not be run (bad initial states).
    #[error("{0}")]
    Sample(String),
    /// The number of names differs from the dimension.
    #[error("{names} names for {dim} variables")]
    Names {
        /// Names given.
        names: usize,
        /// Dimension.
        dim: usize,
    },
}

/// Exact references with the numbers behind them.
#[derive(Debug, Clone)]
pub struct QuadReference {
    /// What the battery tests.
    pub reference: Reference,
    /// Largest quadrature error of a moment (absolute, per moment).
    pub moment_error: f64,
    /// Tabulation error of the region masses (absolute).
    pub region_error: f64,
    /// Tabulation error of the CDF of E (sup norm), including interpolation; NaN (`null` in
    /// JSON) in 3–4D, where it is not tabulated.
    pub e_cdf_error: f64,
    /// Sup-norm error of the coordinate CDF in 1D ([`Cdf1d::max_error`]).
    pub cdf_error: Option<f64>,
    /// Whether every quadrature converged.
    pub status: Status,
    /// Notes for the report: the choices made and anything skipped.
    pub notes: Vec<String>,
}

/// A shareable energy for the battery's functionals.
pub type SharedEnergy = Arc<dyn Energy + Send + Sync>;

/// Builds the exact reference of exp(−βE)/Z on `domain` (continuous variables only) by quadrature.
/// `names` names the coordinates in the report ("mean of y1").
///
/// # Example: test draws against a double well
/// ```
/// use ebmcheck::quad::{Domain, FnEnergy};
/// use ebmcheck::sample::{ReferenceOptions, quadrature_reference};
/// use ebmcheck::stats::{BatteryOptions, Draws, run_battery};
/// use std::sync::Arc;
///
/// let energy = Arc::new(FnEnergy::new(1, |y: &[f64]| (y[0] * y[0] - 1.0).powi(2)));
/// let domain = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY)]).unwrap();
/// let exact = quadrature_reference(
///     energy, &domain, 2.0, &["y".to_string()], &ReferenceOptions::default(),
/// ).unwrap();
/// // A sampler stuck at the right-hand minimum: the basin masses give it away.
/// let draws = Draws::new(1, vec![vec![1.0; 2000]]).unwrap();
/// let report = run_battery(&draws, &exact.reference, &BatteryOptions::default()).unwrap();
/// assert_ne!(report.verdict, ebmcheck::stats::Verdict::Pass);
/// ```
///
/// # Errors
/// [`ReferenceError::Quad`] when the quadrature refuses the problem (divergent Z, NaN energy,
/// invalid domain or β), [`ReferenceError::Integer`] for integer variables,
/// [`ReferenceError::Names`] when `names` does not match the dimension.
pub fn quadrature_reference(
    energy: SharedEnergy,
    domain: &Domain,
    beta: f64,
    names: &[String],
    opts: &ReferenceOptions,
) -> Result<QuadReference, ReferenceError> {
    let d = domain.dim();
    if names.len() != d || energy.dim() != d {
        return Err(ReferenceError::Names {
            names: names.len(),
            dim: energy.dim(),
        });
    }
    let mut bounds = Vec::with_capacity(d);
    for (i, v) in domain.vars.iter().enumerate() {
        match *v {
            VarDomain::Continuous { lo, hi } => bounds.push((lo, hi)),
            VarDomain::Integer { .. } => return Err(ReferenceError::Integer(i)),
        }
    }
    let pairs: Vec<(usize, usize)> = (0..d)
        .flat_map(|i| (i + 1..d).map(move |j| (i, j)))
        .collect();
    let n_obs = 3 * d + 2 * pairs.len() + 2;
    let en = energy.clone();
    let pairs_obs = pairs.clone();
    let observables = move |y: &[f64], out: &mut [f64]| {
        let mut k = 0;
        for &v in y {
            out[k] = v;
            out[k + 1] = v * v;
            out[k + 2] = v * v * v * v;
            k += 3;
        }
        for &(i, j) in &pairs_obs {
            let c = y[i] * y[j];
            out[k] = c;
            out[k + 1] = c * c;
            k += 2;
        }
        let e = en.eval(y);
        out[k] = e;
        out[k + 1] = e * e;
    };
    let mut qopts = opts.quad.clone();
    qopts.abs_tol = qopts.abs_tol.or(Some(moment_tolerance(d)));
    let ex = quad::expectations(&*energy, domain, beta, &observables, n_obs, &qopts)?;
    let mut notes = Vec::new();
    let mut status = ex.log_z.status;
    if status != Status::Converged {
        notes.push(format!(
            "the moment quadrature did not converge: {}",
            ex.log_z.reason.clone().unwrap_or_default()
        ));
    }
    let val = &ex.values;
    let moment_error = ex.errors.iter().copied().fold(0.0, f64::max);
    let sd_of = |m2: f64, m1: f64| (m2 - m1 * m1).max(0.0).sqrt();
    let mut reference = Reference::new();
    let mut means = Vec::with_capacity(d);
    let mut sds = Vec::with_capacity(d);
    for (i, name) in names.iter().enumerate() {
        let (m1, m2, m4) = (val[3 * i], val[3 * i + 1], val[3 * i + 2]);
        means.push(m1);
        sds.push(sd_of(m2, m1));
        reference = reference
            .moment(
                &format!("mean of {name}"),
                move |y| y[i],
                m1,
                Some(sd_of(m2, m1)),
            )
            .moment(
                &format!("mean of {name}^2"),
                move |y| y[i] * y[i],
                m2,
                Some(sd_of(m4, m2)),
            );
    }
    let mut cov = vec![0.0; d * d];
    for i in 0..d {
        cov[i * d + i] = sds[i] * sds[i];
    }
    for (p, &(i, j)) in pairs.iter().enumerate() {
        let (c, c2) = (val[3 * d + 2 * p], val[3 * d + 2 * p + 1]);
        cov[i * d + j] = c - means[i] * means[j];
        cov[j * d + i] = cov[i * d + j];
        reference = reference.moment(
            &format!("mean of {}*{}", names[i], names[j]),
            move |y| y[i] * y[j],
            c,
            Some(sd_of(c2, c)),
        );
    }
    let (me, me2) = (val[n_obs - 2], val[n_obs - 1]);
    let en = energy.clone();
    // The energy named by the user's variables, so it cannot be mistaken for one of them.
    let e_label = format!("E({})", names.join(", "));
    reference = reference.moment(
        &format!("mean of {e_label}"),
        move |y| en.eval(y),
        me,
        Some(sd_of(me2, me)),
    );

    let e_star = ex.log_z.min_energy;
    // Z relative to the weight at the minimum, as the grid computes it.
    let z_ref = (ex.log_z.log_z + beta * e_star).exp();
    let mut cdf_error = None;
    let (mut region_error, e_cdf_error, e_table);
    if d == 1 {
        let (lo, hi) = bounds[0];
        let cdf = Arc::new(Cdf1d::new(&*energy, lo, hi, beta)?);
        if cdf.status != Status::Converged {
            status = Status::NotConverged;
            notes.push(format!(
                "the CDF tabulation error {:.1e} exceeds its tolerance",
                cdf.max_error
            ));
        }
        cdf_error = Some(cdf.max_error);
        region_error = 2.0 * cdf.max_error;
        reference = regions_1d(reference, &*energy, &cdf, beta, &names[0]);
        let c = cdf.clone();
        reference = reference.cdf(&names[0], |y| y[0], move |x| c.cdf(x));
        let (a, b) = cdf.support();
        let grid = Grid {
            lo: vec![a],
            hi: vec![b],
        };
        let (t, err) = e_cdf(&*energy, &grid, beta, e_star, z_ref, opts.grid_points)?;
        e_cdf_error = err;
        e_table = Some(t);
    } else if d >= 3 {
        let minima = basin_minima(&*energy, domain, beta, &qopts)?;
        let gibbs = Gibbs {
            energy: &*energy,
            bounds: &bounds,
            beta,
            names,
        };
        let spread = Spread {
            minima: &minima,
            means: &means,
            sds: &sds,
        };
        let (r, err, converged, left_out) = regions_by_quadrature(&gibbs, &spread, &opts.quad)?;
        bins_left_out(&mut notes, &left_out);
        region_error = err;
        if converged && err <= REGION_MAX_ERROR {
            reference.regions.extend(r.regions);
        } else {
            notes.push(format!(
                "the region masses are computed only to {err:.1e} (> {REGION_MAX_ERROR:.0e}){}: their tests are left out",
                if converged { "" } else { ", the quadrature did not converge" }
            ));
        }
        // The CDF of E(y) is an indicator integral over a level set that no box follows, so
        // quadrature on boxes cannot give it; a tensor grid of 2^20 points reaches only ~1e-2 in
        // 3D and ~1e-1 in 4D (measured on Gaussians). Within E_CDF_MARGIN_MAX it still gives a
        // KS test made conservative by its error (below).
        let grid = Grid::around(&means, &sds, &bounds);
        let (t, err) = e_cdf(&*energy, &grid, beta, e_star, z_ref, opts.grid_points)?;
        e_cdf_error = err;
        e_table = Some(t);
    } else {
        let grid = Grid::around(&means, &sds, &bounds);
        let minima = basin_minima(&*energy, domain, beta, &qopts)?;
        let inv = invert(&cov, d);
        let weight = GridWeight {
            energy: &*energy,
            grid: &grid,
            beta,
            e_star,
        };
        let (r, err) = regions_nd(
            Reference::new(),
            &weight,
            &minima,
            &inv,
            names,
            opts.grid_points,
        )?;
        region_error = err;
        if err <= REGION_MAX_ERROR {
            reference.regions.extend(r.regions);
        } else {
            // The grid cannot resolve these basins (e.g. the ring's continuum of minima): bins of
            // every coordinate by quadrature on slabs, as in 3–4D, are exact enough.
            // Cuts between the minima first; if the quadrature refuses every coordinate's slabs,
            // cuts at each coordinate's mean and mean ± 0.674 sd (what a single minimum gets).
            let gibbs = Gibbs {
                energy: &*energy,
                bounds: &bounds,
                beta,
                names,
            };
            let spread = Spread {
                minima: &minima,
                means: &means,
                sds: &sds,
            };
            let slabs = regions_by_quadrature(&gibbs, &spread, &opts.quad).or_else(|_| {
                let lowest = Spread {
                    minima: &minima[..1],
                    ..spread
                };
                regions_by_quadrature(&gibbs, &lowest, &opts.quad)
            });
            let (r, slab_err, converged) = match slabs {
                Ok((r, e, c, left_out)) => {
                    bins_left_out(&mut notes, &left_out);
                    (r, e, c)
                }
                Err(e) => {
                    notes.push(format!("the quadrature on slabs refused the regions: {e}"));
                    (Reference::new(), f64::INFINITY, false)
                }
            };
            if converged && slab_err <= REGION_MAX_ERROR {
                region_error = slab_err;
                reference.regions.extend(r.regions);
                notes.push(format!(
                    "the basins are tabulated only to {err:.1e} (> {REGION_MAX_ERROR:.0e}): bins of every coordinate by quadrature on slabs (error {slab_err:.1e}) are tested instead"
                ));
            } else {
                notes.push(format!(
                    "the region masses are tabulated only to {err:.1e} and computed on slabs only to {slab_err:.1e} (> {REGION_MAX_ERROR:.0e}): their tests are left out"
                ));
            }
        }
        let (t, err) = e_cdf(&*energy, &grid, beta, e_star, z_ref, opts.grid_points)?;
        e_cdf_error = err;
        e_table = Some(t);
    }
    match e_table {
        Some(t) if e_cdf_error <= E_CDF_MAX_ERROR => {
            let en = energy.clone();
            let t = Arc::new(t);
            reference = reference.cdf(&e_label, move |y| en.eval(y), move |e| t.eval(e));
        }
        Some(t) if e_cdf_error <= E_CDF_MARGIN_MAX => {
            let en = energy.clone();
            let t = Arc::new(t);
            reference = reference.cdf_within(
                &e_label,
                move |y| en.eval(y),
                move |e| t.eval(e),
                e_cdf_error,
            );
            notes.push(format!(
                "the CDF of {e_label} is tabulated only to {e_cdf_error:.1e} (> {E_CDF_MAX_ERROR:.0e}): its KS test subtracts that error from D (conservative) and there is no AD test"
            ));
        }
        Some(_) => notes.push(format!(
            "the CDF of {e_label} is tabulated only to {e_cdf_error:.1e} (> {E_CDF_MARGIN_MAX:.0e}): its KS/AD tests are left out"
        )),
        None => {}
    }
    Ok(QuadReference {
        reference,
        moment_error,
        region_error,
        e_cdf_error,
        cdf_error,
        status,
        notes,
    })
}

/// The outcome of `ebmcheck sampler-test`: the exact reference, the battery's report on the
/// draws, and the family-wise α of the verdict. The command is [`sampler_test`]; its JSON is
/// [`SamplerTestOutcome::to_json`].
#[derive(Debug, Clone)]
pub struct SamplerTestOutcome {
    /// Family-wise false-alarm rate of the verdict (Holm across all tests).
    pub alpha: f64,
    /// The exact reference the draws were judged against, with its errors and notes.
    pub exact: QuadReference,
    /// The battery's tests and verdict.
    pub report: BatteryReport,
}

impl SamplerTestOutcome {
    /// Whether the verdict is `pass`.
    pub fn passed(&self) -> bool {
        self.report.verdict == crate::stats::Verdict::Pass
    }

    /// The documented JSON of `ebmcheck sampler-test --format json` (`"schema": 1`): the battery's
    /// fields (`verdict`, `n`, `ess`, `rhat`, `tests`, `reasons`, `summary`), then `alpha` and
    /// `reference` (the errors of the exact values, the quadrature status and the notes). It holds
    /// no timings, so the same input gives the same bytes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(OutcomeJson {
            battery: self.report.json(),
            alpha: self.alpha,
            reference: self.exact.json(),
        })
        .unwrap_or(serde_json::Value::Null)
    }
}

/// [`SamplerTestOutcome::to_json`]'s fields (a JSON value sorts them).
#[derive(serde::Serialize)]
struct OutcomeJson<'a> {
    #[serde(flatten)]
    battery: crate::stats::BatteryJson<'a>,
    alpha: f64,
    reference: ReferenceJson<'a>,
}

/// The `reference` object of the sampler test's JSON: the errors of the exact values, the
/// quadrature status and the notes, keys in alphabetical order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReferenceJson<'a> {
    /// Sup-norm error of the coordinate CDF (1D), else `null`.
    pub cdf_error: Option<f64>,
    /// Tabulation error of the CDF of E (`null` when not tabulated).
    pub e_cdf_error: f64,
    /// Largest quadrature error of a moment.
    pub moment_error: f64,
    /// Notes: the choices made and anything skipped.
    pub notes: &'a [String],
    /// Tabulation error of the region masses.
    pub region_error: f64,
    /// Whether every quadrature converged.
    pub status: Status,
}

impl QuadReference {
    /// The `reference` object of the sampler test's JSON.
    pub fn json(&self) -> ReferenceJson<'_> {
        ReferenceJson {
            cdf_error: self.cdf_error,
            e_cdf_error: self.e_cdf_error,
            moment_error: self.moment_error,
            notes: &self.notes,
            region_error: self.region_error,
            status: self.status,
        }
    }
}

/// Judges `draws` against an exact reference already computed by [`quadrature_reference`], at
/// family-wise `alpha`: the second half of [`sampler_test`], for callers that judge many draw
/// sets against one target (the reference does not depend on the draws).
///
/// # Errors
/// [`StatsError`] when the draws are malformed or `alpha` is not in (0, 1).
pub fn judge_draws(
    exact: &QuadReference,
    draws: &Draws,
    alpha: f64,
) -> Result<SamplerTestOutcome, StatsError> {
    let report = run_battery(
        draws,
        &exact.reference,
        &BatteryOptions {
            alpha,
            ..BatteryOptions::default()
        },
    )?;
    Ok(SamplerTestOutcome {
        alpha,
        exact: exact.clone(),
        report,
    })
}

/// `ebmcheck sampler-test` as a library call: are `draws` distributed as exp(−βE)/Z on `domain`?
/// Computes the exact reference by quadrature ([`quadrature_reference`]) and runs the battery
/// at family-wise `alpha` ([`judge_draws`]). The draws' coordinates follow `names`.
///
/// # Errors
/// [`ReferenceError`] when the reference cannot be computed (see [`quadrature_reference`]) and
/// [`ReferenceError::Stats`] when the draws or `alpha` are invalid.
pub fn sampler_test(
    energy: SharedEnergy,
    domain: &Domain,
    beta: f64,
    names: &[String],
    draws: &Draws,
    alpha: f64,
    opts: &ReferenceOptions,
) -> Result<SamplerTestOutcome, ReferenceError> {
    let exact = quadrature_reference(energy, domain, beta, names, opts)?;
    Ok(judge_draws(&exact, draws, alpha)?)
}

/// The sampler test in one call, for draws from your own sampler: `energy` is E(y) as a closure
/// (no gradient), `bounds` the range of each coordinate, `chains` one row-major `n × dim` vector
/// per chain (one chain is fine; walkers interleaved in it are detected and split). The target
/// is exp(−βE)/Z; the exact reference is computed by quadrature; coordinates are named y1, y2, ….
///
/// ```
/// use ebmcheck::sample::test_draws;
/// use rand::SeedableRng;
/// use rand_distr::{Distribution, StandardNormal};
///
/// let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
/// let draws: Vec<f64> = (0..20_000).map(|_| StandardNormal.sample(&mut rng)).collect();
/// let all = (f64::NEG_INFINITY, f64::INFINITY);
/// let out = test_draws(|y: &[f64]| y[0] * y[0] / 2.0, &[all], 1.0, vec![draws], 1e-3).unwrap();
/// assert!(out.passed(), "{}", out.report.summary);
/// ```
///
/// # Errors
/// As [`sampler_test`]; [`ReferenceError::Stats`] when a chain's length is not a multiple of the
/// dimension.
pub fn test_draws<F>(
    energy: F,
    bounds: &[(f64, f64)],
    beta: f64,
    chains: Vec<Vec<f64>>,
    alpha: f64,
) -> Result<SamplerTestOutcome, ReferenceError>
where
    F: Fn(&[f64]) -> f64 + Send + Sync + 'static,
{
    let d = bounds.len();
    let domain = Domain::continuous(bounds)?;
    let draws = Draws::new(d, chains)?;
    let names: Vec<String> = (1..=d).map(|i| format!("y{i}")).collect();
    let energy: SharedEnergy = Arc::new(quad::FnEnergy::new(d, energy));
    sampler_test(
        energy,
        &domain,
        beta,
        &names,
        &draws,
        alpha,
        &ReferenceOptions::default(),
    )
}

/// The chains [`test_kernel`] runs: one chain per initial state, each `warmup` steps of
/// `kernel` (discarded; adaptive kernels adapt there) then `draws_per_chain` kept, seeded
/// from `seed` and the chain's index.
#[derive(Clone, Copy)]
pub struct KernelRun<'a> {
    /// The Markov kernel (any [`crate::sample::Kernel`], including a closure
    /// `(state, rng) -> state`).
    pub kernel: &'a dyn crate::sample::Kernel,
    /// One initial state per chain.
    pub inits: &'a [Vec<f64>],
    /// Warmup steps of each chain.
    pub warmup: usize,
    /// Draws kept from each chain.
    pub draws_per_chain: usize,
    /// The seed.
    pub seed: u64,
}

/// The sampler test of a Markov kernel: the chains of `run` on exp(−βE) (a finite-difference
/// gradient is supplied to kernels that need one) are judged as by [`test_draws`].
///
/// # Errors
/// As [`test_draws`]; [`ReferenceError::Sample`] for bad initial states.
pub fn test_kernel<F>(
    energy: F,
    bounds: &[(f64, f64)],
    beta: f64,
    run: &KernelRun<'_>,
    alpha: f64,
) -> Result<SamplerTestOutcome, ReferenceError>
where
    F: Fn(&[f64]) -> f64 + Send + Sync + Clone + 'static,
{
    let KernelRun {
        kernel,
        inits,
        warmup,
        draws_per_chain,
        seed,
    } = *run;
    let e = energy.clone();
    let target =
        crate::sample::FiniteDiffTarget::new(bounds.len(), move |y: &[f64]| beta * e(y), 1e-5);
    let cs = crate::sample::run_chains(&target, kernel, inits, warmup, draws_per_chain, seed)
        .map_err(|e| ReferenceError::Sample(e.to_string()))?;
    test_draws(energy, bounds, beta, cs.draws.chains, alpha)
}

/// The Gibbs density exp(−βE) whose region masses are computed: the energy on its box and the
/// variables' names.
#[derive(Clone, Copy)]
struct Gibbs<'a> {
    energy: &'a dyn Energy,
    bounds: &'a [(f64, f64)],
    beta: f64,
    names: &'a [String],
}

/// Where the density's mass lies: its located minima and each coordinate's mean and standard
/// deviation.
#[derive(Clone, Copy)]
struct Spread<'a> {
    minima: &'a [Vec<f64>],
    means: &'a [f64],
    sds: &'a [f64],
}

/// Normal quartiles in standard deviations: the cuts of the bins of a coordinate when the modes
/// do not separate along it (the masses are computed, so the cuts need not be the exact quartiles).
const QUARTILE_SDS: [f64; 3] = [-0.674_489_750_196_081_7, 0.0, 0.674_489_750_196_081_7];

/// Region masses in 3–4D by quadrature on boxes: bins of every coordinate (see
/// [`bins_on_axis`]), so that a sampler that gets one coordinate's marginal wrong is caught
/// whichever coordinate it is. A coordinate whose slabs the quadrature refuses, does not
/// converge on (a slab holding modes of two wells in 3–4D), or computes only beyond
/// [`REGION_MAX_ERROR`] is left out and named in the last element, for a note. Returns the
/// regions, the largest error of a mass, whether every quadrature kept converged (`false`, with
/// the smallest error found, when no coordinate is kept), and the coordinates left out; an
/// error only when every coordinate's quadrature was refused.
fn regions_by_quadrature(
    gibbs: &Gibbs<'_>,
    spread: &Spread<'_>,
    quad_opts: &QuadOptions,
) -> Result<(Reference, f64, bool, Vec<String>), QuadError> {
    let (bounds, names) = (gibbs.bounds, gibbs.names);
    let mut reference = Reference::new();
    let mut err: f64 = 0.0;
    let mut best_rejected = f64::INFINITY;
    let mut left_out = Vec::new();
    let mut refused = 0;
    let mut first_error = None;
    for axis in 0..bounds.len() {
        match bins_on_axis(gibbs, spread, quad_opts, axis) {
            Ok((r, e, true)) if e <= REGION_MAX_ERROR => {
                reference.regions.extend(r.regions);
                err = err.max(e);
            }
            Ok((_, e, _)) => {
                best_rejected = best_rejected.min(e);
                left_out.push(names[axis].clone());
            }
            Err(e) => {
                refused += 1;
                left_out.push(names[axis].clone());
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if refused == bounds.len() => Err(e),
        _ if reference.regions.is_empty() => Ok((reference, best_rejected, false, Vec::new())),
        _ => Ok((reference, err, true, left_out)),
    }
}

/// Bins of coordinate `axis`, whose masses are Z(a < yᵢ ≤ b)/Z from [`quad::log_partition`] on
/// each slab a < yᵢ ≤ b (the partition function is computed to 1e-5, and to ~1e-7 when that is
/// as cheap; a tensor grid of 2^20 points reaches only ~1e-3 in 3D). When the minima are more
/// than a standard deviation apart along the coordinate, the cuts are midway between
/// neighbouring minima, so each bin holds one mode (or a group of modes sharing that
/// coordinate); otherwise the cuts are the coordinate's mean and mean ± 0.674 sd. Returns the
/// regions, the largest error of a mass, and whether every quadrature converged.
fn bins_on_axis(
    gibbs: &Gibbs<'_>,
    spread: &Spread<'_>,
    quad_opts: &QuadOptions,
    axis: usize,
) -> Result<(Reference, f64, bool), QuadError> {
    let Gibbs {
        energy,
        bounds,
        beta,
        names,
    } = *gibbs;
    let Spread { minima, means, sds } = *spread;
    let (lo, hi) = minima
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| {
            (a.min(m[axis]), b.max(m[axis]))
        });
    let mut cuts: Vec<f64> = Vec::new();
    if minima.len() >= 2 && (hi - lo) / sds[axis] > 1.0 {
        let mut at: Vec<f64> = minima.iter().map(|m| m[axis]).collect();
        at.sort_by(f64::total_cmp);
        for w in at.windows(2) {
            // Minima closer than half a standard deviation along the axis share a bin.
            if w[1] - w[0] > 0.5 * sds[axis] {
                cuts.push(0.5 * (w[0] + w[1]));
            }
        }
    }
    if cuts.is_empty() {
        cuts = QUARTILE_SDS
            .iter()
            .map(|k| means[axis] + k * sds[axis])
            .collect();
    }
    let (lo, hi) = bounds[axis];
    cuts.retain(|c| *c > lo && *c < hi);
    // Each mass takes the errors of two log Z's (δP ≤ P·(δ log Z_c + δ log Z)) and a bin two
    // masses: a tenth of the allowed error per log Z keeps a bin within it.
    let opts = QuadOptions {
        abs_tol: Some(REGION_MAX_ERROR / 10.0),
        hints: minima.to_vec(),
        ..quad_opts.clone()
    };
    let slab = |a: f64, b: f64| -> Result<quad::LogZ, QuadError> {
        let vars = bounds
            .iter()
            .enumerate()
            .map(|(i, &(lo, hi))| {
                if i == axis {
                    VarDomain::Continuous {
                        lo: a.max(lo),
                        hi: b.min(hi),
                    }
                } else {
                    VarDomain::Continuous { lo, hi }
                }
            })
            .collect();
        // Only the minima inside the slab guide its search: one outside would pull it to a face.
        let inside = QuadOptions {
            hints: minima
                .iter()
                .filter(|m| m[axis] > a && m[axis] < b)
                .cloned()
                .collect(),
            ..opts.clone()
        };
        quad::log_partition(energy, &Domain::new(vars)?, beta, &inside)
    };
    let mut edges = vec![f64::NEG_INFINITY];
    edges.extend(cuts);
    edges.push(f64::INFINITY);
    // One slab per bin, so that each holds one mode (the quadrature resolves one mode per
    // region best); Z is their sum.
    let mut parts = Vec::with_capacity(edges.len() - 1);
    for w in edges.windows(2) {
        parts.push(slab(w[0], w[1])?);
    }
    let converged = parts.iter().all(|p| p.status == Status::Converged);
    let top = parts
        .iter()
        .map(|p| p.log_z)
        .fold(f64::NEG_INFINITY, f64::max);
    let log_z = top
        + parts
            .iter()
            .map(|p| (p.log_z - top).exp())
            .sum::<f64>()
            .ln();
    let probs: Vec<f64> = parts.iter().map(|p| (p.log_z - log_z).exp()).collect();
    // δ log Z ≤ Σⱼ Pⱼ δⱼ, and δPₖ ≤ Pₖ·(δₖ + δ log Z) to first order (errors ≤ 1e-4).
    let total_err: f64 = probs.iter().zip(&parts).map(|(p, q)| p * q.abs_error).sum();
    let name = &names[axis];
    let mut reference = Reference::new();
    let mut err: f64 = 0.0;
    for (k, (w, (p, q))) in edges.windows(2).zip(probs.iter().zip(&parts)).enumerate() {
        let (a, b, p) = (w[0], w[1], *p);
        err = err.max(p * (q.abs_error + total_err));
        reference = reference.region(
            &bin_label(k, name, a, b),
            move |y| y[axis] > a && y[axis] <= b,
            p,
        );
    }
    Ok((reference, err, converged))
}

/// The name of the `k`-th (0-based) bin of coordinate `name`, `lo < name <= hi`, with its cuts to
/// six decimals and a cut that rounds to zero written `0.000000`, never `-0.000000`
/// (`testing::sample_reference::bin_edges` reads the cuts back).
fn bin_label(k: usize, name: &str, lo: f64, hi: f64) -> String {
    let cut = |x: f64| {
        let s = format!("{x:.6}");
        match s.strip_prefix('-') {
            Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
            _ => s,
        }
    };
    format!(
        "bin {} of {name} ({} < {name} <= {})",
        k + 1,
        cut(lo),
        cut(hi)
    )
}

/// Notes the coordinates whose bins the quadrature refused (their tests are left out).
fn bins_left_out(notes: &mut Vec<String>, left_out: &[String]) {
    if !left_out.is_empty() {
        notes.push(format!(
            "the quadrature on slabs did not reach {REGION_MAX_ERROR:.0e} for the bins of {}: their tests are left out",
            left_out.join(", ")
        ));
    }
}

/// Basins (or quartile bins) of a 1D density, exact through the tabulated CDF.
fn regions_1d(
    mut reference: Reference,
    energy: &dyn Energy,
    cdf: &Arc<Cdf1d>,
    beta: f64,
    name: &str,
) -> Reference {
    let mins: Vec<f64> = cdf
        .minimisers
        .iter()
        .copied()
        .filter(|m| beta * (energy.eval(&[*m]) - cdf.min_energy) < BASIN_CUT)
        .collect();
    let mut cuts = Vec::new();
    let labels: Vec<String>;
    if mins.len() >= 2 {
        for w in mins.windows(2) {
            // The basin boundary is the highest energy between neighbouring minima.
            let n = 4000;
            let (mut best, mut arg) = (f64::NEG_INFINITY, 0.5 * (w[0] + w[1]));
            for k in 1..n {
                let x = w[0] + (w[1] - w[0]) * k as f64 / n as f64;
                let e = energy.eval(&[x]);
                if e > best {
                    best = e;
                    arg = x;
                }
            }
            cuts.push(arg);
        }
        labels = mins
            .iter()
            .map(|m| format!("the basin of the minimum at {name}={m:.4}"))
            .collect();
    } else {
        cuts = [0.25, 0.5, 0.75].iter().map(|u| cdf.quantile(*u)).collect();
        labels = (0..4)
            .map(|k| format!("quartile bin {} of {name}", k + 1))
            .collect();
    }
    let mut edges = vec![f64::NEG_INFINITY];
    edges.extend(cuts);
    edges.push(f64::INFINITY);
    for (k, label) in labels.iter().enumerate() {
        let (a, b) = (edges[k], edges[k + 1]);
        reference = reference.region(label, move |y| y[0] > a && y[0] <= b, cdf.mass(a, b));
    }
    reference
}

/// Receives chunks of the grid: points (row-major), their energies and their weights.
type GridVisitor<'a> = dyn FnMut(&[f64], &[f64], &[f64]) + 'a;

/// A box for the tabulation grid.
#[derive(Debug, Clone)]
struct Grid {
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl Grid {
    /// Mean ± [`BOX_SDS`] sd, clipped to the domain. The lower end is moved by an irrational
    /// fraction of a standard deviation so that the grid is not symmetric about the mean: ties in
    /// E between mirror points would put steps of several points' mass into the tabulated CDF.
    fn around(means: &[f64], sds: &[f64], bounds: &[(f64, f64)]) -> Self {
        let lo = means
            .iter()
            .zip(sds)
            .zip(bounds)
            .map(|((m, s), (l, _))| (m - (BOX_SDS + 0.006_180_339_887) * s).max(*l))
            .collect();
        let hi = means
            .iter()
            .zip(sds)
            .zip(bounds)
            .map(|((m, s), (_, h))| (m + BOX_SDS * s).min(*h))
            .collect();
        Grid { lo, hi }
    }

    fn per_axis(&self, points: usize) -> usize {
        let d = self.lo.len() as f64;
        ((points as f64).powf(1.0 / d).floor() as usize / 2 * 2).max(4)
    }

    /// Every cell of the midpoint grid with `n` cells per axis, with its energy half-range from
    /// central differences of neighbouring centres (one-sided at the box's faces), and the total
    /// weight.
    fn cells(
        &self,
        energy: &dyn Energy,
        n: usize,
        beta: f64,
        e_star: f64,
    ) -> Result<(Vec<Cell>, f64), QuadError> {
        let d = self.lo.len();
        let mut es = Vec::with_capacity(n.pow(d as u32));
        let mut ws = Vec::with_capacity(n.pow(d as u32));
        let total = self.visit(energy, n, beta, e_star, &mut |_, e, w| {
            es.extend_from_slice(e);
            ws.extend_from_slice(w);
        })?;
        let mut cells = Vec::with_capacity(es.len());
        for idx in 0..es.len() {
            let mut r2 = 0.0;
            let (mut r, mut stride) = (idx, 1);
            for _ in 0..d {
                let k = r % n;
                r /= n;
                let up = if k + 1 < n { es[idx + stride] } else { es[idx] };
                let down = if k > 0 { es[idx - stride] } else { es[idx] };
                let span = if k + 1 < n && k > 0 { 2.0 } else { 1.0 };
                // Half the energy change across the cell along this axis.
                let a = 0.5 * (up - down) / span;
                if a.is_finite() {
                    r2 += a * a;
                }
                stride *= n;
            }
            cells.push(Cell {
                e: es[idx],
                r: r2.sqrt(),
                w: ws[idx],
            });
        }
        Ok((cells.into_iter().filter(|c| c.w > 0.0).collect(), total))
    }

    /// Calls `f(points, energies, weights)` on chunks of the midpoint grid with `n` cells per axis;
    /// returns the grid's total weight (times the cell volume).
    fn visit(
        &self,
        energy: &dyn Energy,
        n: usize,
        beta: f64,
        e_star: f64,
        f: &mut GridVisitor<'_>,
    ) -> Result<f64, QuadError> {
        let d = self.lo.len();
        let h: Vec<f64> = (0..d)
            .map(|i| (self.hi[i] - self.lo[i]) / n as f64)
            .collect();
        let vol: f64 = h.iter().product();
        let total = n.pow(d as u32);
        const CHUNK: usize = 4096;
        let mut pts = Vec::with_capacity(CHUNK * d);
        let mut e = vec![0.0; CHUNK];
        let mut w = vec![0.0; CHUNK];
        let mut sum = 0.0;
        let mut start = 0;
        while start < total {
            let m = CHUNK.min(total - start);
            pts.clear();
            for idx in start..start + m {
                let mut r = idx;
                for i in 0..d {
                    pts.push(self.lo[i] + h[i] * ((r % n) as f64 + 0.5));
                    r /= n;
                }
            }
            energy.eval_batch(&pts, &mut e[..m]);
            for k in 0..m {
                if e[k].is_nan() {
                    return Err(QuadError::NotANumber {
                        point: pts[k * d..(k + 1) * d].to_vec(),
                    });
                }
                w[k] = (-beta * (e[k] - e_star)).exp() * vol;
                sum += w[k];
            }
            f(&pts, &e[..m], &w[..m]);
            start += m;
        }
        Ok(sum)
    }
}

/// A grid cell: energy at its centre, half-width of its energy range, Gibbs weight.
#[derive(Debug, Clone, Copy)]
struct Cell {
    e: f64,
    r: f64,
    w: f64,
}

/// The tabulated CDF of E: knots (e_k, F_k), linear in between.
#[derive(Debug, Clone)]
struct ECdf {
    e: Vec<f64>,
    f: Vec<f64>,
    /// Half the mass of the lowest grid cell: F at and below the minimum energy is taken as this,
    /// not 0, so that a draw exactly at the minimiser (a chain started there) keeps the
    /// Anderson–Darling statistic finite.
    f_floor: f64,
}

impl ECdf {
    /// Knots of the CDF of E when each grid cell's weight is spread uniformly over its energy
    /// range `[E − r, E + r]` (exact for E linear in one dimension; the variance-matched uniform
    /// in more): this turns the O(h) error of point masses at an indicator's edge into a
    /// higher-order one. Knots are taken where the cumulative weight crosses each multiple of
    /// 1/knots, starting at the lowest energy. Above the highest energy F is 1 minus half the last
    /// cell's mass, never 1: the true F is below 1 there, and Anderson–Darling needs F < 1.
    fn from_cells(cells: Vec<Cell>, knots: usize, e_star: f64) -> Self {
        let total: f64 = cells.iter().map(|c| c.w).sum();
        // Events: (energy, jump in F, change of density).
        let mut ev: Vec<(f64, f64, f64)> = Vec::with_capacity(2 * cells.len());
        for c in &cells {
            let w = c.w / total;
            if c.r > 1e-13 * (1.0 + c.e.abs()) {
                let dens = w / (2.0 * c.r);
                ev.push((c.e - c.r, 0.0, dens));
                ev.push((c.e + c.r, 0.0, -dens));
            } else {
                ev.push((c.e, w, 0.0));
            }
        }
        // Unstable: the events number twice the grid's cells (about two million in 2D), and the
        // stable sort's scratch copy made it 40 % of `sampler-test`'s CPU time. The unstable
        // sort is deterministic, so ties keep the same order run to run.
        ev.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let first = ev.first().map_or(e_star, |v| v.0);
        let mut e = vec![first];
        let mut f = vec![0.0];
        let (mut acc, mut dens, mut prev) = (0.0_f64, 0.0_f64, first);
        let mut level = 1.0 / knots as f64;
        let last = ev.len().saturating_sub(1);
        for (i, (x, jump, ddens)) in ev.iter().enumerate() {
            acc += dens.max(0.0) * (x - prev) + jump;
            dens += ddens;
            prev = *x;
            if acc >= level || i == last {
                if *x > e[e.len() - 1] {
                    e.push(*x);
                    f.push(acc.min(1.0));
                } else if let Some(v) = f.last_mut() {
                    *v = acc.min(1.0);
                }
                level = ((acc * knots as f64).floor() + 1.0) / knots as f64;
            }
        }
        let edge = |c: Option<&Cell>| c.map_or(0.0, |c| 0.5 * c.w / total);
        let top = edge(
            cells
                .iter()
                .max_by(|a, b| (a.e + a.r).total_cmp(&(b.e + b.r))),
        );
        let n = f.len();
        if n >= 2 {
            f[n - 1] = (1.0 - top).max(f[n - 2]);
        }
        let f_floor = edge(
            cells
                .iter()
                .min_by(|a, b| (a.e - a.r).total_cmp(&(b.e - b.r))),
        )
        .min(f.get(1).copied().unwrap_or(0.0));
        ECdf { e, f, f_floor }
    }

    fn eval(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        let n = self.e.len();
        if x <= self.e[0] {
            return self.f_floor;
        }
        if x >= self.e[n - 1] {
            return self.f[n - 1];
        }
        let i = self.e.partition_point(|v| *v <= x);
        let (e0, e1, f0, f1) = (self.e[i - 1], self.e[i], self.f[i - 1], self.f[i]);
        (f0 + (f1 - f0) * (x - e0) / (e1 - e0)).max(self.f_floor)
    }
}

fn e_cdf(
    energy: &dyn Energy,
    grid: &Grid,
    beta: f64,
    e_star: f64,
    z_ref: f64,
    points: usize,
) -> Result<(ECdf, f64), QuadError> {
    let n = grid.per_axis(points);
    let (fine_cells, total) = grid.cells(energy, n, beta, e_star)?;
    let box_err = (total / z_ref - 1.0).abs();
    let fine = ECdf::from_cells(fine_cells, E_CDF_KNOTS, e_star);
    let (coarse_cells, _) = grid.cells(energy, n / 2, beta, e_star)?;
    let coarse = ECdf::from_cells(coarse_cells, E_CDF_KNOTS, e_star);
    let diff = fine
        .e
        .iter()
        .chain(&coarse.e)
        .map(|e| (fine.eval(*e) - coarse.eval(*e)).abs())
        .fold(0.0, f64::max);
    Ok((fine, diff + box_err + 1.0 / E_CDF_KNOTS as f64))
}

/// Local minimisers worth a basin, global first, at most [`MAX_BASINS`].
fn basin_minima(
    energy: &dyn Energy,
    domain: &Domain,
    beta: f64,
    opts: &QuadOptions,
) -> Result<Vec<Vec<f64>>, QuadError> {
    let m = quad::minimize(energy, domain, opts)?;
    let mut out = vec![polish(energy, &m.argmin)];
    for (v, x) in &m.local_minima {
        if beta * (v - m.value) < BASIN_CUT && out.len() < MAX_BASINS {
            out.push(polish(energy, x));
        }
    }
    Ok(out)
}

/// A few Newton steps with finite-difference derivatives, kept only while they lower the energy:
/// the basin boundaries are bisectors of the minimisers, so their accuracy moves the regions.
fn polish(energy: &dyn Energy, x0: &[f64]) -> Vec<f64> {
    let d = x0.len();
    let mut x = x0.to_vec();
    let mut fx = energy.eval(&x);
    for _ in 0..4 {
        let h: Vec<f64> = x.iter().map(|v| 1e-4 * v.abs().max(1.0)).collect();
        let at = |x: &[f64], i: usize, si: f64, j: usize, sj: f64| {
            let mut z = x.to_vec();
            z[i] += si * h[i];
            z[j] += sj * h[j];
            energy.eval(&z)
        };
        let mut g = nalgebra::DVector::zeros(d);
        let mut hess = nalgebra::DMatrix::zeros(d, d);
        for i in 0..d {
            g[i] = (at(&x, i, 1.0, i, 0.0) - at(&x, i, -1.0, i, 0.0)) / (2.0 * h[i]);
            for j in 0..d {
                hess[(i, j)] =
                    (at(&x, i, 1.0, j, 1.0) - at(&x, i, 1.0, j, -1.0) - at(&x, i, -1.0, j, 1.0)
                        + at(&x, i, -1.0, j, -1.0))
                        / (4.0 * h[i] * h[j]);
            }
        }
        let Some(step) = hess.lu().solve(&g) else {
            break;
        };
        let next: Vec<f64> = x.iter().zip(step.iter()).map(|(a, s)| a - s).collect();
        let fn_ = energy.eval(&next);
        if fn_.is_nan() || fn_ > fx || next.iter().any(|v| !v.is_finite()) {
            break;
        }
        x = next;
        fx = fn_;
    }
    x
}

fn invert(cov: &[f64], d: usize) -> Vec<f64> {
    let m = nalgebra::DMatrix::from_row_slice(d, d, cov);
    match m.try_inverse() {
        Some(inv) => inv.transpose().as_slice().to_vec(),
        None => {
            let mut id = vec![0.0; d * d];
            for i in 0..d {
                id[i * d + i] = 1.0;
            }
            id
        }
    }
}

fn mahalanobis(y: &[f64], m: &[f64], inv: &[f64]) -> f64 {
    let d = y.len();
    let mut s = 0.0;
    for i in 0..d {
        for j in 0..d {
            s += (y[i] - m[i]) * inv[i * d + j] * (y[j] - m[j]);
        }
    }
    s
}

fn nearest(y: &[f64], minima: &[Vec<f64>], inv: &[f64]) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (k, m) in minima.iter().enumerate() {
        let s = mahalanobis(y, m, inv);
        if s < best.0 {
            best = (s, k);
        }
    }
    best.1
}

/// Sub-points per axis of a cell that a basin boundary may cross, by dimension (2–4).
fn split_for(d: usize) -> usize {
    match d {
        0..=2 => 64,
        3 => 8,
        _ => 4,
    }
}

/// Adds the weight `w` of the cell centred at `y` (sides `h`) to the basins `acc`. A cell the
/// Voronoi boundary may cross (its two smallest squared distances differ by less than their change
/// across the cell) is split among the basins by `split`^d sub-points at equal weight; other cells
/// go whole to their basin. Returns whether the cell was split: a hyperplane crosses at most
/// d·split^(d−1) of the sub-cells, so a split cell's misassigned mass is at most w·d/split.
fn split_cell(
    y: &[f64],
    h: &[f64],
    w: f64,
    minima: &[Vec<f64>],
    inv: &[f64],
    split: usize,
    acc: &mut [f64],
) -> bool {
    let d = y.len();
    let mut best = (f64::INFINITY, f64::INFINITY, 0usize);
    let mut spread = 0.0_f64;
    for (k, m) in minima.iter().enumerate() {
        let s = mahalanobis(y, m, inv);
        // |∇ d²| · h/2 plus the quadratic term bounds the change of d² across the cell.
        let mut change = 0.0;
        for i in 0..d {
            let g: f64 = (0..d).map(|j| 2.0 * inv[i * d + j] * (y[j] - m[j])).sum();
            change += g.abs() * 0.5 * h[i] + inv[i * d + i].abs() * 0.25 * h[i] * h[i];
        }
        spread = spread.max(change);
        if s < best.0 {
            best = (s, best.0, k);
        } else if s < best.1 {
            best.1 = s;
        }
    }
    if best.1 - best.0 > 2.0 * spread {
        acc[best.2] += w;
        return false;
    }
    let subs = split.pow(d as u32);
    let share = w / subs as f64;
    let mut z = vec![0.0; d];
    for idx in 0..subs {
        let mut r = idx;
        for i in 0..d {
            z[i] = y[i] + h[i] * (((r % split) as f64 + 0.5) / split as f64 - 0.5);
            r /= split;
        }
        acc[nearest(&z, minima, inv)] += share;
    }
    true
}

/// The weight `exp(−β(E − E*))` on a grid, as [`Grid::visit`] evaluates it.
#[derive(Clone, Copy)]
struct GridWeight<'a> {
    energy: &'a dyn Energy,
    grid: &'a Grid,
    beta: f64,
    e_star: f64,
}

/// Region masses on the grid of `weight` with about `points` points: the Mahalanobis
/// basins of `minima` (metric `inv`) when there are several, else quartile bins of every
/// coordinate. Returns the regions and their largest error.
fn regions_nd(
    mut reference: Reference,
    weight: &GridWeight<'_>,
    minima: &[Vec<f64>],
    inv: &[f64],
    names: &[String],
    points: usize,
) -> Result<(Reference, f64), QuadError> {
    let GridWeight {
        energy,
        grid,
        beta,
        e_star,
    } = *weight;
    let d = grid.lo.len();
    let n = grid.per_axis(points);
    if minima.len() >= 2 {
        // Masses on the grid with n cells per axis, and the splitting error.
        let masses = |n: usize| -> Result<(Vec<f64>, f64), QuadError> {
            let mut acc = vec![0.0; minima.len()];
            let mut split_mass = 0.0;
            let h: Vec<f64> = (0..d)
                .map(|i| (grid.hi[i] - grid.lo[i]) / n as f64)
                .collect();
            let split = split_for(d);
            let total = grid.visit(energy, n, beta, e_star, &mut |p, _, w| {
                for (y, wk) in p.chunks_exact(d).zip(w) {
                    if split_cell(y, &h, *wk, minima, inv, split, &mut acc) {
                        split_mass += wk;
                    }
                }
            })?;
            let split_err = split_mass / total * d as f64 / split as f64;
            Ok((acc.iter().map(|a| a / total).collect(), split_err))
        };
        // A coarse pass without splitting first: the mass of cells the Voronoi boundary may
        // cross shrinks like the cell size, so it predicts the fine grid's splitting error. When
        // that is far above what the region tests allow (a continuum of minima, as on the ring,
        // makes nearly every cell a boundary cell), the expensive fine pass is skipped and the
        // caller uses its fallback.
        let n_coarse = (n / 16).max(8);
        let h_coarse: Vec<f64> = (0..d)
            .map(|i| (grid.hi[i] - grid.lo[i]) / n_coarse as f64)
            .collect();
        let mut acc_coarse = vec![0.0; minima.len()];
        let mut boundary = 0.0;
        let total_coarse = grid.visit(energy, n_coarse, beta, e_star, &mut |p, _, w| {
            for (y, wk) in p.chunks_exact(d).zip(w) {
                if split_cell(y, &h_coarse, *wk, minima, inv, 1, &mut acc_coarse) {
                    boundary += wk;
                }
            }
        })?;
        let predicted =
            boundary / total_coarse * (n_coarse as f64 / n as f64) * d as f64 / split_for(d) as f64;
        if predicted > 10.0 * REGION_MAX_ERROR {
            return Ok((reference, predicted));
        }
        let ((fine, split_err), (coarse, _)) = (masses(n)?, masses(n / 2)?);
        let err = split_err
            + fine
                .iter()
                .zip(&coarse)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
        for (k, m) in minima.iter().enumerate() {
            let at: Vec<String> = names
                .iter()
                .zip(m)
                .map(|(nm, v)| format!("{nm}={v:.4}"))
                .collect();
            let (mins, inv) = (minima.to_vec(), inv.to_vec());
            reference = reference.region(
                &format!("the basin of the minimum at ({})", at.join(", ")),
                move |y| nearest(y, &mins, &inv) == k,
                fine[k],
            );
        }
        Ok((reference, err))
    } else {
        // One minimum: quartile bins of every coordinate, cut at grid lines shared by both
        // resolutions.
        let mut err: f64 = 0.0;
        for axis in 0..d {
            let columns = |n: usize| -> Result<Vec<f64>, QuadError> {
                let mut acc = vec![0.0; n];
                let h = (grid.hi[axis] - grid.lo[axis]) / n as f64;
                let total = grid.visit(energy, n, beta, e_star, &mut |p, _, w| {
                    for (y, wk) in p.chunks_exact(d).zip(w) {
                        let c = (((y[axis] - grid.lo[axis]) / h) as usize).min(n - 1);
                        acc[c] += wk;
                    }
                })?;
                Ok(acc.iter().map(|a| a / total).collect())
            };
            let (fine, coarse) = (columns(n)?, columns(n / 2)?);
            let h = (grid.hi[axis] - grid.lo[axis]) / n as f64;
            let mut cuts = Vec::new();
            let mut acc = 0.0;
            let mut target = 1;
            for c in (0..n).step_by(2) {
                acc += fine[c] + fine[c + 1];
                if target < 4 && acc >= target as f64 / 4.0 {
                    cuts.push(c + 2);
                    target += 1;
                }
            }
            let mut edges = vec![0];
            edges.extend(cuts.iter().copied().filter(|c| *c < n));
            edges.push(n);
            edges.dedup();
            for k in 0..edges.len() - 1 {
                let (a, b) = (edges[k], edges[k + 1]);
                let p: f64 = fine[a..b].iter().sum();
                let q: f64 = coarse[a / 2..b / 2].iter().sum();
                err = err.max((p - q).abs());
                let lo = if a == 0 {
                    f64::NEG_INFINITY
                } else {
                    grid.lo[axis] + h * a as f64
                };
                let hi = if b == n {
                    f64::INFINITY
                } else {
                    grid.lo[axis] + h * b as f64
                };
                reference = reference.region(
                    &bin_label(k, &names[axis], lo, hi),
                    move |y| y[axis] > lo && y[axis] <= hi,
                    p,
                );
            }
        }
        Ok((reference, err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::FnEnergy;
    use crate::testing::sample_reference::{
        BIN_NAME_ROUNDING, E_CDF_CHECK_POINTS, MOMENT_ABS, region_mass,
    };

    /// Midpoint nodes of the angle integral in the ring's closed form, and a bound on its error
    /// (the integrand is smooth except at two kinks, error O(1/n²) there).
    const RING_ANGLES: usize = 200_000;
    const RING_ANGLE_ERROR: f64 = 1e-8;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_string()).collect()
    }

    fn exact(r: &QuadReference, name: &str) -> f64 {
        r.reference
            .moments
            .iter()
            .find(|m| m.name == name)
            .map_or(f64::NAN, |m| m.exact)
    }

    #[test]
    fn bin_labels_never_print_a_negative_zero_and_read_back() {
        let label = bin_label(1, "y2", -1e-9, 0.674_489_75);
        assert_eq!(label, "bin 2 of y2 (0.000000 < y2 <= 0.674490)");
        assert_eq!(
            bin_label(0, "x", f64::NEG_INFINITY, -0.000_000_6),
            "bin 1 of x (-inf < x <= -0.000001)"
        );
        let (lo, hi) = crate::testing::sample_reference::bin_edges(&label);
        assert_eq!((lo.to_bits(), hi), (0.0f64.to_bits(), 0.674_49));
    }

    #[test]
    fn correlated_gaussian_moments_bins_and_energy_cdf_are_exact() {
        // βE = ½ yᵀ K y with K = Σ⁻¹, Σ = [[1, ρ], [ρ, 1]]: βE ~ Exp(1) in 2D.
        let rho = 0.8;
        let k = 1.0 / (1.0 - rho * rho);
        let e: SharedEnergy = Arc::new(FnEnergy::new(2, move |y: &[f64]| {
            0.5 * k * (y[0] * y[0] - 2.0 * rho * y[0] * y[1] + y[1] * y[1])
        }));
        let inf = f64::INFINITY;
        let domain = Domain::continuous(&[(-inf, inf), (-inf, inf)]).expect("domain");
        let r = quadrature_reference(
            e,
            &domain,
            1.0,
            &names(&["a", "b"]),
            &ReferenceOptions::default(),
        )
        .expect("reference");
        assert_eq!(r.status, Status::Converged, "{:?}", r.notes);
        for (name, want) in [
            ("mean of a", 0.0),
            ("mean of b^2", 1.0),
            ("mean of a*b", rho),
            ("mean of E(a, b)", 1.0),
        ] {
            let got = exact(&r, name);
            assert!((got - want).abs() < MOMENT_ABS, "{name}: {got} vs {want}");
            assert!(
                (got - want).abs() <= r.moment_error + 1e-12,
                "{name}: error not covered"
            );
        }
        // One minimum: quartile bins of a and of b, each with the normal mass of its interval.
        assert_eq!(r.reference.regions.len(), 8);
        let totals = coordinate_totals(&r.reference.regions);
        assert_eq!(totals.keys().collect::<Vec<_>>(), ["a", "b"]);
        for (name, total) in totals {
            assert!(
                (total - 1.0).abs() <= r.region_error + 1e-12,
                "{name}: {total}"
            );
        }
        for g in &r.reference.regions {
            let want = region_mass(&g.name);
            assert!(
                (g.prob - want).abs() <= r.region_error + BIN_NAME_ROUNDING,
                "{}: {} vs {want}",
                g.name,
                g.prob
            );
        }
        // The CDF of E is 1 − exp(−e); the stated error must cover the true one.
        let cdf = r
            .reference
            .cdfs
            .iter()
            .find(|c| c.name.starts_with("E("))
            .expect("E cdf");
        let worst = (1..E_CDF_CHECK_POINTS)
            .map(|i| {
                let e = 8.0 * i as f64 / E_CDF_CHECK_POINTS as f64;
                ((cdf.cdf)(e) - (1.0 - (-e).exp())).abs()
            })
            .fold(0.0, f64::max);
        assert!(
            worst <= r.e_cdf_error,
            "E-CDF error {worst} > stated {}",
            r.e_cdf_error
        );
        assert!(r.e_cdf_error <= E_CDF_MAX_ERROR, "{}", r.e_cdf_error);
        assert!((cdf.cdf)(0.0) > 0.0, "F is positive at the minimum energy");
    }

    #[test]
    fn double_well_basins_have_the_symmetric_masses() {
        let e: SharedEnergy = Arc::new(FnEnergy::new(2, |y: &[f64]| {
            (y[0] * y[0] - 1.0).powi(2) + 0.5 * y[1] * y[1]
        }));
        let inf = f64::INFINITY;
        let domain = Domain::continuous(&[(-inf, inf), (-inf, inf)]).expect("domain");
        let r = quadrature_reference(
            e,
            &domain,
            2.0,
            &names(&["y1", "y2"]),
            &ReferenceOptions::default(),
        )
        .expect("reference");
        assert_eq!(r.reference.regions.len(), 2, "{:?}", r.reference.regions);
        for g in &r.reference.regions {
            assert!(g.name.contains("basin"), "{}", g.name);
            assert!(
                (g.prob - 0.5).abs() <= r.region_error.max(1e-9),
                "{}: {} (stated error {:.2e}, minima {:?})",
                g.name,
                g.prob,
                r.region_error,
                r.reference.regions
            );
        }
        let e1: SharedEnergy = Arc::new(FnEnergy::new(1, |y: &[f64]| (y[0] * y[0] - 1.0).powi(2)));
        let d1 = Domain::continuous(&[(-inf, inf)]).expect("domain");
        let r = quadrature_reference(e1, &d1, 2.0, &names(&["y"]), &ReferenceOptions::default())
            .expect("reference");
        let masses: Vec<f64> = r.reference.regions.iter().map(|g| g.prob).collect();
        assert_eq!(masses.len(), 2);
        for m in masses {
            assert!((m - 0.5).abs() <= r.region_error.max(1e-12), "{m}");
        }
        assert!(exact(&r, "mean of y").abs() <= r.moment_error + 1e-15);
        assert!(r.cdf_error.is_some_and(|e| e < crate::quad::CDF_TOL));
    }

    #[test]
    fn one_dimensional_energy_cdf_has_an_honest_error() {
        // E = y²/4 at β = 2: y ~ N(0, 1) and P(E ≤ e) = 2Φ(2√e) − 1.
        let e: SharedEnergy = Arc::new(FnEnergy::new(1, |y: &[f64]| 0.25 * y[0] * y[0]));
        let inf = f64::INFINITY;
        let domain = Domain::continuous(&[(-inf, inf)]).expect("domain");
        let r = quadrature_reference(
            e,
            &domain,
            2.0,
            &names(&["y"]),
            &ReferenceOptions::default(),
        )
        .expect("reference");
        let cdf = r
            .reference
            .cdfs
            .iter()
            .find(|c| c.name.starts_with("E("))
            .expect("E cdf");
        let worst = (1..E_CDF_CHECK_POINTS)
            .map(|i| {
                let e = 4.0 * i as f64 / E_CDF_CHECK_POINTS as f64;
                ((cdf.cdf)(e) - (2.0 * crate::stats::special::cdf(2.0 * e.sqrt()) - 1.0)).abs()
            })
            .fold(0.0, f64::max);
        assert!(
            worst <= r.e_cdf_error,
            "E-CDF error {worst} > stated {}",
            r.e_cdf_error
        );
        assert!(r.e_cdf_error <= E_CDF_MAX_ERROR, "{}", r.e_cdf_error);
        // One minimum in 1D: quartile bins of y, each of mass ¼ up to the CDF's error.
        assert_eq!(r.reference.regions.len(), 4);
        for g in &r.reference.regions {
            assert!(
                (g.prob - 0.25).abs() <= r.region_error + 1e-12,
                "{}: {}",
                g.name,
                g.prob
            );
        }
    }

    /// E = ½ yᵀK y with unit variances and correlation `rho` between neighbours' (an AR(1)
    /// covariance Σᵢⱼ = ρ^|i−j|, whose precision K is tridiagonal): y₁ ~ N(0, 1).
    fn ar1_gaussian(d: usize, rho: f64) -> SharedEnergy {
        Arc::new(FnEnergy::new(d, move |y: &[f64]| {
            let c = 1.0 - rho * rho;
            let mut s = y[0] * y[0];
            for i in 1..y.len() {
                let r = y[i] - rho * y[i - 1];
                s += r * r / c;
            }
            0.5 * s
        }))
    }

    /// In 3–4D the CDF of E(y) is tabulated on a grid only to ~1e-2–5e-2, and its KS test is
    /// made conservative by that error: the stated error must cover the true one. For a Gaussian
    /// in d dimensions 2E ~ χ²_d.
    #[test]
    fn three_and_four_dimensional_energy_cdf_errors_cover_the_chi_square_truth() {
        // χ²₃ and χ²₄ CDFs.
        let chi3 = |x: f64| {
            statrs::function::erf::erf((x / 2.0).sqrt())
                - (2.0 * x / std::f64::consts::PI).sqrt() * (-x / 2.0).exp()
        };
        let chi4 = |x: f64| 1.0 - (-x / 2.0).exp() * (1.0 + x / 2.0);
        energy_cdf_covers(3, &chi3);
        energy_cdf_covers(4, &chi4);
    }

    fn energy_cdf_covers(d: usize, chi: &dyn Fn(f64) -> f64) {
        let inf = f64::INFINITY;
        let domain = Domain::continuous(&vec![(-inf, inf); d]).expect("domain");
        let names: Vec<String> = (1..=d).map(|i| format!("y{i}")).collect();
        let r = quadrature_reference(
            ar1_gaussian(d, 0.6),
            &domain,
            1.0,
            &names,
            &ReferenceOptions::default(),
        )
        .expect("reference");
        assert!(
            r.e_cdf_error > E_CDF_MAX_ERROR && r.e_cdf_error <= E_CDF_MARGIN_MAX,
            "{}",
            r.e_cdf_error
        );
        let c = r
            .reference
            .cdfs
            .iter()
            .find(|c| c.name.starts_with("E("))
            .expect("a conservative KS reference for E(y)");
        assert!((c.error - r.e_cdf_error).abs() < 1e-15);
        let worst = (1..400)
            .map(|i| 0.05 * f64::from(i))
            .map(|e| ((c.cdf)(e) - chi(2.0 * e)).abs())
            .fold(0.0, f64::max);
        println!(
            "{d}D: E-CDF true error {worst:.2e}, stated {:.2e}",
            r.e_cdf_error
        );
        assert!(
            worst <= r.e_cdf_error,
            "{d}D: true error {worst:.2e} > stated {:.2e}",
            r.e_cdf_error
        );
    }

    /// The total mass of the bins of each coordinate (`bin k of NAME (…)`).
    fn coordinate_totals(
        regions: &[crate::stats::battery::ExactRegion],
    ) -> std::collections::BTreeMap<String, f64> {
        let mut totals = std::collections::BTreeMap::new();
        for g in regions {
            let name = g
                .name
                .split_once(" of ")
                .and_then(|(_, rest)| rest.split_once(" ("))
                .map_or(String::new(), |(n, _)| n.to_string());
            *totals.entry(name).or_insert(0.0) += g.prob;
        }
        totals
    }

    #[test]
    fn three_and_four_dimensional_bins_are_exact_by_quadrature() {
        for d in [3, 4] {
            let inf = f64::INFINITY;
            let domain = Domain::continuous(&vec![(-inf, inf); d]).expect("domain");
            let names: Vec<String> = (1..=d).map(|i| format!("y{i}")).collect();
            let start = std::time::Instant::now();
            let r = quadrature_reference(
                ar1_gaussian(d, 0.6),
                &domain,
                1.0,
                &names,
                &ReferenceOptions::default(),
            )
            .expect("reference");
            println!(
                "{d}D Gaussian reference in {:.2} s: region error {:.1e}, E-CDF error {:.1e}, notes {:?}",
                start.elapsed().as_secs_f64(),
                r.region_error,
                r.e_cdf_error,
                r.notes
            );
            assert!(r.region_error <= REGION_MAX_ERROR, "{d}D: {:?}", r.notes);
            // Quartile bins of every coordinate.
            assert_eq!(r.reference.regions.len(), 4 * d, "{d}D: {:?}", r.notes);
            assert_eq!(coordinate_totals(&r.reference.regions).len(), d);
            for g in &r.reference.regions {
                let want = region_mass(&g.name);
                assert!(
                    (g.prob - want).abs() <= r.region_error + BIN_NAME_ROUNDING,
                    "{d}D {}: {} vs {want} (stated error {:.1e})",
                    g.name,
                    g.prob,
                    r.region_error
                );
            }
        }
    }

    #[test]
    fn three_and_four_dimensional_modes_are_split_between_the_minima() {
        for d in [3, 4] {
            // A double well in y2 (the separating coordinate is found, not assumed), Gaussian in
            // the others: each half-space y2 ≤ 0, y2 > 0 holds mass ½.
            let e: SharedEnergy = Arc::new(FnEnergy::new(d, |y: &[f64]| {
                let rest: f64 = y
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != 1)
                    .map(|(_, v)| v * v)
                    .sum();
                (y[1] * y[1] - 1.0).powi(2) + 0.5 * rest
            }));
            let inf = f64::INFINITY;
            let domain = Domain::continuous(&vec![(-inf, inf); d]).expect("domain");
            let names: Vec<String> = (1..=d).map(|i| format!("y{i}")).collect();
            let r = quadrature_reference(e, &domain, 2.0, &names, &ReferenceOptions::default())
                .expect("reference");
            assert!(r.region_error <= REGION_MAX_ERROR, "{d}D: {:?}", r.notes);
            // Two bins of y2 (cut between the wells), and quartile bins of each other
            // coordinate whose slabs (each holding both wells) the quadrature converged on;
            // those it did not are named in a note.
            let others = r.reference.regions.len() - 2;
            assert_eq!(others % 4, 0, "{d}D: {:?}", r.reference.regions);
            if others < 4 * (d - 1) {
                assert!(
                    r.notes.iter().any(|n| n.contains("for the bins of y1")),
                    "{d}D: {:?}",
                    r.notes
                );
            }
            for g in &r.reference.regions {
                // The other coordinates are N(0, 1/β) = N(0, 1/2).
                let want = if g.name.contains("of y2 (") {
                    0.5
                } else {
                    let (lo, hi) = crate::testing::sample_reference::bin_edges(&g.name);
                    let sd = 0.5f64.sqrt();
                    crate::stats::special::cdf(hi / sd) - crate::stats::special::cdf(lo / sd)
                };
                assert!(
                    (g.prob - want).abs() <= r.region_error + BIN_NAME_ROUNDING,
                    "{d}D {}: {} vs {want} (stated error {:.1e})",
                    g.name,
                    g.prob,
                    r.region_error
                );
            }
            let y2 = r
                .reference
                .regions
                .iter()
                .filter(|g| g.name.contains("of y2 ("))
                .count();
            assert_eq!(y2, 2, "{d}D: {:?}", r.reference.regions);
        }
    }

    #[test]
    fn the_ring_gets_bins_by_quadrature_when_its_basins_defeat_the_grid() {
        // E = (x² + y² − 1)² at β = 1: s = r² ~ N(1, ½) on s > 0 with a uniform angle, so
        // P(x ≤ t) is a 1D integral over the angle of the radial CDF, checked at the bins' edges.
        let e: SharedEnergy = Arc::new(FnEnergy::new(2, |y: &[f64]| {
            (y[0] * y[0] + y[1] * y[1] - 1.0).powi(2)
        }));
        let inf = f64::INFINITY;
        let domain = Domain::continuous(&[(-inf, inf), (-inf, inf)]).expect("domain");
        let r = quadrature_reference(
            e,
            &domain,
            1.0,
            &names(&["x", "y"]),
            &ReferenceOptions::default(),
        )
        .expect("reference");
        // The moments converge too: ⟨y⟩ vanishes slice by slice, which once stalled the nested
        // quadrature for its whole budget.
        assert_eq!(r.status, Status::Converged, "{:?}", r.notes);
        // The CDF of E is tabulated only to ~1e-2 here: a conservative KS reference.
        assert!(
            r.reference
                .cdfs
                .iter()
                .any(|c| c.name.starts_with("E(") && (c.error - r.e_cdf_error).abs() < 1e-15),
            "{:?}",
            r.notes
        );
        assert!(!r.reference.regions.is_empty(), "{:?}", r.notes);
        assert!(r.region_error <= REGION_MAX_ERROR, "{:?}", r.notes);
        // Bins of both coordinates, each set a partition.
        let totals = coordinate_totals(&r.reference.regions);
        assert_eq!(totals.keys().collect::<Vec<_>>(), ["x", "y"]);
        for (name, total) in totals {
            assert!(
                (total - 1.0).abs() <= 2.0 * r.region_error + 1e-12,
                "{name}: {total}"
            );
        }
        // P(x ≤ t) = mean over the angle of P(√s·cos θ ≤ t), with F_s the CDF of s.
        let sd = 0.5f64.sqrt();
        let phi = crate::stats::special::cdf;
        let f_s = |v: f64| (phi((v - 1.0) / sd) - phi(-1.0 / sd)) / (1.0 - phi(-1.0 / sd));
        let cdf_x = |t: f64| {
            if !t.is_finite() {
                return if t > 0.0 { 1.0 } else { 0.0 };
            }
            let n = RING_ANGLES;
            (0..n)
                .map(|k| {
                    let c = (std::f64::consts::TAU * (k as f64 + 0.5) / n as f64).cos();
                    let v = (t / c).powi(2);
                    match (c > 0.0, t >= 0.0) {
                        (true, true) => f_s(v),
                        (true, false) => 0.0,
                        (false, true) => 1.0,
                        (false, false) => 1.0 - f_s(v),
                    }
                })
                .sum::<f64>()
                / n as f64
        };
        for g in &r.reference.regions {
            let edges = g.name.split_once('(').map_or("", |(_, rest)| rest);
            let parts: Vec<&str> = edges.trim_end_matches(')').split_whitespace().collect();
            let num = |s: &str| match s {
                "-inf" => f64::NEG_INFINITY,
                "inf" => f64::INFINITY,
                t => t.parse().unwrap_or(f64::NAN),
            };
            assert_eq!(parts.len(), 5, "{}", g.name);
            let want = cdf_x(num(parts[4])) - cdf_x(num(parts[0]));
            assert!(
                (g.prob - want).abs() <= r.region_error + BIN_NAME_ROUNDING + RING_ANGLE_ERROR,
                "{}: {} vs {want} (stated error {:.1e})",
                g.name,
                g.prob,
                r.region_error
            );
        }
    }

    #[test]
    fn integer_variables_and_wrong_names_are_refused() {
        let e: SharedEnergy = Arc::new(FnEnergy::new(1, |y: &[f64]| y[0] * y[0]));
        let d = Domain::new(vec![VarDomain::Integer { lo: 0, hi: 3 }]).expect("domain");
        assert!(matches!(
            quadrature_reference(
                e.clone(),
                &d,
                1.0,
                &names(&["k"]),
                &ReferenceOptions::default()
            ),
            Err(ReferenceError::Integer(0))
        ));
        let d = Domain::continuous(&[(-1.0, 1.0)]).expect("domain");
        assert!(
            quadrature_reference(
                e,
                &d,
                1.0,
                &names(&["a", "b"]),
                &ReferenceOptions::default()
            )
            .is_err()
        );
    }
}
