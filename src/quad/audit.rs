//! The mass audit every 1D and 2D result passes: certified bounds of `log Z` from interval
//! enclosures that can withdraw a claim of convergence (mass missed, or unexplored), or find
//! the missed mass from the boxes that hold it.

use super::*;
use nalgebra::{DMatrix, DVector};

/// How far the audit's certified upper bound of `log Z` may lie above a converged estimate:
/// beyond, more than a tenth of Z is unexplored and the result is not converged. On the
/// battery's 1–2D cases the bounds that stop short of their target leave at most 0.04.
const UNEXPLORED_ROOM: f64 = 0.1;

/// The audit's box budget grows fourfold while that can close the room above a converged
/// estimate ([`UNEXPLORED_ROOM`]), up to this many times its own. At 4 the 2D stress set's
/// results withdrawn for room went from 144 to 75 (all 69 accurate) for 17 % more time in all
/// (at most 3.4 s a case); at 16, to 46, but one mixture of four correlated needles took 13 s.
const REFINED_BOXES: usize = 4;

/// Descents from critical boxes in a row that reach a known minimum before the rest are taken
/// as explained ([`unlocated_minima`]).
const KNOWN_IN_A_ROW: usize = 6;

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
    // In 2D the bounds at the same target and budget were computed before integrating
    // (`complete_minima_2d`), about the minimum the search knew then.
    let reuse = if d == 2 && certify.is_none() {
        bounds::Reuse::AboutAnyMinimum
    } else {
        bounds::Reuse::Identical
    };
    let budget = (target, max_boxes);
    let Some(mut enc) =
        bounds::enclose_log_z_cached(p, beta, r.min_energy, &centre, &scale, budget, reuse)?
    else {
        out.push(None);
        return Ok(r);
    };
    // Bounds too loose to tell leave room above the estimate only because the boxes are too
    // coarse: they are taken again with four times the boxes, while that can close the room
    // (each fourfold budget narrowed it about fourfold on a ring at β = 1e4: 0.27, 0.063), up
    // to [`REFINED_BOXES`] times the budget. The 2D stress set's 122 results withdrawn for
    // room (ring, banana, mixture) were all accurate; the tighter bounds also judge a low
    // estimate better (below their lower bound, the heavy boxes are searched again).
    let mut boxes = max_boxes;
    while certify.is_none() && r.converged && boxes < REFINED_BOXES * max_boxes {
        let room = enc.hi - r.log_z;
        let reachable = UNEXPLORED_ROOM * (REFINED_BOXES * max_boxes / boxes) as f64;
        if !(room > UNEXPLORED_ROOM && room <= reachable) {
            break;
        }
        boxes *= 4;
        let finer = (target, boxes);
        match bounds::enclose_log_z_cached(p, beta, r.min_energy, &centre, &scale, finer, reuse)? {
            Some(e) => enc = e,
            None => break,
        }
    }
    let enc = enc;
    let outside = |r: &PartResult| {
        let slack = 1e-12 * (1.0 + r.log_z.abs());
        r.log_z + r.abs_error + slack < enc.lo || r.log_z - r.abs_error - slack > enc.hi
    };
    let mut r = r;
    if outside(&r) && r.log_z < enc.lo && !enc.heavy.is_empty() {
        // Mass was missed: search again from the boxes that certainly hold it.
        r = search_again(p, spec, &enc.heavy, &r.minima)?;
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

/// The 2D minima search completed by the audit's boxes (`AUDIT_2D`, the same bounds the audit
/// reuses): minima the multistart search did not locate, found by descending from the boxes
/// that may hold one ([`unlocated_minima`]), are added to `mins` before the part is
/// integrated, so that the nested rule's slices are searched there too. (A narrow correlated
/// mode 15 widths from the main one, holding 1.5 % of Z, was missed with ±1e-8 claimed; a mode
/// the slices found only in part left 0.8 % of Z out: both integrate exactly with the mode as a
/// hint.)
///
/// Returns the centres of the critical sub-boxes a located minimum explains (at most
/// [`MAX_SEEDS`], most mass first): where a narrow ridge without a minimum of its own may run
/// (a needle on a broad mode's flank), for the nested rule's slices (`nested::Ridge::seed`).
pub(super) fn complete_minima_2d(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    mins: &mut Vec<(f64, Vec<f64>)>,
) -> Result<Vec<Vec<f64>>, QuadError> {
    let Some((e0, x0)) = mins.first().cloned() else {
        return Ok(Vec::new());
    };
    // A log-concave weight (certified convex energy) has one mode, the one found.
    let usable = p.dim() == 2 && p.has_enclosure() && p.has_gradient_enclosure();
    if !usable || !e0.is_finite() || bounds::convex_2d(p) {
        return Ok(Vec::new());
    }
    let scale = vec![spec.opts.length_scale.unwrap_or(1.0); 2];
    let reuse = bounds::Reuse::AboutAnyMinimum;
    let Some(enc) = bounds::enclose_log_z_cached(p, spec.beta, e0, &x0, &scale, AUDIT_2D, reuse)?
    else {
        return Ok(Vec::new());
    };
    // Only an aid to the search: a descent that meets a point without a value (a NaN the
    // integrator's own rules never evaluate) adds nothing rather than failing the integral.
    let Ok((found, seeds)) = unlocated_minima(p, spec, &enc, mins) else {
        return Ok(Vec::new());
    };
    if !found.is_empty() {
        mins.extend(found);
        mins.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Ok(seeds)
}

/// Explained critical sub-boxes at most returned by [`complete_minima_2d`] as seeds.
const MAX_SEEDS: usize = 8;

/// Local minima not among `located` (`(energy, point)`, lowest first) and at most
/// [`SIGNIFICANT`]/β above the lowest, found by Nelder–Mead from the boxes of `enc` that may hold
/// one (`Enclosure::critical`: every component of the gradient's enclosure contains 0 over a
/// sub-box at most 1/64 of a partition box wide, the box possibly e^-30 of Z or more), as
/// `(energy, point)`, and the centres of the sub-boxes the located minima explain.
fn unlocated_minima(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    enc: &bounds::Enclosure,
    located: &[(f64, Vec<f64>)],
) -> Result<MinimaAndSeeds, QuadError> {
    let mut found: Vec<(f64, Vec<f64>)> = Vec::new();
    let Some(e_min) = located.first().map(|m| m.0) else {
        return Ok((found, Vec::new()));
    };
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
    // Minima located or reached: point, Hessian (`None` where not positive definite), energy.
    type Reached = (Vec<f64>, Option<DMatrix<f64>>, f64);
    let reach = |x: Vec<f64>, f: f64| -> Result<Reached, QuadError> {
        let h = super::nd::hessian(p, &x, ls)?;
        let h = nalgebra::Cholesky::new(h.clone()).map(|_| h);
        Ok((x, h, f))
    };
    let mut reached: Vec<Reached> = Vec::new();
    for (e, m) in located {
        reached.push(reach(m.clone(), *e)?);
    }
    // A start within four standard deviations of the weight around a minimum reached, where
    // that minimum's quadratic model still gives the energy within 0.5/β, descends to it: the
    // boxes along one narrow elongated mode. (A narrow dip inside a broad mode is within the
    // broad mode's deviations but not its model.) Where the Hessian is not definite, a start
    // within two of its box's widths.
    let explained = |c: &[f64], w: &[f64], ec: f64, (x, h, fx): &Reached| match h {
        Some(h) => {
            let v = DVector::from_iterator(d, c.iter().zip(x).map(|(a, b)| a - b));
            let q = 0.5 * (v.transpose() * h * &v)[(0, 0)];
            spec.beta * q <= 8.0 && (spec.beta * (ec - fx - q)).abs() <= 0.5
        }
        None => (0..d).all(|k| (x[k] - c[k]).abs() <= 2.0 * w[k]),
    };
    // A critical box the minima located explain is passed over and takes no place (the
    // boxes along a needle's ridge inside a broad mode, each explained by the broad mode,
    // took every place before a far mode's).
    let mut seeds: Vec<Vec<f64>> = Vec::new();
    let critical = enc.critical(p, &mut |c, w| {
        let known = p
            .eval(c)
            .is_ok_and(|ec| reached.iter().any(|m| explained(c, w, ec, m)));
        if known && seeds.len() < MAX_SEEDS {
            seeds.push(c.to_vec());
        }
        known
    });
    // Descents in a row that reached a known minimum; past [`KNOWN_IN_A_ROW`] the rest of
    // the boxes (less mass) are taken as explained too: along the floor of a curved valley the
    // gradient's enclosure contains 0 on every box, and each descent there costs about 400
    // evaluations to reach the one minimum (Rosenbrock's valley gave 14 such boxes).
    let mut known_in_a_row = 0;
    for (c, w) in &critical {
        if known_in_a_row >= KNOWN_IN_A_ROW {
            break;
        }
        let step = step_in(c, w);
        if !(step > 0.0 && c.iter().all(|x| x.is_finite())) {
            continue;
        }
        let ec = p.eval(c)?;
        if reached.iter().any(|m| explained(c, w, ec, m)) {
            continue;
        }
        let (x, _) = super::minimize::nelder_mead(p, c, step, 400 * d)?;
        let (x, f) = super::minimize::nelder_mead(p, &x, 1e-2 * step, 400 * d)?;
        let (x, f) = newton_polish(p, x, f, ls)?;
        if reached.iter().any(|(y, _, _)| same_minimum(y, &x, ls)) {
            known_in_a_row += 1;
            continue;
        }
        // A descent that stalls where no minimum is has found nothing new: on the floor of the
        // valley `(z2 − z1²)² + log(1 + z1²)` 2e4 to 1e5 out (curvature -3e-9 along the floor
        // against 5e9 across it), 30 such points taken as minima sent the outer rule there,
        // and the energy was refused as divergent.
        let m = reach(x, f)?;
        if !minimum_at_weight_scale(p, &m.0, f, m.1.as_ref(), spec.beta) {
            known_in_a_row += 1;
            reached.push(m);
            continue;
        }
        known_in_a_row = 0;
        if spec.beta * (f - e_min) <= SIGNIFICANT {
            found.push((f, m.0.clone()));
        }
        reached.push(m);
    }
    Ok((found, seeds))
}

/// Minima found and seeds ([`complete_minima_2d`]).
type MinimaAndSeeds = (Vec<(f64, Vec<f64>)>, Vec<Vec<f64>>);

/// Newton steps (finite-difference gradient and Hessian) from the end `x` of a descent, each
/// taken while it lowers the energy `f`, at most 20: Nelder–Mead stalls on the floor of a
/// curved valley short of its minimum (Rosenbrock's), where it would read as a second minimum.
fn newton_polish(
    p: &Problem<'_>,
    mut x: Vec<f64>,
    mut f: f64,
    ls: f64,
) -> Result<(Vec<f64>, f64), QuadError> {
    let d = x.len();
    for _ in 0..20 {
        let Some(chol) = nalgebra::Cholesky::new(super::nd::hessian(p, &x, ls)?) else {
            break;
        };
        // Central differences, one-sided at a bound of the domain.
        let mut g = DVector::zeros(d);
        let mut y = x.clone();
        for i in 0..d {
            let h = 1e-6 * (ls + x[i].abs());
            let (lo, hi) = p.bounds[i];
            let (a, b) = ((x[i] - h).max(lo), (x[i] + h).min(hi));
            if b <= a {
                // A coordinate without room to difference: no step along it.
                continue;
            }
            y[i] = b;
            let fp = p.eval(&y)?;
            y[i] = a;
            let fm = p.eval(&y)?;
            y[i] = x[i];
            g[i] = (fp - fm) / (b - a);
        }
        let step = chol.solve(&g);
        let next: Vec<f64> = x
            .iter()
            .zip(step.iter())
            .zip(&p.bounds)
            .map(|((a, s), &(lo, hi))| (a - s).clamp(lo, hi))
            .collect();
        let fn_ = p.eval(&next)?;
        if fn_.partial_cmp(&f) != Some(std::cmp::Ordering::Less) {
            break;
        }
        let moved = next
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        (x, f) = (next, fn_);
        if moved <= 1e-12 * (ls + x.iter().fold(0.0f64, |m, v| m.max(v.abs()))) {
            break;
        }
    }
    Ok((x, f))
}

/// Whether `x` (energy `f`) of a 2D energy is a minimum: its profile `min over z_j of E`
/// rises on both sides along each coordinate `k`, the other coordinate minimised by a
/// bracketing golden-section search. With a positive definite Hessian `h` the step is one
/// marginal deviation of its model (at least 1e-3 of `1 + |x_k|`) and the search starts from
/// the model's prediction; without one (a flat minimum, `|z|^8`) the profile must not fall at
/// 1e-3 and 1e-2 of `1 + |x_k|` and must rise at 1e-1. A point stalled on a curved valley's
/// floor fails, where the floor descends; a ring's points fail, where the profile is flat.
fn minimum_at_weight_scale(
    p: &Problem<'_>,
    x: &[f64],
    f: f64,
    h: Option<&DMatrix<f64>>,
    beta: f64,
) -> bool {
    if x.len() != 2 {
        return true;
    }
    let model = h.and_then(|h| h.clone().try_inverse().map(|cov| (h, cov)));
    (0..2).all(|k| {
        let j = 1 - k;
        let scale = 1.0 + x[k].abs();
        let (deltas, slope, width_j) = match &model {
            Some((h, cov)) => (
                vec![(cov[(k, k)] / beta).sqrt().max(1e-3 * scale)],
                -h[(j, k)] / h[(j, j)],
                1.0 / (beta * h[(j, j)]).sqrt(),
            ),
            None => (
                vec![1e-3 * scale, 1e-2 * scale, 1e-1 * scale],
                0.0,
                1e-3 * (1.0 + x[j].abs()),
            ),
        };
        let ((lo_k, hi_k), (lo_j, hi_j)) = (p.bounds[k], p.bounds[j]);
        let last = deltas.len() - 1;
        deltas.iter().enumerate().all(|(n, &delta)| {
            [-1.0, 1.0].into_iter().all(|s| {
                // Within the domain: a minimum at or near an end is tested on its inner side.
                let yk = (x[k] + s * delta).clamp(lo_k, hi_k);
                if yk.total_cmp(&x[k]).is_eq() {
                    return true;
                }
                let profile = |t: f64| {
                    let mut y = [0.0; 2];
                    y[k] = yk;
                    y[j] = t.clamp(lo_j, hi_j);
                    p.eval(&y).unwrap_or(f64::NAN)
                };
                let m = profile_min(profile, x[j] + slope * (yk - x[k]), width_j);
                !m.is_nan() && if n == last { m > f } else { m >= f }
            })
        })
    })
}

/// The minimum of `g` near `t0` by a bracketing search (steps doubling from `w` downhill, at
/// most 80) and 60 golden sections; NaN when `g` is NaN where it was evaluated (`+inf`, a
/// weight of 0 at an end of the domain, is a value). Not the 1D search's
/// `line::descend_from`: its Brent stops at 1.5e-8 relative, ±9 in `z2` at `z2 = 6e8` on the
/// floor of `(z2 − z1²)² + log(1 + z1²)`, where the profile falls by 0.002 (tried: the valley
/// was refused as divergent again).
fn profile_min(g: impl Fn(f64) -> f64, t0: f64, w: f64) -> f64 {
    let w = if w.is_finite() && w > 0.0 { w } else { 1.0 };
    let (f0, fl, fr) = (g(t0), g(t0 - w), g(t0 + w));
    if f0.is_nan() || fl.is_nan() || fr.is_nan() {
        return f64::NAN;
    }
    let (mut lo, mut hi) = (t0 - w, t0 + w);
    let mut best = f0.min(fl).min(fr);
    if fl < f0 || fr < f0 {
        let dir = if fl < fr { -1.0 } else { 1.0 };
        let (mut prev, mut b, mut fb) = (t0, t0 + dir * w, fl.min(fr));
        let mut step = w;
        let mut bracketed = false;
        for _ in 0..80 {
            step *= 2.0;
            let c = b + dir * step;
            let fc = g(c);
            if fc.is_nan() {
                return f64::NAN;
            }
            if fc > fb {
                (lo, hi) = if dir > 0.0 { (prev, c) } else { (c, prev) };
                bracketed = true;
                break;
            }
            (prev, b, fb) = (b, c, fc);
        }
        best = best.min(fb);
        if !bracketed {
            return best;
        }
    }
    let r = 0.5 * (5f64.sqrt() - 1.0);
    let (mut c, mut d) = (hi - r * (hi - lo), lo + r * (hi - lo));
    let (mut fc, mut fd) = (g(c), g(d));
    for _ in 0..60 {
        if fc < fd {
            hi = d;
            (d, fd) = (c, fc);
            c = hi - r * (hi - lo);
            fc = g(c);
        } else {
            lo = c;
            (c, fc) = (d, fd);
            d = lo + r * (hi - lo);
            fd = g(d);
        }
    }
    best.min(fc).min(fd)
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
