//! CLI tests of issue 18: no missed mass and no false "converged" from `logz`, the certified
//! enclosure of `--certify`, divergent energies refused and heavy tails integrated.

mod common;

use common::ebmcheck;

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
    // divergent (exit 2), naming the pole, with nothing on stdout.
    let (code, out, err) = ebmcheck(&[
        "logz", "-1/z^2", "--over", "z=-1..1", "--beta", "1", "--format", "json",
    ]);
    assert_eq!(code, 2, "{out} {err}");
    assert!(
        err.contains("diverges") && err.contains("near z1 = "),
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
