//! Certified statements about where the mass of a 1D or 2D problem lies: the modes located by
//! a cover of interval enclosures (1D), convexity (2D), and the mass of a line beyond a point.

use super::*;

/// Enclosures (of `E'` or `E`) the cover of [`modes_located_1d`] may spend.
pub(super) const COVER_EVALS: usize = 400;

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
pub(crate) fn modes_located_1d(
    p: &Problem<'_>,
    minima: &[f64],
    beta: f64,
    e_min: f64,
    log_z: f64,
    tau: f64,
) -> bool {
    if p.dim() != 1 || minima.is_empty() || !p.has_gradient_enclosure() {
        return false;
    }
    let (lo, hi) = p.bounds[0];
    // Z in units of the weight at the minimum: the weight's effective width.
    let log_z_rel = log_z + beta * e_min;
    let s0 = log_z_rel.exp();
    if !(s0.is_finite() && s0 > 0.0) || minima.iter().any(|m| !m.is_finite()) {
        return false;
    }
    let centre = minima[0];
    // Half-width of the piece cut around each located minimiser: its mass is at most
    // `2η·w(m)/w(min) ≤ τZ/128` there (checked like any piece without a sign).
    let eta = tau * s0 / 256.0;
    if eta <= 4.0 * f64::EPSILON * (1.0 + centre.abs()) {
        return false;
    }
    let per_piece = (tau / 64.0).ln() + log_z_rel;
    let mut evals = 0usize;
    // `log ∫ w/w(min)` over `[a, b]`, bounded above by a plain enclosure.
    let mass = |a: f64, b: f64, evals: &mut usize| -> f64 {
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
                    let v = -beta * (e.lo - e_min) - (beta * s).ln();
                    v + LOG_SLACK * (1.0 + v.abs())
                }
                _ => f64::INFINITY,
            };
        }
        *evals += 1;
        match p.enclose(&[Interval::new(a, b)]) {
            Some(e) if e.lo > f64::NEG_INFINITY => {
                len.ln() - beta * (e.lo - e_min) + LOG_SLACK * (1.0 + len.ln().abs())
            }
            _ => f64::INFINITY,
        }
    };
    // The ordered cover: (a, b, slope, log mass bound for open pieces).
    let mut cover: Vec<(f64, f64, Slope, f64)> = Vec::new();
    let mut stack = vec![(lo, hi)];
    let mut g = [Interval::ENTIRE];
    while let Some((a, b)) = stack.pop() {
        evals += 1;
        if evals > COVER_EVALS || !p.enclose_gradient(&[Interval::new(a, b)], &mut g) {
            return false;
        }
        if g[0].hi <= 0.0 {
            cover.push((a, b, Slope::Falls, f64::NAN));
            continue;
        }
        if g[0].lo >= 0.0 {
            cover.push((a, b, Slope::Rises, f64::NAN));
            continue;
        }
        let lm = mass(a, b, &mut evals);
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
            return false;
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
        return false;
    }
    // Sinks: maximal runs of open pieces (`i..j`), a falling piece meeting a rising one (an
    // empty run at their common end), and the domain ends.
    let n = cover.len();
    let located = |a: f64, b: f64| minima.iter().any(|&m| m >= a - eta && m <= b + eta);
    let mut unlocated: Vec<f64> = Vec::new();
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
            // An empty run: a sink where a falling piece meets a rising one, or a domain end
            // next to the piece flowing into it.
            matches!(
                (before, after),
                (Some(Slope::Falls), Some(Slope::Rises))
                    | (None, Some(Slope::Rises))
                    | (Some(Slope::Falls), None)
            )
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
            if !located(x_lo, x_hi) {
                // The run, the falling pieces before it and the rising ones after.
                let mut m: Vec<f64> = cover[i..j].iter().map(|c| c.3).collect();
                let mut k = i;
                while k > 0 && cover[k - 1].2 == Slope::Falls {
                    k -= 1;
                    m.push(mass(cover[k].0, cover[k].1, &mut evals));
                }
                let mut k = j;
                while k < n && cover[k].2 == Slope::Rises {
                    m.push(mass(cover[k].0, cover[k].1, &mut evals));
                    k += 1;
                }
                if x_lo == f64::NEG_INFINITY || x_hi == f64::INFINITY {
                    // A sink at an infinite end: the weight does not decay there.
                    m.push(f64::INFINITY);
                }
                unlocated.push(lse(&m));
            }
        }
        i = j + 1;
    }
    lse(&unlocated) <= (0.25 * tau).ln() + log_z_rel
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
/// point `x` in direction `k` (over the problem's range of `z_k`), from plain enclosures on
/// segments of doubling length out to `2^1000` each side; `+inf` when the enclosures cannot
/// bound it. Beyond `2^1000` (no length representable) the mass counts as none when the
/// weight's enclosure there is below `e^-1000`.
pub(crate) fn line_mass_upper(p: &Problem<'_>, x: &[f64], k: usize, beta: f64, e_ref: f64) -> f64 {
    if !p.has_enclosure() {
        return f64::INFINITY;
    }
    let (lo, hi) = p.bounds[k];
    let c = x[k].clamp(lo.max(-1e300), hi.min(1e300));
    let mut b: Vec<Interval> = x.iter().map(|&v| Interval::point(v)).collect();
    let mut logs: Vec<f64> = Vec::new();
    let mut seg = |a: f64, e: f64, logs: &mut Vec<f64>| {
        let (a, e) = (a.max(lo), e.min(hi));
        if a.is_nan() || e.is_nan() || a >= e {
            return;
        }
        b[k] = Interval::new(a, e);
        let en = p.enclose(&b).unwrap_or(Interval::ENTIRE);
        let len = e - a;
        let lm = if en.lo == f64::NEG_INFINITY {
            f64::INFINITY
        } else if len.is_infinite() {
            // Beyond |z| = 2^1000 no length is representable: the mass there counts as none
            // when the weight is below e^-1000 throughout (the quadrature cannot see it either).
            if beta * (en.lo - e_ref) > 1000.0 {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        } else {
            len.ln() - beta * (en.lo - e_ref)
        };
        logs.push(lm);
    };
    seg(c - 1.0, c + 1.0, &mut logs);
    let mut r = 1.0f64;
    for _ in 0..1000 {
        let r2 = 2.0 * r;
        seg(c + r, c + r2, &mut logs);
        seg(c - r2, c - r, &mut logs);
        r = r2;
        if c + r > hi && c - r < lo {
            break;
        }
    }
    seg(c + r, f64::INFINITY, &mut logs);
    seg(f64::NEG_INFINITY, c - r, &mut logs);
    let logs: Vec<f64> = logs
        .into_iter()
        .map(|v| {
            if v.is_finite() {
                v + LOG_SLACK * (1.0 + v.abs())
            } else {
                v
            }
        })
        .collect();
    logsumexp(logs.into_iter())
}
