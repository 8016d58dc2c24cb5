//! The mass audit every 1D and 2D result passes: certified bounds of `log Z` from interval
//! enclosures that can withdraw a claim of convergence (mass missed, or unexplored), or find
//! the missed mass from the boxes that hold it.

use super::*;
use nalgebra::{DMatrix, DVector};

/// How far the audit's certified upper bound of `log Z` may lie above a converged estimate:
/// beyond, more than a tenth of Z is unexplored and the result is not converged. On the
/// battery's 1–2D cases the bounds that stop short of their target leave at most 0.04.
const UNEXPLORED_ROOM: f64 = 0.1;

/// Hints at most that the 1D audit searches again from (the sinks of its cover).
const MAX_SINK_HINTS: usize = 64;

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
pub(super) fn audit(
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
    let r = if certify.is_none() && d == 1 {
        let (r, done) = audit_modes_1d(p, spec, r, target)?;
        if done {
            return Ok(r);
        }
        r
    } else {
        r
    };
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
        r = search_again(p, spec, &enc.heavy, &r.minima)?;
    } else if certify.is_none() && d >= 2 {
        r = descend_from_boxes(p, spec, r, &enc)?;
    }
    // Room above the estimate: the certified upper bound leaves more than a tenth of Z
    // unexplored (a ring off the origin whose slices missed an arc: estimate -1.149, bounds
    // [-1.296, 0.033], truth -0.585; a 2D mixture whose far mode was never found). An upper
    // bound of +inf (a curved valley's tail the enclosures cannot bound) states nothing.
    let unexplored = |r: &PartResult| {
        certify.is_none() && r.converged && enc.hi.is_finite() && enc.hi - r.log_z > UNEXPLORED_ROOM
    };
    if unexplored(&r) && !enc.heavy.is_empty() {
        let again = search_again(p, spec, &enc.heavy, &r.minima)?;
        if again.converged && !outside(&again) && !unexplored(&again) {
            r = again;
        }
    }
    if unexplored(&r) {
        r.converged = false;
        r.reason = Some(format!(
            "interval enclosures of the energy bound log Z only to [{:.6}, {:.6}]: up to {:.0}% of Z \
             may lie where the integrator found no mass",
            enc.lo,
            enc.hi,
            100.0 * (1.0 - (r.log_z - enc.hi).exp())
        ));
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

/// The 1D audit by the cover of the gradient's sign (`bounds::unlocated_modes_1d`). The modes
/// the integrator did not locate can hold more than the claimed error (a narrow mode 7 above
/// the main one at z = 10 holds 9e-6 of Z, against a claim of 4e-13). Each sink of the cover
/// whose bound exceeds the claimed error is covered again over its reach at a finer `τ`
/// (`bounds::sinks_within_1d`), which tightens its bound (a loose enclosure near a singular
/// end) and narrows down where a mode can lie; the line is searched again from there. When
/// the modes still not located hold at most `u·Ẑ` with `u ≤ τ/4`, their mass is added to the
/// error (`log Z` lies in `[log Ẑ, log Ẑ + ln(1 + u)]`), and a result whose error then exceeds
/// the tolerance is not converged. The flag says whether the cover decided (`false`: the
/// boxes audit).
fn audit_modes_1d(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    r: PartResult,
    tau: f64,
) -> Result<(PartResult, bool), QuadError> {
    let Some((mut u, hints)) = unlocated_mass_1d(p, spec.beta, &r, tau) else {
        return Ok((r, false));
    };
    if u <= r.abs_error {
        return Ok((r, true));
    }
    let mut r = r;
    if !hints.is_empty() {
        let again = search_again(p, spec, &hints, &r.minima)?;
        if again.converged {
            if let Some((u2, _)) = unlocated_mass_1d(p, spec.beta, &again, tau) {
                if u2 <= u || again.log_z > r.log_z + r.abs_error {
                    (r, u) = (again, u2);
                }
            }
        }
    }
    if u <= r.abs_error {
        return Ok((r, true));
    }
    if u > (0.25 * tau).ln_1p() {
        return Ok((r, false));
    }
    r.abs_error += u;
    let tol = spec.tol.max(line::rel_tol_1d(spec.opts) * r.log_z.abs());
    if r.abs_error > tol && r.converged {
        r.converged = false;
        r.reason = Some(format!(
            "modes the search did not locate may hold up to {:.1e} of Z (certified from \
             interval enclosures of the gradient's sign): the error {:.2e} exceeds the \
             tolerance {tol:.1e}",
            u.exp_m1(),
            r.abs_error
        ));
    }
    Ok((r, true))
}

/// `ln(1 + u)` where `u·Ẑ` bounds the mass of the modes `r` did not locate (the sinks of
/// the gradient-sign cover at `τ`, those above the claimed error bounded again by a finer
/// cover of their reach), and the points to search from (at most [`MAX_SINK_HINTS`]). `None`
/// when the cover is not certified or a bound is NaN.
fn unlocated_mass_1d(
    p: &Problem<'_>,
    beta: f64,
    r: &PartResult,
    tau: f64,
) -> Option<(f64, Vec<Vec<f64>>)> {
    // The cover at the claimed accuracy when it can be had (its pieces without a sign hold at
    // most that much, so a mode that small cannot hide in a run around a located minimum: a
    // narrow dip 0.6 from a broad located minimum held 2.5e-9 of Z, claimed ±6e-11), else at `τ`.
    let cover = |t: f64| bounds::unlocated_modes_1d(p, &r.minima, beta, r.min_energy, r.log_z, t);
    let sinks = cover((4.0 * r.abs_error).clamp(1e-13, tau)).or_else(|| cover(tau))?;
    let lse = |v: &[f64]| bounds::logsumexp(v.iter().copied());
    let claimed = r.abs_error.max(1e-300).ln();
    // NaN counts as big (it bounds nothing).
    let above = |m: f64, limit: f64| m.is_nan() || m > limit;
    let big = sinks.iter().filter(|s| above(s.log_mass, claimed)).count();
    // The finer τ: the refined bounds of all big sinks together stay near the claimed error.
    let fine = (r.abs_error / (2.0 * big.max(1) as f64)).max(1e-13);
    let mut bounds_log: Vec<f64> = Vec::with_capacity(sinks.len());
    let mut hints: Vec<Vec<f64>> = Vec::new();
    for s in &sinks {
        if s.log_mass.is_nan() {
            return None;
        }
        if s.log_mass <= claimed {
            bounds_log.push(s.log_mass);
            continue;
        }
        let inner = bounds::sinks_within_1d(p, s, beta, r.min_energy, r.log_z, fine);
        match inner {
            Some(v) => {
                let mut inner: Vec<f64> = v.iter().map(|t| t.log_mass).collect();
                inner.push((0.5 * fine).ln());
                let refined = lse(&inner);
                bounds_log.push(refined.min(s.log_mass));
                for t in v.iter().filter(|t| above(t.log_mass, (0.5 * fine).ln())) {
                    if t.lo.is_finite() && t.hi.is_finite() && hints.len() < MAX_SINK_HINTS {
                        hints.push(vec![0.5 * t.lo + 0.5 * t.hi]);
                    }
                }
            }
            None => {
                bounds_log.push(s.log_mass);
                if s.lo.is_finite() && s.hi.is_finite() && hints.len() < MAX_SINK_HINTS {
                    hints.push(vec![0.5 * s.lo + 0.5 * s.hi]);
                }
            }
        }
    }
    let u = lse(&bounds_log).exp().ln_1p();
    (!u.is_nan()).then_some((u, hints))
}

/// Modes the 2–4D search did not locate, found by descending from the centres of the boxes
/// that may hold a minimum (`critical`: the gradient's enclosure contains 0, and the box
/// possibly e^-30 of Z or more), and the part integrated again with them as hints when there
/// are any. Bounds of `log Z` as wide as the audit affords (±0.02) cannot see a mode holding
/// 1.5 % of Z, 15 widths from the main one (a narrow correlated Gaussian the multistart search
/// missed: log Z claimed ±1e-8, 0.0146 low), but its boxes are among the critical ones. The second result is
/// kept when it finds more mass than the first's error allows; when it does not converge, the
/// first is not converged either: mass lies where it found none.
fn descend_from_boxes(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    r: PartResult,
    enc: &bounds::Enclosure,
) -> Result<PartResult, QuadError> {
    let d = p.dim();
    let ls = spec.opts.length_scale.unwrap_or(1.0);
    // Nelder–Mead's first step is `step·min(1 + |x|, 10)` per coordinate: a quarter of the
    // box's narrowest side, so a narrow mode's box is not stepped out of.
    let step_in = |c: &[f64], w: &[f64]| {
        let narrow = w.iter().copied().fold(f64::INFINITY, f64::min);
        let far = c
            .iter()
            .fold(1.0f64, |a, x| a.max((1.0 + x.abs()).min(10.0)));
        (0.25 * narrow / far).min(0.1 * ls)
    };
    // A minimum whose mass the estimate already holds needs no second run: had the estimate
    // missed half its Laplace mass `m`, log Z would exceed the certified upper bound
    // (`log(Ẑ + m/2) > hi`). Only modes small enough to hide within the bounds are pursued
    // (a fourth well holding a quarter of Z, found by the nested rule's slices though the
    // multistart search missed it, cost a second integral before).
    let could_hide = |f: f64, h: Option<&DMatrix<f64>>| -> bool {
        let Some(chol) = h.and_then(|h| nalgebra::Cholesky::new(h.clone())) else {
            return true;
        };
        let l = chol.l();
        let log_det: f64 = (0..d).map(|i| 2.0 * l[(i, i)].ln()).sum();
        #[allow(clippy::cast_precision_loss)]
        let log_m = -spec.beta * f + 0.5 * d as f64 * (2.0 * std::f64::consts::PI / spec.beta).ln()
            - 0.5 * log_det;
        let missed = (log_m - r.log_z).exp();
        !(missed.is_finite() && r.log_z + (0.5 * missed).ln_1p() > enc.hi)
    };
    // Minima located or reached, with their Hessians (`None` where not positive definite).
    let mut reached: Vec<(Vec<f64>, Option<DMatrix<f64>>)> = Vec::new();
    for m in r.minima.chunks_exact(d) {
        let h = super::nd::hessian(p, m, ls)?;
        reached.push((m.to_vec(), nalgebra::Cholesky::new(h.clone()).map(|_| h)));
    }
    // A start within four standard deviations of the weight around a minimum reached (or
    // within two of its box's widths, where the Hessian is not definite) descends to it: the
    // boxes along one narrow elongated mode, or beside the main one.
    let explained = |c: &[f64], w: &[f64], (x, h): &(Vec<f64>, Option<DMatrix<f64>>)| match h {
        Some(h) => {
            let v = DVector::from_iterator(d, c.iter().zip(x).map(|(a, b)| a - b));
            0.5 * spec.beta * (v.transpose() * h * &v)[(0, 0)] <= 8.0
        }
        None => (0..d).all(|k| (x[k] - c[k]).abs() <= 2.0 * w[k]),
    };
    let mut found: Vec<Vec<f64>> = Vec::new();
    let mut lowest = f64::INFINITY;
    for (c, w) in &enc.critical {
        let step = step_in(c, w);
        let usable = step > 0.0 && c.iter().all(|x| x.is_finite());
        if !usable || reached.iter().any(|m| explained(c, w, m)) {
            continue;
        }
        let (x, _) = super::minimize::nelder_mead(p, c, step, 400 * d)?;
        let (x, f) = super::minimize::nelder_mead(p, &x, 1e-2 * step, 400 * d)?;
        let significant = spec.beta * (f - r.min_energy) <= SIGNIFICANT;
        let new = !reached.iter().any(|(y, _)| same_minimum(y, &x, ls));
        if !new {
            continue;
        }
        let h = super::nd::hessian(p, &x, ls)?;
        let h = nalgebra::Cholesky::new(h.clone()).map(|_| h);
        if significant && could_hide(f, h.as_ref()) {
            found.push(x.clone());
            lowest = lowest.min(f);
        }
        reached.push((x, h));
    }
    if found.is_empty() {
        return Ok(r);
    }
    let again = search_again(p, spec, &found, &r.minima)?;
    let mut r = r;
    if again.converged && again.log_z > r.log_z + r.abs_error {
        return Ok(again);
    }
    if !again.converged && r.converged && again.log_z > r.log_z + r.abs_error {
        r.converged = false;
        r.reason = Some(format!(
            "descending from the boxes of certified mass found {} minima the search had not \
             located (the lowest of energy {lowest:.6}); integrated with them, log Z is {:.10}, \
             above the estimate, and not converged: {}",
            found.len(),
            again.log_z,
            again.reason.as_deref().unwrap_or("no reason given")
        ));
    }
    Ok(r)
}

/// Whether two points found by descent are the same minimum (within 1e-3 of the length scale
/// plus the coordinate, coarser than Nelder–Mead's convergence).
fn same_minimum(a: &[f64], b: &[f64], ls: f64) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= 1e-3 * (ls + x.abs()))
}

/// The part integrated again with the centres of the boxes holding certified mass (`heavy`)
/// as extra hints, within what is left of the evaluation budget.
fn search_again(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    heavy: &[Vec<f64>],
    located: &[f64],
) -> Result<PartResult, QuadError> {
    let mut o = spec.opts.clone();
    for h in heavy {
        o.hints.push(p.full_point(h));
    }
    // The minima already located stay hints: a search from new places must not lose them
    // (the boxes' search found a mode at 29.5 and lost the one at 17.4 the sinks had found).
    for m in located.chunks_exact(p.dim()) {
        o.hints.push(p.full_point(m));
    }
    let again = PartSpec {
        budget: spec.opts.max_evals.saturating_sub(p.count()).max(1),
        opts: &o,
        ..*spec
    };
    match p.dim() {
        1 => line::integrate_problem(p, &again),
        _ => nd::integrate_problem(p, &again),
    }
}
