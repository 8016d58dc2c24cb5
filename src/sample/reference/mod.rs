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

mod basins;
mod command;
mod grid;
mod grid_regions;
mod regions;

use basins::{basin_minima, invert, mahalanobis, nearest};
pub use command::{
    KernelRun, ReferenceJson, SamplerTestOutcome, judge_draws, sampler_test, test_draws,
    test_kernel,
};
use grid::{Grid, e_cdf};
use grid_regions::{GridWeight, regions_nd};
use regions::{Gibbs, Spread, bin_label, bins_left_out, regions_1d, regions_by_quadrature};

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
    } else {
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
        // In 3–4D the CDF of E(y) is an indicator integral over a level set that no box follows,
        // so quadrature on boxes cannot give it; a tensor grid of 2^20 points reaches only ~1e-2
        // in 3D and ~1e-1 in 4D (measured on Gaussians). Within E_CDF_MARGIN_MAX it still gives a
        // KS test made conservative by its error (below).
        let grid = Grid::around(&means, &sds, &bounds);
        if d >= 3 {
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
        } else {
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
                // The grid cannot resolve these basins (e.g. the ring's continuum of minima):
                // bins of every coordinate by quadrature on slabs, as in 3–4D, are exact enough.
                // Cuts between the minima first; if the quadrature refuses every coordinate's
                // slabs, cuts at each coordinate's mean and mean ± 0.674 sd (what a single
                // minimum gets).
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

#[cfg(test)]
mod tests;
