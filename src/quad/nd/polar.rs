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

use super::nested::{self, Ridge, nested_line};
use super::*;
use crate::energy::Energy;
use crate::quad::bounds::logsumexp;

/// The energy of a 2D problem in polar coordinates `(θ, r)` about `centre`, with the Jacobian:
/// `E(c + r(cos θ, sin θ)) − ln(r)/β`, so that `exp(-βE_polar) = r·exp(-βE)`.
struct PolarEnergy<'p, 'a> {
    p: &'p Problem<'a>,
    centre: [f64; 2],
    beta: f64,
}

impl PolarEnergy<'_, '_> {
    /// The angle of the Cartesian point `x` about the centre.
    fn angle(&self, x: &[f64]) -> f64 {
        (x[1] - self.centre[1]).atan2(x[0] - self.centre[0])
    }

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
    /// One point through [`Energy::eval_batch`]: the mapping and the points without weight
    /// are decided in one place.
    fn eval(&self, z: &[f64]) -> f64 {
        let mut out = [0.0];
        self.eval_batch(z, &mut out);
        out[0]
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
            // Points without a value here (below) are passed as the centre.
            let (t, r) = if z[i].is_finite() && z[j].is_finite() {
                (z[i], z[j].max(0.0))
            } else {
                (0.0, 0.0)
            };
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
            // The origin (and anything below it) carries no weight, `r = 0` being a null set;
            // nor does the end of the ray or a direction without a value.
            *e = if r.is_nan() || t.is_nan() {
                f64::NAN
            } else if r <= 0.0 || !r.is_finite() || !t.is_finite() {
                f64::INFINITY
            } else {
                *e - r.ln() / self.beta
            };
        }
    }
}

/// A ring of lowest minima: the circle they lie on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Ring {
    pub(super) centre: [f64; 2],
    pub(super) radius: f64,
}

impl Ring {
    /// Whether the point `x` lies on the ring (within a hundredth of its radius).
    fn holds(&self, x: &[f64]) -> bool {
        let r = (x[0] - self.centre[0]).hypot(x[1] - self.centre[1]);
        (r - self.radius).abs() <= 1e-2 * self.radius
    }
}

/// The ring of lowest minima, when there is one: at least four distinct minima within `0.1/β`
/// of the lowest, on one circle (each within a hundredth of its radius of it, by an algebraic
/// least-squares fit about their mean), and joined by a valley all the way round (the energy
/// at [`RING_PROBES`] points of the circle within `2/β` of the lowest): four separate wells at
/// the corners of a square are no ring.
pub(super) fn ring_centre(
    p: &Problem<'_>,
    beta: f64,
    mins: &[(f64, Vec<f64>)],
    ls: f64,
) -> Option<Ring> {
    let e0 = mins.first()?.0;
    let mut pts: Vec<[f64; 2]> = Vec::new();
    for (e, x) in mins {
        if beta * (e - e0) > 0.1 || x.len() != 2 {
            continue;
        }
        let x = [x[0], x[1]];
        if pts
            .iter()
            .all(|q| (q[0] - x[0]).hypot(q[1] - x[1]) > 1e-6 * ls)
        {
            pts.push(x);
        }
    }
    if pts.len() < 4 {
        return None;
    }
    // Kåsa's fit, `u² + v² + D u + E v + F = 0` in least squares, in coordinates about the
    // points' mean (a ring far from the origin would otherwise lose its digits).
    let n = pts.len() as f64;
    let mean = [
        pts.iter().map(|q| q[0]).sum::<f64>() / n,
        pts.iter().map(|q| q[1]).sum::<f64>() / n,
    ];
    let uv: Vec<[f64; 2]> = pts
        .iter()
        .map(|q| [q[0] - mean[0], q[1] - mean[1]])
        .collect();
    let a = DMatrix::from_fn(uv.len(), 3, |k, c| match c {
        0 => uv[k][0],
        1 => uv[k][1],
        _ => 1.0,
    });
    let b = nalgebra::DVector::from_fn(uv.len(), |k, _| -(uv[k][0].powi(2) + uv[k][1].powi(2)));
    let sol = (a.transpose() * &a).lu().solve(&(a.transpose() * b))?;
    let (cu, cv) = (-0.5 * sol[0], -0.5 * sol[1]);
    let ring = Ring {
        centre: [mean[0] + cu, mean[1] + cv],
        radius: (cu * cu + cv * cv - sol[2]).sqrt(),
    };
    if !(ring.radius.is_finite() && ring.radius > 0.0 && ring.centre.iter().all(|v| v.is_finite()))
    {
        return None;
    }
    if !pts.iter().all(|q| ring.holds(q)) {
        return None;
    }
    // Closed at the minima's level all the way round (the minima found may all lie on the
    // arc nearest the search's starts: a ring of radius 2 about (0.5, −2) had its six on
    // a sixth of the circle).
    let c = ring.centre;
    for k in 0..RING_PROBES {
        let t = std::f64::consts::TAU * k as f64 / RING_PROBES as f64;
        let q = [c[0] + ring.radius * t.cos(), c[1] + ring.radius * t.sin()];
        match p.eval(&q) {
            Ok(e) if beta * (e - e0) <= 2.0 => {}
            _ => return None,
        }
    }
    Some(ring)
}

/// Points of the fitted circle where a ring's energy must be within `2/β` of its minima's.
const RING_PROBES: usize = 16;

/// The most nodes of one trapezoidal sum (the doubling starts at 4, or where the narrowest
/// feature of the angle needs).
const MAX_NODES: usize = 256;

/// The fractions of the node spacing by which the check sums are shifted (the golden ratio's
/// and `√2 − 1`): a frequency the first grid aliases to a constant is aliased on neither, and
/// one whose phase a shift moves by little (`13·0.618 = 8.03` cycles) the other moves by much.
const SHIFTS: [f64; 2] = [0.618_033_988_749_894_8, 0.414_213_562_373_095_1];

/// The nested rule in polar coordinates about `ring`'s centre (see the module's doc), or
/// `None` when it did not converge within a quarter of `spec.budget`, a slice failed or held
/// no mass, or a feature of the angle is too narrow for it (the caller then takes the
/// Cartesian rule, which meets the same failure with its own diagnosis).
/// `mins` are the Cartesian minima, lowest first.
pub(super) fn polar_nested(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    mins: &[(f64, Vec<f64>)],
    seeds: &super::Seeds,
    ring: Ring,
) -> Option<PartResult> {
    let pe = PolarEnergy {
        p,
        centre: ring.centre,
        beta: spec.beta,
    };
    let t0 = pe.angle(&mins[0].1) - std::f64::consts::PI;
    let pp = Problem {
        energy: &pe,
        template: p.template.clone(),
        cont: p.cont.clone(),
        bounds: vec![(t0, t0 + std::f64::consts::TAU), (0.0, f64::INFINITY)],
        evals: std::sync::atomic::AtomicU64::new(0),
    };
    let r = polar_on(&pp, &pe, spec, mins, seeds, ring, t0);
    // Every evaluation counts, whatever the outcome.
    p.add_evals(pp.count());
    let Ok(Some((log_z, rule, inner, best))) = r else {
        return None;
    };
    let beta = spec.beta;
    let floor = 4.0 * f64::EPSILON * (log_z.abs() + beta * mins[0].0.abs());
    let abs_error = rule + inner + floor;
    if abs_error - floor > spec.tol || !log_z.is_finite() {
        return None;
    }
    // The lowest point a slice found, if lower than the located minima's.
    let (min_energy, argmin) = match best {
        Some((e, x)) if e < mins[0].0 => (e, x),
        _ => (mins[0].0, mins[0].1.clone()),
    };
    Some(PartResult::converged_log_z(
        log_z,
        abs_error,
        floor,
        (min_energy, p.full_point(&argmin)),
    ))
}

/// The lowest point the slices found, as a Cartesian energy and point.
type Best = Option<(f64, Vec<f64>)>;

/// [`polar_nested`] on the polar problem `pp` (angles from `t0`): `(log Z, rule error, slices'
/// error, lowest point)`, or `None` to leave the plane to the Cartesian rule.
fn polar_on(
    pp: &Problem<'_>,
    pe: &PolarEnergy<'_, '_>,
    spec: &PartSpec<'_>,
    mins: &[(f64, Vec<f64>)],
    seeds: &super::Seeds,
    ring: Ring,
    t0: f64,
) -> Result<Option<(f64, f64, f64, Best)>, QuadError> {
    let (beta, tol) = (spec.beta, spec.tol);
    let tau = std::f64::consts::TAU;
    let ls = spec.opts.length_scale.unwrap_or(1.0);
    let to_polar = |x: &[f64]| -> Option<Vec<f64>> {
        let r = (x[0] - ring.centre[0]).hypot(x[1] - ring.centre[1]);
        let t = t0 + (pe.angle(x) - t0).rem_euclid(tau);
        (r > 0.0 && r.is_finite()).then(|| vec![t, r])
    };
    // The minima in polar coordinates, each with whether it is a point of the ring.
    let e0 = mins[0].0;
    let mut pmins: Vec<(f64, Vec<f64>, bool)> = Vec::new();
    for (e, x) in mins {
        if let Some(q) = to_polar(x)
            && let Ok(ep) = pp.eval(&q)
            && ep.is_finite()
        {
            pmins.push((ep, q, beta * (e - e0) <= 0.1 && ring.holds(x)));
        }
    }
    pmins.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(ep0) = pmins.first().map(|m| m.0) else {
        return Ok(None);
    };
    // The narrowest feature of the angle sets the first level: nodes at most half its width
    // apart, so that the coarser sum each level is compared with has them a width apart
    // (where a trapezoidal sum over a Gaussian is off by 5e-9 of its mass, at twice that by
    // 1.4 %). The features are the significant minima, the lowest included (in polar energy,
    // `−ln(r)/β` in it, a needle off the ring may be lower than the ring), and the shoulders
    // (`Ridge::outer_feature`). A significant minimum off the ring with no width (a kink, a
    // Hessian that failed), or a feature too narrow for the finest level, leaves the plane to
    // the Cartesian rule: on sums of 4 and 8 nodes and the shifted 8 a needle can lie 7.5 of
    // its widths from every node, unseen.
    let mut narrowest = f64::INFINITY;
    for (e, x, on_ring) in &pmins {
        if beta * (e - ep0) > SIGNIFICANT {
            continue;
        }
        match Ridge::at(pp, (*e, x), beta, ls).outer_feature(beta) {
            Some(f) => narrowest = narrowest.min(f.width),
            None if !on_ring => return Ok(None),
            None => {}
        }
    }
    let pmins: Vec<(f64, Vec<f64>)> = pmins.into_iter().map(|(e, x, _)| (e, x)).collect();
    let pseeds = super::Seeds {
        boxes: seeds.boxes.iter().filter_map(|x| to_polar(x)).collect(),
        shoulders: seeds.shoulders.iter().filter_map(|x| to_polar(x)).collect(),
    };
    let pspec = PartSpec {
        obs: None,
        n_obs: 0,
        ..*spec
    };
    let (mut nl, features) = nested_line(pp, &pspec, &pmins, &pseeds);
    // (Every width is finite and positive: `Ridge::outer_feature` gives no other.)
    for f in &features {
        narrowest = narrowest.min(f.width);
    }
    let mut first = 4usize;
    while first < MAX_NODES && tau / first as f64 > 0.5 * narrowest {
        first *= 2;
    }
    if tau / first as f64 > 0.5 * narrowest {
        return Ok(None);
    }
    // A quarter of the part's budget, checked before every slice; the rest is the Cartesian
    // rule's should this one not converge.
    let over_budget =
        |pp: &Problem<'_>| pp.count() > spec.budget / 4 || crate::budgets::point_clock_expired();
    // `(log g, error of log g)` of the slice at `θ`; `None` when it failed or holds no mass (a
    // ray whose search found no minimum, or that diverges, is weightless by the Cartesian
    // rule's tests, which take the centre `r = 0` for its point).
    let slice =
        |nl: &mut nested::NestedLine<'_, '_>, t: f64| -> Result<Option<(f64, f64)>, QuadError> {
            let (mut e, mut o) = ([0.0], [0.0]);
            nl.eval_many(&[t], &mut e, &mut o)?;
            let lg = -beta * e[0];
            Ok((lg.is_finite() && nl.inner_failure.is_none()).then_some((lg, o[0])))
        };
    // Trapezoidal sums over `n` nodes `t0 + k·2π/n`, doubling `n` (the coarser level's nodes
    // kept), until the last two levels agree; then on nodes shifted by [`SHIFTS`] of the
    // spacing. The first level's slices search afresh, the later ones start from their
    // nearest neighbour's modes (checked against the minima's ridges, `warm_misses_a_mode`).
    let mut grid: Vec<(f64, f64)> = Vec::new();
    let mut n = (first / 2).max(4);
    let mut prev: Option<f64> = None;
    while n <= MAX_NODES {
        let h = tau / n as f64;
        // The new nodes of this level: all of them at the first, the odd ones after.
        let (start, step) = if prev.is_none() { (0, 1) } else { (1, 2) };
        for k in (start..n).step_by(step) {
            if over_budget(pp) {
                return Ok(None);
            }
            let Some(g) = slice(&mut nl, t0 + k as f64 * h)? else {
                return Ok(None);
            };
            grid.push(g);
        }
        nl.search_done();
        let log_t = logsumexp(grid.iter().map(|g| g.0)) + h.ln();
        let Some(coarse) = prev.replace(log_t) else {
            n *= 2;
            continue;
        };
        let d_level = (log_t - coarse).abs();
        if d_level.is_finite() && d_level <= 0.5 * tol {
            let mut rule = d_level;
            let mut inner = weighted_error(grid.iter());
            for shift in SHIFTS {
                let mut shifted = Vec::with_capacity(n);
                for k in 0..n {
                    if over_budget(pp) {
                        return Ok(None);
                    }
                    let Some(g) = slice(&mut nl, t0 + (k as f64 + shift) * h)? else {
                        return Ok(None);
                    };
                    shifted.push(g);
                }
                let d_shift = (logsumexp(shifted.iter().map(|g| g.0)) + h.ln() - log_t).abs();
                rule = rule.max(d_shift);
                inner = inner.max(weighted_error(shifted.iter()));
            }
            if rule <= 0.5 * tol {
                // The slices' lowest point, in the energy's own terms (`+ ln(r)/β`).
                let (eb, t, r) = nl.best;
                let best = (eb.is_finite() && r > 0.0).then(|| {
                    let x = pe.cartesian(t, r);
                    (eb + r.ln() / beta, x.to_vec())
                });
                return Ok(Some((log_t, rule, inner, best)));
            }
        }
        n *= 2;
    }
    Ok(None)
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
    /// `|z1| = 1`), the polar one about 7 000 to 20 000 (6 928, 9 375, 12 127 and 19 660
    /// from `ebmcheck logz`), most of them the search for minima.
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
            let what = format!("{a} {c:?} {rad} β={beta}");
            assert_eq!(r.status, Status::Converged, "{what}: {:?}", r.reason);
            assert_covered(&what, r.log_z, r.abs_error, truth);
            assert!(
                r.evaluations < 25_000,
                "{a} {c:?} {rad} β={beta}: {} evaluations",
                r.evaluations
            );
        }
    }

    /// `log_z ± abs_error` covers `truth`, and the claimed error is within 1e-8.
    fn assert_covered(what: &str, log_z: f64, abs_error: f64, truth: f64) {
        let err = (log_z - truth).abs();
        assert!(
            err <= abs_error && abs_error <= 1e-8,
            "{what}: log Z {log_z} truth {truth}: error {err:e}, claimed {abs_error:e}"
        );
    }

    /// [`polar_nested`] at `β` to 1e-9, without observables or seeds.
    fn polar_at(
        p: &Problem<'_>,
        beta: f64,
        opts: &QuadOptions,
        mins: &[(f64, Vec<f64>)],
        ring: Ring,
    ) -> Option<PartResult> {
        let spec = PartSpec {
            beta,
            obs: None,
            n_obs: 0,
            tol: 1e-9,
            budget: 10_000_000,
            opts,
        };
        let seeds = crate::quad::nd::Seeds {
            boxes: Vec::new(),
            shoulders: Vec::new(),
        };
        polar_nested(p, &spec, mins, &seeds, ring)
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
            assert!(
                c.centre[0].abs() < 1e-9 && c.centre[1].abs() < 1e-9,
                "{c:?}"
            );
            assert!((c.radius - 1.0).abs() < 1e-9, "{c:?}");
            let r = polar_at(p, beta, &opts, &mins, c).expect("converged");
            let radial = 0.25 * (std::f64::consts::PI / beta).sqrt() * erfc(-beta.sqrt());
            let truth = (std::f64::consts::TAU * bessel_i0(0.3 * beta) * radial).ln();
            let aliased = (std::f64::consts::TAU * (0.3 * beta).exp() * radial).ln();
            assert!(aliased - truth > 0.05, "the premise: aliasing is visible");
            assert_covered(&format!("β={beta}"), r.log_z, r.abs_error, truth);
        }
    }

    /// A needle off the ring is a feature of the angle. One 0.02 wide there (`σ = 0.05` at
    /// radius 2.5, 3e-4 of Z) is too narrow for 256 nodes and left to the Cartesian rule: on
    /// 4 and 8 nodes and the two shifted 8, none nearer to it than 0.16 (8 of its widths), the
    /// result was converged without it. One 0.08 wide (`σ = 0.2`) is integrated. A heavier
    /// needle (`w = 0.5`) is the lowest minimum in polar energy (`−ln(2.5)` lower), and is a
    /// feature all the same (it was not, as the lowest is not in the Cartesian rule).
    #[test]
    fn a_needle_off_the_ring_sets_the_first_level() {
        let opts = QuadOptions::default();
        let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY); 2]).expect("domain");
        for (w, sig) in [(0.1f64, 0.2), (0.1, 0.05), (0.5, 0.2), (0.5, 0.05)] {
            let e = FnEnergy::new(2, move |z: &[f64]| {
                let ring = -(z[0] * z[0] + z[1] * z[1] - 1.0).powi(2);
                let needle = w.ln() - 0.5 * (z[0].powi(2) + (z[1] - 2.5).powi(2)) / (sig * sig);
                let m = ring.max(needle);
                -(m + ((ring - m).exp() + (needle - m).exp()).ln())
            });
            let probs = problems(&e, &dom);
            let p = &probs[0];
            // The lowest first: the sums' nodes are placed from its angle.
            let mut mins: Vec<(f64, Vec<f64>)> = [5.335, 0.3, 1.9, 3.1, 4.4]
                .iter()
                .map(|&t: &f64| (0.0, vec![t.cos(), t.sin()]))
                .collect();
            mins.push((-w.ln(), vec![0.0, 2.5]));
            let c = ring_centre(p, 1.0, &mins, 1.0).expect("a ring");
            let r = polar_at(p, 1.0, &opts, &mins, c);
            if sig < 0.1 {
                assert!(
                    r.is_none(),
                    "w = {w}, σ = {sig}: polar took a needle too narrow for it"
                );
                continue;
            }
            let r = r.expect("converged");
            let ring = ring_log_z(1.0, 1.0, 1.0).exp();
            let truth = (ring + w * std::f64::consts::TAU * sig * sig).ln();
            assert_covered(&format!("w = {w}, σ = {sig}"), r.log_z, r.abs_error, truth);
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
        assert!(
            c.centre[0].abs() < 1e-12 && c.centre[1].abs() < 1e-12,
            "{c:?}"
        );
    }
}
