//! Unit tests of the line integrator: stored segments rescaled on a new shift, and the
//! minimum search's merging of points of one flat minimum.

use super::*;

/// An energy given by a function, as a bare [`Line`] that counts its evaluations, with the
/// default noise or a given one.
struct FnLine<F: Fn(f64) -> f64> {
    f: F,
    n: u64,
    noise: Option<f64>,
}

/// [`FnLine`] of `f` with the default noise.
fn fn_line<F: Fn(f64) -> f64>(f: F) -> FnLine<F> {
    FnLine {
        f,
        n: 0,
        noise: None,
    }
}

impl<F: Fn(f64) -> f64> Line for FnLine<F> {
    fn n_obs(&self) -> usize {
        0
    }
    fn energy(&mut self, z: f64) -> Result<f64, QuadError> {
        self.n += 1;
        Ok((self.f)(z))
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
    fn noise(&self, e: f64) -> f64 {
        self.noise
            .unwrap_or(4.0 * f64::EPSILON * e.abs().max(f64::MIN_POSITIVE))
    }
}

/// `exp(-β (z - 0.3)²)` as a bare [`Line`].
fn parabola() -> FnLine<impl Fn(f64) -> f64> {
    fn_line(|z: f64| (z - 0.3) * (z - 0.3))
}

/// Descents from several hints into one minimum that is flat to f64 resolution end at
/// several points of it (a ring's slice `(z1² + z2² − 1)²` far out in `z1`): they are one
/// minimum. Two wells of equal depth with a barrier between stay two.
#[test]
fn points_of_one_flat_minimum_are_one_minimum() {
    // Far out (`z1 = 1e8`) the flat minimum spans |z2| < 1 (z2² below an ulp of 1e16).
    let (wide, narrow) = (
        &[-40.0, -3.0, -0.7, 0.5, 2.0, 7.0, 30.0][..],
        &[-0.9, -0.3, 0.2, 0.6][..],
    );
    for (c, hints, name) in [(1763.0, wide, "E ≈ 3e6"), (1e16, narrow, "E ≈ 1e32")] {
        for beside in [false, true] {
            let mut line = fn_line(|z: f64| (c + z * z).powi(2));
            let (lo, hi) = (f64::NEG_INFINITY, f64::INFINITY);
            let mins = find_minima(&mut line, lo, hi, hints, beside, 1.0).expect("finite energy");
            assert_eq!(
                mins.len(),
                1,
                "{name}, grid minima beside hints {beside}: {mins:?}"
            );
        }
    }
    // Equal depths, barrier 1e-9 high at the midpoint: above the noise of E ≈ 0.
    let mut line = fn_line(|z: f64| 1e-9 * (z * z - 1.0).powi(2));
    let mins = find_minima(
        &mut line,
        f64::NEG_INFINITY,
        f64::INFINITY,
        &[-1.0, 1.0],
        false,
        1.0,
    )
    .expect("finite energy");
    assert_eq!(mins.len(), 2, "{mins:?}");
}

/// A shift found slightly too high (here by 1e-4/β, the kind of miss a minimiser located
/// to 1e-8 gives at large β) is lowered when a later segment's node beats it; segments
/// stored before must be rescaled too, however small the drop, or Z is off by that factor.
#[test]
fn small_reshifts_rescale_stored_segments() {
    let beta: f64 = 1e6;
    let width = 1.0 / beta.sqrt();
    let mut line = parabola();
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

/// Brent stops on a bracket flat to the line's noise (`search::flat_bracket`): golden
/// sections on the jitter of a flat outer line went on to a bracket of 1e-8 relative, 30
/// evaluations per refinement, each of them a slice. A parabola, whose values differ by more
/// than its noise until the bracket is tiny, is still located to 1e-8.
#[test]
fn brent_stops_where_the_line_is_flat_to_its_noise() {
    // Flat up to a jitter below its noise (a nested rule's outer line over a ring's angle,
    // whose slices all hold the same mass to their quadrature error).
    let mut flat = FnLine {
        noise: Some(1e-10),
        ..fn_line(|z: f64| 0.3 + 1e-11 * (1e5 * z).sin())
    };
    let (x, fx) = search::brent(&mut flat, 0.0, 0.5, 0.25, 0.3, 1e-14).expect("brent");
    assert!(
        (0.0..=0.5).contains(&x) && (fx - 0.3).abs() <= 1e-10,
        "{x} {fx}"
    );
    assert!(flat.n <= 8, "{} evaluations on a flat line", flat.n);
    let mut par = parabola();
    let (x, _) = search::brent(&mut par, -1.0, 2.0, 1.5, 1.44, 1e-14).expect("brent");
    assert!((x - 0.3).abs() < 1e-7, "parabola's minimum at {x}");
}

/// At a kink Brent's parabolic steps crawl in from one side by a factor of about 4 a step
/// while the best point stays on the apex: `|z|` at 0 between the grid's points took 25
/// evaluations to the absolute tolerance, and takes 9 when the point at the tolerance from
/// the best one closes that side at once. Where the steps bounce from side to side instead
/// (38) or the kink is off the origin (24) nothing changes. A flat power whose grid point
/// stands in for `x` with the other side open is `power_asym_far_from_its_grid_point`.
#[test]
fn brent_closes_a_crawling_side_at_a_kink() {
    // The grid's points beside a kink at its centre (`find_minima`), and one off it.
    for (apex, (a, x0, b), max_evals) in [
        (0.0, (-0.03128055, 0.03128055, 0.09458128), 16),
        (0.0, (-0.5, 0.05, 0.5), 38),
        (0.3, (-0.2, 0.35, 0.8), 40),
    ] {
        let mut kink = fn_line(move |z: f64| (z - apex).abs() + 0.1 * (z - apex).powi(2));
        let f0 = (kink.f)(x0);
        let (x, _) = search::brent(&mut kink, a, b, x0, f0, 1e-14).expect("brent");
        assert!(
            (x - apex).abs() <= 2e-14 + 3e-8 * apex,
            "kink at {apex} located at {x}"
        );
        assert!(
            kink.n <= max_evals,
            "{} evaluations for a kink at {apex}",
            kink.n
        );
    }
}

/// A kink has no narrow core: its second differences grow as `1/h` (`search::narrow_core`
/// stops after two such steps instead of eight rounds). A needle in the kink whose depth
/// matters bends that growth and is still measured, and the integral over it is right.
#[test]
fn a_kink_is_no_core_but_a_needle_in_it_is() {
    let mut kink = fn_line(|z: f64| z.abs() + 0.1 * z * z);
    let core = search::narrow_core(&mut kink, 1.0, (0.0, 0.0), 1.0, (-5.0, 5.0)).expect("core");
    assert!(core.is_none(), "a kink has no core: {core:?}");
    assert!(kink.n <= 6, "{} evaluations on a kink", kink.n);
    // A needle 1e-6 wide, 2 deep, at the kink's tip: its second differences settle.
    let (d, s) = (2.0, 1e-6);
    let needle = move |z: f64| z.abs() - d * (-0.5 * (z / s).powi(2)).exp();
    let mut line = fn_line(needle);
    let core = search::narrow_core(&mut line, 1.0, (0.0, -d), 1.0, (-5.0, 5.0)).expect("core");
    let core = core.expect("the needle is a core");
    assert!(
        (core - s).abs() < 0.5 * s,
        "core {core} of a needle {s} wide"
    );
    // ∫ exp(-|z| + d·g) = 2 + s√(2π) Σ dⁿ/(n!√n) up to O(s²) (the kink under the needle).
    let series: f64 = (1..40)
        .map(|n| {
            let n_fact: f64 = (1..=n).map(f64::from).product();
            d.powi(n) / (n_fact * f64::from(n).sqrt())
        })
        .sum();
    let truth = (2.0 + s * (2.0 * std::f64::consts::PI).sqrt() * series).ln();
    let energy = crate::quad::FnEnergy::new(1, |z: &[f64]| needle(z[0]));
    let domain =
        crate::quad::Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY)]).expect("domain");
    let r =
        crate::quad::log_partition(&energy, &domain, 1.0, &QuadOptions::default()).expect("log Z");
    assert!(
        (r.log_z - truth).abs() <= r.abs_error.max(1e-11),
        "log Z {} ± {:e}, truth {truth}",
        r.log_z,
        r.abs_error
    );
}

/// A steep asymmetric power at β = 6e5 (`0.8·max(-z, 0)^4 + 9.2·max(z, 0)^4.9 - 643`): the
/// energy is flat to 2e-10 out to the grid point 7e-3 from the minimum, whose right side
/// crawls in while its left side is open. Probing beside the grid point there (the crawl rule
/// without its closed-side condition) moved it by `tol1` at a time and the result was no longer
/// converged (error bound 5.7e-5 against 8.5e-7).
#[test]
fn power_asym_far_from_its_grid_point() {
    let (c0, sl, pl, sr, pr) = (
        -643.0587146649377,
        0.8037462548638495,
        4.027863382246254,
        9.224850278170823,
        4.916754713446798,
    );
    let beta = 596145.1258302575;
    let energy = crate::quad::FnEnergy::new(1, move |z: &[f64]| {
        c0 + sl * (-z[0]).max(0.0).powf(pl) + sr * z[0].max(0.0).powf(pr)
    });
    let domain =
        crate::quad::Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY)]).expect("domain");
    let r =
        crate::quad::log_partition(&energy, &domain, beta, &QuadOptions::default()).expect("log Z");
    // log Z = -βc0 + log(Γ(1+1/pL)(β sL)^(-1/pL) + Γ(1+1/pR)(β sR)^(-1/pR)) (mpmath, 30 digits).
    let truth = 383356315.77056396;
    assert_eq!(r.status, crate::quad::Status::Converged, "{r:?}");
    assert!((r.log_z - truth).abs() <= r.abs_error, "{r:?}");
}
