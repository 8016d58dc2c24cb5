//! Quadrature in 2–4 continuous dimensions: whitened Genz–Malik cubature, or nested 1D in 2D.

use super::cubature::{self, Field, Region};
use super::gk::AxisMap;
use super::line::{self, Line};
use super::minimize::minimize_nd_for_weight;
use super::{Observables, PartResult, PartSpec, Problem, QuadError};
use nalgebra::DMatrix;

mod frame;
mod modes;
mod nested;
mod polar;
mod shape;
use frame::*;
use modes::Partition;
use nested::*;
pub(crate) use shape::hessian;
use shape::*;

use super::SIGNIFICANT;
/// Points of the outer minimum search's grid in the nested 2D rule (the 1D default is 32).
const OUTER_GRID: usize = 24;
/// Evaluations allowed for one slice of the nested 2D rule.
const SLICE_BUDGET: u64 = 100_000;

/// The shifted weight `exp(-β(E(x0 + M t) - E*))` with observables, as a cubature field.
struct NdField<'p, 'a> {
    p: &'p Problem<'a>,
    x0: Vec<f64>,
    m: DMatrix<f64>,
    beta: f64,
    e_star: f64,
    argmin: Vec<f64>,
    obs: Option<Observables<'p>>,
    n_obs: usize,
    rescale: f64,
    e_scale: f64,
    /// A partition of unity and the component whose share this field integrates.
    part: Option<(&'p Partition, usize)>,
}

impl Field for NdField<'_, '_> {
    fn n_comp(&self) -> usize {
        1 + self.n_obs
    }
    fn values(&mut self, ts: &[f64], jac: &[f64], out: &mut [f64]) -> Result<(), QuadError> {
        let d = self.x0.len();
        let n = jac.len();
        let mut zs = vec![0.0; n * d];
        for k in 0..n {
            for i in 0..d {
                let mut v = self.x0[i];
                for j in 0..d {
                    v += self.m[(i, j)] * ts[k * d + j];
                }
                zs[k * d + i] = v;
            }
        }
        let mut es = vec![0.0; n];
        self.p.eval_batch(&zs, &mut es)?;
        for k in 0..n {
            if es[k] < self.e_star {
                // Applied however small (see the 1D rule): βΔ is not negligible at large β.
                self.rescale *= (-self.beta * (self.e_star - es[k])).exp();
                self.e_star = es[k];
                self.argmin = zs[k * d..(k + 1) * d].to_vec();
            }
        }
        let nc = self.n_comp();
        let mut g = vec![0.0; self.n_obs];
        for k in 0..n {
            let w = if es[k] == f64::INFINITY || jac[k] == 0.0 {
                0.0
            } else {
                let share = match self.part {
                    Some((part, c)) => part.log_share(c, &zs[k * d..(k + 1) * d]),
                    None => 0.0,
                };
                (-self.beta * (es[k] - self.e_star) + share).exp() * jac[k]
            };
            if w > 1e-3 * jac[k] {
                self.e_scale = self.e_scale.max(es[k].abs());
            }
            out[k * nc] = if w.is_finite() { w } else { f64::MAX };
            if let Some(f) = self.obs {
                if w > 0.0 {
                    f(&self.p.full_point(&zs[k * d..(k + 1) * d]), &mut g);
                    for c in 0..self.n_obs {
                        out[k * nc + 1 + c] = w * g[c];
                    }
                } else {
                    for c in 0..self.n_obs {
                        out[k * nc + 1 + c] = 0.0;
                    }
                }
            }
        }
        Ok(())
    }
    fn evals(&self) -> u64 {
        self.p.count()
    }
    fn take_rescale(&mut self) -> f64 {
        std::mem::replace(&mut self.rescale, 1.0)
    }
}

/// `log Z` (and observables) of a problem with 2–4 continuous variables; the result lists
/// the local minima the search located (for the mass audit).
pub(crate) fn integrate_problem(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
) -> Result<PartResult, QuadError> {
    let (mut mins, components) = minimize_nd_for_weight(p, spec.opts, spec.beta)?;
    let boxes = super::audit::complete_minima_2d(p, spec, &mut mins)?;
    // A component's minimum the energy's own search slid away from is a needle's shoulder on
    // a broad mode's flank (no minimum of the energy): a seed of the nested rule's ridges.
    let ls = spec.opts.length_scale.unwrap_or(1.0);
    let shoulders: Vec<Vec<f64>> = components
        .into_iter()
        .filter(|c| {
            !mins.iter().any(|(_, x)| {
                x.iter()
                    .zip(c)
                    .all(|(a, b)| (a - b).abs() <= 1e-3 * (ls + b.abs()))
            })
        })
        .collect();
    let seeds = Seeds { boxes, shoulders };
    let mut r = integrate_from_minima(p, spec, &mins, &seeds)?;
    r.minima = mins.iter().flat_map(|(_, x)| x.iter().copied()).collect();
    Ok(r)
}

/// Points the nested rule's slices take ridges from ([`nested::Ridge::seed`]): features of
/// the slices only, never hints.
pub(super) struct Seeds {
    /// Critical boxes of the 2D completion that a located minimum explains
    /// ([`super::audit::complete_minima_2d`]).
    pub(super) boxes: Vec<Vec<f64>>,
    /// Minima of a mixture's components that are no minimum of the energy (needles' shoulders
    /// on broad flanks), features of the outer line as well.
    pub(super) shoulders: Vec<Vec<f64>>,
}

/// [`integrate_problem`] once the minima are located (`mins`, lowest first).
fn integrate_from_minima(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    mins: &[(f64, Vec<f64>)],
    seeds: &Seeds,
) -> Result<PartResult, QuadError> {
    let (beta, n_obs, tol, budget, opts) =
        (spec.beta, spec.n_obs, spec.tol, spec.budget, spec.opts);
    let d = p.dim();
    let ls = opts.length_scale.unwrap_or(1.0);
    let Some((e0, x0)) = mins.first().cloned() else {
        return Ok(PartResult {
            minima: Vec::new(),
            log_z: f64::NEG_INFINITY,
            abs_error: f64::INFINITY,
            min_energy: f64::INFINITY,
            argmin: p.full_point(&vec![f64::NAN; d]),
            converged: false,
            reason: Some("no point of finite energy was found".into()),
            rounding_floor: 0.0,
            laplace: None,
            obs: vec![f64::NAN; n_obs],
            obs_err: vec![f64::INFINITY; n_obs],
            obs_abs: vec![f64::NAN; n_obs],
        });
    };
    probe_rays(p, beta, &x0, e0, ls)?;
    let n_sig = mins
        .iter()
        .filter(|(e, _)| beta * (e - e0) <= SIGNIFICANT)
        .count();
    let all_infinite = p
        .bounds
        .iter()
        .all(|b| b.0.is_infinite() && b.1.is_infinite());
    let h = hessian(p, &x0, ls)?;
    let chol = nalgebra::Cholesky::new(h.clone());
    let well_conditioned = chol.as_ref().is_some_and(|c| well_conditioned(&c.l()));
    let widths = axis_widths(p, beta, &x0, e0, ls)?;
    if all_infinite {
        // Curved valleys, which no ray follows, from the weight's scale outward.
        let scale = widths.iter().fold(ls, |a, (lo, hi)| a.max(*lo).max(*hi));
        super::valley::follow(p, beta, &x0, e0, scale)?;
    }
    if d >= 3 && n_sig > 1 {
        let sig: Vec<(f64, Vec<f64>)> = mins
            .iter()
            .filter(|(e, _)| beta * (e - e0) <= SIGNIFICANT)
            .cloned()
            .collect();
        if let Some(r) = modes::integrate_modes(p, spec, &sig, ls, all_infinite)? {
            return Ok(r);
        }
    }
    let extents: Vec<(f64, f64)> = p
        .bounds
        .iter()
        .zip(&x0)
        .map(|(b, x)| (x - b.0, b.1 - x))
        .collect();
    let quadratic = quadratic_at_weight_scale(&h, beta, &widths, &extents);
    let well_conditioned = well_conditioned && quadratic;
    // The whitened rule's error estimate is trusted alone only on a minimum that is Gaussian
    // at the weight's scale (within the domain: a Gaussian cut by finite bounds passes);
    // otherwise 2D goes to the nested rule and 3–4D are cross-checked. In 3–4D the check
    // decides only whether one estimate is trusted, which expectations always are (below):
    // not spent there.
    // Whitening z = x0 + M t with M Mᵀ = (βH)⁻¹, or per-axis scales when H is unusable.
    let chol_frame = match (&chol, well_conditioned) {
        (Some(c), true) => hessian_whitening(&c.l(), beta, e0),
        _ => None,
    };
    // `Σ = H⁻¹`, for the marginal widths of the frames on a finite domain below.
    let sigma = chol.as_ref().map(|c| c.inverse());
    // A finite domain whose bounds all lie beyond ten marginal widths of a minimum that is
    // Gaussian at the weight's scale (`½β(b − x0_i)²/Σ_ii ≥ SIGNIFICANT`, `Σ = H⁻¹`: the
    // Gaussian's mass beyond any face is below e^-50) is integrated as the whole space is,
    // in the Hessian's frame, the weight times the domain's indicator
    // (`Problem::eval_batch_within`). Per-axis scales cannot follow a correlated minimum:
    // a Gaussian of condition 350 in `[-20, 30]³` was 1.6 off with ±1e-7 claimed.
    let far_box = d >= 3
        && !all_infinite
        && n_sig == 1
        && match (&sigma, &chol_frame) {
            (Some(sigma), Some((fm, _, _))) => {
                let far = p.bounds.iter().enumerate().all(|(i, b)| {
                    [b.0, b.1].iter().all(|&v| {
                        v.is_infinite()
                            || 0.5 * beta * (v - x0[i]).powi(2) / sigma[(i, i)] >= SIGNIFICANT
                    })
                });
                far && gaussian_at_weight_scale(p, beta, &x0, e0, fm)?
            }
            _ => false,
        };
    let frame_inf = all_infinite || far_box;
    // Bounds on one coordinate alone (a half-space or a slab, as the sampler references'
    // bins are): the whitening `M = Pᵀ L' P/√β`, `L'` the Cholesky factor of `Σ = H⁻¹` with
    // that coordinate first (`P` the permutation), whose row for that coordinate has its
    // diagonal entry only, so that its faces are faces of the whitened boxes and every other
    // axis stays infinite. Per-axis scales read a correlated Gaussian cut by a face at 1.5
    // marginal widths as non-Gaussian, and its one estimate (before the cross-check) was 4.9e-3
    // off with ±1e-5 claimed.
    let one_bounded: Vec<usize> = (0..d)
        .filter(|&i| p.bounds[i].0.is_finite() || p.bounds[i].1.is_finite())
        .collect();
    let aligned = match (&sigma, &chol_frame, one_bounded.as_slice()) {
        (Some(sigma), Some(_), &[k]) if !frame_inf => aligned_whitening(sigma, k, beta),
        _ => None,
    };
    let (m, log_det_m, laplace) = match (chol_frame, aligned) {
        (Some((m, log_det_m, laplace)), _) if frame_inf => (m, log_det_m, Some(laplace)),
        (Some((_, _, laplace)), Some((m, log_det_m))) => (m, log_det_m, Some(laplace)),
        _ => {
            // Per-axis scales from the measured widths (the Hessian's when the minimum is
            // quadratic): `σ = w/√2`, so that ±3 pieces span what they span for a Gaussian.
            let sig: Vec<f64> = (0..d)
                .map(|i| {
                    let (down, up) = widths[i];
                    let w = down.max(up);
                    let hii = h[(i, i)];
                    if !quadratic && w.is_finite() && w > 0.0 {
                        w / std::f64::consts::SQRT_2
                    } else if let Some(s) = sigma.as_ref().map(|s| s[(i, i)])
                        && !all_infinite
                        && s > 0.0
                        && s.is_finite()
                    {
                        // On a finite domain, the marginal width `√(Σ_ii/β)`, `Σ = H⁻¹`: a
                        // correlated minimum spreads along its ridge far beyond the
                        // conditional `1/√(βH_ii)`, and the faces cut its marginals. (Over
                        // the whole space the conditional widths stay, as before: the change
                        // was measured on finite domains only.)
                        (s / beta).sqrt()
                    } else if hii > 0.0 && hii.is_finite() {
                        1.0 / (beta * hii).sqrt()
                    } else {
                        ls
                    }
                })
                .collect();
            let log_det: f64 = sig.iter().map(|s| s.ln()).sum();
            (
                DMatrix::from_diagonal(&nalgebra::DVector::from_vec(sig)),
                log_det,
                None,
            )
        }
    };
    let gaussian = if far_box {
        true
    } else if well_conditioned && (d == 2 || n_obs == 0) {
        gaussian_at_weight_scale(p, beta, &x0, e0, &m)?
    } else {
        false
    };
    if d == 2 && !(well_conditioned && gaussian && n_sig == 1 && all_infinite) {
        // A ring of minima: the nested rule about its centre first (`polar`).
        if all_infinite
            && n_obs == 0
            && let Some(c) = polar::ring_centre(p, beta, mins, ls)
        {
            let before = p.count();
            if let Some(r) = polar::polar_nested(p, spec, mins, seeds, c) {
                return Ok(r);
            }
            let rest = PartSpec {
                budget: budget.saturating_sub(p.count() - before),
                ..*spec
            };
            return nested(p, &rest, mins, seeds);
        }
        return nested(p, spec, mins, seeds);
    }
    // On a Gaussian minimum over the whole space, product Gauss–Hermite rules in the whitened
    // frame converge far faster than the cubature (`hermite`); when they do not converge
    // within their budget, the cubature below takes over.
    if well_conditioned && gaussian && frame_inf && n_sig == 1 && n_obs == 0 {
        let frame = super::hermite::Frame {
            x0: &x0,
            e0,
            m: &m,
            log_det_m,
        };
        if let Some(mut r) = super::hermite::log_partition(p, spec, &frame)? {
            r.laplace = laplace;
            return Ok(r);
        }
    }
    // In 3–4D one embedded-rule estimate is trusted alone only on a minimum that is Gaussian
    // at the weight's scale (within the domain). Otherwise (a funnel's neck between the rule's
    // nodes read 3.5e-6 of Z as nothing; Genz's corner peak on the unit cube, whose minimum
    // is a corner, was 7.0e-6 off with 3.4e-6 claimed) the integral is taken twice, at half
    // the tolerance, the second time on a partition with no cut in common (`CROSS_CUTS`, a
    // finite axis without a cut divided at a third); the result is the midpoint, its error
    // covering both claimed intervals. Expectations (observables) keep one estimate: the
    // sampler references' moments do not afford two within their budgets.
    let trusted = (well_conditioned && gaussian) || n_sig > 1 || n_obs > 0;
    // Where the second estimate is conditional (a finite bound), the first is taken at the
    // full tolerance and retaken at half only when the cross-check is due (few boxes: cheap).
    let full_first = trusted || !frame_inf;
    let tol_run = if full_first { tol } else { 0.5 * tol };
    let whitening = Whitening {
        x0: &x0,
        e0,
        m: &m,
        log_det_m,
        all_infinite: frame_inf,
        laplace,
        n_sig,
        part: None,
    };
    let half_tol = PartSpec {
        tol: 0.5 * tol,
        ..*spec
    };
    let (r1, boxes) = whitened_run(
        p,
        &PartSpec {
            tol: tol_run,
            ..*spec
        },
        &whitening,
        false,
    )?;
    // On a finite domain the second estimate is taken only while the first rests on few
    // boxes (fewer than `PREASYMPTOTIC_BOXES`·2^d), where the embedded rule is least
    // reliable: Genz's corner peak in 4D stopped on 2 boxes claiming 3.4e-6 with 7.0e-6 true.
    // Beyond, one estimate: a product peak on 9 412 boxes would cost 2.6×, and the sampler
    // references' 4D half-space slabs, whose minimum lies on the face, did not converge on
    // the second partition within their budget (1.7e-2 after 1.1 million evaluations).
    let few_boxes = frame_inf || boxes < PREASYMPTOTIC_BOXES << d;
    if trusted || !few_boxes || !r1.converged || !r1.log_z.is_finite() {
        return Ok(r1);
    }
    // The retake at half the tolerance is needed only when the first estimate's own error is
    // above it: one already within half the tolerance is what the retake would demand.
    let r1 = if full_first && r1.abs_error > 0.5 * tol {
        let (r, _) = whitened_run(p, &half_tol, &whitening, false)?;
        r
    } else {
        r1
    };
    let budget2 = budget.saturating_sub(p.count());
    let (r2, _) = whitened_run(
        p,
        &PartSpec {
            budget: budget2,
            ..half_tol
        },
        &whitening,
        true,
    )?;
    Ok(cross_checked(r1, r2, tol))
}

/// The share of the tolerance [`whitened_run`] leaves to the rounding floor.
const TOL_MARGIN: f64 = 1e-3;

/// Two estimates of one integral on different partitions, combined: the midpoint, with an
/// error `|L1 − L2|/2 + max(e1, e2)`, so that the result's interval contains both claimed
/// intervals. Converged only when both were, they agree within their errors
/// (`|L1 − L2| ≤ e1 + e2`: the claimed intervals overlap) and that error is within `tol`.
fn cross_checked(r1: PartResult, r2: PartResult, tol: f64) -> PartResult {
    let mut r = r1;
    if !r2.log_z.is_finite() {
        r.converged = false;
        r.reason = Some(format!(
            "the cross-check on a second partition did not give a finite estimate ({})",
            r2.reason.as_deref().unwrap_or("no reason")
        ));
        return r;
    }
    let (l1, e1) = (r.log_z, r.abs_error);
    let spread = (l1 - r2.log_z).abs();
    let floor = r.rounding_floor.max(r2.rounding_floor);
    let rule = (e1 - r.rounding_floor).max(r2.abs_error - r2.rounding_floor);
    r.log_z = 0.5 * (l1 + r2.log_z);
    r.abs_error = 0.5 * spread + rule + floor;
    r.rounding_floor = floor;
    for k in 0..r.obs.len() {
        let dv = (r.obs[k] - r2.obs[k]).abs();
        r.obs[k] = 0.5 * (r.obs[k] + r2.obs[k]);
        r.obs_err[k] = 0.5 * dv + r.obs_err[k].max(r2.obs_err[k]);
        r.obs_abs[k] = r.obs_abs[k].max(r2.obs_abs[k]);
    }
    if !r2.converged {
        r.converged = false;
        r.reason = Some(format!(
            "the cross-check on a second partition did not converge: {}",
            r2.reason.as_deref().unwrap_or("no reason")
        ));
    } else if spread > e1 + r2.abs_error {
        r.converged = false;
        r.reason = Some(format!(
            "two partitions disagree: log Z {l1:.10} ± {e1:.2e} and {:.10} ± {:.2e} \
             (the embedded rule's error is not a bound on this non-Gaussian minimum)",
            r2.log_z, r2.abs_error
        ));
    } else if r.abs_error - floor > tol {
        r.converged = false;
        r.reason = Some(format!(
            "two partitions agree only to {:.2e} in log Z (tolerance {tol:.1e})",
            r.abs_error
        ));
    }
    r
}

/// The whitening of one minimum for [`whitened_run`]: `z = x0 + M t`.
#[derive(Clone, Copy)]
struct Whitening<'a> {
    /// The minimiser.
    x0: &'a [f64],
    /// The energy there.
    e0: f64,
    /// `M`, with `M Mᵀ = (βH)⁻¹`, or per-axis scales.
    m: &'a DMatrix<f64>,
    /// `log |det M|`.
    log_det_m: f64,
    /// Whether every axis is infinite both ways.
    all_infinite: bool,
    /// The Laplace approximation of `log Z`, when `M` is the Hessian's.
    laplace: Option<f64>,
    /// Number of significant minima (more than one is not converged, unless integrated as
    /// shares of a partition of unity).
    n_sig: usize,
    /// The partition of unity and the share integrated ([`modes`]).
    part: Option<(&'a Partition, usize)>,
}

/// The whitened Genz–Malik rule on `z = x0 + M t`, each axis cut at `t = 0, ±3` with mapped
/// tails, or with `cross` on the cross-check's partition (`CROSS_CUTS`; on a domain with a
/// finite bound also `t = 0`, where a kink or a face of the minimum lies: with the cut there
/// a Laplace-like `exp(-Σ a|z − u|)` stays cheap and exact, without it the second estimate
/// was itself 1.8e-5 off on its boxes with 5e-8 claimed). Also returns the number of boxes.
fn whitened_run(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    w: &Whitening<'_>,
    cross: bool,
) -> Result<(PartResult, usize), QuadError> {
    let (beta, n_obs, tol, budget) = (spec.beta, spec.n_obs, spec.tol, spec.budget);
    let Whitening {
        x0,
        e0,
        m,
        log_det_m,
        all_infinite,
        laplace,
        n_sig,
        part,
    } = *w;
    let d = x0.len();
    let per_axis: Vec<Vec<(f64, f64, AxisMap)>> = (0..d)
        .map(|i| {
            let (lo, hi) = p.bounds[i];
            let (cuts, third): (&[f64], bool) = match (cross, all_infinite) {
                (true, true) => (&CROSS_CUTS, true),
                (true, false) => (&FINITE_CROSS_CUTS, true),
                _ => (&CUTS, false),
            };
            if all_infinite {
                axis_pieces(f64::NEG_INFINITY, f64::INFINITY, cuts, third)
            } else {
                let s = m[(i, i)];
                axis_pieces((lo - x0[i]) / s, (hi - x0[i]) / s, cuts, third)
            }
        })
        .collect();
    let mut regions = vec![Region {
        centre: Vec::new(),
        half: Vec::new(),
        maps: Vec::new(),
    }];
    for pieces in &per_axis {
        let mut next = Vec::new();
        for r in &regions {
            for &(a, b, map) in pieces {
                let mut q = r.clone();
                q.centre.push(0.5 * (a + b));
                q.half.push(0.5 * (b - a));
                q.maps.push(map);
                next.push(q);
            }
        }
        regions = next;
    }
    let mut field = NdField {
        p,
        x0: x0.to_vec(),
        m: m.clone(),
        beta,
        e_star: e0,
        argmin: x0.to_vec(),
        obs: spec.obs,
        n_obs,
        rescale: 1.0,
        e_scale: e0.abs(),
        part,
    };
    let start = p.count();
    // The rounding floor is added to the rule's error: `TOL_MARGIN` of the tolerance is left
    // for it.
    let rel_target = super::rel_error_for(tol * (1.0 - TOL_MARGIN));
    let tol_fn = |_: f64| rel_target;
    let r = cubature::integrate(&mut field, regions, &tol_fn, budget.saturating_sub(start))?;
    let i_tot = r.est[0];
    let log_z = -beta * field.e_star + i_tot.ln() + log_det_m;
    let rel = r.err[0] / i_tot;
    let rule_error = if rel < 0.5 {
        -(1.0 - rel).ln()
    } else {
        f64::INFINITY
    };
    let floor = 4.0 * f64::EPSILON * beta * field.e_scale.max(field.e_star.abs())
        + 2.0 * f64::EPSILON * log_z.abs();
    let mut values = vec![0.0; n_obs];
    let mut errors = vec![0.0; n_obs];
    let mut abs_means = vec![0.0; n_obs];
    for k in 0..n_obs {
        values[k] = r.est[1 + k] / i_tot;
        abs_means[k] = r.abs[1 + k] / i_tot;
        errors[k] = r.err[1 + k] / i_tot + values[k].abs() * rel;
    }
    let mut converged = r.converged;
    let mut reason = r.reason;
    if n_sig > 1 && converged {
        // Modes far from the lowest one may be missed by the subdivision without a warning
        // from the rule: refuse to call that converged.
        converged = false;
        reason = Some(format!(
            "{n_sig} separate minima in {d}D: integrated around the lowest by adaptive subdivision, \
             other modes may be under-resolved"
        ));
    }
    if !(i_tot > 0.0 && i_tot.is_finite()) {
        converged = false;
        reason = Some("the integral of exp(-β(E - E*)) is not positive and finite".into());
    }
    Ok((
        PartResult {
            minima: Vec::new(),
            log_z,
            abs_error: rule_error + floor,
            min_energy: field.e_star,
            argmin: p.full_point(&field.argmin),
            converged,
            reason,
            rounding_floor: floor,
            laplace,
            obs: values,
            obs_err: errors,
            obs_abs: abs_means,
        },
        r.regions,
    ))
}

/// Direction number `code` (base 3, digit `i` for axis `i`: 0, +1, −1) among the `3^d`
/// directions with components in {−1, 0, 1} (`code = 0` is the zero vector).
pub(crate) fn ternary_direction(code: usize, d: usize) -> Vec<f64> {
    (0..d)
        .map(|i| match code / 3usize.pow(i as u32) % 3 {
            0 => 0.0,
            1 => 1.0,
            _ => -1.0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::{Domain, FnEnergy, problems};

    /// Slices warm-started from a neighbour agree with cold ones within their error estimates,
    /// also across the ring's |z1| = 1, where the two minima of a slice merge into one (the
    /// warm start no longer fits and the full search takes over).
    #[test]
    fn warm_started_slices_match_cold_ones() {
        type Slice2 = FnEnergy<fn(&[f64]) -> f64>;
        let cases: Vec<(&str, Slice2)> = vec![
            (
                "ring",
                FnEnergy::new(2, |z: &[f64]| (z[0] * z[0] + z[1] * z[1] - 1.0).powi(2)),
            ),
            (
                "tilted wells",
                FnEnergy::new(2, |z: &[f64]| {
                    (z[1] * z[1] - 1.0).powi(2) + 0.3 * z[0] * z[1] + 0.5 * z[0] * z[0]
                }),
            ),
            (
                "kink",
                FnEnergy::new(2, |z: &[f64]| (z[1] - 0.4 * z[0]).abs() + 0.5 * z[0] * z[0]),
            ),
        ];
        let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY); 2]).expect("domain");
        for (name, e) in &cases {
            let probs = problems(e, &dom);
            for beta in [1.0, 100.0, 1e4] {
                let mut nl = NestedLine {
                    p: &probs[0],
                    beta,
                    tol_inner: 5e-9,
                    obs: None,
                    n_user: 0,
                    ls: 1.0,
                    ridges: Vec::new(),
                    seeds: Vec::new(),
                    best: (f64::INFINITY, f64::NAN, f64::NAN),
                    inner_failure: None,
                    shapes: Vec::new(),
                    warm_enabled: false,
                };
                let zs: Vec<f64> = (0..30).map(|i| -1.4 + 0.0973 * f64::from(i)).collect();
                let cold: Vec<line::LineResult> = zs
                    .iter()
                    .map(|&z| nl.slice(z, false).expect("cold slice"))
                    .collect();
                nl.shapes.clear();
                nl.warm_enabled = true;
                let before = nl.p.count();
                for (k, &z) in zs.iter().enumerate() {
                    let w = nl.slice(z, false).expect("warm slice");
                    let c = &cold[k];
                    let d = (w.log_z - c.log_z).abs();
                    let bound = w.rule_error + w.rounding_floor + c.rule_error + c.rounding_floor;
                    assert!(
                        d <= bound,
                        "{name} β={beta} z1={z}: warm {} vs cold {} differ by {d:e} > {bound:e}",
                        w.log_z,
                        c.log_z
                    );
                    assert!(w.converged, "{name} β={beta} z1={z}: {:?}", w.reason);
                }
                // Warm slices are cheaper than cold ones on the whole.
                let cold_evals = before;
                let warm_evals = nl.p.count() - before;
                assert!(
                    warm_evals < cold_evals,
                    "{name} β={beta}: warm {warm_evals} evaluations, cold {cold_evals}"
                );
            }
        }
    }
}
