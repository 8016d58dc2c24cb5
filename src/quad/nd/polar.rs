//! Rings in polar coordinates: when the lowest minima of a 2D energy over the plane lie on a
//! circle joined by a valley at their level (`(x² + y² − 1)²`), the nested rule is taken about
//! the circle's centre, slices along rays (`r`, weight `r·exp(-βE)`) and the angle outside.
//! The slices' free energy is then periodic and smooth in the angle (constant on a perfect
//! ring), and trapezoidal sums converge geometrically: two of them on node sets that share no
//! node (the second shifted by a golden fraction of the spacing) must agree, and so must the
//! last two levels of the doubling, before the result is converged. Otherwise the Cartesian
//! nested rule takes over.
//!
//! The Cartesian rule's outer line cost most of a ring's evaluations: two modes per slice
//! merging at `|z1| = 1`, and a 1D search of the outer line that is a full integral per point.

use super::nested::nested_line;
use super::*;
use crate::energy::Energy;

/// The energy of a 2D problem in polar coordinates `(θ, r)` about `centre`, with the Jacobian:
/// `E(c + r(cos θ, sin θ)) − ln(r)/β`, so that `exp(-βE_polar) = r·exp(-βE)`.
struct PolarEnergy<'p, 'a> {
    p: &'p Problem<'a>,
    centre: [f64; 2],
    beta: f64,
}

impl PolarEnergy<'_, '_> {
    /// The Cartesian point of the polar one `(θ, r)`.
    fn cartesian(&self, t: f64, r: f64) -> [f64; 2] {
        let (s, c) = t.sin_cos();
        [self.centre[0] + r * c, self.centre[1] + r * s]
    }
}

impl Energy for PolarEnergy<'_, '_> {
    fn dim(&self) -> usize {
        self.p.template.len()
    }
    fn eval(&self, z: &[f64]) -> f64 {
        let (i, j) = (self.p.cont[0], self.p.cont[1]);
        let (t, r) = (z[i], z[j]);
        // The origin (and anything below it) carries no weight: `r = 0` is a null set.
        if r.is_nan() || t.is_nan() {
            return f64::NAN;
        }
        if r <= 0.0 {
            return f64::INFINITY;
        }
        let x = self.cartesian(t, r);
        let mut buf = [0.0; 16];
        let e = if z.len() <= buf.len() {
            let q = &mut buf[..z.len()];
            q.copy_from_slice(z);
            q[i] = x[0];
            q[j] = x[1];
            self.p.energy.eval(q)
        } else {
            let mut q = z.to_vec();
            q[i] = x[0];
            q[j] = x[1];
            self.p.energy.eval(&q)
        };
        e - r.ln() / self.beta
    }
    /// The points mapped at once and passed to the energy's own batch (a compiled program
    /// evaluates a batch several times faster than point by point).
    fn eval_batch(&self, points: &[f64], out: &mut [f64]) {
        let d = self.dim();
        let (i, j) = (self.p.cont[0], self.p.cont[1]);
        let n = out.len() * d;
        let mut buf = [0.0; 128];
        let mut heap = Vec::new();
        let q = if n <= buf.len() {
            &mut buf[..n]
        } else {
            heap.resize(n, 0.0);
            &mut heap[..]
        };
        q.copy_from_slice(&points[..n]);
        // A slice's points share their angle: its sine and cosine are taken once.
        let mut last = (f64::NAN, 0.0, 0.0);
        for z in q.chunks_exact_mut(d) {
            let (t, r) = (z[i], z[j].max(0.0));
            if t.to_bits() != last.0.to_bits() {
                let (s, c) = t.sin_cos();
                last = (t, s, c);
            }
            z[i] = self.centre[0] + r * last.2;
            z[j] = self.centre[1] + r * last.1;
        }
        self.p.energy.eval_batch(q, out);
        for (k, e) in out.iter_mut().enumerate() {
            let (t, r) = (points[k * d + i], points[k * d + j]);
            *e = if r.is_nan() || t.is_nan() {
                f64::NAN
            } else if r <= 0.0 {
                f64::INFINITY
            } else {
                *e - r.ln() / self.beta
            };
        }
    }
}

/// The centre of a ring of lowest minima, when there is one: at least four distinct minima
/// within `0.1/β` of the lowest, on one circle (each within a hundredth of its radius of it,
/// by an algebraic least-squares fit), and joined by a valley all the way round (the energy
/// at [`RING_PROBES`] points of the circle within `2/β` of the lowest): four separate wells
/// at the corners of a square are no ring.
pub(super) fn ring_centre(
    p: &Problem<'_>,
    beta: f64,
    mins: &[(f64, Vec<f64>)],
    ls: f64,
) -> Option<[f64; 2]> {
    let e0 = mins.first()?.0;
    let mut pts: Vec<[f64; 2]> = Vec::new();
    for (e, x) in mins {
        if beta * (e - e0) > 0.1 || x.len() != 2 {
            continue;
        }
        let x = [x[0], x[1]];
        if pts
            .iter()
            .all(|q| ((q[0] - x[0]).powi(2) + (q[1] - x[1]).powi(2)).sqrt() > 1e-6 * ls)
        {
            pts.push(x);
        }
    }
    if pts.len() < 4 {
        return None;
    }
    // Kåsa's fit: x² + y² + D x + E y + F = 0 in least squares.
    let a = DMatrix::from_fn(pts.len(), 3, |k, c| match c {
        0 => pts[k][0],
        1 => pts[k][1],
        _ => 1.0,
    });
    let b = nalgebra::DVector::from_fn(pts.len(), |k, _| -(pts[k][0].powi(2) + pts[k][1].powi(2)));
    let sol = (a.transpose() * &a).lu().solve(&(a.transpose() * b))?;
    let c = [-0.5 * sol[0], -0.5 * sol[1]];
    let r2 = c[0] * c[0] + c[1] * c[1] - sol[2];
    let radius = r2.sqrt();
    if !(radius.is_finite() && radius > 0.0 && c.iter().all(|v| v.is_finite())) {
        return None;
    }
    for q in &pts {
        let (dx, dy) = (q[0] - c[0], q[1] - c[1]);
        if ((dx * dx + dy * dy).sqrt() - radius).abs() > 1e-2 * radius {
            return None;
        }
    }
    // Closed at the minima's level all the way round (the minima found may all lie on the
    // arc nearest the search's starts: a ring of radius 2 about (0.5, −2) had its six on
    // a sixth of the circle).
    for k in 0..RING_PROBES {
        let t = std::f64::consts::TAU * k as f64 / RING_PROBES as f64;
        let q = [c[0] + radius * t.cos(), c[1] + radius * t.sin()];
        match p.eval(&q) {
            Ok(e) if beta * (e - e0) <= 2.0 => {}
            _ => return None,
        }
    }
    Some(c)
}

/// Points of the fitted circle where a ring's energy must be within `2/β` of its minima's.
const RING_PROBES: usize = 16;

/// The most nodes of one trapezoidal sum (the doubling starts at 4, or where the narrowest
/// feature of the angle needs).
const MAX_NODES: usize = 256;

/// The golden fraction of the node spacing by which the second trapezoidal sum is shifted:
/// a frequency the first grid aliases to a constant is not aliased on the second.
const SHIFT: f64 = 0.618_033_988_749_894_8;

/// The nested rule in polar coordinates about `centre` (see the module's doc), or `None` when
/// it did not converge within a quarter of `spec.budget` or a slice failed (the caller then
/// takes the Cartesian rule, which meets the same failure with its own diagnosis).
/// `mins` are the Cartesian minima, lowest first.
pub(super) fn polar_nested(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    mins: &[(f64, Vec<f64>)],
    seeds: &super::Seeds,
    centre: [f64; 2],
) -> Result<Option<PartResult>, QuadError> {
    let (beta, tol) = (spec.beta, spec.tol);
    let tau = std::f64::consts::TAU;
    let angle = |x: &[f64]| (x[1] - centre[1]).atan2(x[0] - centre[0]);
    let t0 = angle(&mins[0].1) - std::f64::consts::PI;
    let pe = PolarEnergy { p, centre, beta };
    let pp = Problem {
        energy: &pe,
        template: p.template.clone(),
        cont: p.cont.clone(),
        bounds: vec![(t0, t0 + tau), (0.0, f64::INFINITY)],
        evals: std::sync::atomic::AtomicU64::new(0),
    };
    let to_polar = |x: &[f64]| -> Option<Vec<f64>> {
        let r = ((x[0] - centre[0]).powi(2) + (x[1] - centre[1]).powi(2)).sqrt();
        let t = t0 + (angle(x) - t0).rem_euclid(tau);
        (r > 0.0 && r.is_finite()).then(|| vec![t, r])
    };
    let mut pmins: Vec<(f64, Vec<f64>)> = Vec::new();
    for (_, x) in mins {
        if let Some(q) = to_polar(x)
            && let Ok(e) = pp.eval(&q)
            && e.is_finite()
        {
            pmins.push((e, q));
        }
    }
    pmins.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pseeds = super::Seeds {
        boxes: seeds.boxes.iter().filter_map(|x| to_polar(x)).collect(),
        shoulders: seeds.shoulders.iter().filter_map(|x| to_polar(x)).collect(),
    };
    let pspec = PartSpec {
        obs: None,
        n_obs: 0,
        ..*spec
    };
    let (mut nl, features) = nested_line(&pp, &pspec, &pmins, &pseeds);
    // The narrowest feature of the angle (a significant minimum off the ring's level, or a
    // shoulder: `Ridge::outer_feature`) sets the first level: nodes at most half its width
    // apart, so that the coarser sum each level is compared with has them a width apart
    // (where a trapezoidal sum over a Gaussian is off by 5e-9 of its mass, at twice that by
    // 1.4 %). A feature too narrow for the finest level leaves the plane to the Cartesian
    // rule: on the sums of 4 and 8 nodes and the shifted 8 a needle can lie 7.5 of its widths
    // from every node, unseen.
    let narrowest = features
        .iter()
        .map(|f| f.width)
        .filter(|w| w.is_finite() && *w > 0.0)
        .fold(f64::INFINITY, f64::min);
    let mut first = 4usize;
    while first < MAX_NODES && tau / first as f64 > 0.5 * narrowest {
        first *= 2;
    }
    if tau / first as f64 > 0.5 * narrowest {
        return Ok(None);
    }
    // No search runs on the outer line: every slice but the first starts from its nearest
    // neighbour's modes (still checked against the minima's ridges, `warm_misses_a_mode`).
    nl.search_done();
    // `(log g, error of log g)` of the slice at `θ`.
    // A quarter of the part's budget, checked before every slice; the rest is the Cartesian
    // rule's should this one not converge.
    let over_budget =
        |pp: &Problem<'_>| pp.count() > spec.budget / 4 || crate::budgets::point_clock_expired();
    let mut slice = |t: f64| -> Result<(f64, f64), QuadError> {
        let (mut e, mut o) = ([0.0], [0.0]);
        nl.eval_many(&[t], &mut e, &mut o)?;
        Ok((-beta * e[0], o[0]))
    };
    // Trapezoidal sums over `n` nodes `t0 + k·2π/n`, doubling `n` (the coarser level's nodes
    // kept), until the last two levels agree; then once more on nodes shifted by a golden
    // fraction of the spacing. `(log Z, rule error, slices' error)`.
    let result = (|| -> Result<Option<(f64, f64, f64)>, QuadError> {
        let mut grid: Vec<(f64, f64)> = Vec::new();
        let mut n = (first / 2).max(4);
        let mut prev: Option<f64> = None;
        for level in 0.. {
            if n > MAX_NODES {
                return Ok(None);
            }
            let h = tau / n as f64;
            // The new nodes of this level: all of them at the first, the odd ones after.
            let start = if level == 0 { 0 } else { 1 };
            let step = if level == 0 { 1 } else { 2 };
            let mut k = start;
            while k < n {
                if over_budget(&pp) {
                    return Ok(None);
                }
                grid.push(slice(t0 + k as f64 * h)?);
                k += step;
            }
            let log_t = lse(grid.iter().map(|g| g.0)) + h.ln();
            let Some(coarse) = prev.replace(log_t) else {
                n *= 2;
                continue;
            };
            let d_level = (log_t - coarse).abs();
            if d_level.is_finite() && d_level <= 0.5 * tol {
                // The second sum, on nodes shifted by a golden fraction of the spacing.
                let mut shifted = Vec::with_capacity(n);
                for k in 0..n {
                    if over_budget(&pp) {
                        return Ok(None);
                    }
                    shifted.push(slice(t0 + (k as f64 + SHIFT) * h)?);
                }
                let log_s = lse(shifted.iter().map(|g| g.0)) + h.ln();
                let d_shift = (log_s - log_t).abs();
                let inner = weighted_error(grid.iter().chain(&shifted));
                if d_shift.is_finite() && d_shift <= 0.5 * tol {
                    return Ok(Some((log_t, d_level.max(d_shift), inner)));
                }
            }
            n *= 2;
        }
        Ok(None)
    })();
    p.add_evals(pp.count());
    let Ok(Some((log_z, rule, inner))) = result else {
        return Ok(None);
    };
    if nl.inner_failure.is_some() || !log_z.is_finite() {
        return Ok(None);
    }
    let floor = 4.0 * f64::EPSILON * (log_z.abs() + beta * mins[0].0.abs());
    let abs_error = rule + inner + floor;
    if abs_error - floor > tol {
        return Ok(None);
    }
    Ok(Some(PartResult {
        minima: Vec::new(),
        log_z,
        abs_error,
        min_energy: mins[0].0,
        argmin: p.full_point(&mins[0].1),
        converged: true,
        reason: None,
        rounding_floor: floor,
        laplace: None,
        obs: Vec::new(),
        obs_err: Vec::new(),
        obs_abs: Vec::new(),
    }))
}

/// `ln Σ exp(v)`, shifted by the largest.
fn lse(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = v.clone().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// The slices' errors of `log g` weighted by their masses `g` (their effect on `log` of the
/// sum), not the worst of them.
fn weighted_error<'s>(slices: impl Iterator<Item = &'s (f64, f64)> + Clone) -> f64 {
    let m = slices
        .clone()
        .map(|g| g.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut num, mut den) = (0.0, 0.0);
    for &(lg, e) in slices {
        let w = (lg - m).exp();
        num += w * e;
        den += w;
    }
    if den > 0.0 { num / den } else { f64::INFINITY }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::{Domain, FnEnergy, QuadOptions, Status, log_partition, problems};
    use crate::stats::special::erfc;

    /// `log Z` of `a(|x − c|² − R²)²` over the plane: `π·√(π/(βa))·erfc(−R²√(βa))/2`.
    fn ring_log_z(a: f64, r: f64, beta: f64) -> f64 {
        let ba = beta * a;
        (std::f64::consts::PI * 0.5 * (std::f64::consts::PI / ba).sqrt() * erfc(-r * r * ba.sqrt()))
            .ln()
    }

    /// Rings, centred or not, are exact and cheap: the Cartesian nested rule took 50 000 to
    /// 280 000 evaluations on the unit ring at β = 1 to 1e4 (two modes per slice merging at
    /// `|z1| = 1`), the polar one about 6 000 to 18 000, most of them the search for minima.
    #[test]
    fn rings_are_integrated_in_polar_coordinates_about_their_centre() {
        let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY); 2]).expect("domain");
        for (a, c, rad, beta) in [
            (1.0, [0.0, 0.0], 1.0, 1.0),
            (1.0, [0.0, 0.0], 1.0, 10.0),
            (1.0, [0.0, 0.0], 1.0, 1e4),
            (10.0, [0.5, -2.0], 2.0, 1.0),
            (1.0, [3.0, 1.0], 1.5, 100.0),
        ] {
            let e = FnEnergy::new(2, move |z: &[f64]| {
                a * ((z[0] - c[0]).powi(2) + (z[1] - c[1]).powi(2) - rad * rad).powi(2)
            });
            let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("log Z");
            let truth = ring_log_z(a, rad, beta);
            let err = (r.log_z - truth).abs();
            assert_eq!(
                r.status,
                Status::Converged,
                "{a} {c:?} {rad} β={beta}: {:?}",
                r.reason
            );
            assert!(
                err <= r.abs_error && r.abs_error <= 1e-8,
                "{a} {c:?} {rad} β={beta}: log Z {} truth {truth}: error {err:e}, claimed {:e}",
                r.log_z,
                r.abs_error
            );
            assert!(
                r.evaluations < 25_000,
                "{a} {c:?} {rad} β={beta}: {} evaluations",
                r.evaluations
            );
        }
    }

    /// `I0(x) = Σ (x/2)^{2k}/(k!)²`.
    fn bessel_i0(x: f64) -> f64 {
        let (mut term, mut sum) = (1.0, 1.0);
        for k in 1..60 {
            term *= (0.5 * x / k as f64).powi(2);
            sum += term;
        }
        sum
    }

    /// A ring modulated eight times around, `(r² − 1)² + 0.3·cos 8θ`, from its eight minima:
    /// the trapezoidal sums on 4 and 8 nodes through the minima see `cos 8θ = −1` at every
    /// node and agree exactly on a value 9 % off at β = 1 (`2π·e^{0.3β}` for `2π·I0(0.3β)`);
    /// the sum on golden-shifted nodes does not, and the doubling goes on until it converges.
    #[test]
    fn an_aliased_angular_frequency_is_caught_by_the_shifted_sum() {
        let e = FnEnergy::new(2, |z: &[f64]| {
            (z[0] * z[0] + z[1] * z[1] - 1.0).powi(2) + 0.3 * (8.0 * z[1].atan2(z[0])).cos()
        });
        let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY); 2]).expect("domain");
        let probs = problems(&e, &dom);
        let p = &probs[0];
        let opts = QuadOptions::default();
        for beta in [1.0, 3.0] {
            let mins: Vec<(f64, Vec<f64>)> = (0..8)
                .map(|k| {
                    let t = (2 * k + 1) as f64 * std::f64::consts::PI / 8.0;
                    (-0.3, vec![t.cos(), t.sin()])
                })
                .collect();
            let c = ring_centre(p, beta, &mins, 1.0).expect("a ring");
            assert!(c[0].abs() < 1e-9 && c[1].abs() < 1e-9, "centre {c:?}");
            let spec = PartSpec {
                beta,
                obs: None,
                n_obs: 0,
                tol: 1e-9,
                budget: 10_000_000,
                opts: &opts,
            };
            let seeds = crate::quad::nd::Seeds {
                boxes: Vec::new(),
                shoulders: Vec::new(),
            };
            let r = polar_nested(p, &spec, &mins, &seeds, c)
                .expect("no error")
                .expect("converged");
            let radial = 0.25 * (std::f64::consts::PI / beta).sqrt() * erfc(-beta.sqrt());
            let truth = (std::f64::consts::TAU * bessel_i0(0.3 * beta) * radial).ln();
            let aliased = (std::f64::consts::TAU * (0.3 * beta).exp() * radial).ln();
            assert!(aliased - truth > 0.05, "the premise: aliasing is visible");
            let err = (r.log_z - truth).abs();
            assert!(
                err <= r.abs_error && r.abs_error <= 1e-8,
                "β={beta}: log Z {} truth {truth}: error {err:e}, claimed {:e}",
                r.log_z,
                r.abs_error
            );
        }
    }

    /// A needle off the ring is a feature of the angle. One 0.032 wide there (`σ = 0.08` at
    /// radius 2.5, 8e-4 of Z) is too narrow for 256 nodes and left to the Cartesian rule: on
    /// 4 and 8 nodes and the shifted 8, none nearer to it than 0.24 (7.5 of its widths), the
    /// result was converged without it. One 0.08 wide (`σ = 0.2`) is integrated.
    #[test]
    fn a_needle_off_the_ring_sets_the_first_level() {
        let opts = QuadOptions::default();
        let spec = PartSpec {
            beta: 1.0,
            obs: None,
            n_obs: 0,
            tol: 1e-9,
            budget: 10_000_000,
            opts: &opts,
        };
        let seeds = crate::quad::nd::Seeds {
            boxes: Vec::new(),
            shoulders: Vec::new(),
        };
        let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY); 2]).expect("domain");
        let w: f64 = 0.1;
        for sig in [0.2, 0.08] {
            let e = FnEnergy::new(2, move |z: &[f64]| {
                let ring = -(z[0] * z[0] + z[1] * z[1] - 1.0).powi(2);
                let needle = w.ln() - 0.5 * (z[0].powi(2) + (z[1] - 2.5).powi(2)) / (sig * sig);
                let m = ring.max(needle);
                -(m + ((ring - m).exp() + (needle - m).exp()).ln())
            });
            let probs = problems(&e, &dom);
            let p = &probs[0];
            // The lowest first: the sums' nodes are placed from its angle.
            let mut mins: Vec<(f64, Vec<f64>)> = [4.47, 0.3, 1.9, 3.1, 5.6]
                .iter()
                .map(|&t: &f64| (0.0, vec![t.cos(), t.sin()]))
                .collect();
            mins.push((-w.ln(), vec![0.0, 2.5]));
            let c = ring_centre(p, 1.0, &mins, 1.0).expect("a ring");
            let r = polar_nested(p, &spec, &mins, &seeds, c).expect("no error");
            if sig < 0.1 {
                assert!(
                    r.is_none(),
                    "σ = {sig}: polar took a needle too narrow for it"
                );
                continue;
            }
            let r = r.expect("converged");
            let ring = ring_log_z(1.0, 1.0, 1.0).exp();
            let truth = (ring + w * std::f64::consts::TAU * sig * sig).ln();
            let err = (r.log_z - truth).abs();
            assert!(
                err <= r.abs_error && r.abs_error <= 1e-8,
                "σ = {sig}: log Z {} truth {truth}: error {err:e}, claimed {:e}",
                r.log_z,
                r.abs_error
            );
        }
    }

    /// Four separate wells on the corners of a square are concyclic but no ring: the energy
    /// midway between them is high. Three points of a ring are too few to tell a circle.
    #[test]
    fn separate_wells_on_a_circle_are_no_ring() {
        let wells = [[2.0, 2.0], [-2.0, 2.0], [-2.0, -2.0], [2.0, -2.0]];
        let e = FnEnergy::new(2, move |z: &[f64]| {
            let s: f64 = wells
                .iter()
                .map(|w| (-2.0 * ((z[0] - w[0]).powi(2) + (z[1] - w[1]).powi(2))).exp())
                .sum();
            -s.ln()
        });
        let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY); 2]).expect("domain");
        let probs = problems(&e, &dom);
        let mins: Vec<(f64, Vec<f64>)> = wells.iter().map(|w| (0.0, w.to_vec())).collect();
        assert_eq!(ring_centre(&probs[0], 1.0, &mins, 1.0), None);
        let ring = FnEnergy::new(2, |z: &[f64]| (z[0] * z[0] + z[1] * z[1] - 1.0).powi(2));
        let probs = problems(&ring, &dom);
        let three: Vec<(f64, Vec<f64>)> = (0..3)
            .map(|k| {
                let t = f64::from(k) * 2.0;
                (0.0, vec![t.cos(), t.sin()])
            })
            .collect();
        assert_eq!(ring_centre(&probs[0], 1.0, &three, 1.0), None);
        let four: Vec<(f64, Vec<f64>)> = (0..4)
            .map(|k| {
                let t = f64::from(k) * 1.6;
                (0.0, vec![t.cos(), t.sin()])
            })
            .collect();
        let c = ring_centre(&probs[0], 1.0, &four, 1.0).expect("a ring");
        assert!(c[0].abs() < 1e-12 && c[1].abs() < 1e-12, "centre {c:?}");
    }
}
