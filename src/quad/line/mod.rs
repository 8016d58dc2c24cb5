//! One-dimensional log-space quadrature: minima, local widths, divergence probes and adaptive G10–K21.

use super::gk::{self, AxisMap, NK};
use super::{Observables, PartResult, PartSpec, Problem, QuadError, QuadOptions};

mod adaptive;
mod features;
mod probes;
mod search;
use adaptive::*;
pub(crate) use features::Feature;
use features::feature_breaks;
pub(crate) use probes::*;
pub(crate) use search::*;

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
    /// A length below which the tail probes ([`PROBE_NEAR`](super::PROBE_NEAR) and beyond, in
    /// units of the larger of it, the length scale and the minimiser's distance from 0) do not
    /// look: a slice of a 2D energy at `z1` sees `z1`'s own scale first (`log(1 + z1² + z2²)`
    /// is flat in `z2` out to about `|z1|`).
    fn probe_scale(&self) -> f64 {
        0.0
    }
    /// Whether a NaN at a far tail probe may be an artefact of this line rather than an
    /// energy without a value: a slice of a 2D energy at `z1 = 0` reads `z1²·exp(-z2)` as
    /// `0·∞` at `z2 = -1e8`, where the energy is finite (the problem's own ray probes, which
    /// step off such lines, decided its divergence). Such a tail is then not probed.
    fn far_nan_is_artefact(&self) -> bool {
        false
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
use super::SIGNIFICANT;

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
    /// Whether a grid minimum next to a lower hint is still refined (`find_minima`): a
    /// problem's own line, where a hint may sit on a narrow mode beside a broad one; not the
    /// nested rule's lines, whose hints are the modes of their neighbours (every slice would
    /// refine each mode twice).
    pub grid_minima_beside_hints: bool,
    /// The length scale of the search grid.
    pub ls: f64,
    /// The modes of a neighbouring line (a slice of the nested 2D rule at a nearby outer
    /// coordinate): they replace the grid search and the width measurements when every one of
    /// its minima is found again within half a width.
    pub warm: Option<&'a [Mode]>,
    /// Narrow features the line may hold without a minimum of its own (for a slice of the
    /// nested rule, where the ridge of a located 2D minimum crosses it): each not already
    /// beside a minimiser, not negligible and present gets breakpoints at its centre and
    /// `FEATURE_BREAKS` widths each side ([`feature_breaks`]).
    pub features: &'a [Feature],
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
        grid_minima_beside_hints,
        ls,
        warm,
        features: _,
    } = *spec;
    let start = line.evals();
    let polished = match warm {
        Some(w) => polish(line, lo, hi, w, ls)?,
        None => None,
    };
    let modes: Vec<Mode> = match polished {
        Some(p) => p,
        None => find_minima(line, lo, hi, hints, grid_minima_beside_hints, ls)?
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
        let (note, _, _) = probe_tails(line, lo, hi, beta, 0.0, 0.0, ls)?;
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
    let (tail_note, [heavy_right, heavy_left], [end_hi, end_lo]) =
        probe_tails(line, lo, hi, beta, z0, e0, ls)?;
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
    // Narrow cores of minima whose level width is a broad slope's (`narrow_core`).
    let mut cores: Vec<Feature> = Vec::new();
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
                // β(E - E_m) ≈ (s/w)^p through (w, 1) and (5w, q5); measured again where it
                // lands, since only a measured value may make a piece faint. Pulled in past
                // FAR_Q; pushed out while the weight there is above the target, else the
                // piece beyond starts where the weight still counts and may be far longer than
                // the fall it holds (`z` on [0, 1] at β = 2e4: no node of [5w, 1] saw the 0.4 %
                // of Z next to its end; a parabola, at e^-25 there, keeps its breakpoints). Towards
                // an infinite end the tail map, scaled to the break, follows the fall instead.
                let p = q5.ln() / sb[1].ln();
                // A rise slower than linear (`p < 1`) leaves about `e^-q·q^(1/p-1)/p` of the
                // peak's mass beyond the point where `β(E - E_m)` = q: aim that at e^-FAR_Q, not
                // q itself (`26·z^0.433` at β = 18.6: 1.25e-9 of Z lay beyond q = 24.6, on a
                // piece 300 times longer than where it lay, and was lost).
                let k = if p > 0.0 && p < 1.0 {
                    let mut qt = FAR_Q;
                    for _ in 0..4 {
                        qt = FAR_Q + (1.0 / p - 1.0) * qt.ln() - p.ln();
                    }
                    sb[1] * (qt / q5).powf(1.0 / p)
                } else {
                    FAR_Q.powf(1.0 / p)
                }
                .max(sb[0]);
                let low = q5 > 1.0
                    && q5 < (1.0 / tol.max(1e-300)).ln()
                    && limit.is_finite()
                    && k * w < limit;
                let moves = (q5 > FAR_Q || low) && q5.is_finite();
                if moves && p > 0.0 && k.is_finite() {
                    sb[1] = k;
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
        if md.w_left.is_finite() && md.w_right.is_finite() {
            let w = md.w_left.min(md.w_right);
            if let Some(width) = narrow_core(line, beta, (md.m, md.em), w, (lo, hi))? {
                cores.push(Feature {
                    centre: md.m,
                    width,
                    energy: md.em,
                });
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
    bps.extend(feature_breaks(line, spec, &cores, &used, e0, faint_q)?);
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
    // The share of an end map's piece beyond its last node (`end_map_cut`), a part of Z at most.
    let mut end_cut: f64 = 0.0;
    if lo == f64::NEG_INFINITY {
        let (origin, scale) = (bps[0], tail_left.max(f64::MIN_POSITIVE));
        pieces.push((
            0.0,
            1.0,
            if heavy_left {
                AxisMap::LeftExp { origin, scale }
            } else {
                AxisMap::Left { origin, scale }
            },
            negligible_at(bps[0]),
        ));
    }
    for w in bps.windows(2) {
        let short = negligible_at(w[0]) && negligible_at(w[1]);
        // A piece ending on an integrable singularity of the weight at a finite end goes
        // through the exponential end map (the end itself, where the energy is not finite, is
        // only approached): when no mass is lost to rounding there (the end is 0).
        let at = |x: f64, y: f64| x.total_cmp(&y).is_eq();
        if at(w[0], lo) && !end_lo.is_nan() && at(lo.abs(), 0.0) {
            let len = w[1] - lo;
            end_cut = end_cut.max(end_map_cut(end_lo, len));
            pieces.push((0.0, 1.0, AxisMap::EndLow { end: lo, len }, short));
        } else if at(w[1], hi) && !end_hi.is_nan() && at(hi.abs(), 0.0) {
            let len = hi - w[0];
            end_cut = end_cut.max(end_map_cut(end_hi, len));
            pieces.push((0.0, 1.0, AxisMap::EndHigh { end: hi, len }, short));
        } else {
            pieces.push((w[0], w[1], AxisMap::Linear, short));
        }
    }
    if hi == f64::INFINITY {
        let (origin, scale) = (bps[bps.len() - 1], tail_right.max(f64::MIN_POSITIVE));
        pieces.push((
            0.0,
            1.0,
            if heavy_right {
                AxisMap::RightExp { origin, scale }
            } else {
                AxisMap::Right { origin, scale }
            },
            negligible_at(origin),
        ));
    }
    for (a, b, map, short) in pieces {
        // A tail's `u = 0` end is its origin.
        let rough = match map {
            AxisMap::Linear => rough_of(a, b),
            AxisMap::Left { origin, .. }
            | AxisMap::Right { origin, .. }
            | AxisMap::LeftExp { origin, .. }
            | AxisMap::RightExp { origin, .. } => u8::from(rough_at(origin)),
            // The `u = 0` end of an end map is the breakpoint away from the end.
            AxisMap::EndLow { end, len } => u8::from(rough_at(end + len)),
            AxisMap::EndHigh { end, len } => u8::from(rough_at(end - len)),
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
            a,
            b,
            map,
            rough,
            ends,
            ..
        } = ad.segs[idx];
        ad.accumulate(idx, -1.0, &mut est, &mut err, &mut abs);
        let nc = ad.n_comp();
        ad.data[3 * nc * idx..3 * nc * (idx + 1)].fill(0.0);
        let mid = 0.5 * (a + b);
        // Each child is stored as soon as it is evaluated, so a re-shift triggered by the
        // second one also rescales the first.
        let l = ad.add_seg(a, mid, map, Some(idx), false, rough & 1)?;
        let l_ends = ad.end_nodes();
        let r = ad.add_seg(mid, b, map, None, false, rough & 2)?;
        let r_ends = ad.end_nodes();
        // (After a re-shift the two children's node values are on different scales; an end
        // map's integrand is weighed apart from its Jacobian.)
        let end_map = matches!(map, AxisMap::EndLow { .. } | AxisMap::EndHigh { .. });
        if !ad.rescaled && !end_map {
            ad.check_ends((a, mid, b), map, (l, r), (l_ends, r_ends), ends)?;
        }
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
    } + end_cut.ln_1p();
    if converged && end_cut > 0.0 && rule_error > tol.max(rel_tol * log_z.abs()) {
        converged = false;
        reason = Some(format!(
            "the weight is singular like d^-c at a finite end with c close to 1: up to {end_cut:.1e} \
             of its mass lies closer to the end than f64 can resolve"
        ));
    }
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

/// The share of the mass of an end-map piece of length `len` (a weight singular like `d^-c`
/// at the end) that lies beyond its last node: the integrand in `v` decays like
/// `e^{-(1-c)v}`, and `v` reaches [`gk::EXP_MAP_MAX_V`] or the smallest positive double.
fn end_map_cut(c: f64, len: f64) -> f64 {
    let reach = gk::EXP_MAP_MAX_V.min((len / 4.9e-324).ln());
    (-(1.0 - c) * reach).exp()
}

/// The 1D tolerance relative to `|log Z|` besides the absolute one: 1e-12 with the default
/// tolerance, none when the caller set one.
pub(crate) fn rel_tol_1d(opts: &QuadOptions) -> f64 {
    if opts.abs_tol.is_none() { 1e-12 } else { 0.0 }
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

/// The caller's hints, then the minimisers of a mixture's components (`Energy::components`):
/// each followed downhill (`descend_from`) from the lowest of a grid of the line.
fn hints_1d(p: &Problem<'_>, opts: &QuadOptions) -> Result<Vec<f64>, QuadError> {
    let mut hints: Vec<f64> = opts.hints.iter().map(|h| h[p.cont[0]]).collect();
    let (lo, hi) = p.bounds[0];
    let ls = opts.length_scale.unwrap_or(1.0);
    for c in p.energy.components() {
        let q = p.with_energy(c);
        let mut line = ProblemLine {
            p: &q,
            obs: None,
            n_obs: 0,
        };
        // A component without a finite value on the grid, or with a NaN, seeds nothing.
        let best = (0..COMPONENT_GRID)
            .map(|i| search::grid_point(lo, hi, ls, (i as f64 + 0.5) / COMPONENT_GRID as f64))
            .filter_map(|z| q.eval(&[z]).ok().filter(|e| e.is_finite()).map(|e| (z, e)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((z, e)) = best {
            if let Ok(Some((m, _))) = descend_from(&mut line, z, e, lo, hi, ls) {
                hints.push(m);
            }
        }
        p.add_evals(q.count());
    }
    Ok(hints)
}

/// Grid points a 1D mixture's components are searched from (each from its lowest).
const COMPONENT_GRID: usize = 41;

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
    let mins = find_minima(&mut line, lo, hi, &hints_1d(p, opts)?, true, ls)?;
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
    let hints = hints_1d(p, opts)?;
    // The 1D default also allows 1e-12 relative to |log Z|.
    let rel = rel_tol_1d(opts);
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
            grid_minima_beside_hints: true,
            ls,
            warm: None,
            features: &[],
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
mod tests;
