//! The globally adaptive Gauss–Kronrod G10–K21 rule of the 1D integrator: segments in a heap
//! keyed by their error, vector-valued sums, and the polish of the last segments.

use super::*;

/// One interval of the adaptive partition; its sums live in [`Adaptive::data`].
#[derive(Clone, Copy)]
pub(super) struct Seg {
    pub(super) a: f64,
    pub(super) b: f64,
    pub(super) map: AxisMap,
    pub(super) frozen: bool,
    /// Ends at which the integrand may not be analytic (bit 1: `a`, bit 2: `b`).
    pub(super) rough: u8,
    /// At each end that was a split's midpoint, the energy there and the map's Jacobian (NaN
    /// where unknown), for [`Adaptive::check_ends`].
    pub(super) ends: [(f64, f64); 2],
}

/// Max-heap key: priority, then index.
#[derive(PartialEq)]
pub(super) struct HeapKey(pub(super) f64, pub(super) usize);
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

/// Smallest discrepancy, relative to the integrand, that [`Adaptive::check_ends`] takes for
/// a jump (a jump of the energy by 1e-3/β).
const JUMP_GAP: f64 = 1e-3;

/// `exp(-q)` is exactly zero in f64 beyond this (the smallest subnormal is `exp(-744.4)`), so
/// the call, slow in libm's underflow path, is skipped.
pub(super) const EXP_UNDERFLOW: f64 = 746.0;

/// Adaptive G10–K21 integration state for `w = exp(-β(E - E*))` with observables.
pub(super) struct Adaptive<'l> {
    pub(super) line: &'l mut dyn Line,
    pub(super) beta: f64,
    pub(super) e_star: f64,
    pub(super) argmin: f64,
    pub(super) n_obs: usize,
    /// Largest |E| at a node with weight above 1e-3 (for the rounding floor).
    pub(super) e_scale: f64,
    pub(super) segs: Vec<Seg>,
    /// Per segment, `3·n_comp` values: the estimates, errors and `∫|f|` of every component.
    /// One flat buffer, so refining a segment allocates nothing (the 1D call is
    /// allocation-bound otherwise).
    pub(super) data: Vec<f64>,
    /// Scratch reused across segments: observables at the nodes, integrand per component.
    pub(super) obs_buf: Vec<f64>,
    pub(super) f_buf: Vec<[f64; NK]>,
    /// Set when a re-shift rescaled the stored segments (running sums are stale).
    pub(super) rescaled: bool,
}

impl<'l> Adaptive<'l> {
    pub(super) fn new(line: &'l mut dyn Line, beta: f64, e_star: f64, argmin: f64) -> Self {
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

    pub(super) fn n_comp(&self) -> usize {
        1 + self.n_obs
    }

    /// Evaluates the rule on `[a, b]` and stores it in `slot` (or a new slot); returns the slot.
    pub(super) fn add_seg(
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
        // An end map approaches an integrable singularity, where E falls without bound but
        // the weight times the Jacobian does not grow: its nodes neither move the shift (the
        // rest of the line would underflow against it) nor are weighed apart from their
        // Jacobian (`exp(-q)` alone overflows there).
        let end_map = matches!(map, AxisMap::EndLow { .. } | AxisMap::EndHigh { .. });
        // Streaming re-shift: a node below E* lowers the shift and rescales what is stored.
        let lowest =
            es.iter()
                .enumerate()
                .filter(|_| !end_map)
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
            // `q` less the log of the Jacobian on an end map (see above).
            let q = if end_map && jac[i] > 0.0 {
                q - jac[i].ln()
            } else {
                q
            };
            let jac_i = if end_map { 1.0 } else { jac[i] };
            let w = if es[i] == f64::INFINITY
                || es[i] == f64::NEG_INFINITY
                || jac[i] == 0.0
                || q > EXP_UNDERFLOW
            {
                0.0
            } else {
                (-q).exp() * jac_i
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
            ends: [(f64::NAN, f64::NAN); 2],
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

    /// The integrand (component 0) of the last segment added at its three nodes nearest `a`
    /// and its three nearest `b`, nearest first.
    pub(super) fn end_nodes(&self) -> [f64; 6] {
        let f = &self.f_buf[0];
        [f[1], f[3], f[5], f[2], f[4], f[6]]
    }

    /// After a split at `mid` into `l` and `r` (whose [`Adaptive::end_nodes`] were `l_ends`
    /// and `r_ends`; the parent's ends were `parent_ends`): the integrand at each child's ends
    /// that were midpoints against the child's extrapolation to them from its three nodes
    /// nearest each. A jump of the energy between an end and a child's nearest node
    /// (`sign(z − c)` beside a mode) lies where no node of that child sees it: its rule's
    /// error estimate reads a smooth integrand while the sliver between the end and that node
    /// carries the jump. The child's error is raised to the discrepancy times the sliver's
    /// length; at the next split the discrepancy is measured again on the halved child, so a
    /// jump is followed as its sliver halves while a steep smooth integrand, better
    /// extrapolated on the shorter child, drops out. A Gaussian 1.5 wide with
    /// `-3.50·(1 + sign(z − b))` at 0.41 widths left of its centre claimed ±8.8e-11 and was
    /// 2.1e-5 off; one 2.7 wide with a step of 1.9 claimed ±6.6e-12 and was 1.0e-4 off
    /// (`quad::status_tests::a_jump_beside_a_mode_is_not_hidden_between_an_end_and_a_node`).
    /// One evaluation a split.
    pub(super) fn check_ends(
        &mut self,
        (a, mid, b): (f64, f64, f64),
        map: AxisMap,
        (l, r): (usize, usize),
        (l_ends, r_ends): ([f64; 6], [f64; 6]),
        parent_ends: [(f64, f64); 2],
    ) -> Result<(), QuadError> {
        let (zm, jac) = map.apply(mid);
        if !(zm.is_finite() && jac > 0.0 && jac.is_finite()) {
            return Ok(());
        }
        let e_mid = self.line.energy(zm)?;
        let weight = |(e, jac): (f64, f64)| {
            let q = self.beta * (e - self.e_star);
            if e.is_nan() || jac.is_nan() {
                f64::NAN
            } else if e == f64::INFINITY || q > EXP_UNDERFLOW {
                0.0
            } else {
                (-q).exp() * jac
            }
        };
        // Quadratic extrapolation from the nodes at x0, x1, x2 (of [-1, 1]) to the end at 1:
        // off by a third-order term on a smooth integrand, by the jump across one.
        let (x0, x1, x2) = (gk::XGK21[0], gk::XGK21[1], gk::XGK21[2]);
        let lag = |xi: f64, xj: f64, xk: f64| (1.0 - xj) * (1.0 - xk) / ((xi - xj) * (xi - xk));
        let (c0, c1, c2) = (lag(x0, x1, x2), lag(x1, x0, x2), lag(x2, x0, x1));
        let gap = |f_end: f64, f: [f64; 3]| {
            let p = c0 * f[0] + c1 * f[1] + c2 * f[2];
            let d = (f_end - p).abs();
            // A jump moves the integrand by a factor `e^{-βΔE}`; what a smooth integrand's
            // extrapolation misses is far below `JUMP_GAP` of it.
            if d.is_finite() && d > JUMP_GAP * f_end.abs().max(p.abs()) {
                d
            } else {
                0.0
            }
        };
        let at_mid = (e_mid, jac);
        let (fa, fm, fb) = (
            weight(parent_ends[0]),
            weight(at_mid),
            weight(parent_ends[1]),
        );
        let nc = self.n_comp();
        let children = [
            (
                l,
                [parent_ends[0], at_mid],
                gap(fa, [l_ends[0], l_ends[1], l_ends[2]])
                    + gap(fm, [l_ends[3], l_ends[4], l_ends[5]]),
                mid - a,
            ),
            (
                r,
                [at_mid, parent_ends[1]],
                gap(fm, [r_ends[0], r_ends[1], r_ends[2]])
                    + gap(fb, [r_ends[3], r_ends[4], r_ends[5]]),
                b - mid,
            ),
        ];
        for (j, ends, jump, len) in children {
            self.segs[j].ends = ends;
            let sliver = 0.5 * len * (1.0 - x0);
            let k = 3 * nc * j + nc;
            self.data[k] = self.data[k].max(jump * sliver);
        }
        Ok(())
    }

    /// Adds segment `j`'s sums to the running totals with sign `sign`.
    pub(super) fn accumulate(
        &self,
        j: usize,
        sign: f64,
        est: &mut [f64],
        err: &mut [f64],
        abs: &mut [f64],
    ) {
        let nc = self.n_comp();
        let d = &self.data[3 * nc * j..3 * nc * (j + 1)];
        for k in 0..nc {
            est[k] += sign * d[k];
            err[k] += sign * d[nc + k];
            abs[k] += sign * d[2 * nc + k];
        }
    }

    pub(super) fn totals(&self) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let nc = self.n_comp();
        let (mut est, mut err, mut abs) = (vec![0.0; nc], vec![0.0; nc], vec![0.0; nc]);
        self.totals_into(&mut est, &mut err, &mut abs);
        (est, err, abs)
    }

    /// Exact sums over all segments, into existing buffers (no allocation in the loop).
    pub(super) fn totals_into(&self, est: &mut [f64], err: &mut [f64], abs: &mut [f64]) {
        est.fill(0.0);
        err.fill(0.0);
        abs.fill(0.0);
        for j in 0..self.segs.len() {
            self.accumulate(j, 1.0, est, err, abs);
        }
    }

    /// Refinement priority of segment `j`: its error relative to the scale of each driving
    /// component.
    pub(super) fn priority(&self, j: usize, i_tot: f64, abs: &[f64]) -> f64 {
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
pub(super) fn obs_scale(line: &dyn Line, k: usize, abs: &[f64]) -> f64 {
    match line.scale_of(k - 1) {
        Some(j) => abs[k].max(abs.get(j + 1).copied().unwrap_or(0.0)),
        None => abs[k],
    }
}

/// Re-locates the minima of a neighbouring slice (`warm`) by Brent from a bracket of half a
/// local width around each, keeping their widths; `None` when any minimum left its bracket,
/// sits on an end, or two merged: the structure changed and the caller searches afresh.
pub(super) fn polish(
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
