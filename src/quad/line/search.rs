//! The 1D minimum search: a stretched grid with hints, Brent's method, narrow peaks
//! repolished, and the local width of a minimum on each side.

use super::*;

/// Maps a grid parameter `t ∈ (0, 1)` onto `[lo, hi]`, stretching infinite ends.
pub(super) fn grid_point(lo: f64, hi: f64, ls: f64, t: f64) -> f64 {
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => lo + (hi - lo) * t,
        (true, false) => {
            let s = t;
            lo + ls * s / (1.0 - s)
        }
        (false, true) => {
            let s = 1.0 - t;
            hi - ls * s / (1.0 - s)
        }
        (false, false) => {
            let s = 2.0 * t - 1.0;
            ls * s / (1.0 - s * s)
        }
    }
}

/// Brent's minimisation on `[a, b]` starting from `x` (which must lie inside).
// Brent's bookkeeping compares abscissae for identity (the same stored point), not closeness.
#[allow(clippy::float_cmp)]
pub(super) fn brent(
    line: &mut dyn Line,
    mut a: f64,
    mut b: f64,
    x0: f64,
    fx0: f64,
    abs_tol: f64,
) -> Result<(f64, f64), QuadError> {
    const CGOLD: f64 = 0.381_966_011_250_105_1;
    let (mut x, mut w, mut v) = (x0, x0, x0);
    let (mut fx, mut fw, mut fv) = (fx0, fx0, fx0);
    let mut d: f64 = 0.0;
    let mut e: f64 = 0.0;
    // Successive steps that only moved one end of the bracket towards `x` (+1 the upper end,
    // -1 the lower one, by that many steps).
    let mut crawl: i32 = 0;
    let mut probed = false;
    for _ in 0..200 {
        let xm = 0.5 * (a + b);
        let tol1 = 1.5e-8 * x.abs() + abs_tol;
        let tol2 = 2.0 * tol1;
        if (x - xm).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden = true;
        // At a kink parabolic steps land ever closer to the apex from one side while `x`
        // stays on it: the bracket's end crawls in by a factor of about 4 a step (`|z|` at 0:
        // 20 steps to the absolute tolerance). After three such steps, when the other side is
        // closed already, the point at `tol1` from `x` on the crawling side is tried: higher,
        // it ends the search at once. (With the other side open `x` need not be the apex: on
        // `0.8·max(-z, 0)^4 + 9.2·max(z, 0)^4.9` at β = 6e5 it was a grid point 7e-3 from the
        // minimum, where the energy is flat to 2e-10, and the probes moved it by `tol1` at a
        // time; the result was no longer converged.)
        let side = f64::from(crawl.signum());
        let (near, far) = if side > 0.0 {
            (x - a, b - x)
        } else {
            (b - x, x - a)
        };
        if crawl.abs() >= 3 && near <= tol2 && far > tol2 {
            // Once per search: a probe that did not close the side would only perturb it.
            probed = true;
            d = side * tol1;
            e = d;
            golden = false;
        } else if e.abs() > tol1 && fx.is_finite() && fw.is_finite() && fv.is_finite() {
            let r = (x - w) * (fx - fv);
            let mut q = (x - v) * (fx - fw);
            let mut p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            let etemp = e;
            if p.abs() < (0.5 * q * etemp).abs() && p > q * (a - x) && p < q * (b - x) {
                e = d;
                d = p / q;
                let u = x + d;
                if u - a < tol2 || b - u < tol2 {
                    d = if xm >= x { tol1 } else { -tol1 };
                }
                golden = false;
            }
        }
        if golden {
            e = if x >= xm { a - x } else { b - x };
            d = CGOLD * e;
        }
        let u = if d.abs() >= tol1 {
            x + d
        } else {
            x + tol1.copysign(d)
        };
        let fu = line.energy(u)?;
        crawl = match (fu <= fx || probed, u > x) {
            (true, _) => 0,
            (false, true) => crawl.max(0) + 1,
            (false, false) => crawl.min(0) - 1,
        };
        if fu <= fx {
            if u >= x {
                a = x;
            } else {
                b = x;
            }
            v = w;
            fv = fw;
            w = x;
            fw = fx;
            x = u;
            fx = fu;
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                v = w;
                fv = fw;
                w = u;
                fw = fu;
            } else if fu <= fv || v == x || v == w {
                v = u;
                fv = fu;
            }
        }
        if flat_bracket(line, (a, b), [(x, fx), (w, fw), (v, fv)]) {
            break;
        }
    }
    Ok((x, fx))
}

/// Whether Brent's three best points `(x, w, v)` (distinct) have energies within the line's
/// noise of each other while spreading over at least a quarter of the bracket `(a, b)`: the
/// line is flat to its resolution there, and no further step can tell where its minimum is.
/// Golden sections on the noise of a flat outer line of the nested rule (a ring in polar
/// coordinates, whose slices all hold the same mass) took 30 slices per refinement down to
/// the 1e-8 relative bracket.
fn flat_bracket(line: &dyn Line, (a, b): (f64, f64), pts: [(f64, f64); 3]) -> bool {
    let [(x, fx), (w, fw), (v, fv)] = pts;
    let same = |a: f64, b: f64| a.total_cmp(&b).is_eq();
    if same(x, w) || same(w, v) || same(x, v) || !fx.is_finite() {
        return false;
    }
    let noise = line.noise(fx);
    let spread = x.max(w).max(v) - x.min(w).min(v);
    (fw - fx).abs() <= noise && (fv - fx).abs() <= noise && spread >= 0.25 * (b - a)
}

/// Local minima of the line on `[lo, hi]` (sorted by energy), from a stretched grid, hints and
/// Brent refinement; a grid minimum at an infinite end is followed outward. With
/// `grid_minima_beside_hints`, the grid's own local minima are refined too, not only those of
/// the grid and hints together.
pub(crate) fn find_minima(
    line: &mut dyn Line,
    lo: f64,
    hi: f64,
    hints: &[f64],
    grid_minima_beside_hints: bool,
    ls: f64,
) -> Result<Vec<(f64, f64)>, QuadError> {
    let grid = line.grid_points();
    let mut zs: Vec<f64> = Vec::with_capacity(grid + 2 + hints.len());
    if lo.is_finite() {
        zs.push(lo);
    }
    for i in 0..grid {
        zs.push(grid_point(lo, hi, ls, (i as f64 + 0.5) / grid as f64));
    }
    if hi.is_finite() {
        zs.push(hi);
    }
    let n_grid = zs.len();
    // The span of the grid, its points ascending (hints beyond it have a neighbour on one
    // side at most).
    let span = (zs[0], zs[n_grid - 1]);
    for &h in hints {
        if h > lo && h < hi {
            zs.push(h);
        }
    }
    zs.sort_by(f64::total_cmp);
    zs.dedup_by(|a, b| (*a - *b).abs() <= 1e-300);
    let mut es = vec![0.0; zs.len()];
    let mut scratch = vec![0.0; zs.len() * line.n_obs()];
    // Only energies are needed here; observables are computed and discarded.
    line.eval_many(&zs, &mut es, &mut scratch)?;
    let n = zs.len();
    // Candidates `(i, left, right)`: local minima of the values at the points, each between
    // its neighbours (`None` past an end).
    let local_minima = |idx: &[usize]| -> Vec<(usize, Option<usize>, Option<usize>)> {
        (0..idx.len())
            .filter_map(|k| {
                let i = idx[k];
                let left = k.checked_sub(1).map(|k| idx[k]);
                let right = idx.get(k + 1).copied();
                let l = left.is_none_or(|j| es[i] <= es[j]);
                let r = right.is_none_or(|j| es[i] < es[j] || (es[i] <= es[j] && left.is_none()));
                (l && r && es[i] < f64::INFINITY).then_some((i, left, right))
            })
            .collect()
    };
    let all: Vec<usize> = (0..n).collect();
    let is_hint = |x: f64| hints.iter().any(|h| h.total_cmp(&x).is_eq());
    let mut cands = local_minima(&all);
    if grid_minima_beside_hints && n > n_grid {
        // A hint lower than its grid neighbours must not hide a grid minimum next to it (a
        // hint on a narrow mode 1.2 left of a broad one made the grid point that led to the
        // broad one no local minimum, and the broad mode was never located): the grid's own
        // local minima count too, each between its grid neighbours.
        let is_end = |x: f64| x.total_cmp(&lo).is_eq() || x.total_cmp(&hi).is_eq();
        let grid: Vec<usize> = (0..n)
            .filter(|&i| !is_hint(zs[i]) || is_end(zs[i]))
            .collect();
        for c in local_minima(&grid) {
            if !cands.iter().any(|d| d.0 == c.0) {
                cands.push(c);
            }
        }
    }
    cands.sort_by(|a, b| es[a.0].total_cmp(&es[b.0]));
    cands.truncate(MAX_REFINED);
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &(i, left, right) in &cands {
        // Hints are followed downhill from themselves below (refined between their
        // neighbours as well, each would be refined twice).
        if grid_minima_beside_hints && is_hint(zs[i]) {
            continue;
        }
        if es[i] == f64::NEG_INFINITY {
            // A singular point (an end where E → -inf): the probes decide whether it is
            // integrable; its finite neighbour stands in as the shift.
            let nb = right.or(left).unwrap_or(i);
            if es[nb].is_finite() {
                out.push((zs[nb], es[nb]));
            }
            continue;
        }
        let (mut a, mut b) = (
            left.map_or(zs[i], |j| zs[j]),
            right.map_or(zs[i], |j| zs[j]),
        );
        // Follow a descent towards an infinite end outward until the energy rises.
        if left.is_none() && lo == f64::NEG_INFINITY || right.is_none() && hi == f64::INFINITY {
            let dir = if left.is_none() && lo == f64::NEG_INFINITY {
                -1.0
            } else {
                1.0
            };
            let mut step = (zs[i].abs()).max(ls);
            let (mut x, mut fx) = (zs[i], es[i]);
            let mut rose = false;
            for _ in 0..60 {
                let y = x + dir * step;
                let fy = line.energy(y)?;
                if fy > fx {
                    rose = true;
                    if dir > 0.0 {
                        a = x - step;
                        b = y;
                    } else {
                        a = y;
                        b = x + step;
                    }
                    break;
                }
                x = y;
                fx = fy;
                step *= 2.0;
            }
            if !rose {
                continue;
            }
            let (xm, fm) = brent(line, a, b, x, fx, 1e-14 * ls)?;
            out.extend(finite_stand_in(line, xm, fm, lo, hi, ls)?);
            continue;
        }
        if left.is_none() && right.is_none() {
            out.push((zs[i], es[i]));
            continue;
        }
        a = a.max(lo);
        b = b.min(hi);
        let (xm, fm) = brent(line, a, b, zs[i], es[i], 1e-14 * ls)?;
        out.extend(finite_stand_in(line, xm, fm, lo, hi, ls)?);
    }
    if grid_minima_beside_hints {
        // Every hint is also followed downhill from itself with steps doubling from a small
        // one, until the energy rises, and refined in that bracket: a hint inside a narrow
        // dip on the slope of a broad mode is no local minimum of the points or, refined
        // between its neighbours, slides down to the broad one (a dip at -4.16 holding 3.7e-5
        // of Z on the slope of a broad mode at -1.84 was lost so); a hint beside a lower hint
        // (two narrow modes at 17.4 and 29.5, no grid point between) is no local minimum of
        // the points at all.
        for i in (0..n).filter(|&i| is_hint(zs[i])) {
            out.extend(descend_from(line, zs[i], es[i], lo, hi, ls)?);
        }
    } else {
        // A hint beyond the grid that is no local minimum of the points is followed downhill
        // from itself all the same: a hint is a located minimum (of the 2D energy, for the
        // nested rule), and there its nearer neighbour may be lower on the far side of a
        // barrier (a mode at z1 = -36.6 holding 0.15% of Z, whose neighbour at -18.1 was
        // lower, was never integrated). Within the grid this costs more than it finds: the
        // slices of a ring, each descending from its neighbours' hints, took 3 to 11 times
        // the evaluations.
        let beyond = |z: f64| z < span.0 || z > span.1;
        for i in
            (0..n).filter(|&i| is_hint(zs[i]) && beyond(zs[i]) && !cands.iter().any(|c| c.0 == i))
        {
            out.extend(descend_from(line, zs[i], es[i], lo, hi, ls)?);
        }
    }
    out.sort_by(|a, b| a.1.total_cmp(&b.1));
    // Merge minima found twice, and points of one minimum flat to the energy's resolution.
    let mut merged: Vec<(f64, f64)> = Vec::new();
    'next: for m in out {
        if merged
            .iter()
            .any(|q| (q.0 - m.0).abs() <= 1e-9 * (1.0 + q.0.abs()))
        {
            continue;
        }
        for &q in &merged {
            if one_plateau(line, q, m)? {
                continue 'next;
            }
        }
        merged.push(m);
    }
    Ok(merged)
}

/// Whether two minimisers are points of one minimum that is flat to the energy's resolution:
/// their energies, and the energy at the quarter points between them, all within the line's
/// noise of each other. Brent stops anywhere on such a plateau, so descents from several hints
/// end at several points of it: the slices of a ring far out (`E ≈ 1e32`, flat to an ulp over
/// `|z2| < 1`) each reported eight "minima", every one measured and broken at, for a slice
/// whose weight is zero. A barrier or a lower point between them (two wells of equal depth)
/// keeps both.
fn one_plateau(line: &mut dyn Line, q: (f64, f64), m: (f64, f64)) -> Result<bool, QuadError> {
    let noise = line.noise(q.1).max(line.noise(m.1));
    if !(q.1.is_finite() && m.1.is_finite() && (q.1 - m.1).abs() <= noise) {
        return Ok(false);
    }
    for k in 1..4 {
        let z = q.0 + (m.0 - q.0) * (k as f64 / 4.0);
        if (line.energy(z)? - q.1).abs() > noise {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The local minimum downhill of `z` (energy `fz`) on `[lo, hi]`: steps doubling from `1e-6·max(|z|, ls)`
/// towards the lower neighbour until the energy rises (at most 200), then Brent in that
/// bracket. `None` when the descent reaches an end of the domain or the energy is not finite.
pub(crate) fn descend_from(
    line: &mut dyn Line,
    z: f64,
    fz: f64,
    lo: f64,
    hi: f64,
    ls: f64,
) -> Result<Option<(f64, f64)>, QuadError> {
    let s0 = 1e-6 * z.abs().max(ls);
    let (zl, zr) = ((z - s0).max(lo), (z + s0).min(hi));
    if !fz.is_finite() || zl >= z || zr <= z {
        return Ok(None);
    }
    let (fl, fr) = (line.energy(zl)?, line.energy(zr)?);
    if fl >= fz && fr >= fz {
        let (xm, fm) = brent(line, zl, zr, z, fz, 1e-14 * ls)?;
        return finite_stand_in(line, xm, fm, lo, hi, ls);
    }
    let dir = if fl < fr { -1.0 } else { 1.0 };
    let (mut prev, mut x, mut fx) = (z, z + dir * s0, fl.min(fr));
    let mut step = s0;
    for _ in 0..200 {
        step *= 2.0;
        let y = (x + dir * step).clamp(lo, hi);
        if y.total_cmp(&x).is_eq() || !y.is_finite() {
            return Ok(None);
        }
        let fy = line.energy(y)?;
        if fy > fx {
            let (a, b) = if dir > 0.0 { (prev, y) } else { (y, prev) };
            let (xm, fm) = brent(line, a, b, x, fx, 1e-14 * ls)?;
            return finite_stand_in(line, xm, fm, lo, hi, ls);
        }
        (prev, x, fx) = (x, y, fy);
    }
    Ok(None)
}

/// Re-polishes minimisers whose peak is narrower than the search resolved them: Brent stops
/// within `1.5e-8·|m| + 1e-14·ls` of a minimiser, and at β = 1e60 the peak of `z^2` is 1e-30
/// wide, so the breakpoint put at `m` missed it and every node read ≈ 0 (log Z came back as
/// -2e9, honestly "not converged", but not the value). While `β (E − E_m)` at ten resolutions
/// from `m` exceeds 1, Brent runs again inside that bracket with a tolerance a thousand times
/// finer (at most 110 rounds: down to the abscissae f64 can tell apart, 1e-300 near 0). The
/// modes stay sorted by energy.
pub(super) fn repolish_narrow(
    line: &mut dyn Line,
    lo: f64,
    hi: f64,
    beta: f64,
    mut modes: Vec<Mode>,
    ls: f64,
) -> Result<Vec<Mode>, QuadError> {
    let Some(e0) = modes.first().map(|m| m.em) else {
        return Ok(modes);
    };
    for md in &mut modes {
        if !md.em.is_finite() || beta * (md.em - e0) > SIGNIFICANT {
            continue;
        }
        let mut res = 1.5e-8 * md.m.abs() + 1e-14 * ls;
        for _ in 0..110 {
            let (a, b) = ((md.m - 10.0 * res).max(lo), (md.m + 10.0 * res).min(hi));
            if !(a < md.m && md.m < b) {
                break;
            }
            let qa = beta * (line.energy(a)? - md.em);
            let qb = beta * (line.energy(b)? - md.em);
            if !(qa > 1.0 && qb > 1.0) {
                break;
            }
            let fine = 1e-3 * res;
            let (x, f) = brent(line, a, b, md.m, md.em, fine)?;
            if f.is_nan() || f > md.em || fine <= 4.0 * f64::EPSILON * x.abs() || fine < 1e-300 {
                break;
            }
            // The polished point replaces the old one; widths are measured anew.
            md.m = x;
            md.em = f;
            md.w_left = f64::NAN;
            md.w_right = f64::NAN;
            res = 1.5e-8 * md.m.abs() + fine;
        }
    }
    modes.sort_by(|a, b| a.em.total_cmp(&b.em));
    Ok(modes)
}

/// A minimiser where the energy is `-inf` (the search landed exactly on a singular point such as
/// `log|z − c|` at `c`) is replaced by the lowest finite point next to it, found by stepping out
/// geometrically from a few ulps: the shift `E*` must be finite, and whether the singularity is
/// integrable is decided by [`probe_interior_pole`], not here. `None` when no finite point is
/// found within the domain (the energy is `-inf` on a neighbourhood).
pub(super) fn finite_stand_in(
    line: &mut dyn Line,
    xm: f64,
    fm: f64,
    lo: f64,
    hi: f64,
    ls: f64,
) -> Result<Option<(f64, f64)>, QuadError> {
    if fm != f64::NEG_INFINITY {
        return Ok(Some((xm, fm)));
    }
    let mut d = 4.0 * f64::EPSILON * xm.abs().max(ls);
    for _ in 0..64 {
        let mut best: Option<(f64, f64)> = None;
        for z in [xm - d, xm + d] {
            if z > lo && z < hi {
                let e = line.energy(z)?;
                if e.is_finite() && best.is_none_or(|b| e < b.1) {
                    best = Some((z, e));
                }
            }
        }
        if best.is_some() {
            return Ok(best);
        }
        d *= 4.0;
    }
    Ok(None)
}

/// The width of a narrow core of the minimum at `m` (energy `em`, level width `w`: where
/// `β(E − E_m)` reaches 1), when it has one: `√(2/(β E''))`, below a tenth of `w`, from second
/// differences at steps shrinking from `1e-4·w` into the core until two successive ones agree
/// on `E''` within a factor 1.5 (a kink's second difference grows as its step shrinks: it never
/// settles and has no core), each well above the energy's noise.
/// A needle 0.001 wide on a broad mode's flank dips by only 0.05 at β = 1: its level width (1.4
/// one way, 16 the other) is the broad slope's, the pieces beside it were as long, and the
/// 2.2e-6 of Z in the needle lay between their nodes. A quadratic minimum has `√(2/(βE'')) = w`
/// (no core), a flat power has none either.
pub(super) fn narrow_core(
    line: &mut dyn Line,
    beta: f64,
    (m, em): (f64, f64),
    w: f64,
    (lo, hi): (f64, f64),
) -> Result<Option<f64>, QuadError> {
    let mut h = 1e-4 * w;
    let mut prev: Option<(f64, f64)> = None;
    let mut kink_like = 0;
    for _ in 0..CORE_ROUNDS {
        let (a, b) = (m - h, m + h);
        if !(a > lo && b < hi && h > 4.0 * f64::EPSILON * m.abs()) {
            break;
        }
        let d2 = line.energy(a)? + line.energy(b)? - 2.0 * em;
        if !(d2.is_finite() && d2 > 100.0 * line.noise(em)) {
            break;
        }
        let curvature = d2 / (h * h);
        let core = (2.0 / (beta * curvature)).sqrt();
        if core.is_nan() || core >= 0.1 * w {
            break;
        }
        if let Some((p, hp)) = prev {
            if curvature <= 1.5 * p && curvature >= p / 1.5 && h <= 0.1 * core {
                return Ok(Some(core));
            }
            // A kink's second difference is proportional to the step (`E'' ∝ 1/h`). Twice in
            // a row within 10 %, it is a kink down to the last step: a well below that scale
            // deep enough to matter would have added a constant to the second difference and
            // bent the exponent (see `a_kink_is_no_core_but_a_needle_in_it_is`).
            let exponent = (curvature / p).ln() / (hp / h).ln();
            if (0.9..=1.1).contains(&exponent) {
                kink_like += 1;
                if kink_like == 2 {
                    break;
                }
            } else {
                kink_like = 0;
            }
        }
        prev = Some((curvature, h));
        h = (0.03 * core).min(0.5 * h);
    }
    Ok(None)
}

/// Rounds of [`narrow_core`] at most.
const CORE_ROUNDS: usize = 8;

/// Distance from `m` (direction `dir`) where `β (E - E_m)` first reaches 1, capped at `limit`.
pub(crate) fn local_width(
    line: &mut dyn Line,
    beta: f64,
    m: f64,
    em: f64,
    dir: f64,
    limit: f64,
    ls: f64,
) -> Result<f64, QuadError> {
    let q = |s: f64, line: &mut dyn Line| -> Result<f64, QuadError> {
        Ok(beta * (line.energy(m + dir * s)? - em))
    };
    let mut s = ls / beta.sqrt();
    if s >= limit {
        s = 0.5 * limit;
    }
    let mut qs = q(s, line)?;
    let (mut below, mut above);
    if qs < 1.0 {
        below = s;
        loop {
            let t = s * 4.0;
            if t >= limit {
                return Ok(limit);
            }
            s = t;
            qs = q(s, line)?;
            if qs >= 1.0 {
                above = s;
                break;
            }
            below = s;
            if s > 1e300 {
                return Ok(limit);
            }
        }
    } else {
        above = s;
        loop {
            s *= 0.25;
            if s < 1e-300 || s <= 1e-15 * m.abs() {
                return Ok(above);
            }
            qs = q(s, line)?;
            if qs < 1.0 {
                below = s;
                break;
            }
            above = s;
        }
    }
    for _ in 0..2 {
        let mid = (below * above).sqrt();
        if q(mid, line)? < 1.0 {
            below = mid;
        } else {
            above = mid;
        }
    }
    Ok(above)
}

/// The end, on side `dir`, of a minimum that is flat to f64 resolution, with its energy.
///
/// Brent stops anywhere on such a plateau: `|u|^7` is flat to an ulp for 5e-3 around its
/// minimum. If the plateau ends in a kink (a steep power on the other side), the kink would
/// sit inside a piece measured from the wrong point, where the Gauss–Kronrod estimate does not
/// see the error (`|u|^2.8` left of 0 and `5u` right of it at β = 50: error 1.7e-9, estimate
/// 1e-10; `|u|^7` and `u` at β = 5e5: error 1.4e-5). A probe at a millionth of the side's
/// width decides whether there is a plateau at all; only then is its end found by doubling
/// and bisection, and the side is measured from there.
pub(super) fn plateau_edge(
    line: &mut dyn Line,
    m: f64,
    em: f64,
    dir: f64,
    w: f64,
    limit: f64,
) -> Result<Option<(f64, f64)>, QuadError> {
    if !(w.is_finite() && w > 0.0) {
        return Ok(None);
    }
    // Risen by at most the energy's own noise above E_m counts as flat; Brent may have stopped
    // off the true minimiser, so the energy may still fall by that much on the way to it.
    let flat_tol = line.noise(em);
    // On a computed energy (a slice free energy, known to about 1e-8/β) every smooth minimum
    // has a noise plateau of about 1e-4 of its width: probing from a millionth, and cutting
    // there, cost the ring 45 % more slices for nothing. There only a plateau that is a
    // visible part of the width counts, and the first probe is at a thousandth.
    let noisy = flat_tol > 8.0 * f64::EPSILON * em.abs();
    let t = if noisy { 1e-3 * w } else { 1e-6 * w };
    // The width was measured from `m`, plateau included: look as far as the far break.
    let reach = (SOFT_BREAKS[1] * w).min(limit);
    if t >= reach {
        return Ok(None);
    }
    let energy_at = |s: f64, line: &mut dyn Line| line.energy(m + dir * s);
    if energy_at(t, line)? - em > flat_tol {
        return Ok(None);
    }
    // Double out to the first point that rises, then bisect to a hundredth of the probe.
    let (mut inside, mut outside) = (t, 2.0 * t);
    let mut e_inside = em;
    loop {
        if outside >= reach {
            return Ok(None);
        }
        let e = energy_at(outside, line)?;
        if e - em > flat_tol {
            break;
        }
        inside = outside;
        e_inside = e;
        outside *= 2.0;
    }
    while outside - inside > 1e-2 * t {
        let mid = 0.5 * (inside + outside);
        let e = energy_at(mid, line)?;
        if e - em <= flat_tol {
            inside = mid;
            e_inside = e;
        } else {
            outside = mid;
        }
    }
    Ok(Some((m + dir * inside, e_inside)))
}
