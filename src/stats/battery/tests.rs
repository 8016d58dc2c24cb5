//! Tests of the battery: correct autocorrelated chains pass, shifted chains fail naming the mean,
//! short chains are inconclusive, non-finite draws fail, and a tabulated CDF keeps KS conservative.

use super::*;

/// A CDF known only to within ε gives a KS test whose p-value is that of `max(D − ε, 0)`:
/// never below the plain test's, and no Anderson–Darling test.
#[test]
fn a_tabulated_cdf_makes_the_ks_test_conservative() {
    let values: Vec<f64> = (0..2000).map(|i| (f64::from(i) + 0.5) / 2000.0).collect();
    // Shifted uniform: D = 0.03 against the true uniform CDF.
    let draws = Draws::new(1, vec![values.iter().map(|u| 0.97 * u).collect()]).expect("draws");
    let cdf = |x: f64| x.clamp(0.0, 1.0);
    let opts = BatteryOptions {
        iid: true,
        ..BatteryOptions::default()
    };
    let exact = Reference::new().cdf("y", |y| y[0], cdf);
    let within = Reference::new().cdf_within("y", |y| y[0], cdf, 0.02);
    let a = run_battery(&draws, &exact, &opts).expect("runs");
    let b = run_battery(&draws, &within, &opts).expect("runs");
    let ks = |r: &BatteryReport| {
        r.tests
            .iter()
            .find(|t| t.name == "KS of y")
            .map(|t| (t.statistic, t.p_value))
            .expect("a KS test")
    };
    let ((da, pa), (db, pb)) = (ks(&a), ks(&b));
    assert!(
        (da - db).abs() < 1e-15 && (da - 0.03).abs() < 1e-3,
        "{da} {db}"
    );
    assert!(pb > pa, "conservative p-value {pb} not above {pa}");
    assert!((pb - gof::ks_p_value(2000, da - 0.02)).abs() < 1e-12);
    assert!(a.tests.iter().any(|t| t.name == "AD of y"));
    assert!(!b.tests.iter().any(|t| t.name == "AD of y"));
}
use crate::stats::special;
use crate::testing::stats::{ALPHA, ar1_chains};

fn normal_reference() -> Reference {
    Reference::new()
        .moment("mean of y1", |y| y[0], 0.0, Some(1.0))
        .moment("mean of y1^2", |y| y[0] * y[0], 1.0, Some(2.0_f64.sqrt()))
        .region("y1 > 1", |y| y[0] > 1.0, special::sf(1.0))
        .cdf("y1", |y| y[0], special::cdf)
}

#[test]
fn correct_autocorrelated_chains_pass() {
    // 4 AR(1) chains with φ = 0.9 have N(0,1) marginals: 60 000 draws, ESS ≈ 3 200.
    let chains = ar1_chains(0.9, 4, 15_000, 71);
    let draws = Draws::new(1, chains).expect("valid");
    let rep = run_battery(
        &draws,
        &normal_reference(),
        &BatteryOptions {
            alpha: ALPHA,
            ..Default::default()
        },
    )
    .expect("runs");
    assert_battery_passes(&rep);
    let json = rep.to_json();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["n"], 60_000);
    assert!(json["ess"]["y1"].as_f64().is_some_and(|e| e > 1000.0));
    let tests = json["tests"].as_array().expect("tests array");
    assert_eq!(tests.len(), 5);
    for t in tests {
        for key in ["name", "statistic", "p_value", "reject", "detail"] {
            assert!(!t[key].is_null(), "missing {key} in {t}");
        }
    }
}

#[test]
fn shifted_chains_fail_with_the_mean_named() {
    let mut chains = ar1_chains(0.9, 4, 15_000, 72);
    chains.iter_mut().flatten().for_each(|v| *v += 0.25);
    let draws = Draws::new(1, chains).expect("valid");
    let rep = run_battery(&draws, &normal_reference(), &BatteryOptions::default()).expect("runs");
    assert_eq!(rep.verdict, Verdict::Fail, "{}", rep.evidence());
    assert!(rep.failures().iter().any(|t| t.name == "mean of y1"));
}

#[test]
fn short_chains_are_inconclusive() {
    let chains = ar1_chains(0.99, 2, 1000, 73);
    let draws = Draws::new(1, chains).expect("valid");
    let rep = run_battery(&draws, &normal_reference(), &BatteryOptions::default()).expect("runs");
    assert_eq!(rep.verdict, Verdict::Inconclusive, "{}", rep.evidence());
    assert!(rep.summary.contains("run longer"));
}

#[test]
fn non_finite_draws_fail_and_bad_input_errors() {
    let draws = Draws::new(1, vec![vec![0.0, f64::NAN, 1.0, 2.0]]).expect("valid");
    let rep = run_battery(&draws, &normal_reference(), &BatteryOptions::default()).expect("runs");
    assert_eq!(rep.verdict, Verdict::Fail);
    // A sampler that never moves: ESS about one per chain, so nothing can pass.
    let stuck = Draws::new(1, vec![vec![0.3; 5000]]).expect("valid");
    let rep = run_battery(&stuck, &normal_reference(), &BatteryOptions::default()).expect("runs");
    assert_eq!(rep.verdict, Verdict::Inconclusive, "{}", rep.evidence());
    // A NaN CDF makes the KS/AD tests undefined: reported, never a silent pass.
    let nan_ref = Reference::new().cdf("y1", |y| y[0], |_| f64::NAN);
    let ok = Draws::new(1, vec![(0..100).map(|i| i as f64 / 100.0).collect()]).expect("valid");
    let rep = run_battery(
        &ok,
        &nan_ref,
        &BatteryOptions {
            iid: true,
            ..Default::default()
        },
    )
    .expect("runs");
    assert_eq!(rep.verdict, Verdict::Inconclusive, "{}", rep.evidence());
    assert!(Draws::new(2, vec![vec![0.0; 3]]).is_err());
    assert!(Draws::new(1, vec![]).is_err());
    let ok = Draws::new(1, vec![vec![0.0; 8]]).expect("valid");
    let bad = BatteryOptions {
        alpha: 2.0,
        ..Default::default()
    };
    assert!(run_battery(&ok, &normal_reference(), &bad).is_err());
}
