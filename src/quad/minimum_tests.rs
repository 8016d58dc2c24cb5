//! Tests of the certified minimum: lower bounds that bracket closed forms, narrow wells found or
//! reported, minimisers with certified errors, and the minima a search names.

use super::*;

const INF: f64 = f64::INFINITY;

fn program(src: &str, vars: &[&str]) -> crate::engine::ProgramEnergy {
    crate::engine::ProgramEnergy::new(
        &crate::expr::parse(src).expect("parses"),
        vars,
        &crate::expr::Bindings::new(),
    )
    .expect("compiles")
}

/// Issue 13: a minimum carries a certified error. On energies whose minimum is known in
/// closed form, the certified lower bound never exceeds it, the value never falls below it,
/// and the gap closes (converged, error ≤ 1e-9·max(1, |min|)) on smooth 1D and 2D minima.
#[test]
fn certified_minimum_brackets_the_closed_form() {
    type Case<'a> = (&'a str, &'a [&'a str], &'a [(f64, f64)], f64);
    let cases: [Case<'_>; 5] = [
        ("z^2 + 1", &["z"], &[(-INF, INF)], 1.0),
        ("(z^2 - 1)^2 - 3", &["z"], &[(-INF, INF)], -3.0),
        ("(z - 2)^2", &["z"], &[(-1.0, 1.0)], 1.0),
        (
            "(1 - x)^2 + 100*(y - x^2)^2",
            &["x", "y"],
            &[(-INF, INF), (-INF, INF)],
            0.0,
        ),
        (
            "0.5*x^2 + 2*(y - x^2)^2 + 7",
            &["x", "y"],
            &[(-5.0, 5.0), (-5.0, 5.0)],
            7.0,
        ),
    ];
    for (src, vars, bounds, truth) in cases {
        let e = program(src, vars);
        let dom = Domain::continuous(bounds).expect("domain");
        let m = minimize(&e, &dom, &QuadOptions::default()).expect("minimum");
        let slack = 1e-12 * truth.abs().max(1.0);
        assert!(
            m.lower_bound <= truth + slack,
            "{src}: lower bound {} above {truth}",
            m.lower_bound
        );
        assert!(
            m.value >= truth - slack,
            "{src}: value {} below {truth}",
            m.value
        );
        assert_eq!(m.status, Status::Converged, "{src}: {:?} {:?}", m.reason, m);
        assert!(
            m.abs_error <= MIN_GAP_REL * truth.abs().max(1.0),
            "{src}: {}",
            m.abs_error
        );
        assert!(
            (m.value - truth).abs() <= m.abs_error + slack,
            "{src}: {m:?}"
        );
    }
}

/// A narrow deep well that a search grid can miss: the minimum is found (by the branch and
/// bound's own points) or the result is not converged, never a converged value above the
/// well's floor. An energy without an interval enclosure is never converged.
#[test]
fn a_missed_narrow_well_is_found_or_the_minimum_is_not_converged() {
    let e = program("z^2/100 - 2*exp(-1e6*(z - 7.3)^2)", &["z"]);
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let m = minimize(&e, &dom, &QuadOptions::default()).expect("minimum");
    let floor = 7.3f64 * 7.3 / 100.0 - 2.0;
    assert!(m.lower_bound <= floor, "{m:?}");
    if m.status == Status::Converged {
        assert!(
            (m.value - floor).abs() < 1e-3,
            "converged above the well: {m:?}"
        );
    }
    let f = FnEnergy::new(1, |z: &[f64]| z[0] * z[0]);
    let m = minimize(&f, &dom, &QuadOptions::default()).expect("minimum");
    assert_eq!(m.status, Status::NotConverged);
    assert!(m.abs_error.is_infinite() && m.reason.is_some(), "{m:?}");
}

/// Tails that plain enclosures cannot bound (`z⁴ + y·z` meets `∞ − ∞` on a half-line) are
/// reduced to their face when the energy rises outward; a strongly convex energy is bounded
/// from one point; and the minimiser's certified error covers the closed-form minimiser
/// (Newton on `E'`), while a tie between two minimisers is never called precise.
#[test]
fn tilted_wells_and_coupled_quadratics_have_certified_minima_and_minimisers() {
    for y in [0.2, 0.55, 1.0, -0.7] {
        let src = format!("(z^2 - 1)^2 + {y}*z");
        let e = program(&src, &["z"]);
        let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
        let m = minimize(&e, &dom, &QuadOptions::default()).expect("minimum");
        // The global minimiser is the well on the side opposite to the tilt.
        let mut z: f64 = if y > 0.0 { -1.0 } else { 1.0 };
        for _ in 0..60 {
            z -= (4.0 * z * z * z - 4.0 * z + y) / (12.0 * z * z - 4.0);
        }
        let truth = (z * z - 1.0).powi(2) + y * z;
        assert_eq!(m.status, Status::Converged, "{src}: {:?}", m.reason);
        assert!(m.abs_error <= MIN_GAP_REL, "{src}: {}", m.abs_error);
        assert!(m.lower_bound <= truth + 1e-15, "{src}: {m:?}");
        assert!(
            (m.value - truth).abs() <= m.abs_error + 1e-15,
            "{src}: {m:?}"
        );
        assert!(m.argmin_error < 1e-6, "{src}: {}", m.argmin_error);
        assert!(
            (m.argmin[0] - z).abs() <= m.argmin_error,
            "{src}: argmin {} vs {z} ± {}",
            m.argmin[0],
            m.argmin_error
        );
    }
    // A 3D coupled quadratic: certified by strong convexity alone, argmin by 2|g|/μ.
    let src = "x^2 + 0.75*y^2 + 0.5*z^2 + 0.5*x*y - 0.3*x*z + 0.2*y*z + x - 2*z + 3";
    let e = program(src, &["x", "y", "z"]);
    let dom = Domain::continuous(&[(-INF, INF); 3]).expect("domain");
    let m = minimize(&e, &dom, &QuadOptions::default()).expect("minimum");
    // E = ½uᵀAu + bᵀu + 3: the minimiser solves A u = −b.
    let a = nalgebra::Matrix3::new(2.0, 0.5, -0.3, 0.5, 1.5, 0.2, -0.3, 0.2, 1.0);
    let b = nalgebra::Vector3::new(1.0, 0.0, -2.0);
    let u = a.lu().solve(&(-b)).expect("solvable");
    let truth = 3.0 + 0.5 * b.dot(&u);
    assert_eq!(m.status, Status::Converged, "{:?}", m.reason);
    assert!(
        (m.value - truth).abs() <= m.abs_error + 1e-14,
        "{m:?} vs {truth}"
    );
    assert!(m.lower_bound <= truth + 1e-14);
    for k in 0..3 {
        assert!((m.argmin[k] - u[k]).abs() <= m.argmin_error, "{m:?} vs {u}");
    }
    assert!(m.argmin_error < 1e-5, "{}", m.argmin_error);
    // Two equal wells: the minimiser is not one point, and its error says so.
    let e = program("(z^2 - 1)^2", &["z"]);
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let m = minimize(&e, &dom, &QuadOptions::default()).expect("minimum");
    assert!(m.argmin_error >= 1.9, "{}", m.argmin_error);
}

#[test]
fn a_minimiser_known_only_within_a_slack_has_an_error_covering_every_near_minimum() {
    // Integers: values 1e-3·|k − 2|, exactly lowest at k = 2.
    let e = program("1e-3*abs(k - 2)", &["k"]);
    let dom = Domain::new(vec![VarDomain::Integer { lo: 0, hi: 9 }]).expect("domain");
    let opts = QuadOptions::default();
    let exact = minimize(&e, &dom, &opts).expect("minimum");
    assert_eq!(exact.argmin, vec![2.0]);
    assert!(exact.argmin_error.abs() < f64::MIN_POSITIVE, "{exact:?}");
    // Known to ±1e-3: a true minimiser may be any k whose value is within 2e-3 of the lowest,
    // k = 0..4 (the error is their largest distance from 2, about 2: a tie is not exact).
    let within = minimize_within(&e, &dom, &opts, 1e-3).expect("minimum");
    assert_eq!(within.argmin, vec![2.0]);
    assert!((within.argmin_error - 2.0).abs() < 1e-12, "{within:?}");
    // Two tied integers: the error is their distance, not an infinite one.
    let e = program("(k - 1.5)^2", &["k"]);
    let tie = minimize(&e, &dom, &opts).expect("minimum");
    assert!((tie.argmin_error - 1.0).abs() < 1e-12, "{tie:?}");
    // A continuous well (z − 1)²: within ±s, every z with (z − 1)² ≤ 2s may be the minimiser.
    let e = program("(z - 1)^2", &["z"]);
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    for s in [1e-12, 1e-8, 1e-4] {
        let m = minimize_within(&e, &dom, &opts, s).expect("minimum");
        let reach = (2.0 * s).sqrt();
        assert!(
            m.argmin_error >= reach * (1.0 - 1e-6) && m.argmin_error <= 1.5 * reach + 1e-9,
            "slack {s}: argmin error {} vs reach {reach}",
            m.argmin_error
        );
    }
    // A strongly convex 2D energy (the certificate's radius with slack): every point within 2s
    // of the minimum is within the error.
    let e = program("(x - 1)^2 + (y + 2)^2 + 0.5*x*y", &["x", "y"]);
    let dom = Domain::continuous(&[(-INF, INF); 2]).expect("domain");
    let m0 = minimize(&e, &dom, &opts).expect("minimum");
    let m = minimize_within(&e, &dom, &opts, 1e-6).expect("minimum");
    // The Hessian [[2, 0.5], [0.5, 2]] has λ_min = 1.5: along its eigenvector the set where
    // E − E* ≤ 2s reaches √(4s/1.5) from the minimiser.
    assert!(
        m.argmin_error >= (4e-6_f64 / 1.5).sqrt() * (1.0 - 1e-9),
        "{m:?}"
    );
    assert!(m.argmin_error > m0.argmin_error, "{m:?} vs {m0:?}");
}

#[test]
fn minima_found_name_both_wells_and_start_with_the_result() {
    // A tilted double well: the global minimum near z = -1, a local one near z = +1.
    let e = FnEnergy::new(1, |z: &[f64]| (z[0] * z[0] - 1.0).powi(2) + 0.1 * z[0]);
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let opts = QuadOptions::default();
    let r = log_partition(&e, &dom, 4.0, &opts).expect("integrates");
    let minima = minima_found(&e, &dom, &opts, &[&r]);
    assert_eq!(minima.len(), 2, "{minima:?}");
    // Lowest first, and the first is the integrator's own (polished) minimum.
    assert_eq!(minima[0].0.to_bits(), r.min_energy.to_bits());
    assert_eq!(minima[0].1, r.argmin);
    assert!(minima[0].1[0] < -0.9 && minima[1].1[0] > 0.9, "{minima:?}");
    assert!(minima[0].0 < minima[1].0);
    // Without results, the search's minima alone.
    assert_eq!(minima_found(&e, &dom, &opts, &[]).len(), 2);
}
