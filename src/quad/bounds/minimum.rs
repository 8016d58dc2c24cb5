//! Certified lower bounds of the energy over a box (branch and bound on interval enclosures
//! with the mean-value form), the strong-convexity certificate of a minimiser, and the
//! certified hull of the minimisers of a one-coordinate problem.

use super::*;

/// A certified lower bound of the energy over a problem's continuous box, from
/// [`certified_min_lower`].
#[derive(Debug, Clone)]
pub(crate) struct MinBound {
    /// `E(z) ≥ lower` for every `z` of the box (`-inf` when nothing bounds it).
    pub lower: f64,
    /// The lowest energy met at a box centre (and the caller's `found`), with its point.
    pub best: f64,
    /// Where `best` is (continuous coordinates; the caller's point when none was lower).
    pub best_point: Vec<f64>,
    /// Boxes examined.
    pub boxes: usize,
    /// Whether `best − lower ≤ target` was reached within the budget.
    pub closed: bool,
}

/// Lower bound of `E` over one box: the plain enclosure, and the centred form
/// `E(c) − Σ_k max|∂_k E(B)|·h_k/2` (mean-value theorem), whose gap shrinks as the square of
/// the width near a smooth minimum; the larger of the two holds.
///
/// A side infinite at one end reduces to its finite face when the energy is certified to rise
/// outward along it: `∂²E/∂z_k² ≥ 0` over the box and `∂E/∂z_k` of the outward sign over the
/// face (then every line along `k` is lowest on the face). Plain enclosures of a polynomial on
/// a half-line meet `∞ − ∞` (`z⁴ + y·z` on `(−∞, b]`); this is what bounds such tails.
pub(super) fn box_lower(p: &Problem<'_>, lo: &[f64], hi: &[f64], grad: bool) -> f64 {
    if let Some(face) = outward_rising_face(p, lo, hi, grad) {
        let (flo, fhi) = face;
        return box_lower(p, &flo, &fhi, grad);
    }
    let b = intervals(lo, hi);
    let Some(e) = p.enclose(&b) else {
        return f64::NEG_INFINITY;
    };
    let mut out = if e.lo.is_nan() {
        f64::NEG_INFINITY
    } else {
        e.lo
    };
    let finite = lo.iter().chain(hi).all(|x| x.is_finite());
    if grad && finite {
        let d = lo.len();
        let c: Vec<f64> = lo
            .iter()
            .zip(hi)
            .map(|(&a, &b)| 0.5 * a + 0.5 * b)
            .collect();
        let pc: Vec<Interval> = c.iter().map(|&x| Interval::point(x)).collect();
        let mut gb = vec![Interval::ENTIRE; d];
        if let (Some(ec), true) = (p.enclose(&pc), p.enclose_gradient(&b, &mut gb))
            && ec.lo.is_finite()
        {
            let mut bound = Interval::point(ec.lo);
            for k in 0..d {
                let g = gb[k].lo.abs().max(gb[k].hi.abs());
                // The half width, rounded up, times the largest slope, subtracted outward.
                let h = Interval::point(hi[k]).sub(Interval::point(c[k]));
                let h =
                    h.hi.max(Interval::point(c[k]).sub(Interval::point(lo[k])).hi);
                bound = bound.sub(Interval::point(g).mul(Interval::point(h)));
            }
            if bound.lo.is_finite() {
                out = out.max(bound.lo);
            }
        }
    }
    out
}

/// The finite face a box with a half-infinite side reduces to (see [`box_lower`]): the first
/// side `k` infinite at exactly one end along which the Hessian's diagonal enclosure over the
/// box is `≥ 0` and the gradient's enclosure over the face points outward-rising.
#[allow(clippy::type_complexity)]
pub(super) fn outward_rising_face(
    p: &Problem<'_>,
    lo: &[f64],
    hi: &[f64],
    grad: bool,
) -> Option<(Vec<f64>, Vec<f64>)> {
    if !grad {
        return None;
    }
    let d = lo.len();
    let half: Vec<usize> = (0..d)
        .filter(|&k| lo[k].is_finite() != hi[k].is_finite())
        .collect();
    if half.is_empty() {
        return None;
    }
    let b: Vec<Interval> = lo
        .iter()
        .zip(hi)
        .map(|(&a, &c)| Interval::new(a, c))
        .collect();
    let mut h = vec![Interval::ENTIRE; d * d];
    if !p.enclose_hessian(&b, &mut h) {
        return None;
    }
    for k in half {
        if h[k * d + k].lo.is_nan() || h[k * d + k].lo < 0.0 {
            continue;
        }
        let up = hi[k].is_infinite();
        let end = if up { lo[k] } else { hi[k] };
        let mut fb = b.clone();
        fb[k] = Interval::point(end);
        let mut g = vec![Interval::ENTIRE; d];
        if !p.enclose_gradient(&fb, &mut g) {
            continue;
        }
        let rising = if up { g[k].lo >= 0.0 } else { g[k].hi <= 0.0 };
        if rising {
            let (mut flo, mut fhi) = (lo.to_vec(), hi.to_vec());
            flo[k] = end;
            fhi[k] = end;
            return Some((flo, fhi));
        }
    }
    None
}

/// A certificate for a strongly convex energy: when the Hessian's enclosure over the whole
/// problem box is diagonally dominant with margin `μ > 0` (Gershgorin: every eigenvalue of every
/// matrix in it is `≥ μ`), then for the point `x` with gradient `g`,
/// `E(z) ≥ E(x) + g·(z − x) + μ/2·|z − x|² ≥ E(x) − |g|²/(2μ)` everywhere, and every minimiser
/// lies within `2|g|/μ` of `x`; every point `z` with `E(z) ≤ E(x) + s` lies within
/// `(|g| + √(|g|² + 2μs))/μ` (the root of `μ/2·r² − |g|·r − s`). Returns `(lower bound of E,
/// bound on the distance to every point within `slack` of `E(x)`)`, rounded outward; `None`
/// when the energy is not certified strongly convex.
pub(crate) fn strongly_convex_certificate(
    p: &Problem<'_>,
    x: &[f64],
    slack: f64,
) -> Option<(f64, f64)> {
    let d = p.dim();
    if d == 0 || !p.has_enclosure() {
        return None;
    }
    let b: Vec<Interval> = p.bounds.iter().map(|&(a, c)| Interval::new(a, c)).collect();
    let mut h = vec![Interval::ENTIRE; d * d];
    if !p.enclose_hessian(&b, &mut h) {
        return None;
    }
    let mut mu = f64::INFINITY;
    for i in 0..d {
        let mut row = Interval::point(h[i * d + i].lo);
        for j in (0..d).filter(|&j| j != i) {
            let off = h[i * d + j];
            row = row - Interval::point(off.lo.abs().max(off.hi.abs()));
        }
        mu = mu.min(row.lo);
    }
    if !(mu > 0.0 && mu.is_finite()) {
        return None;
    }
    let px: Vec<Interval> = x.iter().map(|&v| Interval::point(v)).collect();
    let e = p.enclose(&px)?;
    let mut g = vec![Interval::ENTIRE; d];
    if !p.enclose_gradient(&px, &mut g) {
        return None;
    }
    let mut g2 = Interval::point(0.0);
    for gk in &g {
        g2 = g2 + Interval::point(gk.lo.abs().max(gk.hi.abs())).sqr();
    }
    let two_mu = Interval::point(mu) + Interval::point(mu);
    let lower = (Interval::point(e.lo) - g2 / two_mu).lo;
    let g_norm = g2.sqrt();
    let s = Interval::point(slack.max(0.0));
    let radius = ((g_norm + (g2 + two_mu * s).sqrt()) / Interval::point(mu)).hi;
    (lower.is_finite() && radius.is_finite()).then_some((lower, radius))
}

/// The side of a box to split: one infinite at both ends first; then the half-infinite side
/// whose finite end is nearest `centre` (so the corners of a box unbounded in several sides
/// move outward in turn, not one side forever); else the widest.
pub(super) fn split_side(lo: &[f64], hi: &[f64], centre: &[f64]) -> usize {
    let key = |k: usize| -> (u8, f64) {
        match (lo[k].is_finite(), hi[k].is_finite()) {
            (false, false) => (2, 0.0),
            (true, false) => (1, -(lo[k] - centre[k]).abs()),
            (false, true) => (1, -(hi[k] - centre[k]).abs()),
            (true, true) => (0, hi[k] - lo[k]),
        }
    };
    (0..lo.len())
        .max_by(|&i, &j| {
            let (a, b) = (key(i), key(j));
            a.0.cmp(&b.0).then(a.1.total_cmp(&b.1))
        })
        .unwrap_or(0)
}

/// Splits side `k` of a box: at the middle when finite, else at a point moving out
/// geometrically from `centre` (so a half-line is covered by boxes doubling in size).
pub(super) fn split_point(a: f64, b: f64, centre: f64) -> f64 {
    match (a.is_finite(), b.is_finite()) {
        (true, true) => 0.5 * a + 0.5 * b,
        (false, false) => centre,
        (true, false) => a + (a - centre).abs().max(1.0),
        (false, true) => b - (b - centre).abs().max(1.0),
    }
}

/// Certified lower bound of `E` over the problem's continuous box by branch and bound on
/// interval enclosures: the box whose lower bound is lowest is bisected (its widest side; an
/// infinite side first, at a point moving out from `centre`), its centre's energy tightens
/// the best value found, until `best − lower ≤ target` or `max_boxes` boxes were examined.
/// Returns `None` when the energy has no interval enclosure.
pub(crate) fn certified_min_lower(
    p: &Problem<'_>,
    found: f64,
    centre: &[f64],
    target: f64,
    max_boxes: usize,
) -> Option<MinBound> {
    if !p.has_enclosure() {
        return None;
    }
    let grad = p.has_gradient_enclosure();
    // A strongly convex energy is bounded at once from the point found.
    let convex_floor =
        strongly_convex_certificate(p, centre, 0.0).map_or(f64::NEG_INFINITY, |c| c.0);
    if found - convex_floor <= target {
        return Some(MinBound {
            lower: convex_floor,
            best: found,
            best_point: centre.to_vec(),
            boxes: 0,
            closed: true,
        });
    }
    let lo0: Vec<f64> = p.bounds.iter().map(|b| b.0).collect();
    let hi0: Vec<f64> = p.bounds.iter().map(|b| b.1).collect();
    let mut best = found;
    let mut best_point = centre.to_vec();
    let mut heap: BinaryHeap<Keyed> = BinaryHeap::new();
    let mut items: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    let first = box_lower(p, &lo0, &hi0, grad);
    items.push((lo0, hi0, first));
    heap.push(Keyed(-first, 0));
    let mut boxes = 1;
    let mut dropped = f64::INFINITY;
    let lowest = |heap: &BinaryHeap<Keyed>| heap.peek().map_or(f64::INFINITY, |k| -k.0);
    while boxes < max_boxes && best - lowest(&heap) > target {
        let Some(Keyed(_, idx)) = heap.pop() else {
            break;
        };
        let (lo, hi, _) = items[idx].clone();
        let k = split_side(&lo, &hi, centre);
        let m = split_point(lo[k], hi[k], centre[k]);
        if !(m > lo[k] && m < hi[k]) {
            // Cannot split further in f64: this box's bound stays as it is.
            heap.push(Keyed(-items[idx].2, idx));
            break;
        }
        for (a, b) in [(lo[k], m), (m, hi[k])] {
            let mut l = lo.clone();
            let mut h = hi.clone();
            l[k] = a;
            h[k] = b;
            if l.iter().chain(&h).all(|x| x.is_finite()) {
                let c: Vec<f64> = l.iter().zip(&h).map(|(&x, &y)| 0.5 * x + 0.5 * y).collect();
                if let Ok(v) = p.eval(&c)
                    && v < best
                {
                    best = v;
                    best_point = c;
                }
            }
            let bound = box_lower(p, &l, &h, grad);
            boxes += 1;
            // A box that cannot hold anything below the best value less the target is done.
            if bound < best - target {
                items.push((l, h, bound));
                heap.push(Keyed(-bound, items.len() - 1));
            } else {
                dropped = dropped.min(bound);
            }
        }
        if crate::budgets::point_clock_expired() {
            break;
        }
    }
    let lower = lowest(&heap).min(dropped).min(best).max(convex_floor);
    Some(MinBound {
        lower,
        best,
        best_point,
        boxes,
        closed: best - lower <= target,
    })
}

/// A certified hull of every global minimiser of `E` over the problem's continuous box: the
/// boxes whose lower bound ([`box_lower`]) is at most `best_hi` (an upper bound of the minimum,
/// e.g. the enclosure's top at the point found) are refined until each is at most `width`
/// wide; every other box cannot hold a minimiser. Returns the hull `(lo, hi)` per coordinate
/// of the boxes left (unrefined ones included when the `max_boxes` budget runs out, so the
/// hull stays a bound — possibly infinite), or `None` when the energy has no enclosure.
#[allow(clippy::type_complexity)]
pub(crate) fn certified_argmin_hull(
    p: &Problem<'_>,
    best_hi: f64,
    centre: &[f64],
    width: f64,
    max_boxes: usize,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let d = p.dim();
    if !p.has_enclosure() || best_hi.is_nan() {
        return None;
    }
    let grad = p.has_gradient_enclosure();
    let lo0: Vec<f64> = p.bounds.iter().map(|b| b.0).collect();
    let hi0: Vec<f64> = p.bounds.iter().map(|b| b.1).collect();
    let mut stack = vec![(lo0, hi0)];
    let mut hull_lo = vec![f64::INFINITY; d];
    let mut hull_hi = vec![f64::NEG_INFINITY; d];
    let mut keep = |lo: &[f64], hi: &[f64]| {
        for k in 0..d {
            hull_lo[k] = hull_lo[k].min(lo[k]);
            hull_hi[k] = hull_hi[k].max(hi[k]);
        }
    };
    let mut boxes = 0;
    while let Some((lo, hi)) = stack.pop() {
        if boxes >= max_boxes || crate::budgets::point_clock_expired() {
            keep(&lo, &hi);
            for (l, h) in &stack {
                keep(l, h);
            }
            break;
        }
        boxes += 1;
        if box_lower(p, &lo, &hi, grad) > best_hi {
            continue;
        }
        let k = split_side(&lo, &hi, centre);
        if d == 0 || hi[k] - lo[k] <= width {
            keep(&lo, &hi);
            continue;
        }
        let m = split_point(lo[k], hi[k], centre[k]);
        if !(m > lo[k] && m < hi[k]) {
            keep(&lo, &hi);
            continue;
        }
        let (mut l2, mut h1) = (lo.clone(), hi.clone());
        h1[k] = m;
        l2[k] = m;
        stack.push((l2, hi));
        stack.push((lo, h1));
    }
    Some((hull_lo, hull_hi))
}
