//! One-dimensional log-space quadrature: minima, local widths, divergence probes and adaptive G10–K21.

use super::gk::{self, AxisMap, NK};
use super::{Observables, PartResult, PartSpec, Problem, QuadError, QuadOptions};

/// A one-dimensional integrand `exp(-β E(z))` with observables, as the 1D core sees it.
pub(crate) trait Line {
    /// Number of observable components carried along.
    fn n_obs(&self) -> usize;
    /// Energy at `z`.
    fn energy(&mut self, z: f64) -> Result<f64, QuadError>;
    /// Energies at `zs` and observables (row-major, `zs.len() × n_obs`).
    fn eval_many(&mut self, zs: &[f64], e: &mut [f64], obs: &mut [f64]) -> Result<(), QuadError>;
    /// Evaluations used so far (of the underlying energy).
    fn evals(&self) -> u64;
    /// Index of the variable, for messages.
    fn axis(&self) -> usize;
    /// Called once the minima are located, before the tail probes, widths and quadrature.
    fn search_done(&mut self) {}
    /// Points of the minimum search's stretched grid.
    fn grid_points(&self) -> usize {
        GRID
    }
    /// Whether observable `k` drives refinement (diagnostic components need not converge).
    fn drives(&self, _k: usize) -> bool {
        true
    }
    /// The observable whose integral is the scale of observable `k`'s tolerance, when it is not
    /// `∫|g_k| w` itself: an outer line integrating slice means needs the slice means of `|g|`,
    /// because a slice mean can vanish by symmetry while `g` does not (`⟨x·y⟩` on the ring).
    /// How far apart two values of the energy near `e` may be and still be equal: a few ulps,
    /// or a computed energy's own error (a slice free energy is only known to its quadrature
    /// error). Used to find where a flat minimum ends.
    fn noise(&self, e: f64) -> f64 {
        4.0 * f64::EPSILON * e.abs().max(f64::MIN_POSITIVE)
    }
    fn scale_of(&self, _k: usize) -> Option<usize> {
        None
    }
}

/// Outcome of [`integrate_line`] before the caller adds its own error terms.
pub(crate) struct LineResult {
    pub log_z: f64,
    /// Rule error of `log Z` (relative error of `I`), without the rounding floor.
    pub rule_error: f64,
    pub rounding_floor: f64,
    pub e_star: f64,
    pub argmin: f64,
    pub converged: bool,
    pub reason: Option<String>,
    /// `∫ w g / ∫ w`, its error and `∫ w |g| / ∫ w` per observable.
    pub obs_mean: Vec<f64>,
    pub obs_err: Vec<f64>,
    pub obs_abs: Vec<f64>,
    /// The local minima used (significant ones with their local widths), for a neighbouring
    /// slice to start from.
    pub modes: Vec<Mode>,
}

/// A local minimum of a line with its local widths on each side (`NaN` when not measured: no
/// room on that side, or a minimum too high to matter).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mode {
    pub m: f64,
    pub em: f64,
    pub w_left: f64,
    pub w_right: f64,
}

/// Points of the 1D minimum search's stretched grid. 32 (was 48) still brackets every local
/// minimum of `0.5 z² + 3 cos 4z` near the origin (the multimodal test) and spends 16 fewer
/// evaluations on every 1D call and every cold slice; wells narrower than the grid need hints.
const GRID: usize = 32;
const MAX_REFINED: usize = 16;
/// Soft breakpoints, in local widths from a minimiser (the far one also scales the tail map).
/// With G10–K21 pieces, ±2 and ±5 widths cost 191 evaluations on a Gaussian to 1e-9 where
/// ±2 and ±8 with G7–K15 cost 335 (the peer battery's 1D total went from 9401 to 6419).
const SOFT_BREAKS: [f64; 2] = [2.0, 5.0];
/// Where `β(E - E_m)` already exceeds this at the far soft breakpoint (an energy rising faster
/// than a parabola), the breakpoint is pulled in to where a power law through the local width
/// and that point reaches it: beyond, the weight is below e^-40 of the peak and the tail map
/// takes over (a quartic well saved two pieces a side, 42 evaluations).
const FAR_Q: f64 = 40.0;
/// A piece whose ends both carry `β(E - E_m) ≥ ln(1/tol) + NEGLIGIBLE_MARGIN` (measured at a far
/// breakpoint, or an infinite end) is first integrated with the 7-point rule: its weight is
/// below e^-7 of the target relative to the peak, so even a piece the short rule misread
/// could not move `log Z` by more than that; if it does hold mass, its error estimate sends
/// it to the 21-point rule by bisection. (A margin of 0, i.e. weight e^-20 at 1e-9, let a
/// steep edge that K7's nodes straddle through with 1e-10 error in a tilted double well.)
const NEGLIGIBLE_MARGIN: f64 = 7.0;
/// A minimum whose `β(E - E*)` exceeds this carries a weight below e^-50: not a breakpoint.
const SIGNIFICANT: f64 = 50.0;

/// Maps a grid parameter `t ∈ (0, 1)` onto `[lo, hi]`, stretching infinite ends.
fn grid_point(lo: f64, hi: f64, ls: f64, t: f64) -> f64 {
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
fn brent(
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
    for _ in 0..200 {
        let xm = 0.5 * (a + b);
        let tol1 = 1.5e-8 * x.abs() + abs_tol;
        let tol2 = 2.0 * tol1;
        if (x - xm).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden = true;
        if e.abs() > tol1 && fx.is_finite() && fw.is_finite() && fv.is_finite() {
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
    }
    Ok((x, fx))
}

/// Local minima of the line on `[lo, hi]` (sorted by energy), from a stretched grid, hints and
/// Brent refinement; a grid minimum at an infinite end is followed outward.
pub(crate) fn find_minima(
    line: &mut dyn Line,
    lo: f64,
    hi: f64,
    hints: &[f64],
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
    let mut cands: Vec<usize> = (0..n)
        .filter(|&i| {
            let left = i == 0 || es[i] <= es[i - 1];
            let right = i + 1 == n || es[i] < es[i + 1] || (es[i] <= es[i + 1] && i == 0);
            left && right && es[i] < f64::INFINITY
        })
        .collect();
    cands.sort_by(|&a, &b| es[a].total_cmp(&es[b]));
    cands.truncate(MAX_REFINED);
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &i in &cands {
        if es[i] == f64::NEG_INFINITY {
            // A singular point (an end where E → -inf): the probes decide whether it is
            // integrable; its finite neighbour stands in as the shift.
            let nb = if i + 1 < n {
                i + 1
            } else {
                i.saturating_sub(1)
            };
            if es[nb].is_finite() {
                out.push((zs[nb], es[nb]));
            }
            continue;
        }
        let (mut a, mut b) = (
            if i > 0 { zs[i - 1] } else { zs[i] },
            if i + 1 < n { zs[i + 1] } else { zs[i] },
        );
        // Follow a descent towards an infinite end outward until the energy rises.
        if i == 0 && lo == f64::NEG_INFINITY || i + 1 == n && hi == f64::INFINITY {
            let dir = if i == 0 { -1.0 } else { 1.0 };
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
        if i == 0 && n == 1 {
            out.push((zs[i], es[i]));
            continue;
        }
        a = a.max(lo);
        b = b.min(hi);
        let (xm, fm) = brent(line, a, b, zs[i], es[i], 1e-14 * ls)?;
        out.extend(finite_stand_in(line, xm, fm, lo, hi, ls)?);
    }
    out.sort_by(|a, b| a.1.total_cmp(&b.1));
    // Merge minima found twice.
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for m in out {
        if !merged
            .iter()
            .any(|q| (q.0 - m.0).abs() <= 1e-9 * (1.0 + q.0.abs()))
        {
            merged.push(m);
        }
    }
    Ok(merged)
}

/// Re-polishes minimisers whose peak is narrower than the search resolved them: Brent stops
/// within `1.5e-8·|m| + 1e-14·ls` of a minimiser, and at β = 1e60 the peak of `z^2` is 1e-30
/// wide, so the breakpoint put at `m` missed it and every node read ≈ 0 (log Z came back as
/// -2e9, honestly "not converged", but not the value). While `β (E − E_m)` at ten resolutions
/// from `m` exceeds 1, Brent runs again inside that bracket with a tolerance a thousand times
/// finer (at most 110 rounds: down to the abscissae f64 can tell apart, 1e-300 near 0). The
/// modes stay sorted by energy.
fn repolish_narrow(
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
fn finite_stand_in(
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
fn plateau_edge(
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

/// Refuses tails along which `exp(-βE)` does not decay fast enough to be integrable.
///
/// Returns `Some(reason)` for a borderline tail that may not converge.
fn probe_tails(
    line: &mut dyn Line,
    lo: f64,
    hi: f64,
    beta: f64,
    centre: f64,
    e_star: f64,
    ls: f64,
) -> Result<Option<String>, QuadError> {
    let axis = line.axis();
    let mut note = None;
    let s = ls.max(centre.abs());
    for (end, dir) in [(hi, 1.0), (lo, -1.0)] {
        if end.is_infinite() {
            let (r1, r2) = (super::PROBE_NEAR * s, super::PROBE_FAR * s);
            let q1 = beta * (line.energy(centre + dir * r1)? - e_star);
            let q2 = beta * (line.energy(centre + dir * r2)? - e_star);
            let mut further = |r: f64| -> Result<f64, QuadError> {
                let z = centre + dir * r * s;
                if !z.is_finite() || z.abs() > 1e300 {
                    return Ok(f64::NAN);
                }
                // A NaN this far out ends the probes instead of failing the integral.
                Ok(line.energy(z).map_or(f64::NAN, |e| beta * (e - e_star)))
            };
            if super::ray_decides_divergence(q1, q2, super::LINE_DIVERGES_AT, &mut further)? {
                return Err(QuadError::Diverges {
                    axis: Some(axis),
                    direction: super::direction_name(axis, dir > 0.0),
                });
            }
            if super::ray_grows_like_a_power(q1, q2) {
                continue;
            }
            if let Some(slope) = super::ray_slope(q1, q2).filter(|s| *s < 1.1) {
                note = Some(format!(
                    "exp(-βE) decays only like |z|^-{slope:.3} as z{} → {}inf: the tail may be truncated",
                    axis + 1,
                    if dir > 0.0 { "+" } else { "-" }
                ));
            }
        } else {
            // A finite end: refuse E → -inf fast enough to make exp(-βE) non-integrable.
            let width = (hi - lo).min(ls);
            let width = if width.is_finite() { width } else { ls };
            let p = |d: f64| end - dir * d;
            let q1 = beta * (line.energy(p(width * 1e-6))? - e_star);
            let q2 = beta * (line.energy(p(width * 1e-12))? - e_star);
            if q2 == f64::NEG_INFINITY || (q1 - q2) / 1e6f64.ln() >= 0.95 {
                return Err(QuadError::Diverges {
                    axis: Some(axis),
                    direction: format!(
                        "exp(-βE) is not integrable at z{} = {end} (the energy falls to -inf there)",
                        axis + 1
                    ),
                });
            }
        }
    }
    Ok(note)
}

/// Refuses a minimiser at which the energy falls to `-inf` fast enough to make `exp(-βE)`
/// non-integrable: a pole inside the domain (`-1/z^2`, `2*log|z|`), which the minimum search
/// finds as a point of very low energy and no quadrature rule can integrate.
///
/// On each side of `m` it measures the fall of `β E` over successive decades of distance
/// `d_k = 10^-k · d_0`, down to a hundred times the minimiser's resolution. The point is a
/// non-integrable pole when every decade's fall is at least `0.95 ln 10` (the integrand grows at
/// least like `|z − m|^-0.95`) and the falls do not shrink towards `m` (each at least 0.9 of the
/// one before): a logarithmic pole keeps them equal and a power pole makes them grow, while a
/// smooth minimum, however narrow, makes them shrink a hundredfold per decade and a cusp
/// `|z − m|^a` by `10^-a`. At least three decades are required, else nothing is concluded.
pub(crate) fn probe_interior_pole(
    line: &mut dyn Line,
    lo: f64,
    hi: f64,
    beta: f64,
    m: f64,
    ls: f64,
) -> Result<(), QuadError> {
    const DECADE_FALL: f64 = 0.95 * std::f64::consts::LN_10;
    // Brent's resolution of a minimiser (see `find_minima`), and room above it.
    let d_last = 100.0 * (1.5e-8 * m.abs() + 1e-14 * ls);
    let d_first = 1e-2 * ls;
    for dir in [-1.0, 1.0] {
        let room = if dir > 0.0 { hi - m } else { m - lo };
        let mut d = d_first.min(0.5 * room);
        if d.is_nan() || d <= 0.0 || d < 1e3 * d_last {
            continue;
        }
        let mut prev_q = beta * line.energy(m + dir * d)?;
        let mut prev_fall = f64::NAN;
        let mut decades = 0;
        let mut pole = true;
        while d * 0.1 >= d_last {
            d *= 0.1;
            let q = beta * line.energy(m + dir * d)?;
            // An energy that overflows to -inf on a whole neighbourhood (`-exp(1/|z|)`), not
            // at one point, falls without bound: exp(-βE) is infinite there.
            let fall = if q == f64::NEG_INFINITY {
                f64::INFINITY
            } else {
                prev_q - q
            };
            if fall.is_nan()
                || fall < DECADE_FALL
                || (prev_fall.is_finite() && fall < 0.9 * prev_fall)
            {
                pole = false;
                break;
            }
            prev_fall = fall;
            prev_q = q;
            decades += 1;
        }
        if pole && decades >= 3 {
            let axis = line.axis();
            return Err(QuadError::Diverges {
                axis: Some(axis),
                direction: format!(
                    "exp(-βE) is not integrable near z{} = {:.6e} (the energy falls to -inf there)",
                    axis + 1,
                    m
                ),
            });
        }
    }
    Ok(())
}

/// One interval of the adaptive partition; its sums live in [`Adaptive::data`].
#[derive(Clone, Copy)]
struct Seg {
    a: f64,
    b: f64,
    map: AxisMap,
    frozen: bool,
    /// Ends at which the integrand may not be analytic (bit 1: `a`, bit 2: `b`).
    rough: u8,
}

/// Max-heap key: priority, then index.
#[derive(PartialEq)]
struct HeapKey(f64, usize);
impl Eq for HeapKey {}
impl PartialOrd for HeapKey {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for HeapKey {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
    }
}

/// `exp(-q)` is exactly zero in f64 beyond this (the smallest subnormal is `exp(-744.4)`), so
/// the call, slow in libm's underflow path, is skipped.
const EXP_UNDERFLOW: f64 = 746.0;

/// Adaptive G10–K21 integration state for `w = exp(-β(E - E*))` with observables.
struct Adaptive<'l> {
    line: &'l mut dyn Line,
    beta: f64,
    e_star: f64,
    argmin: f64,
    n_obs: usize,
    /// Largest |E| at a node with weight above 1e-3 (for the rounding floor).
    e_scale: f64,
    segs: Vec<Seg>,
    /// Per segment, `3·n_comp` values: the estimates, errors and `∫|f|` of every component.
    /// One flat buffer, so refining a segment allocates nothing (the 1D call is
    /// allocation-bound otherwise).
    data: Vec<f64>,
    /// Scratch reused across segments: observables at the nodes, integrand per component.
    obs_buf: Vec<f64>,
    f_buf: Vec<[f64; NK]>,
    /// Set when a re-shift rescaled the stored segments (running sums are stale).
    rescaled: bool,
}

impl<'l> Adaptive<'l> {
    fn new(line: &'l mut dyn Line, beta: f64, e_star: f64, argmin: f64) -> Self {
        let n_obs = line.n_obs();
        Self {
            line,
            beta,
            e_star,
            argmin,
            n_obs,
            e_scale: e_star.abs(),
            segs: Vec::with_capacity(64),
            data: Vec::with_capacity(64 * 3 * (1 + n_obs)),
            obs_buf: vec![0.0; NK * n_obs],
            f_buf: vec![[0.0; NK]; 1 + n_obs],
            rescaled: false,
        }
    }

    fn n_comp(&self) -> usize {
        1 + self.n_obs
    }

    /// Evaluates the rule on `[a, b]` and stores it in `slot` (or a new slot); returns the slot.
    fn add_seg(
        &mut self,
        a: f64,
        b: f64,
        map: AxisMap,
        slot: Option<usize>,
        short: bool,
        rough: u8,
    ) -> Result<usize, QuadError> {
        let n = if short { gk::NK7 } else { NK };
        let mut us = [0.0; NK];
        if short {
            us[..gk::NK7].copy_from_slice(&gk::nodes7(a, b));
        } else {
            us = gk::nodes(a, b);
        }
        let mut zs = [0.0; NK];
        let mut jac = [0.0; NK];
        for i in 0..n {
            let (z, j) = map.apply(us[i]);
            zs[i] = z;
            jac[i] = j;
        }
        let no = self.n_obs;
        let mut es = [f64::INFINITY; NK];
        self.line
            .eval_many(&zs[..n], &mut es[..n], &mut self.obs_buf)?;
        // Streaming re-shift: a node below E* lowers the shift and rescales what is stored.
        let lowest = es
            .iter()
            .enumerate()
            .fold((0, f64::INFINITY), |acc, (i, &e)| {
                if e < acc.1 && e > f64::NEG_INFINITY {
                    (i, e)
                } else {
                    acc
                }
            });
        if lowest.1 < self.e_star {
            // Every drop is applied, however small: a stored segment left on the old shift is
            // off by the factor exp(-βΔ), and βΔ can reach 1e-7 at β = 1e6 from the Brent
            // tolerance alone (the old threshold of 1e-3 let that through).
            let factor = (-self.beta * (self.e_star - lowest.1)).exp();
            if factor < 1.0 {
                for v in &mut self.data {
                    *v *= factor;
                }
                self.rescaled = true;
            }
            self.e_star = lowest.1;
            self.argmin = zs[lowest.0];
        }
        let nc = self.n_comp();
        // A node exactly on a singular point (`log|z − c|` at `c`) has no finite integrand
        // value: it is left out and the segment's error made infinite, so that the segment is
        // split and the point becomes an end, where no Gauss–Kronrod node lies. Whether the
        // singularity is integrable was decided before (`probe_interior_pole`).
        let singular = es[..n].contains(&f64::NEG_INFINITY);
        for i in 0..n {
            let q = self.beta * (es[i] - self.e_star);
            let w = if es[i] == f64::INFINITY
                || es[i] == f64::NEG_INFINITY
                || jac[i] == 0.0
                || q > EXP_UNDERFLOW
            {
                0.0
            } else {
                (-q).exp() * jac[i]
            };
            if w.is_finite() && w > 1e-3 * jac[i] {
                self.e_scale = self.e_scale.max(es[i].abs());
            }
            self.f_buf[0][i] = if w.is_finite() { w } else { f64::MAX };
            for k in 0..no {
                self.f_buf[1 + k][i] = if w == 0.0 {
                    0.0
                } else {
                    w * self.obs_buf[i * no + k]
                };
            }
        }
        let za = map.apply(a).0;
        let zb = map.apply(b).0;
        let zw = (zb - za).abs();
        // Relative widths: a segment ending at 0 may shrink towards an endpoint singularity.
        let frozen = (zw.is_finite() && zw <= 64.0 * f64::EPSILON * za.abs().max(zb.abs()))
            || (b - a) <= 64.0 * f64::EPSILON * a.abs().max(b.abs())
            || zw < 1e-300;
        let seg = Seg {
            a,
            b,
            map,
            frozen,
            rough,
        };
        let j = match slot {
            Some(j) => {
                self.segs[j] = seg;
                j
            }
            None => {
                self.segs.push(seg);
                self.data.resize(self.data.len() + 3 * nc, 0.0);
                self.segs.len() - 1
            }
        };
        let half = 0.5 * (b - a);
        let base = 3 * nc * j;
        for k in 0..nc {
            let (r, e, ab) = if short {
                gk::rule7(&self.f_buf[k], half, rough == 0)
            } else {
                gk::rule(&self.f_buf[k], half, rough == 0)
            };
            self.data[base + k] = r;
            self.data[base + nc + k] = if e.is_finite() && !singular {
                e
            } else {
                f64::INFINITY
            };
            self.data[base + 2 * nc + k] = ab;
        }
        Ok(j)
    }

    /// Adds segment `j`'s sums to the running totals with sign `sign`.
    fn accumulate(&self, j: usize, sign: f64, est: &mut [f64], err: &mut [f64], abs: &mut [f64]) {
        let nc = self.n_comp();
        let d = &self.data[3 * nc * j..3 * nc * (j + 1)];
        for k in 0..nc {
            est[k] += sign * d[k];
            err[k] += sign * d[nc + k];
            abs[k] += sign * d[2 * nc + k];
        }
    }

    fn totals(&self) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let nc = self.n_comp();
        let (mut est, mut err, mut abs) = (vec![0.0; nc], vec![0.0; nc], vec![0.0; nc]);
        self.totals_into(&mut est, &mut err, &mut abs);
        (est, err, abs)
    }

    /// Exact sums over all segments, into existing buffers (no allocation in the loop).
    fn totals_into(&self, est: &mut [f64], err: &mut [f64], abs: &mut [f64]) {
        est.fill(0.0);
        err.fill(0.0);
        abs.fill(0.0);
        for j in 0..self.segs.len() {
            self.accumulate(j, 1.0, est, err, abs);
        }
    }

    /// Refinement priority of segment `j`: its error relative to the scale of each driving
    /// component.
    fn priority(&self, j: usize, i_tot: f64, abs: &[f64]) -> f64 {
        let nc = self.n_comp();
        let err = &self.data[3 * nc * j + nc..3 * nc * j + 2 * nc];
        let mut p = err[0] / i_tot.max(f64::MIN_POSITIVE);
        for k in 1..nc {
            let scale = obs_scale(&*self.line, k, abs);
            if scale > 0.0 && self.line.drives(k - 1) {
                p = p.max(err[k] / scale);
            }
        }
        p
    }
}

/// The scale of component `k` (observable `k - 1`) against which its error is judged, in
/// refinement priorities and in the stopping rule alike: `∫|g| w`, or the integral of the
/// observable the line names with [`Line::scale_of`].
fn obs_scale(line: &dyn Line, k: usize, abs: &[f64]) -> f64 {
    match line.scale_of(k - 1) {
        Some(j) => abs[k].max(abs.get(j + 1).copied().unwrap_or(0.0)),
        None => abs[k],
    }
}

/// Re-locates the minima of a neighbouring slice (`warm`) by Brent from a bracket of half a
/// local width around each, keeping their widths; `None` when any minimum left its bracket,
/// sits on an end, or two merged: the structure changed and the caller searches afresh.
fn polish(
    line: &mut dyn Line,
    lo: f64,
    hi: f64,
    warm: &[Mode],
    ls: f64,
) -> Result<Option<Vec<Mode>>, QuadError> {
    let w_min = warm
        .iter()
        .flat_map(|md| [md.w_left, md.w_right])
        .filter(|w| w.is_finite() && *w > 0.0)
        .fold(f64::INFINITY, f64::min);
    if warm.is_empty() || !w_min.is_finite() {
        return Ok(None);
    }
    let mut out: Vec<Mode> = Vec::with_capacity(warm.len());
    for md in warm {
        let w = md.w_left.min(md.w_right);
        let d = 0.5 * if w.is_finite() && w > 0.0 { w } else { w_min };
        let (a, b) = ((md.m - d).max(lo), (md.m + d).min(hi));
        if !(a < md.m && md.m < b) {
            return Ok(None);
        }
        let fm = line.energy(md.m)?;
        let fa = line.energy(a)?;
        let fb = line.energy(b)?;
        if !(fm.is_finite() && fm < fa && fm < fb) {
            return Ok(None);
        }
        // Tight, as in the search: a breakpoint a thousandth of a width off a kink (|z2 - 0.4 z1|)
        // left the kink inside a piece, whose estimate then missed half the error.
        let (x, fx) = brent(line, a, b, md.m, fm, 1e-14 * ls)?;
        if out.iter().any(|q| (q.m - x).abs() <= 0.5 * d) {
            return Ok(None);
        }
        out.push(Mode {
            m: x,
            em: fx,
            ..*md
        });
    }
    out.sort_by(|p, q| p.em.total_cmp(&q.em));
    Ok(Some(out))
}

/// What [`integrate_line`] integrates and to what accuracy: its arguments by name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineSpec<'a> {
    /// Lower end of the line (`-inf` allowed).
    pub lo: f64,
    /// Upper end of the line (`+inf` allowed).
    pub hi: f64,
    /// Inverse temperature of the weight `exp(-β E)`.
    pub beta: f64,
    /// Target error of `log Z`; the observables are driven to it relative to `∫ |g| w`.
    pub tol: f64,
    /// Extra tolerance relative to `|log Z|` (0 for none).
    pub rel_tol: f64,
    /// Evaluations this call may spend.
    pub budget: u64,
    /// Points where minima may lie, searched besides the grid.
    pub hints: &'a [f64],
    /// The length scale of the search grid.
    pub ls: f64,
    /// The modes of a neighbouring line (a slice of the nested 2D rule at a nearby outer
    /// coordinate): they replace the grid search and the width measurements when every one of
    /// its minima is found again within half a width.
    pub warm: Option<&'a [Mode]>,
}

/// Integrates `exp(-β E)` (with observables) over `[spec.lo, spec.hi]` (see [`LineSpec`]).
pub(crate) fn integrate_line(
    line: &mut dyn Line,
    spec: &LineSpec<'_>,
) -> Result<LineResult, QuadError> {
    let LineSpec {
        lo,
        hi,
        beta,
        tol,
        rel_tol,
        budget,
        hints,
        ls,
        warm,
    } = *spec;
    let start = line.evals();
    let polished = match warm {
        Some(w) => polish(line, lo, hi, w, ls)?,
        None => None,
    };
    let modes: Vec<Mode> = match polished {
        Some(p) => p,
        None => find_minima(line, lo, hi, hints, ls)?
            .into_iter()
            .map(|(m, em)| Mode {
                m,
                em,
                w_left: f64::NAN,
                w_right: f64::NAN,
            })
            .collect(),
    };
    let modes = repolish_narrow(line, lo, hi, beta, modes, ls)?;
    line.search_done();
    let Some(&Mode { m: z0, em: e0, .. }) = modes.first() else {
        // No finite minimum: the energy is +inf on the grid or falls towards an infinite end.
        let note = probe_tails(line, lo, hi, beta, 0.0, 0.0, ls)?;
        return Ok(LineResult {
            log_z: f64::NEG_INFINITY,
            rule_error: f64::INFINITY,
            rounding_floor: 0.0,
            e_star: f64::INFINITY,
            argmin: f64::NAN,
            converged: false,
            reason: Some(note.unwrap_or_else(|| {
                "no point of finite energy was found: the mass could not be located".into()
            })),
            obs_mean: vec![f64::NAN; line.n_obs()],
            obs_err: vec![f64::INFINITY; line.n_obs()],
            obs_abs: vec![f64::NAN; line.n_obs()],
            modes: Vec::new(),
        });
    };
    let tail_note = probe_tails(line, lo, hi, beta, z0, e0, ls)?;
    probe_interior_pole(line, lo, hi, beta, z0, ls)?;

    // Breakpoints: every significant minimiser (and finite end), and soft ones at
    // `SOFT_BREAKS` local widths on each side of each minimiser.
    let mut bps: Vec<f64> = Vec::new();
    // Ends of minima flat to f64 resolution (`plateau_edges`), added after the soft breakpoints
    // so that they do not count as minimisers there.
    let mut edges: Vec<f64> = Vec::new();
    // (position, local width, minimiser, β(E - E_m) there when known to be negligible).
    let mut soft: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut tail_left = ls;
    let mut tail_right = ls;
    let (mut leftmost, mut rightmost) = (f64::INFINITY, f64::NEG_INFINITY);
    // Nodes near a minimiser `m` are rounded to about ε|m|, which moves β(E - E*) by about
    // ε|m|/w on a peak of width w: a floor on the error of log Z that no refinement removes
    // (a peak of width 1e-3 at z = 25 gives about 5e-12).
    let mut abscissa_floor: f64 = 0.0;
    let mut used: Vec<Mode> = Vec::with_capacity(modes.len());
    for &md in &modes {
        let (m, em) = (md.m, md.em);
        if beta * (em - e0) > SIGNIFICANT {
            // Kept (without widths) so that a neighbouring slice follows it should it deepen.
            used.push(md);
            continue;
        }
        bps.push(m);
        let mut md = md;
        for dir in [-1.0, 1.0] {
            let limit = if dir > 0.0 { hi - m } else { m - lo };
            if limit <= 0.0 {
                continue;
            }
            let known = if dir > 0.0 { md.w_right } else { md.w_left };
            let w = if known.is_finite() && known > 0.0 {
                known.min(limit)
            } else {
                local_width(line, beta, m, em, dir, limit, ls)?
            };
            if dir > 0.0 {
                md.w_right = w;
            } else {
                md.w_left = w;
            }
            abscissa_floor = abscissa_floor.max(2.0 * f64::EPSILON * m.abs() / w);
            // This side is measured from the end of a flat minimum, if it has one.
            let (m, w) = match plateau_edge(line, m, em, dir, w, limit)? {
                Some((edge, e_edge)) => {
                    edges.push(edge);
                    let lim = if dir > 0.0 { hi - edge } else { edge - lo };
                    let w = local_width(line, beta, edge, e_edge.min(em), dir, lim, ls)?;
                    abscissa_floor = abscissa_floor.max(2.0 * f64::EPSILON * edge.abs() / w);
                    (edge, w)
                }
                None => (m, w),
            };
            let limit = if dir > 0.0 { hi - m } else { m - lo };
            let mut sb = SOFT_BREAKS;
            // β(E - E_m) at the far break, when it is known there.
            let mut q_far = f64::NAN;
            if sb[1] * w < limit {
                let q5 = beta * (line.energy(m + dir * sb[1] * w)? - em);
                q_far = q5;
                if q5 > FAR_Q && q5.is_finite() {
                    // β(E - E_m) ≈ (s/w)^p through (w, 1) and (5w, q5); measured again where
                    // it lands, since only a measured value may make a piece faint.
                    let p = q5.ln() / sb[1].ln();
                    sb[1] = FAR_Q.powf(1.0 / p).max(sb[0]);
                    q_far = beta * (line.energy(m + dir * sb[1] * w)? - em);
                }
            }
            for (i, k) in sb.into_iter().enumerate() {
                let b = m + dir * k * w;
                if b > lo && b < hi {
                    soft.push((b, w, m, if i == 1 { q_far } else { f64::NAN }));
                }
            }
            if dir < 0.0 && m < leftmost {
                leftmost = m;
                tail_left = sb[1] * w;
            }
            if dir > 0.0 && m > rightmost {
                rightmost = m;
                tail_right = sb[1] * w;
            }
        }
        used.push(md);
    }
    if lo.is_finite() {
        bps.push(lo);
    }
    if hi.is_finite() {
        bps.push(hi);
    }
    // A soft breakpoint within half a local width of another breakpoint would only cut a
    // sliver (21 evaluations for nothing): between two minima the width towards the other
    // one often lands ±2 widths right on it.
    // Nor does one beyond another minimiser: that side is the other minimum's to cut.
    let n_hard = bps.len();
    // Far breakpoints where the weight is negligible: even a piece beyond them missed
    // entirely would cost below e^-7 of the target.
    // (The absolute target alone: a relative one would only loosen this.)
    let faint_q = (1.0 / tol.max(1e-300)).ln() + NEGLIGIBLE_MARGIN;
    let mut faint: Vec<f64> = Vec::new();
    for (b, w, m, q) in soft {
        let beyond = bps[..n_hard]
            .iter()
            .any(|&c| c > m.min(b) && c < m.max(b) && (c - m).abs() > 0.0);
        if !beyond && bps.iter().all(|&c| (c - b).abs() >= 0.5 * w) {
            bps.push(b);
            if q >= faint_q {
                faint.push(b);
            }
        }
    }
    bps.extend_from_slice(&edges);
    bps.sort_by(f64::total_cmp);
    bps.dedup_by(|a, b| (*a - *b).abs() <= 4.0 * f64::EPSILON * a.abs().max(b.abs()));
    let negligible_at = |x: f64| x.is_infinite() || faint.contains(&x);

    // Minimisers and plateau ends: the energy may have a kink or a power |u|^p there, so the
    // pieces ending on them do not trust the analytic error heuristic (`gk::rule`'s `smooth`).
    let rough_at = |x: f64| edges.contains(&x) || used.iter().any(|md| md.m.total_cmp(&x).is_eq());
    let rough_of = |a: f64, b: f64| u8::from(rough_at(a)) | (u8::from(rough_at(b)) << 1);
    let mut ad = Adaptive::new(line, beta, e0, z0);
    // (a, b, map, short rule).
    let mut pieces: Vec<(f64, f64, AxisMap, bool)> = Vec::new();
    if lo == f64::NEG_INFINITY {
        pieces.push((
            0.0,
            1.0,
            AxisMap::Left {
                origin: bps[0],
                scale: tail_left.max(f64::MIN_POSITIVE),
            },
            negligible_at(bps[0]),
        ));
    }
    for w in bps.windows(2) {
        let short = negligible_at(w[0]) && negligible_at(w[1]);
        pieces.push((w[0], w[1], AxisMap::Linear, short));
    }
    if hi == f64::INFINITY {
        let o = bps[bps.len() - 1];
        pieces.push((
            0.0,
            1.0,
            AxisMap::Right {
                origin: o,
                scale: tail_right.max(f64::MIN_POSITIVE),
            },
            negligible_at(o),
        ));
    }
    for (a, b, map, short) in pieces {
        // A tail's `u = 0` end is its origin.
        let rough = match map {
            AxisMap::Linear => rough_of(a, b),
            AxisMap::Left { origin, .. } | AxisMap::Right { origin, .. } => {
                u8::from(rough_at(origin))
            }
        };
        ad.add_seg(a, b, map, None, short, rough)?;
    }

    let round_floor = |ad: &Adaptive<'_>, log_z: f64| {
        4.0 * f64::EPSILON * ad.beta * ad.e_scale.max(ad.e_star.abs())
            + 2.0 * f64::EPSILON * log_z.abs()
            + abscissa_floor
    };
    let mut converged = false;
    let mut reason = None;
    let (mut est, mut err, mut abs) = ad.totals();
    let mut heap = std::collections::BinaryHeap::new();
    for j in 0..ad.segs.len() {
        if !ad.segs[j].frozen {
            heap.push(HeapKey(ad.priority(j, est[0], &abs), j));
        }
    }
    let mut since = 0;
    loop {
        if ad.rescaled || since >= 1024 {
            ad.totals_into(&mut est, &mut err, &mut abs);
            ad.rescaled = false;
            since = 0;
        }
        let mut i_tot = est[0];
        let mut log_z = -beta * ad.e_star + i_tot.ln();
        let mut floor = round_floor(&ad, log_z);
        let conv =
            |est: &[f64], err: &[f64], abs: &[f64], log_z: f64, floor: f64, line: &dyn Line| {
                let tol = tol.max(rel_tol * log_z.abs());
                // Rounding noise of size `floor` cannot be integrated away: never chase below it.
                let target = (tol - floor).max(floor).max(0.1 * tol);
                let mut ok = est[0] > 0.0 && err[0] <= target * est[0];
                for k in 1..est.len() {
                    let scale = obs_scale(line, k, abs);
                    ok &= !line.drives(k - 1)
                        || err[k] <= target * scale.max(f64::MIN_POSITIVE)
                        || scale == 0.0;
                }
                ok
            };
        if conv(&est, &err, &abs, log_z, floor, &*ad.line) {
            // Confirm on exact sums before stopping.
            ad.totals_into(&mut est, &mut err, &mut abs);
            i_tot = est[0];
            log_z = -beta * ad.e_star + i_tot.ln();
            floor = round_floor(&ad, log_z);
            if conv(&est, &err, &abs, log_z, floor, &*ad.line) {
                converged = true;
                break;
            }
        }
        let Some(HeapKey(_, idx)) = heap.pop() else {
            reason = Some(format!(
                "the relative error {:.2e} of Z cannot be reduced further in f64",
                err[0] / i_tot
            ));
            break;
        };
        if ad.line.evals() - start + 30 > budget {
            reason = Some(format!(
                "evaluation budget exhausted with estimated relative error {:.2e} of Z",
                err[0] / i_tot
            ));
            break;
        }
        if crate::budgets::point_clock_expired() {
            reason = Some(crate::budgets::POINT_CLOCK_EXPIRED.to_string());
            break;
        }
        let Seg {
            a, b, map, rough, ..
        } = ad.segs[idx];
        ad.accumulate(idx, -1.0, &mut est, &mut err, &mut abs);
        let nc = ad.n_comp();
        ad.data[3 * nc * idx..3 * nc * (idx + 1)].fill(0.0);
        let mid = 0.5 * (a + b);
        // Each child is stored as soon as it is evaluated, so a re-shift triggered by the
        // second one also rescales the first.
        let l = ad.add_seg(a, mid, map, Some(idx), false, rough & 1)?;
        let r = ad.add_seg(mid, b, map, None, false, rough & 2)?;
        if ad.rescaled {
            ad.totals_into(&mut est, &mut err, &mut abs);
            ad.rescaled = false;
        } else {
            ad.accumulate(l, 1.0, &mut est, &mut err, &mut abs);
            ad.accumulate(r, 1.0, &mut est, &mut err, &mut abs);
        }
        for j in [l, r] {
            if !ad.segs[j].frozen {
                heap.push(HeapKey(ad.priority(j, est[0], &abs), j));
            }
        }
        since += 1;
    }
    ad.totals_into(&mut est, &mut err, &mut abs);
    let i_tot = est[0];
    let log_z = -beta * ad.e_star + i_tot.ln();
    let rel = err[0] / i_tot;
    let rule_error = if rel < 0.5 {
        -(1.0 - rel).ln()
    } else {
        f64::INFINITY
    };
    let floor = round_floor(&ad, log_z);
    let n_obs = ad.n_obs;
    let mut obs_mean = vec![0.0; n_obs];
    let mut obs_err = vec![0.0; n_obs];
    let mut obs_abs = vec![0.0; n_obs];
    for k in 0..n_obs {
        obs_mean[k] = est[1 + k] / i_tot;
        obs_abs[k] = abs[1 + k] / i_tot;
        obs_err[k] = err[1 + k] / i_tot + obs_mean[k].abs() * rel;
    }
    if !(i_tot > 0.0 && i_tot.is_finite()) {
        converged = false;
        reason = Some("the integral of exp(-β(E - E*)) is not positive and finite".into());
    }
    if converged && tail_note.is_some() {
        converged = false;
        reason = tail_note;
    }
    let (e_star, argmin) = (ad.e_star, ad.argmin);
    Ok(LineResult {
        log_z,
        rule_error,
        rounding_floor: floor,
        e_star,
        argmin,
        converged,
        reason,
        obs_mean,
        obs_err,
        obs_abs,
        modes: used,
    })
}

/// The energy of a one-variable [`Problem`], with the caller's observables.
pub(crate) struct ProblemLine<'p, 'a> {
    pub(crate) p: &'p Problem<'a>,
    pub(crate) obs: Option<Observables<'p>>,
    pub(crate) n_obs: usize,
}

impl Line for ProblemLine<'_, '_> {
    fn n_obs(&self) -> usize {
        self.n_obs
    }
    fn energy(&mut self, z: f64) -> Result<f64, QuadError> {
        self.p.eval(&[z])
    }
    fn eval_many(&mut self, zs: &[f64], e: &mut [f64], obs: &mut [f64]) -> Result<(), QuadError> {
        self.p.eval_batch(zs, e)?;
        if let Some(g) = self.obs {
            for (i, &z) in zs.iter().enumerate() {
                if e[i] < f64::INFINITY {
                    let pt = self.p.full_point(&[z]);
                    g(&pt, &mut obs[i * self.n_obs..(i + 1) * self.n_obs]);
                }
            }
        }
        Ok(())
    }
    fn evals(&self) -> u64 {
        self.p.count()
    }
    fn axis(&self) -> usize {
        self.p.cont[0]
    }
}

fn hints_1d(p: &Problem<'_>, opts: &QuadOptions) -> Vec<f64> {
    opts.hints.iter().map(|h| h[p.cont[0]]).collect()
}

/// Local minima of a one-variable problem, `(E, [z])`, sorted by energy.
pub(crate) fn minima_of_problem(
    p: &Problem<'_>,
    opts: &QuadOptions,
) -> Result<Vec<(f64, Vec<f64>)>, QuadError> {
    let mut line = ProblemLine {
        p,
        obs: None,
        n_obs: 0,
    };
    let (lo, hi) = p.bounds[0];
    let ls = opts.length_scale.unwrap_or(1.0);
    let mins = find_minima(&mut line, lo, hi, &hints_1d(p, opts), ls)?;
    if mins.is_empty() {
        // The energy falls towards an infinite end (or is +inf everywhere searched).
        let axis = p.cont[0];
        let up = line.energy(hi.min(1e300))?;
        let down = line.energy(lo.max(-1e300))?;
        if up < down {
            return Err(QuadError::Diverges {
                axis: Some(axis),
                direction: format!("the energy is unbounded below as z{} → +inf", axis + 1),
            });
        }
        if down < f64::INFINITY {
            return Err(QuadError::Diverges {
                axis: Some(axis),
                direction: format!("the energy is unbounded below as z{} → -inf", axis + 1),
            });
        }
    }
    Ok(mins.into_iter().map(|(z, e)| (e, vec![z])).collect())
}

/// `log Z` (and observables) of a one-variable problem.
pub(crate) fn integrate_problem(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
) -> Result<PartResult, QuadError> {
    let (beta, tol, budget, opts) = (spec.beta, spec.tol, spec.budget, spec.opts);
    let mut line = ProblemLine {
        p,
        obs: spec.obs,
        n_obs: spec.n_obs,
    };
    let (lo, hi) = p.bounds[0];
    let ls = opts.length_scale.unwrap_or(1.0);
    let hints = hints_1d(p, opts);
    // The 1D default also allows 1e-12 relative to |log Z|.
    let rel = if opts.abs_tol.is_none() { 1e-12 } else { 0.0 };
    let r = integrate_line(
        &mut line,
        &LineSpec {
            lo,
            hi,
            beta,
            tol,
            rel_tol: rel,
            budget,
            hints: &hints,
            ls,
            warm: None,
        },
    )?;
    Ok(PartResult {
        minima: r.modes.iter().map(|m| m.m).collect(),
        log_z: r.log_z,
        abs_error: r.rule_error + r.rounding_floor,
        min_energy: r.e_star,
        argmin: p.full_point(&[r.argmin]),
        converged: r.converged,
        reason: r.reason,
        rounding_floor: r.rounding_floor,
        laplace: None,
        obs: r.obs_mean,
        obs_err: r.obs_err,
        obs_abs: r.obs_abs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `exp(-β (z - 0.3)²)` as a bare [`Line`].
    struct Parabola {
        n: u64,
    }

    impl Line for Parabola {
        fn n_obs(&self) -> usize {
            0
        }
        fn energy(&mut self, z: f64) -> Result<f64, QuadError> {
            self.n += 1;
            Ok((z - 0.3) * (z - 0.3))
        }
        fn eval_many(&mut self, zs: &[f64], e: &mut [f64], _: &mut [f64]) -> Result<(), QuadError> {
            for (o, &z) in e.iter_mut().zip(zs) {
                *o = self.energy(z)?;
            }
            Ok(())
        }
        fn evals(&self) -> u64 {
            self.n
        }
        fn axis(&self) -> usize {
            0
        }
    }

    /// A shift found slightly too high (here by 1e-4/β, the kind of miss a minimiser located
    /// to 1e-8 gives at large β) is lowered when a later segment's node beats it; segments
    /// stored before must be rescaled too, however small the drop, or Z is off by that factor.
    #[test]
    fn small_reshifts_rescale_stored_segments() {
        let beta: f64 = 1e6;
        let width = 1.0 / beta.sqrt();
        let mut line = Parabola { n: 0 };
        let mut ad = Adaptive::new(&mut line, beta, 1e-4 / beta, 0.3);
        // The segments away from the minimum first, the one holding it last.
        let edges: Vec<f64> = (0..=9)
            .map(|k| 0.3 + width * (f64::from(k) - 4.5))
            .collect();
        let mut order: Vec<usize> = (0..9).collect();
        order.sort_by_key(|&k| usize::from(k == 4));
        for k in order {
            ad.add_seg(edges[k], edges[k + 1], AxisMap::Linear, None, false, 0)
                .expect("finite energy");
        }
        let (est, err, _) = ad.totals();
        let log_z = -beta * ad.e_star + est[0].ln();
        // ∫ over ±4.5 widths of exp(-β(z - 0.3)²) = √(π/β)·erf(4.5).
        let truth =
            (std::f64::consts::PI / beta).sqrt().ln() + (-statrs::function::erf::erfc(4.5)).ln_1p();
        let tol = err[0] / est[0] + 1e-12;
        assert!(
            (log_z - truth).abs() <= tol,
            "log Z {log_z} vs {truth}: error {:e} > {tol:e}",
            (log_z - truth).abs()
        );
    }
}
