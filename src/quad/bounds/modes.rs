//! Certified statements about where the mass of a 1D or 2D problem lies: the modes located by
//! a cover of interval enclosures (1D), convexity (2D), and the mass of a line beyond a point.

use super::*;

/// Enclosures (of `E'` or `E`) the refinement of the cover of [`modes_located_1d`] may spend.
/// Bounding the unlocated sinks afterwards costs one enclosure per feeder piece, and at most
/// about 1 000 more for each of the (at most two) infinite feeder rays without a certified
/// slope ([`ray_mass_upper`]).
pub(super) const COVER_EVALS: usize = 3000;

/// The relative resolution of a located minimiser (Brent's `1.5e-8·|m|`, with room): a sink
/// that close to one is that minimum.
const MINIMISER_RESOLUTION: f64 = 4e-8;

/// How the energy runs over one piece of the cover.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Slope {
    /// `E' ≤ 0` throughout: the weight rises to the right.
    Falls,
    /// `E' ≥ 0` throughout.
    Rises,
    /// Neither is certified; the piece's mass is bounded instead.
    Open,
}

/// Whether every mode of a 1D weight that could hold more than `τ` of `Z` was located: `minima`
/// are the local minimisers the search found, `e_min` the lowest energy and `log_z` the
/// estimate of `log Z`. The domain is covered by pieces on which the gradient's enclosure has
/// a sign (`E'` ≤ 0 or ≥ 0), refined (halved, infinite ones cut geometrically, cut around each
/// located minimiser) until every piece without a sign has a certified mass below `τZ/64`;
/// those masses must total at most `τZ/2`. Mass flows along a monotone piece to its low-energy
/// end, so every mode lies in a *sink*: a run of pieces without a sign (or the point where a
/// falling piece meets a rising one, or a domain end) fed by the falling pieces before it and
/// the rising ones after. Every sink must hold a located minimiser, or it and its feeders
/// (bounded by plain enclosures) must total at most `τZ/4`. Then no mode outside the ones the
/// integrator resolved holds more than `τ` of `Z`. `false` when not certified within
/// [`COVER_EVALS`] enclosures (the caller audits by boxes).
#[cfg(test)]
pub(crate) fn modes_located_1d(
    p: &Problem<'_>,
    minima: &[f64],
    beta: f64,
    e_min: f64,
    log_z: f64,
    tau: f64,
) -> bool {
    unlocated_modes_1d(p, minima, beta, e_min, log_z, tau)
        .is_some_and(|u| logsumexp(u.iter().map(|s| s.log_mass)) <= (0.25 * tau).ln())
}

/// The cover of [`modes_located_1d`] and its unlocated sinks with certified bounds of their
/// mass. The sinks' total bounds every mode the integrator did not locate; `None` when the
/// cover was not completed within [`COVER_EVALS`] enclosures or its pieces without a sign
/// hold more than `τZ/2`.
pub(crate) fn unlocated_modes_1d(
    p: &Problem<'_>,
    minima: &[f64],
    beta: f64,
    e_min: f64,
    log_z: f64,
    tau: f64,
) -> Option<Vec<Sink>> {
    if minima.is_empty() {
        return None;
    }
    cover_sinks(
        p,
        p.bounds[0],
        (false, false),
        minima,
        beta,
        e_min,
        log_z,
        tau,
    )
}

/// The sinks of the cover of a range `[a, b]` of the line that holds no located minimiser
/// (the reach of an unlocated sink of [`unlocated_modes_1d`]; a ray at most) at a finer `τ`: where
/// in it a mode holding more than `τ` of `Z` can lie, to search from. Every piece of the range
/// flows into one of them or is a piece without a sign (those total at most `τZ/2`), so their
/// bounds plus `τ/2` bound the mass of the whole range.
pub(crate) fn sinks_within_1d(
    p: &Problem<'_>,
    sink: &Sink,
    beta: f64,
    e_min: f64,
    log_z: f64,
    tau: f64,
) -> Option<Vec<Sink>> {
    let range = sink.reach;
    if range.0.partial_cmp(&range.1) != Some(Ordering::Less)
        || !(range.0.is_finite() || range.1.is_finite())
    {
        return None;
    }
    cover_sinks(p, range, sink.flows_out, &[], beta, e_min, log_z, tau)
}

/// An unlocated sink of the gradient's sign cover.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sink {
    /// The run of pieces without a sign (`lo == hi` where a falling piece meets a rising one).
    pub(crate) lo: f64,
    /// See `lo`.
    pub(crate) hi: f64,
    /// The run with its feeders (the falling pieces before it, the rising ones after): all
    /// the mass the bound counts lies there.
    pub(crate) reach: (f64, f64),
    /// A certified upper bound of the log of that mass, as a fraction of the estimated `Z`.
    pub(crate) log_mass: f64,
    /// Whether the flow goes on past the left and right ends of the reach into a located
    /// sink (so a finer cover of the reach need not count what flows out there).
    pub(crate) flows_out: (bool, bool),
}

/// The cover of `range` (see [`modes_located_1d`]) and its sinks holding no minimiser of
/// `minima`; `flows_out` says at which ends of the range the flow goes on beyond it (those
/// ends are not sinks).
#[allow(clippy::too_many_arguments)]
fn cover_sinks(
    p: &Problem<'_>,
    (lo, hi): (f64, f64),
    flows_out: (bool, bool),
    minima: &[f64],
    beta: f64,
    e_min: f64,
    log_z: f64,
    tau: f64,
) -> Option<Vec<Sink>> {
    if p.dim() != 1 || !p.has_gradient_enclosure() {
        return None;
    }
    // Z in units of the weight at the minimum: the weight's effective width.
    let log_z_rel = log_z + beta * e_min;
    let s0 = log_z_rel.exp();
    if !(s0.is_finite() && s0 > 0.0) || minima.iter().any(|m| !m.is_finite()) {
        return None;
    }
    // Infinite pieces are cut geometrically away from the centre: the first minimiser, or
    // the range's middle (its finite end when it is a ray).
    let centre = match (minima.first(), lo.is_finite(), hi.is_finite()) {
        (Some(&m), _, _) => m,
        (None, true, true) => 0.5 * lo + 0.5 * hi,
        (None, true, false) => lo,
        (None, false, true) => hi,
        (None, false, false) => 0.0,
    };
    // Half-width of the piece cut around each located minimiser: its mass is at most
    // `2η·w(m)/w(min) ≤ τZ/128` there (checked like any piece without a sign).
    let eta = tau * s0 / 256.0;
    if !minima.is_empty() && eta <= 4.0 * f64::EPSILON * (1.0 + centre.abs()) {
        return None;
    }
    let per_piece = (tau / 64.0).ln() + log_z_rel;
    let mut evals = 0usize;
    // `log ∫ w/w(min)` over `[a, b]`, bounded above by a plain enclosure (on a ray, by its
    // certified slope, or, when `monotone`, by segments of doubling length).
    let mass = |a: f64, b: f64, monotone: bool, evals: &mut usize| -> f64 {
        if b <= a {
            return f64::NEG_INFINITY;
        }
        let len = b - a;
        if !len.is_finite() {
            // A ray on which E is monotone away from its finite end `c` with slope at least
            // `s > 0`: E(z) ≥ E(c) + s|z − c|, so its mass is at most w(c)/(βs).
            let c = if a.is_finite() { a } else { b };
            if !c.is_finite() {
                return f64::INFINITY;
            }
            *evals += 2;
            let mut g = [Interval::ENTIRE];
            let s = if p.enclose_gradient(&[Interval::new(a, b)], &mut g) {
                if a.is_finite() { g[0].lo } else { -g[0].hi }
            } else {
                f64::NAN
            };
            return match p.enclose(&[Interval::point(c)]) {
                Some(e) if s > 0.0 && e.lo > f64::NEG_INFINITY => {
                    slack_up(-beta * (e.lo - e_min) - (beta * s).ln())
                }
                // No positive slope is certified: on a monotone ray (a feeder), segments of
                // doubling length; an open piece is cut instead.
                _ if monotone => {
                    let dir = if a.is_finite() { 1.0 } else { -1.0 };
                    ray_mass_upper(p, &[c], 0, c, dir, beta, e_min)
                }
                _ => f64::INFINITY,
            };
        }
        *evals += 1;
        segment_mass_upper(p, &[a], 0, a, b, beta, e_min)
    };
    // The ordered cover: (a, b, slope, log mass bound for open pieces).
    let mut cover: Vec<(f64, f64, Slope, f64)> = Vec::new();
    let mut stack = vec![(lo, hi)];
    let mut g = [Interval::ENTIRE];
    while let Some((a, b)) = stack.pop() {
        evals += 1;
        if evals > COVER_EVALS || !p.enclose_gradient(&[Interval::new(a, b)], &mut g) {
            return None;
        }
        if g[0].hi <= 0.0 {
            cover.push((a, b, Slope::Falls, f64::NAN));
            continue;
        }
        if g[0].lo >= 0.0 {
            cover.push((a, b, Slope::Rises, f64::NAN));
            continue;
        }
        let lm = mass(a, b, false, &mut evals);
        if lm <= per_piece {
            cover.push((a, b, Slope::Open, lm));
            continue;
        }
        let cuts: Vec<f64> = if let Some(&m) = minima.iter().find(|&&m| m - eta > a && m + eta < b)
        {
            vec![m - eta, m + eta]
        } else if a == f64::NEG_INFINITY && b == f64::INFINITY {
            vec![centre]
        } else if a == f64::NEG_INFINITY {
            vec![b - 3.0 * (b - centre).abs().max(s0)]
        } else if b == f64::INFINITY {
            vec![a + 3.0 * (a - centre).abs().max(s0)]
        } else {
            vec![0.5 * a + 0.5 * b]
        };
        let mut ends = vec![a];
        ends.extend(cuts);
        ends.push(b);
        if ends
            .windows(2)
            .any(|w| w[0].partial_cmp(&w[1]) != Some(Ordering::Less))
            || ends[1..ends.len() - 1].iter().any(|c| !c.is_finite())
        {
            return None;
        }
        // Pushed right to left, so the cover comes out ordered.
        for w in ends.windows(2).rev() {
            stack.push((w[0], w[1]));
        }
    }
    let lse = |v: &[f64]| logsumexp(v.iter().copied());
    let open: Vec<f64> = cover
        .iter()
        .filter(|c| c.2 == Slope::Open)
        .map(|c| c.3)
        .collect();
    let open_ok = lse(&open) <= (0.5 * tau).ln() + log_z_rel;
    if !open_ok {
        return None;
    }
    // Sinks: maximal runs of open pieces (`i..j`), a falling piece meeting a rising one (an
    // empty run at their common end), and the range's ends (unless the flow leaves there).
    let n = cover.len();
    // Within `η` of a minimiser, or within the search's resolution of it (Brent stops within
    // about `1.5e-8·|m|`; a finer cover finds the true minimum that far from the one located).
    let located = |a: f64, b: f64| {
        minima.iter().any(|&m| {
            let near = eta.max(MINIMISER_RESOLUTION * (1.0 + m.abs()));
            m >= a - near && m <= b + near
        })
    };
    // Every sink in order: (sink, located, the pieces just outside its reach).
    let mut all: Vec<(Sink, bool, Option<Slope>, Option<Slope>)> = Vec::new();
    let mut i = 0;
    while i <= n {
        // A run of open pieces starting at i (possibly empty).
        let mut j = i;
        while j < n && cover[j].2 == Slope::Open {
            j += 1;
        }
        let before = (i > 0).then(|| cover[i - 1].2);
        let after = (j < n).then(|| cover[j].2);
        let fed_left = before.is_none_or(|s| s == Slope::Falls);
        let fed_right = after.is_none_or(|s| s == Slope::Rises);
        let is_sink = if i == j {
            // An empty run: a sink where a falling piece meets a rising one, or an end of the
            // range next to the piece flowing into it (where the flow does not go on beyond).
            match (before, after) {
                (Some(Slope::Falls), Some(Slope::Rises)) => true,
                (None, Some(Slope::Rises)) => !flows_out.0,
                (Some(Slope::Falls), None) => !flows_out.1,
                _ => false,
            }
        } else {
            fed_left || fed_right || (before.is_none() || after.is_none())
        };
        if is_sink {
            let x_lo = if i < n { cover[i].0 } else { hi };
            let x_hi = if j > 0 && j > i { cover[j - 1].1 } else { x_lo };
            let x_lo = if i == j && i > 0 {
                cover[i - 1].1
            } else {
                x_lo
            };
            let x_hi = if i == j { x_lo } else { x_hi };
            let is_located = located(x_lo, x_hi);
            // The run, the falling pieces before it and the rising ones after.
            let mut m: Vec<f64> = cover[i..j].iter().map(|c| c.3).collect();
            let (mut reach_lo, mut reach_hi) = (x_lo, x_hi);
            let mut k = i;
            while k > 0 && cover[k - 1].2 == Slope::Falls {
                k -= 1;
                if !is_located {
                    m.push(mass(cover[k].0, cover[k].1, true, &mut evals));
                }
                reach_lo = cover[k].0;
            }
            let outside_lo = (k > 0).then(|| cover[k - 1].2);
            let mut k = j;
            while k < n && cover[k].2 == Slope::Rises {
                if !is_located {
                    m.push(mass(cover[k].0, cover[k].1, true, &mut evals));
                }
                reach_hi = cover[k].1;
                k += 1;
            }
            let outside_hi = (k < n).then(|| cover[k].2);
            if x_lo == f64::NEG_INFINITY || x_hi == f64::INFINITY {
                // A sink at an infinite end: the weight does not decay there.
                m.push(f64::INFINITY);
            }
            let sink = Sink {
                lo: x_lo,
                hi: x_hi,
                reach: (reach_lo, reach_hi),
                log_mass: lse(&m) - log_z_rel,
                flows_out: (false, false),
            };
            all.push((sink, is_located, outside_lo, outside_hi));
        }
        i = j + 1;
    }
    // Beyond its reach, a sink's neighbour pieces flow away from it (rising on the left,
    // falling on the right) into the neighbouring sink; when that one was located, whatever
    // flows out of this reach ends there.
    let mut unlocated: Vec<Sink> = Vec::new();
    for (k, &(mut sink, is_located, outside_lo, outside_hi)) in all.iter().enumerate() {
        if is_located {
            continue;
        }
        sink.flows_out = (
            outside_lo == Some(Slope::Rises) && k > 0 && all[k - 1].1,
            outside_hi == Some(Slope::Falls) && all.get(k + 1).is_some_and(|s| s.1),
        );
        unlocated.push(sink);
    }
    Some(unlocated)
}

/// Whether a 2D energy is certified convex over the problem's whole box: the Hessian's
/// enclosure over the box (infinite ends included) is positive semi-definite for every matrix
/// in it (`h11, h22 ≥ 0` and `h11·h22 ≥ h12²` at the worst ends). A convex energy's weight is
/// log-concave: one mode, the minimum the search found, and no mass elsewhere to miss. One
/// enclosure of three programs: a quadratic energy (constant Hessian) passes at once.
pub(crate) fn convex_2d(p: &Problem<'_>) -> bool {
    if p.dim() != 2 {
        return false;
    }
    let b: Vec<Interval> = p.bounds.iter().map(|&(a, c)| Interval::new(a, c)).collect();
    let mut h = [Interval::ENTIRE; 4];
    if !p.enclose_hessian(&b, &mut h) {
        return false;
    }
    let (a, c, off) = (h[0], h[3], h[1]);
    let off2 = off.lo.abs().max(off.hi.abs());
    if !(a.lo >= 0.0 && c.lo >= 0.0 && off2.is_finite()) {
        return false;
    }
    // a.lo·c.lo ≥ off², rounded against the claim.
    let det = Interval::point(a.lo)
        .mul(Interval::point(c.lo))
        .sub(Interval::point(off2).sqr());
    det.lo >= 0.0
}

/// An upper bound of `log ∫ exp(-β(E − E_ref)) dz_k` along the line through the continuous
/// point `x` in direction `k` (over the problem's range of `z_k`): `[x_k − 1, x_k + 1]` and a
/// [`ray_mass_upper`] each side; `+inf` when the enclosures cannot bound it.
pub(crate) fn line_mass_upper(p: &Problem<'_>, x: &[f64], k: usize, beta: f64, e_ref: f64) -> f64 {
    if !p.has_enclosure() {
        return f64::INFINITY;
    }
    let (lo, hi) = p.bounds[k];
    let c = x[k].clamp(lo.max(-1e300), hi.min(1e300));
    let mut at = x.to_vec();
    at[k] = c;
    let mid = segment_mass_upper(p, &at, k, (c - 1.0).max(lo), (c + 1.0).min(hi), beta, e_ref);
    logsumexp(
        [
            mid,
            ray_mass_upper(p, &at, k, c + 1.0, 1.0, beta, e_ref),
            ray_mass_upper(p, &at, k, c - 1.0, -1.0, beta, e_ref),
        ]
        .into_iter(),
    )
}

/// An upper bound of `log ∫ exp(-β(E − E_ref)) dz_k` over `[a, b]` with the other coordinates
/// at `x`, from one plain enclosure (with the bounds' rounding slack): `-inf` for an empty
/// segment, `+inf` when the enclosure has no lower bound. On a segment too long to measure
/// (beyond `|z| = 2^1000`) the mass counts as none when the weight is below `e^-1000`
/// throughout: the quadrature cannot see it either.
fn segment_mass_upper(
    p: &Problem<'_>,
    x: &[f64],
    k: usize,
    a: f64,
    b: f64,
    beta: f64,
    e_ref: f64,
) -> f64 {
    if a.is_nan() || b.is_nan() || a >= b {
        return f64::NEG_INFINITY;
    }
    let mut bx: Vec<Interval> = x.iter().map(|&v| Interval::point(v)).collect();
    bx[k] = Interval::new(a, b);
    let en = p.enclose(&bx).unwrap_or(Interval::ENTIRE);
    let len = b - a;
    let v = if en.lo == f64::NEG_INFINITY {
        return f64::INFINITY;
    } else if len.is_infinite() {
        if beta * (en.lo - e_ref) > 1000.0 {
            return f64::NEG_INFINITY;
        }
        return f64::INFINITY;
    } else {
        len.ln() - beta * (en.lo - e_ref)
    };
    slack_up(v)
}

/// A log mass bound raised by the bounds' rounding slack; infinite bounds (`-inf` for a
/// weight that underflows throughout) are kept, and NaN, which bounds nothing, becomes `+inf`.
fn slack_up(v: f64) -> f64 {
    if v.is_nan() {
        f64::INFINITY
    } else if v.is_infinite() {
        v
    } else {
        v + LOG_SLACK * (1.0 + v.abs())
    }
}

/// An upper bound of `log ∫ exp(-β(E − E_ref)) dz_k` along the ray from `z_k = from` in
/// direction `dir` (±1) within the problem's range, the other coordinates at `x`: segments of
/// doubling length (1, 2, 4, …) out to `2^1000`, then the rest of the ray as one segment
/// (see [`segment_mass_upper`]). At most about 1 000 enclosures.
pub(crate) fn ray_mass_upper(
    p: &Problem<'_>,
    x: &[f64],
    k: usize,
    from: f64,
    dir: f64,
    beta: f64,
    e_ref: f64,
) -> f64 {
    let (lo, hi) = p.bounds[k];
    let inside = |v: f64| v.clamp(lo, hi);
    let mut logs: Vec<f64> = Vec::new();
    let (mut r, mut len) = (0.0f64, 1.0f64);
    for _ in 0..1000 {
        let (u, v) = (from + dir * r, from + dir * (r + len));
        let (a, b) = if dir > 0.0 { (u, v) } else { (v, u) };
        logs.push(segment_mass_upper(
            p,
            x,
            k,
            inside(a),
            inside(b),
            beta,
            e_ref,
        ));
        r += len;
        len *= 2.0;
        if (dir > 0.0 && from + r >= hi) || (dir < 0.0 && from - r <= lo) {
            return logsumexp(logs.into_iter());
        }
    }
    let u = inside(from + dir * r);
    let (a, b) = if dir > 0.0 { (u, hi) } else { (lo, u) };
    logs.push(segment_mass_upper(p, x, k, a, b, beta, e_ref));
    logsumexp(logs.into_iter())
}
