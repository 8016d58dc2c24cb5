//! CLI tests of issue 18: no missed mass and no false "converged" from `logz`, the certified
//! enclosure of `--certify`, divergent energies refused and heavy tails integrated.

mod common;

use common::ebmcheck;
use ebmcheck::testing::quad::{Bump2, gaussian_mixture_2d};

/// `logz ... --format json`, parsed.
fn logz_json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let mut a = vec!["logz"];
    a.extend_from_slice(args);
    a.extend(["--format", "json"]);
    let (code, out, err) = ebmcheck(&a);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v, err)
}

/// A result is either converged and within its error of the truth (exit 0), or not converged
/// (exit 1); never converged and wrong.
fn assert_right_or_not_converged(code: i32, v: &serde_json::Value, truth: f64) {
    let got = v["log_z"].as_f64().unwrap_or(f64::NAN);
    if v["status"] == "converged" {
        assert_eq!(code, 0, "{v}");
        let err = v["abs_error"].as_f64().expect("abs_error");
        assert!(
            (got - truth).abs() <= err,
            "converged {got} ± {err}, truth {truth}: {v}"
        );
    } else {
        assert_eq!(code, 1, "{v}");
    }
}

#[test]
fn a_far_narrow_mode_is_found_or_the_result_is_not_converged() {
    // Issue 18: four normalised Gaussians with masses 0.4, 0.3, 0.2, 0.1, so log Z = 0; the
    // narrow mode at z = 30 lies beyond the search grid and was dropped silently
    // (log Z -0.10536, "converged").
    let e = "-logsumexp(-2.9338415537469373 - 0.5*((z + 20.0)/3.0)^2, \
             0.17967375546343667 - 0.5*((z + 5.0)/0.1)^2, \
             -2.5283764456387727 - 0.5*((z - 7.0)/1.0)^2, \
             -2.5283764456387727 - 0.5*((z - 30.0)/0.5)^2)";
    let (code, v, _) = logz_json(&[e, "--over", "z=-inf..inf", "--beta", "1"]);
    assert_right_or_not_converged(code, &v, 0.0);
    // The mechanism finds it: the heavy boxes of the certified bounds send the search there.
    assert_eq!(v["status"], "converged", "{v}");
}

#[test]
fn a_far_mode_below_the_audit_threshold_is_found() {
    // A narrow mode at z = 10, 7 above the main one, holds 9e-6 of Z: below the 1e-4 of Z the
    // 1D audit certified, so it was dropped with ±4e-13 claimed (found by a stress run). The
    // sinks of the gradient-sign cover now send the search there.
    let e = "-logsumexp(-0.5*z^2, (-7) - 5000*(z - 10)^2)";
    let truth = ((2.0 * std::f64::consts::PI).sqrt()
        + (-7f64).exp() * (std::f64::consts::PI / 5000.0).sqrt())
    .ln();
    let (code, v, _) = logz_json(&[e, "--over", "z=-inf..inf", "--beta", "1"]);
    assert_right_or_not_converged(code, &v, truth);
    assert_eq!(v["status"], "converged", "{v}");
}

#[test]
fn a_mass_bound_that_is_nan_certifies_nothing() {
    // Stress case 2-225: three Gaussian components, the lowest (E = 4.84 at z = 23.5, width
    // 0.012) missed by the search. A feeder ray's mass bound was -inf + inf = NaN, and the
    // sum of the sinks' bounds dropped it (f64::max ignores NaN): the cover "certified" that
    // nothing was missed and log Z came out 1.78 low with ±9e-11 claimed.
    let e = "-logsumexp((-4.843945822899855) - 1455.2399558757465*(z - 23.53132145311892)^2, \
             (-6.369763612624985) - 12.151285609548221*(z - (-43.12724570496693))^2, \
             (-6.285647219640705) - 23.614423316130917*(z - (-15.575594352009361))^2)";
    let (code, v, _) = logz_json(&[e, "--over", "z=-inf..inf", "--beta", "2.3543573265870945"]);
    // mpmath at 30 and 40 digits with two sets of breakpoints.
    assert_right_or_not_converged(code, &v, -14.453846477371336);
    assert_eq!(v["status"], "converged", "{v}");
}

#[test]
fn the_banana_is_right_within_its_error() {
    // Issue 18: 0.5 z1² + 2 (z2 - z1²)² has log Z = log(√(2π)·√(π/2)) = 1.14472989; it was
    // 1.14412293 ± 1e-8, "converged".
    let truth = (2.0 * std::f64::consts::PI).sqrt().ln() + (std::f64::consts::PI / 2.0).sqrt().ln();
    let (code, v, _) = logz_json(&[
        "0.5*z1^2 + 2*(z2 - z1^2)^2",
        "--over",
        "z1=-inf..inf",
        "--over",
        "z2=-inf..inf",
        "--beta",
        "1",
    ]);
    assert_right_or_not_converged(code, &v, truth);
    assert_eq!(v["status"], "converged", "{v}");
}

/// The `"certified"` object: `lo`, `hi` (JSON null when infinite), the width and the boxes.
fn certified(v: &serde_json::Value) -> (f64, f64, u64) {
    let c = &v["certified"];
    let lo = c["lo"].as_f64().expect("lo");
    let hi = c["hi"].as_f64().unwrap_or(f64::INFINITY);
    if hi.is_finite() {
        let w = c["width"]
            .as_f64()
            .expect("a finite enclosure reports its width");
        assert!((w - (hi - lo)).abs() <= 1e-12 * (1.0 + w), "{c}");
    } else {
        assert!(c["width"].is_null(), "{c}");
    }
    (lo, hi, c["boxes"].as_u64().expect("boxes"))
}

#[test]
fn certify_encloses_the_closed_form_in_1d_and_2d() {
    let pi = std::f64::consts::PI;
    // 1D Gaussian z² at β = 3: log Z = ½ log(π/3), enclosed to the default width 1e-3.
    let (code, v, err) = logz_json(&["z^2", "--over", "z=-inf..inf", "--beta", "3", "--certify"]);
    assert_eq!(code, 0, "{err}");
    let truth = 0.5 * (pi / 3.0).ln();
    let (lo, hi, boxes) = certified(&v);
    assert!(lo <= truth && truth <= hi, "{truth} outside [{lo}, {hi}]");
    assert!(hi - lo <= 1e-3, "width {}", hi - lo);
    assert!(boxes > 0);
    // 2D correlated Gaussian: log Z = log(2π) - ½ log det H, det H = 1 - 0.3² (H has 1 on the
    // diagonal, 0.3 off it).
    let (code, v, err) = logz_json(&[
        "0.5*z1^2 + 0.5*z2^2 + 0.3*z1*z2",
        "--over",
        "z1=-inf..inf",
        "--over",
        "z2=-inf..inf",
        "--beta",
        "1",
        "--certify",
        "--certify-boxes",
        "50000",
    ]);
    assert_eq!(code, 0, "{err}");
    let truth = (2.0 * pi).ln() - 0.5 * (1.0f64 - 0.09).ln();
    let (lo, hi, _) = certified(&v);
    assert!(lo <= truth && truth <= hi, "{truth} outside [{lo}, {hi}]");
    assert!(hi - lo <= 5e-3, "width {}", hi - lo);
    // The banana: the lower bound holds; the upper one may stay infinite (its valley).
    let truth = (2.0 * pi).sqrt().ln() + (pi / 2.0).sqrt().ln();
    let (_, v, err) = logz_json(&[
        "0.5*z1^2 + 2*(z2 - z1^2)^2",
        "--over",
        "z1=-inf..inf",
        "--over",
        "z2=-inf..inf",
        "--beta",
        "1",
        "--certify",
        "--certify-boxes",
        "20000",
    ]);
    let (lo, hi, _) = certified(&v);
    assert!(
        lo <= truth && truth <= hi,
        "{truth} outside [{lo}, {hi}]: {err}"
    );
    assert!(truth - lo <= 0.05, "lower bound {lo} far below {truth}");
}

#[test]
fn a_weight_singular_inside_the_domain_is_never_converged() {
    // exp(1/z²) is not integrable at 0: this was "converged 1.1e49"; it is refused as
    // divergent (exit 2), naming the pole by the user's variable, with nothing on stdout.
    let (code, out, err) = ebmcheck(&[
        "logz", "-1/z^2", "--over", "z=-1..1", "--beta", "1", "--format", "json",
    ]);
    assert_eq!(code, 2, "{out} {err}");
    assert!(
        err.contains("diverges") && err.contains("near z = ") && !err.contains("z1"),
        "{err}"
    );
    assert!(out.is_empty(), "{out}");
}

#[test]
fn a_student_t_heavy_tail_is_integrated() {
    // Student-t with ν = 2: ∫ (1 + z²)^(-3/2) dz = 2, a tail like |z|^-3.
    let (code, v, err) = logz_json(&["1.5*log(1 + z^2)", "--over", "z=-inf..inf", "--beta", "1"]);
    assert_eq!(code, 0, "{err}");
    assert_right_or_not_converged(code, &v, 2f64.ln());
    // ν = 1 (Cauchy) at β = 1: ∫ (1 + z²)^-1 = π.
    let (code, v, err) = logz_json(&["log(1 + z^2)", "--over", "z=-inf..inf", "--beta", "1"]);
    assert_eq!(code, 0, "{err}");
    assert_right_or_not_converged(code, &v, std::f64::consts::PI.ln());
}

#[test]
fn a_second_mode_far_along_the_inner_axis_is_not_lost_by_warm_slices() {
    // Battery case mixture-2d-23: two unit Gaussians with masses 2/3 and 1/3 (log Z = 0),
    // 5.6 apart in z1 and 27 in z2. The nested rule's slices were warm-started from their
    // neighbour's modes and never searched z2 = 30 again where the first component fades in:
    // -5.2e-6 "converged" with 2.6e-9 claimed. Slices are now seeded with every 2D minimum.
    let e = "-logsumexp(-2.2521986496230992 - 0.5*(((z1 - -28.59293229611562)/1.0)^2 \
             + ((z2 - 30.203520799143874)/1.0)^2), -2.919008298869706 \
             - 0.5*(((z1 - -34.20406759949035)/1.0)^2 + ((z2 - 3.2444771133059858)/1.0)^2))";
    let (code, v, _) = logz_json(&[
        e,
        "--over",
        "z1=-inf..inf",
        "--over",
        "z2=-inf..inf",
        "--beta",
        "1",
    ]);
    assert_right_or_not_converged(code, &v, 0.0);
    assert_eq!(v["status"], "converged", "{v}");
}

#[test]
fn logarithmic_growth_is_decided_from_its_slope() {
    // E ~ c·log|z| makes exp(-βE) ~ |z|^-βc: integrable on the line iff βc > 1. c = 1 (the
    // critical case) and c = 0.6 are refused with their direction, at once, not after the
    // whole evaluation budget (0.5·log(1 + z²) ran 20 million evaluations to say "not
    // converged").
    for e in ["0.5*log(1+z^2)", "0.3*log(1+z^2)"] {
        let t0 = std::time::Instant::now();
        let (code, out, err) = ebmcheck(&["logz", e, "--over", "z=-inf..inf", "--beta", "1"]);
        assert_eq!(code, 2, "{e}: {out} {err}");
        assert!(err.contains("does not decay as z → "), "{e}: {err}");
        assert!(
            t0.elapsed().as_secs_f64() < 30.0,
            "{e}: {:.1} s",
            t0.elapsed().as_secs_f64()
        );
    }
    // c = 3 at β = 1: ∫ (1 + z²)^-1.5 dz = 2, a Student-t-like tail, integrated.
    let (code, v, _) = logz_json(&["1.5*log(1+z^2)", "--over", "z=-inf..inf", "--beta", "1"]);
    assert_right_or_not_converged(code, &v, 2f64.ln());
    assert_eq!(v["status"], "converged", "{v}");
    // The same energy at β = 0.3 has βc = 0.9: divergent.
    let (code, _, err) = ebmcheck(&[
        "logz",
        "1.5*log(1+z^2)",
        "--over",
        "z=-inf..inf",
        "--beta",
        "0.3",
    ]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn slow_power_growth_is_never_refused_as_divergent() {
    // |z - 0.3|^0.05 grows slower than log|z| up to 1e16 but is a power: ∫ exp(-|u|^0.05) du
    // = 2·Γ(21), log Z = log 2 + log 20!. It was refused ("does not decay") because the power
    // test needed an exponent of at least 0.5; now it is integrated or honestly not converged.
    let truth = 2f64.ln() + (1..=20).map(|k| f64::from(k).ln()).sum::<f64>();
    let (code, v, _) = logz_json(&["abs(z - 0.3)^0.05", "--over", "z=-inf..inf", "--beta", "1"]);
    assert_ne!(code, 2, "{v}");
    assert_right_or_not_converged(code, &v, truth);
}

#[test]
fn json_minima_agree_with_the_result() {
    // `minima` came from a separate search, not re-polished: with a narrow mode far out the
    // result's minimum was E = -0.0 at z = 0 while `minima` listed E = 1.4e-35 at z = 5e-18.
    // The first entry is now the result's own minimum, and none lies below it.
    for (e, want) in [
        ("-logsumexp(-0.5*((z-40)/0.01)^2, -0.5*z^2)", 1),
        ("z^4 - 3*z^2 + 0.5*z", 2),
        ("abs(z-0.3)^7", 1),
    ] {
        let (code, v, err) = logz_json(&[e, "--over", "z=-inf..inf", "--beta", "1"]);
        assert!(code == 0 || code == 1, "{e}: {err}");
        let minima = v["minima"].as_array().expect("minima");
        assert!(minima.len() >= want, "{e}: {v}");
        assert_eq!(minima[0]["energy"], v["min_energy"], "{e}: {v}");
        assert_eq!(minima[0]["point"], v["argmin"], "{e}: {v}");
        let e0 = v["min_energy"].as_f64().expect("min_energy");
        for m in minima {
            assert!(m["energy"].as_f64().expect("energy") >= e0, "{e}: {v}");
        }
    }
}

#[test]
fn a_3d_funnel_neck_between_the_nodes_is_caught_by_the_second_partition() {
    // Battery case funnel-3d-6 (Neal's funnel, log Z in closed form): the neck along the z1
    // axis lies on the first partition's cuts t2 = t3 = 0, between every Genz–Malik node, and
    // 3.5e-6 of Z read as nothing ("converged" with 1e-7 claimed at the default tolerance, the
    // same at 1e-6). The second partition has its nodes on the neck; the two disagree.
    let truth = 4.287280707722183;
    let (code, v, _) = logz_json(&[
        "z1^2/4.5 + 0.5*z2^2*exp(-z1) + 0.5*z3^2*exp(-z1)",
        "--over",
        "z1=-inf..inf",
        "--over",
        "z2=-inf..inf",
        "--over",
        "z3=-inf..inf",
        "--beta",
        "1",
        "--rel-tol",
        "1e-6",
    ]);
    assert_right_or_not_converged(code, &v, truth);
}

#[test]
fn a_weak_point_singularity_in_2d_is_refused_without_calling_it_divergent() {
    // exp(-βE) = 1/|z| at β = 1/2: integrable in 2D. It is not integrated (no rule here handles a
    // singular weight), so the answer is a refusal (exit 2) that says the integral may be finite;
    // at β = 1 (1/|z|², logarithmically divergent) it is refused as divergent.
    let run = |beta: &str| {
        ebmcheck(&[
            "logz",
            "log(z1^2 + z2^2)",
            "--over",
            "z1=-1..1",
            "--over",
            "z2=-1..1",
            "--beta",
            beta,
        ])
    };
    let (code, out, err) = run("0.5");
    assert_eq!(code, 2, "{out} {err}");
    assert!(
        err.contains("may be finite") && !err.contains("diverges"),
        "{err}"
    );
    let (code, out, err) = run("1");
    assert_eq!(code, 2, "{out} {err}");
    assert!(
        err.contains("diverges") && err.contains("not integrable"),
        "{err}"
    );
}

/// `check --format json` on a file: exit code and the parsed output.
fn check_json(path: &str) -> (i32, serde_json::Value) {
    let (code, out, err) = ebmcheck(&["check", path, "--format", "json"]);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

/// `certify = true` (here the file's default): every check passes on certified enclosures,
/// says so (`"certified": true`), and each integral's error is an enclosure's half-width
/// that holds the closed form (1D: at most 1e-6 wide; 2D: 1e-3).
#[test]
fn a_certified_check_passes_on_enclosures_that_hold_the_closed_form() {
    let (code, v) = check_json("tests/data/certify/certified.toml");
    assert_eq!(code, 0, "{v}");
    let checks = v["files"][0]["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 3, "{v}");
    for c in checks {
        assert_eq!(c["status"], "pass", "{c}");
        assert_eq!(c["certified"], true, "{c}");
        for p in c["points"].as_array().expect("points") {
            let err = p["lhs_error"].as_f64().expect("a finite error");
            assert!(err > 0.0, "{p}");
            if c["kind"] == "equal" {
                // The closed form lies within the certified value's error.
                let d = p["difference"].as_f64().expect("difference").abs();
                assert!(
                    d <= err + p["rhs_error"].as_f64().expect("rhs_error"),
                    "{p}"
                );
            }
        }
    }
    let err_2d = checks[2]["points"][0]["lhs_error"].as_f64().expect("error");
    assert!(err_2d <= 1e-3, "{}", checks[2]);
    assert!(checks[0]["points"][0]["lhs_error"].as_f64().expect("error") <= 1e-6);
}

/// Where no certified value exists (three continuous variables, an energy holding an inner
/// integral, an expectation), a check with `certify = true` is an error saying why: never an
/// uncertified pass. The same 3D integral without `certify` passes, so the refusal is
/// certification's; only the checks that asked are marked `"certified"`.
#[test]
fn a_certified_check_without_a_certified_value_says_why() {
    let (code, v) = check_json("tests/data/certify/uncertifiable.toml");
    assert_eq!(code, 1, "{v}");
    let checks = v["files"][0]["checks"].as_array().expect("checks");
    let why = [
        "has 3 continuous variables",
        "holds another bound operator",
        "not of exp(-U) alone",
    ];
    for (c, why) in checks.iter().zip(why) {
        assert_eq!(c["status"], "error", "{c}");
        assert_eq!(c["certified"], true, "{c}");
        let m = c["message"].as_str().expect("message");
        assert!(
            m.contains("a certified value was asked for") && m.contains(why),
            "{m}"
        );
    }
    assert_eq!(checks[3]["status"], "pass", "{}", checks[3]);
    assert!(checks[3].get("certified").is_none(), "{}", checks[3]);
}

#[test]
fn certify_bounds_a_mixture_of_narrow_correlated_gaussians_in_2d() {
    // Two correlated bumps `a - k11·u² - k12·u·v - k22·v²`, one 37 widths from the other;
    // log Z = log Σ e^a·π/√(k11·k22 - k12²/4). Plain intervals bound each cross term over a
    // ray by -inf, so the enclosure was [-85.6, +inf] for such a mixture; the Taylor models of
    // the quadratic terms bound them exactly.
    let comps: [Bump2; 2] = [
        (
            -3.292877357138661,
            [41.25931833393091, 18.9773862599001, 2.2397791515954633],
            [1.8664767006684437, 2.4501863699112123],
        ),
        (
            -1.0179725535300328,
            [0.5559481470314613, 0.8487316388101228, 2.7411756840146015],
            [-34.96829017529895, -17.119333799829192],
        ),
    ];
    let (e, truth) = gaussian_mixture_2d(&comps);
    let (code, v, err) = logz_json(&[
        &e,
        "--over",
        "z1=-inf..inf",
        "--over",
        "z2=-inf..inf",
        "--beta",
        "1",
        "--certify",
        "--certify-width",
        "0.05",
        "--certify-boxes",
        "30000",
    ]);
    assert_right_or_not_converged(code, &v, truth);
    let (lo, hi, _) = certified(&v);
    assert!(
        lo <= truth && truth <= hi,
        "{truth} outside [{lo}, {hi}]: {err}"
    );
    assert!(hi - lo <= 0.05, "width {}", hi - lo);
}
