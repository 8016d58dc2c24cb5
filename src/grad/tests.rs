//! Unit tests of the gradient module: closed forms, the decision, CD-k's predicted bias, and
//! the power of the check against deliberately wrong estimators (issue 5's calibration section).

use super::pipeline::{agreement, exact_gradient};
use super::*;
use crate::testing::grad::{
    CLOSED_FORM_TOL, FAST_SEEDS, GAUSSIAN_DATA, POWER, POWER_SEEDS, double_well, gaussian,
};
use crate::testing::stats::ALPHA;

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

#[test]
fn exact_gradient_of_a_gaussian_matches_the_closed_form() {
    let (mu, a, beta) = (-1.0, 1.3, 2.0);
    let r = run(
        &gaussian(mu, a, beta, &GAUSSIAN_DATA),
        &GradOptions::default(),
    )
    .expect("runs");
    let ybar = mean(&GAUSSIAN_DATA);
    let half_sq = mean(
        &GAUSSIAN_DATA
            .iter()
            .map(|y| 0.5 * (y - mu) * (y - mu))
            .collect::<Vec<_>>(),
    );
    for (p, want) in r
        .params
        .iter()
        .zip([-a * (ybar - mu), half_sq - 1.0 / (2.0 * a * beta)])
    {
        assert!((p.exact.value - want).abs() < CLOSED_FORM_TOL, "{p:?}");
        assert!(
            (p.finite_difference.value - want).abs() < CLOSED_FORM_TOL,
            "{p:?}"
        );
    }
    assert_eq!(r.status, Status::Pass);
}

#[test]
fn invalid_problems_are_typed_errors() {
    let mut p = gaussian(0.0, 1.0, 1.0, &[1.0]);
    p.beta = -1.0;
    assert!(matches!(
        run(&p, &GradOptions::default()),
        Err(GradError::Input { .. })
    ));
    let mut p = gaussian(0.0, 1.0, 1.0, &[1.0]);
    p.energy = parse("0.5*b*(y - mu)^2").expect("parses");
    assert_eq!(
        run(&p, &GradOptions::default()).err(),
        Some(GradError::UnknownNames(vec!["b".into()]))
    );
    let mut p = gaussian(0.0, 1.0, 1.0, &[1.0]);
    p.wrt = vec!["y".into()];
    assert!(run(&p, &GradOptions::default()).is_err());
    // A missing value: the fix is data (the binary words it with `--set`), the help names no flag.
    let mut p = gaussian(0.0, 1.0, 1.0, &[1.0]);
    p.wrt = vec!["q".into()];
    let e = run(&p, &GradOptions::default()).err();
    assert_eq!(
        e.as_ref().and_then(GradError::remedy),
        Some(crate::remedy::Remedy::SetNumber("q".into()))
    );
    let help = e.and_then(|e| e.help()).unwrap_or_default();
    assert!(help.contains("`q`") && !help.contains("--"), "{help}");
    let p = gaussian(0.0, -1.0, 1.0, &[1.0]);
    let e = run(&p, &GradOptions::default()).expect_err("diverges");
    assert!(e.help().is_some_and(|h| h.contains("integrable")), "{e}");
}

#[test]
fn judge_tests_constants_exactly_and_flags_disagreeing_chains() {
    let exact = Value::exact(1.0);
    let constant = |v: f64| McAverage {
        estimate: v,
        mcse: 0.0,
        ess: 100.0,
        sd: 0.0,
        n: 100,
    };
    let input = |name: &str, e: McAverage, rhat: Option<f64>| McInput {
        name: name.into(),
        estimate: e,
        exact: exact.clone(),
        rhat,
    };
    let j = judge(&[input("same", constant(1.0), None)], ALPHA);
    assert_eq!(j.verdict, Verdict::Pass, "{:?}", j.reasons);
    assert!(j.z[0].abs() < f64::EPSILON);
    let j = judge(&[input("off", constant(1.5), None)], ALPHA);
    assert_eq!(j.verdict, Verdict::Fail);
    assert!(j.reject[0] && j.z[0].is_infinite());
    let noisy = McAverage {
        estimate: 1.01,
        mcse: 0.01,
        ess: 5000.0,
        sd: 0.7,
        n: 5000,
    };
    let j = judge(&[input("rhat", noisy, Some(1.2))], ALPHA);
    assert_eq!(j.verdict, Verdict::Inconclusive, "{:?}", j.reasons);
    assert!(j.reasons[0].contains("R-hat"), "{:?}", j.reasons);
}

#[test]
fn cd_k_matches_the_predicted_shrink_factor_on_a_gaussian() {
    // ULA on E = ½a(y − μ)² moves the mean exactly as m ← μ + ρ(m − μ), ρ = 1 − hβa, so the
    // CD-k estimate of ∂L/∂μ is (1 − ρᵏ) times the exact one: biased, by a known amount.
    let (a, beta, h) = (1.0, 1.0, 0.1);
    for k in [1, 3] {
        let opts = GradOptions {
            cd: Some(k),
            sampler: Some(SamplerKind::Ula),
            step: Some(h),
            seed: 11 + k as u64,
            ..GradOptions::default()
        };
        let r = run(&gaussian(-1.0, a, beta, &GAUSSIAN_DATA), &opts).expect("runs");
        let cd = r.params[0].contrastive_divergence.as_ref().expect("cd");
        let want = 1.0 - (1.0 - h * beta * a).powi(k as i32);
        let shrink = cd
            .shrink_factor
            .expect("a Gaussian under ULA has a shrink factor");
        assert!((shrink - want).abs() < 1e-12, "k={k}: {shrink} vs {want}");
        // Two-sided z-test of the measured CD-k against the prediction, at ALPHA.
        let z_crit = crate::stats::special::quantile(1.0 - ALPHA / 2.0);
        let z = cd.z_predicted.expect("predicted");
        assert!(z.abs() < z_crit, "k={k}: z against the prediction {z}");
        assert!(cd.biased, "k={k}: bias {} not detected", cd.bias);
        // ∂L/∂a's observable ½(y − μ)² is not linear in y: no prediction.
        let cd_a = r.params[1].contrastive_divergence.as_ref().expect("cd");
        assert!(cd_a.shrink_factor.is_none());
        // The contract's status is not affected by CD-k's bias.
        assert_eq!(r.status, Status::Pass);
    }
}

#[test]
fn single_sample_values_average_to_the_monte_carlo_estimate() {
    let opts = GradOptions {
        mc: Some(4000),
        keep_draws: true,
        ..GradOptions::default()
    };
    let r = run(&gaussian(-1.0, 1.0, 1.0, &GAUSSIAN_DATA), &opts).expect("runs");
    let mc = r.params[0].monte_carlo.as_ref().expect("mc");
    let draws: Vec<f64> = mc.draws.as_ref().expect("kept").concat();
    assert_eq!(draws.len(), 4000);
    assert!((mean(&draws) - mc.estimate.estimate).abs() < 1e-12);
    assert!((mc.single_sample.estimate - draws[0]).abs() < 1e-15);
    assert!((mc.single_sample.ess - 1.0).abs() < f64::EPSILON);
    assert!((mc.single_sample.mcse - mc.estimate.sd).abs() < f64::EPSILON);
}

/// Fraction of `seeds` runs whose decision rejects (`rejects`), printed with the run's name.
fn power(
    name: &str,
    problem: &GradProblem,
    opts: &GradOptions,
    seeds: u64,
    rejects: impl Fn(&GradResult) -> bool,
) -> f64 {
    let hits = (0..seeds)
        .filter(|s| {
            let o = GradOptions {
                seed: 1000 + s,
                ..opts.clone()
            };
            rejects(&run(problem, &o).expect("runs"))
        })
        .count();
    let p = hits as f64 / seeds as f64;
    println!("power {name}: {hits}/{seeds} = {p:.3}");
    p
}

/// Unadjusted Langevin (default step 0.05) on the tilted double well at the default sample
/// size: its stationary law is too wide, so `⟨(y² − 1)²⟩` (the observable of ∂L/∂a) is biased
/// by about −0.10 (exact ∂L/∂a = −0.327, ULA gives about −0.43), |z| ≈ 25.
fn ula_double_well(seeds: u64) -> f64 {
    let opts = GradOptions {
        mc: Some(DEFAULT_DRAWS),
        sampler: Some(SamplerKind::Ula),
        ..GradOptions::default()
    };
    power("ULA, double well", &double_well(), &opts, seeds, |r| {
        r.status == Status::Fail
    })
}

/// CD-1 (MALA kernel, default step 0.5) used as the ML gradient of the Gaussian
/// `E = ½(y − μ)²` at μ = −1, away from the data-generating μ = 1: exact ∂L/∂μ = −(ȳ + 1) =
/// −2.02, CD-1 gives about −1.04 (shrunk towards 0: bias +0.98, 48 % of |exact|, far above
/// 10 %, |z| ≈ 190). Judged by the same
/// decision as the Monte-Carlo estimate.
fn cd1_gaussian(seeds: u64) -> f64 {
    let opts = GradOptions {
        mc: Some(DEFAULT_DRAWS),
        cd: Some(1),
        sampler: Some(SamplerKind::Mala),
        ..GradOptions::default()
    };
    let problem = gaussian(-1.0, 1.0, 1.0, &GAUSSIAN_DATA);
    power(
        "CD-1 as the gradient, Gaussian",
        &problem,
        &opts,
        seeds,
        |r| {
            let cd = r.params[0].contrastive_divergence.as_ref().expect("cd");
            assert!(cd.relative_bias.abs() > 0.1, "bias {}", cd.relative_bias);
            cd.biased
        },
    )
}

/// CD-1 just above the 10 % threshold: ULA with step h = 0.88 on the same Gaussian moves the
/// mean by ρ = 1 − hβa = 0.12 per step, so CD-1 = (1 − ρ)·exact: shrunk by 12 % of |exact|
/// (exact −2.02, CD-1 about −1.78, bias +0.24, |z| ≈ 36).
fn cd1_gaussian_near_threshold(seeds: u64) -> f64 {
    let opts = GradOptions {
        mc: Some(DEFAULT_DRAWS),
        cd: Some(1),
        sampler: Some(SamplerKind::Ula),
        step: Some(0.88),
        ..GradOptions::default()
    };
    let problem = gaussian(-1.0, 1.0, 1.0, &GAUSSIAN_DATA);
    power(
        "CD-1 (ULA, bias 12 %) as the gradient",
        &problem,
        &opts,
        seeds,
        |r| {
            let cd = r.params[0].contrastive_divergence.as_ref().expect("cd");
            assert!(
                (cd.shrink_factor.expect("Gaussian under ULA") - 0.88).abs() < 1e-12,
                "{cd:?}"
            );
            cd.biased
        },
    )
}

/// MALA at β = 3 for a model at β = 2 (the latent-free Gaussian, ∂L/∂a's observable depends on
/// the temperature).
fn wrong_temperature(seeds: u64) -> f64 {
    let opts = GradOptions {
        mc: Some(DEFAULT_DRAWS),
        sampler: Some(SamplerKind::Mala),
        sample_beta: Some(3.0),
        ..GradOptions::default()
    };
    let problem = gaussian(-1.0, 1.0, 2.0, &GAUSSIAN_DATA);
    power(
        "MALA at the wrong temperature",
        &problem,
        &opts,
        seeds,
        |r| r.status == Status::Fail,
    )
}

#[test]
fn wrong_estimators_are_caught_on_a_handful_of_seeds() {
    for (name, p) in [
        ("ULA", ula_double_well(FAST_SEEDS)),
        ("CD-1", cd1_gaussian(FAST_SEEDS)),
        ("CD-1 near 10 %", cd1_gaussian_near_threshold(FAST_SEEDS)),
        ("wrong temperature", wrong_temperature(FAST_SEEDS)),
    ] {
        assert!(p >= 1.0, "{name}: power {p} on {FAST_SEEDS} seeds");
    }
}

#[test]
#[ignore = "power over 100 seeds per wrong estimator (about half a minute in release)"]
fn power_against_wrong_estimators() {
    for (name, p) in [
        ("ULA", ula_double_well(POWER_SEEDS)),
        ("CD-1", cd1_gaussian(POWER_SEEDS)),
        ("CD-1 near 10 %", cd1_gaussian_near_threshold(POWER_SEEDS)),
        ("wrong temperature", wrong_temperature(POWER_SEEDS)),
    ] {
        assert!(p >= POWER, "{name}: power {p} below {POWER}");
    }
}

#[test]
#[ignore = "timing; run alone in release: cargo test --release --lib grad::tests::speed -- --ignored --nocapture"]
fn speed_of_the_exact_gradient_with_a_latent() {
    // 1D y + 1D latent, one parameter, three data points: the exact gradient alone (model
    // built, data and model terms by quadrature) and the whole `run` (plus the loss and the
    // Richardson finite difference), medians of 21 runs.
    for (name, energy) in [
        ("gaussian latent", "0.5*(y - w*z)^2 + 0.5*a*z^2"),
        (
            "double-well latent",
            "(z^2 - 1)^2 + 0.5*(y - w*z)^2 + 0.1*a*z",
        ),
    ] {
        let mut context = Context::new();
        context.set_param("w", 0.7);
        context.set_param("a", 1.3);
        let p = GradProblem {
            context,
            energy: parse(energy).expect("parses"),
            predicted: vec![Variable::continuous("y", f64::NEG_INFINITY, f64::INFINITY)],
            latent: vec![Variable::continuous("z", f64::NEG_INFINITY, f64::INFINITY)],
            data: vec![vec![0.5, -1.2, 2.0]],
            wrt: vec!["w".into()],
            beta: 2.0,
        };
        let time = |f: &dyn Fn()| -> [f64; 3] {
            let mut t: Vec<f64> = (0..21)
                .map(|_| {
                    let s = std::time::Instant::now();
                    f();
                    s.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            t.sort_by(f64::total_cmp);
            [t[10], t[0], t[20]]
        };
        let whole = time(&|| {
            let r = run(&p, &GradOptions::default()).expect("runs");
            assert_eq!(r.status, Status::Pass);
        });
        let exact = time(&|| {
            let m = Model::new(&p).expect("builds");
            exact_gradient(&m, &p, "w").expect("integrates");
        });
        println!(
            "{name}: exact gradient median {:.1} ms (min {:.1}, max {:.1}); whole run with loss and finite difference median {:.1} ms (min {:.1}, max {:.1})",
            exact[0], exact[1], exact[2], whole[0], whole[1], whole[2]
        );
    }
}

#[test]
fn exact_against_finite_difference_obeys_the_power_rule() {
    use crate::estimate::Estimate as Value;
    let exact = Value::with_flag(-0.3, 1e-12, true);
    // Agreement within a small tolerance passes; a gap beyond it fails.
    let (tol, v, why) = agreement(&exact, &Value::with_flag(-0.3 + 1e-11, 1e-9, true), 0.0);
    assert!(
        tol < 1e-8 && v == Status::Pass && why.is_none(),
        "{tol} {v:?}"
    );
    let (_, v, _) = agreement(&exact, &Value::with_flag(-0.30003, 1e-9, true), 0.0);
    assert_eq!(v, Status::Fail);
    // An infinite error bound cannot fail: inconclusive, with the reason, never pass.
    let (tol, v, why) = agreement(&exact, &Value::with_flag(-0.29, f64::INFINITY, false), 0.0);
    assert!(tol.is_infinite());
    assert_eq!(v, Status::Inconclusive);
    assert!(why.is_some_and(|w| w.contains("cannot detect")));
    // A tolerance as large as the gradients themselves cannot fail either.
    let (_, v, why) = agreement(&exact, &Value::with_flag(-0.31, 0.2, true), 0.3);
    assert_eq!(v, Status::Inconclusive, "{why:?}");
    // A gradient of 0 between terms of size 1 is checked to the power, not called unable.
    let zero = Value::with_flag(0.0, 1e-12, true);
    let (_, v, why) = agreement(&zero, &Value::with_flag(-1e-14, 1e-7, true), 1.0);
    assert_eq!(v, Status::Pass, "{why:?}");
}

#[test]
fn the_monte_carlo_power_is_the_smallest_detectable_gap() {
    let p = gaussian(0.0, 1.0, 1.0, &GAUSSIAN_DATA);
    let opts = GradOptions {
        mc: Some(4000),
        ..GradOptions::default()
    };
    let r = run(&p, &opts).expect("runs");
    for row in &r.params {
        let m = row.monte_carlo.as_ref().expect("monte carlo");
        // Holm's strictest two-sided critical value at α = 1e-3 over the parameters.
        let k = r.params.len() as f64;
        let crit = crate::stats::special::quantile(1.0 - opts.alpha / (2.0 * k));
        assert!((m.power - crit * m.estimate.mcse).abs() <= 2.0 * row.exact.error + 1e-15);
        assert!(m.power > 0.0 && m.power.is_finite());
        assert!(row.power.is_finite() && row.agreement == Status::Pass);
    }
    let json = serde_json::to_value(crate::report::grad::json(&r)).expect("valid JSON");
    assert!(json["power"].is_object() && json["agreement"].is_object());
    assert!(json["reasons"].is_array());
}
