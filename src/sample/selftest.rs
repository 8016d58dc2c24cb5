//! The tool's own proof that it works: correct samplers pass the battery and every bug in the zoo
//! is caught, on several targets (fixed seeds); `#[ignore]`d calibration and power studies.

use super::zoo::*;
use super::*;
use crate::stats::{BatteryOptions, BatteryReport, Reference, Verdict};
use crate::testing::stats::{ALPHA, targets};

/// Independent chains in the invariance test (each starts at an exact draw).
const INV_CHAINS: usize = 20_000;
/// Kernel steps per chain in the invariance test.
const INV_STEPS: usize = 20;
/// Draw-set tests: chains × draws per chain (60 000 draws) after warmup.
const CHAINS: usize = 4;
const DRAWS: usize = 15_000;
const WARMUP: usize = 1_000;

fn opts() -> BatteryOptions {
    BatteryOptions {
        alpha: ALPHA,
        ..Default::default()
    }
}

fn inv(
    target: &dyn Target,
    kernel: &dyn Kernel,
    draw: &(dyn Fn(&mut Rng) -> Vec<f64> + Sync),
    reference: &Reference,
    seed: u64,
) -> BatteryReport {
    invariance_test(
        target,
        kernel,
        draw,
        INV_CHAINS,
        INV_STEPS,
        reference,
        &opts(),
        seed,
    )
    .expect("valid input")
}

fn chains(
    target: &dyn Target,
    kernel: &dyn Kernel,
    init: &[f64],
    reference: &Reference,
    seed: u64,
) -> BatteryReport {
    let inits: Vec<Vec<f64>> = (0..CHAINS)
        .map(|i| init.iter().map(|v| v + 0.1 * i as f64).collect())
        .collect();
    let cs = run_chains(target, kernel, &inits, WARMUP, DRAWS, seed).expect("valid input");
    crate::stats::run_battery(&cs.draws, reference, &opts()).expect("valid draws")
}

fn assert_caught(bug: &str, target: &str, r: &BatteryReport) {
    let worst = r
        .tests
        .iter()
        .min_by(|a, b| a.p_value.total_cmp(&b.p_value))
        .map(|t| t.detail.clone())
        .unwrap_or_default();
    println!(
        "{bug} on {target}: {:?}; strongest evidence: {worst}",
        r.verdict
    );
    assert_eq!(
        r.verdict,
        Verdict::Fail,
        "{bug} on {target} not caught\n{}",
        r.evidence()
    );
}

fn assert_pass(what: &str, r: &BatteryReport) {
    println!("{what}: {:?}", r.verdict);
    assert_eq!(r.verdict, Verdict::Pass, "{what}\n{}", r.evidence());
}

// ---- correct samplers pass ----

#[test]
fn correct_kernels_pass_invariance_tests() {
    let g = targets::gauss_2d();
    let gref = targets::gauss_2d_reference();
    let rwm = RandomWalkMetropolis::new(0.8).expect("valid");
    let mala = Mala::new(0.1).expect("valid");
    let hmc = Hmc::new(0.2, 8).expect("valid");
    assert_pass(
        "RWM on 2D Gaussian",
        &inv(&g, &rwm, &targets::gauss_2d_draw, &gref, 101),
    );
    assert_pass(
        "MALA on 2D Gaussian",
        &inv(&g, &mala, &targets::gauss_2d_draw, &gref, 102),
    );
    assert_pass(
        "HMC on 2D Gaussian",
        &inv(&g, &hmc, &targets::gauss_2d_draw, &gref, 103),
    );
    let gibbs = Gibbs2dGaussian { rho: targets::RHO };
    assert_pass(
        "Gibbs on 2D Gaussian",
        &inv(&g, &gibbs, &targets::gauss_2d_draw, &gref, 104),
    );

    let ring = targets::ring();
    let table = targets::ring_radial_table();
    let draw = |rng: &mut Rng| targets::ring_draw(&table, rng);
    let rref = targets::ring_reference();
    assert_pass("HMC on ring", &inv(&ring, &hmc, &draw, &rref, 105));
    assert_pass(
        "MALA on ring",
        &inv(&ring, &Mala::new(0.05).expect("valid"), &draw, &rref, 106),
    );

    let mix = targets::mixture_1d();
    let mref = targets::mixture_1d_reference();
    assert_pass(
        "RWM on mixture",
        &inv(&mix, &rwm, &targets::mixture_1d_draw, &mref, 107),
    );

    let gam = targets::gamma3();
    let gamref = targets::gamma3_reference();
    assert_pass(
        "RWM on Gamma(3,1)",
        &inv(
            &gam,
            &RandomWalkMetropolis::new(1.5).expect("valid"),
            &targets::gamma3_draw,
            &gamref,
            108,
        ),
    );
}

#[test]
fn correct_chains_pass_draw_set_tests() {
    let dw = targets::double_well_1d();
    let dref = targets::double_well_reference();
    let hmc = Hmc::new(0.2, 10).expect("valid");
    assert_pass(
        "HMC chains on double well",
        &chains(&dw, &hmc, &[0.5], &dref, 201),
    );
    let mala = Mala::new(0.1).expect("valid");
    assert_pass(
        "MALA chains on double well",
        &chains(&dw, &mala, &[-0.5], &dref, 202),
    );
    let g = targets::gauss_2d();
    let rwm = RandomWalkMetropolis::new(0.5).expect("valid");
    let r = chains(&g, &rwm, &[0.0, 0.0], &targets::gauss_2d_reference(), 203);
    assert_pass("RWM chains on 2D Gaussian", &r);
    // Exact i.i.d. draws treated as a draw set (ESS estimated, not assumed).
    let table = targets::ring_radial_table();
    let mut rng = rng_for(204, 0);
    let chains: Vec<Vec<f64>> = (0..CHAINS)
        .map(|_| {
            (0..DRAWS)
                .flat_map(|_| targets::ring_draw(&table, &mut rng))
                .collect()
        })
        .collect();
    let draws = crate::stats::Draws::new(2, chains).expect("valid");
    let rep =
        crate::stats::run_battery(&draws, &targets::ring_reference(), &opts()).expect("valid");
    assert_pass("exact draws on ring", &rep);
}

// ---- the bug zoo is caught ----

#[test]
fn asymmetric_proposal_without_hastings_is_caught() {
    let k = AsymmetricNoHastings { sigma: 0.8 };
    let r = inv(
        &targets::gamma3(),
        &k,
        &targets::gamma3_draw,
        &targets::gamma3_reference(),
        301,
    );
    assert_caught(
        "asymmetric proposal without Hastings factor",
        "Gamma(3,1)",
        &r,
    );
}

#[test]
fn unadjusted_langevin_is_caught() {
    let k = Ula { step: 0.05 };
    let r = inv(
        &targets::double_well_1d(),
        &k,
        &targets_dw_draw(),
        &targets::double_well_reference(),
        302,
    );
    assert_caught("ULA h=0.05", "double well", &r);
    let r = chains(
        &targets::double_well_1d(),
        &k,
        &[0.5],
        &targets::double_well_reference(),
        303,
    );
    assert_caught("ULA h=0.05 (chains)", "double well", &r);
}

fn targets_dw_draw() -> impl Fn(&mut Rng) -> Vec<f64> + Sync {
    let t = targets::double_well_table();
    move |rng: &mut Rng| vec![InverseCdf::new(|u| t.quantile(u)).sample(rng)]
}

#[test]
fn recording_only_accepted_moves_is_caught() {
    let k = RecordAcceptedOnly {
        inner: RandomWalkMetropolis::new(2.4).expect("valid"),
        max_tries: 10_000,
    };
    let r = inv(
        &targets::double_well_1d(),
        &k,
        &targets_dw_draw(),
        &targets::double_well_reference(),
        304,
    );
    assert_caught("record only accepted moves", "double well", &r);
}

#[test]
fn wrong_temperature_is_caught() {
    let k = WrongTemperature {
        inner: Hmc::new(0.2, 10).expect("valid"),
        beta: 0.8,
    };
    let r = inv(
        &targets::double_well_1d(),
        &k,
        &targets_dw_draw(),
        &targets::double_well_reference(),
        305,
    );
    assert_caught("wrong temperature β=0.8", "double well", &r);
}

#[test]
fn hmc_without_kinetic_energy_is_caught() {
    let k = HmcNoKinetic {
        step_size: 0.2,
        n_leapfrog: 5,
    };
    let r = inv(
        &targets::gauss_2d(),
        &k,
        &targets::gauss_2d_draw,
        &targets::gauss_2d_reference(),
        306,
    );
    assert_caught("HMC accept without kinetic energy", "2D Gaussian ρ=0.9", &r);
}

#[test]
fn hmc_with_full_first_kick_is_caught() {
    let k = HmcFullFirstKick {
        step_size: 0.2,
        n_leapfrog: 5,
    };
    let r = inv(
        &targets::gauss_2d(),
        &k,
        &targets::gauss_2d_draw,
        &targets::gauss_2d_reference(),
        307,
    );
    assert_caught("HMC full first kick", "2D Gaussian ρ=0.9", &r);
}

#[test]
fn synchronous_gibbs_is_caught() {
    let k = SynchronousGibbs { rho: targets::RHO };
    let r = inv(
        &targets::gauss_2d(),
        &k,
        &targets::gauss_2d_draw,
        &targets::gauss_2d_reference(),
        308,
    );
    assert_caught("synchronous Gibbs", "2D Gaussian ρ=0.9", &r);
}

#[test]
fn wrong_energy_is_caught() {
    let k = WrongEnergy {
        inner: Hmc::new(0.1, 10).expect("valid"),
        shift: vec![0.1, 0.0],
    };
    let table = targets::ring_radial_table();
    let draw = |rng: &mut Rng| targets::ring_draw(&table, rng);
    let r = inv(&targets::ring(), &k, &draw, &targets::ring_reference(), 309);
    assert_caught("wrong energy (ring shifted by 0.1)", "2D ring", &r);
}

#[test]
fn chain_stuck_in_one_mode_is_caught() {
    let k = ModeLocked {
        inner: RandomWalkMetropolis::new(1.0).expect("valid"),
    };
    let r = chains(
        &targets::double_well_1d(),
        &k,
        &[1.0],
        &targets::double_well_reference(),
        310,
    );
    assert_caught("chain stuck in one mode", "double well", &r);
}

#[test]
fn run_chains_is_reproducible_across_thread_counts() {
    let g = targets::gauss_2d();
    let hmc = Hmc::new(0.2, 5)
        .expect("valid")
        .with_adaptation(0.8)
        .expect("valid");
    let inits = vec![vec![0.0, 0.0]; 3];
    let a = run_chains(&g, &hmc, &inits, 100, 200, 7).expect("runs");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let b = pool
        .install(|| run_chains(&g, &hmc, &inits, 100, 200, 7))
        .expect("runs");
    assert!(
        a.draws
            .chains
            .iter()
            .flatten()
            .zip(b.draws.chains.iter().flatten())
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    assert!(
        a.acceptance.iter().all(|&r| r > 0.5 && r < 1.0),
        "{:?}",
        a.acceptance
    );
    assert!(run_chains(&targets::gamma3(), &hmc, &[vec![-1.0]], 1, 1, 0).is_err());
}

// ---- calibration and power studies (slow: run with `cargo test --release -- --ignored`) ----

/// Seeds in the false-alarm studies.
const CAL_SEEDS: u64 = 1000;
/// Seeds in the power studies.
const POWER_SEEDS: u64 = 100;

/// Checks a rejection count against nominal α: α must not lie below the 99.9 % Clopper–Pearson
/// interval (Holm is conservative across correlated tests, so rates below α are expected).
fn check_rate(label: &str, rejections: u64, n: u64, alpha: f64, two_sided: bool) {
    let (lo, hi) = crate::stats::test::clopper_pearson(rejections, n, 0.999);
    println!(
        "{label}: {rejections}/{n} = {:.4} rejected at α = {alpha} (99.9 % CI [{lo:.4}, {hi:.4}])",
        rejections as f64 / n as f64
    );
    assert!(lo <= alpha, "{label}: false-alarm rate above α");
    if two_sided {
        assert!(
            hi >= alpha,
            "{label}: rejection rate below α for a single exact test"
        );
    }
}

fn false_alarm_study(label: &str, run: &(dyn Fn(u64) -> BatteryReport + Sync)) {
    use rayon::prelude::*;
    let reports: Vec<BatteryReport> = (0..CAL_SEEDS)
        .into_par_iter()
        .map(|s| run(10_000 + s))
        .collect();
    for alpha in [0.05, 0.01] {
        let fam = reports
            .iter()
            .filter(|r| r.tests.iter().any(|t| t.trusted && t.adjusted_p <= alpha))
            .count();
        check_rate(
            &format!("{label}, family (Holm)"),
            fam as u64,
            CAL_SEEDS,
            alpha,
            false,
        );
    }
    let inconclusive = reports
        .iter()
        .filter(|r| r.verdict == Verdict::Inconclusive)
        .count();
    println!("{label}: {inconclusive}/{CAL_SEEDS} inconclusive at the default α");
    // Every single test's raw p-values must be uniform: KS test across seeds, and rates at α.
    let names: Vec<String> = reports[0].tests.iter().map(|t| t.name.clone()).collect();
    for (i, name) in names.iter().enumerate() {
        let p: Vec<f64> = reports.iter().map(|r| r.tests[i].p_value).collect();
        let ks = gof::ks_test(&p, &|x| x.clamp(0.0, 1.0));
        let r05 = p.iter().filter(|&&v| v <= 0.05).count();
        let r01 = p.iter().filter(|&&v| v <= 0.01).count();
        println!(
            "{label}, {name}: KS of p-values D = {:.4}, p = {:.3}; rate@0.05 = {:.3}, rate@0.01 = {:.3}",
            ks.statistic,
            ks.p_value,
            r05 as f64 / CAL_SEEDS as f64,
            r01 as f64 / CAL_SEEDS as f64
        );
        assert!(
            ks.p_value > ALPHA / names.len() as f64,
            "{label}, {name}: p-values not uniform"
        );
    }
}

use crate::stats::gof;

#[test]
#[ignore = "calibration study, ~1 min in release mode"]
fn calibration_invariance_test_false_alarms() {
    let g = targets::gauss_2d();
    let gref = targets::gauss_2d_reference();
    let hmc = Hmc::new(0.2, 8).expect("valid");
    false_alarm_study("invariance, HMC on 2D Gaussian", &|seed| {
        invariance_test(
            &g,
            &hmc,
            &targets::gauss_2d_draw,
            2_000,
            5,
            &gref,
            &opts(),
            seed,
        )
        .expect("valid")
    });
    let dw = targets::double_well_1d();
    let dref = targets::double_well_reference();
    let draw = targets_dw_draw();
    let mala = Mala::new(0.1).expect("valid");
    false_alarm_study("invariance, MALA on double well", &|seed| {
        invariance_test(&dw, &mala, &draw, 2_000, 5, &dref, &opts(), seed).expect("valid")
    });
}

#[test]
#[ignore = "calibration study, ~2 min in release mode"]
fn calibration_autocorrelated_chains_false_alarms() {
    let dw = targets::double_well_1d();
    let dref = targets::double_well_reference();
    let mala = Mala::new(0.1).expect("valid");
    false_alarm_study("4 MALA chains x 5000 on double well", &|seed| {
        let inits = vec![vec![-1.0], vec![-0.5], vec![0.5], vec![1.0]];
        let cs = run_chains(&dw, &mala, &inits, 500, 5_000, seed).expect("valid");
        crate::stats::run_battery(&cs.draws, &dref, &opts()).expect("valid")
    });
}

#[test]
#[ignore = "power study, ~1 min in release mode"]
fn power_against_the_bug_zoo() {
    use rayon::prelude::*;
    let g = targets::gauss_2d();
    let gref = targets::gauss_2d_reference();
    let dw = targets::double_well_1d();
    let dref = targets::double_well_reference();
    let dwdraw = targets_dw_draw();
    let ring = targets::ring();
    let rref = targets::ring_reference();
    let table = targets::ring_radial_table();
    let rdraw = |rng: &mut Rng| targets::ring_draw(&table, rng);
    let gam = targets::gamma3();
    let gamref = targets::gamma3_reference();
    type Case<'a> = (&'a str, Box<dyn Fn(u64) -> BatteryReport + Sync + 'a>);
    let cases: Vec<Case> = vec![
        (
            "asymmetric proposal, no Hastings (Gamma(3,1))",
            Box::new(|s| {
                inv(
                    &gam,
                    &AsymmetricNoHastings { sigma: 0.8 },
                    &targets::gamma3_draw,
                    &gamref,
                    s,
                )
            }),
        ),
        (
            "ULA h=0.05 (double well, invariance)",
            Box::new(|s| inv(&dw, &Ula { step: 0.05 }, &dwdraw, &dref, s)),
        ),
        (
            "ULA h=0.05 (double well, 4 chains)",
            Box::new(|s| chains(&dw, &Ula { step: 0.05 }, &[0.5], &dref, s)),
        ),
        (
            "ULA h=0.01 (double well, invariance)",
            Box::new(|s| inv(&dw, &Ula { step: 0.01 }, &dwdraw, &dref, s)),
        ),
        (
            "record only accepted (double well)",
            Box::new(|s| {
                let k = RecordAcceptedOnly {
                    inner: RandomWalkMetropolis::new(2.4).expect("valid"),
                    max_tries: 10_000,
                };
                inv(&dw, &k, &dwdraw, &dref, s)
            }),
        ),
        (
            "wrong temperature β=0.8 (double well)",
            Box::new(|s| {
                inv(
                    &dw,
                    &WrongTemperature {
                        inner: Hmc::new(0.2, 10).expect("valid"),
                        beta: 0.8,
                    },
                    &dwdraw,
                    &dref,
                    s,
                )
            }),
        ),
        (
            "wrong temperature β=0.95 (double well)",
            Box::new(|s| {
                inv(
                    &dw,
                    &WrongTemperature {
                        inner: Hmc::new(0.2, 10).expect("valid"),
                        beta: 0.95,
                    },
                    &dwdraw,
                    &dref,
                    s,
                )
            }),
        ),
        (
            "HMC without kinetic energy (2D Gaussian)",
            Box::new(|s| {
                inv(
                    &g,
                    &HmcNoKinetic {
                        step_size: 0.2,
                        n_leapfrog: 5,
                    },
                    &targets::gauss_2d_draw,
                    &gref,
                    s,
                )
            }),
        ),
        (
            "HMC full first kick (2D Gaussian)",
            Box::new(|s| {
                inv(
                    &g,
                    &HmcFullFirstKick {
                        step_size: 0.2,
                        n_leapfrog: 5,
                    },
                    &targets::gauss_2d_draw,
                    &gref,
                    s,
                )
            }),
        ),
        (
            "synchronous Gibbs (2D Gaussian)",
            Box::new(|s| {
                inv(
                    &g,
                    &SynchronousGibbs { rho: targets::RHO },
                    &targets::gauss_2d_draw,
                    &gref,
                    s,
                )
            }),
        ),
        (
            "wrong energy, shift 0.1 (ring)",
            Box::new(|s| {
                inv(
                    &ring,
                    &WrongEnergy {
                        inner: Hmc::new(0.1, 10).expect("valid"),
                        shift: vec![0.1, 0.0],
                    },
                    &rdraw,
                    &rref,
                    s,
                )
            }),
        ),
        (
            "stuck in one mode (double well, 4 chains)",
            Box::new(|s| {
                chains(
                    &dw,
                    &ModeLocked {
                        inner: RandomWalkMetropolis::new(1.0).expect("valid"),
                    },
                    &[1.0],
                    &dref,
                    s,
                )
            }),
        ),
    ];
    for (name, run) in &cases {
        let fails = (0..POWER_SEEDS)
            .into_par_iter()
            .filter(|&s| run(50_000 + s).verdict == Verdict::Fail)
            .count();
        let (lo, _) = crate::stats::test::clopper_pearson(fails as u64, POWER_SEEDS, 0.95);
        println!("power against {name}: {fails}/{POWER_SEEDS} (95 % lower bound {lo:.3})");
        if !name.contains("h=0.01") && !name.contains("β=0.95") {
            assert!(
                fails as u64 >= POWER_SEEDS * 99 / 100,
                "power against {name} below 99 %"
            );
        }
    }
}

#[test]
fn chains_stuck_in_different_modes_never_pass() {
    // Two chains locked in each well: the pooled mass is right, but R-hat exposes the chains'
    // disagreement, so the verdict may not be `pass`.
    let k = ModeLocked {
        inner: RandomWalkMetropolis::new(1.0).expect("valid"),
    };
    let inits = vec![vec![-1.0], vec![1.0], vec![-0.9], vec![0.9]];
    let cs = run_chains(&targets::double_well_1d(), &k, &inits, WARMUP, DRAWS, 311)
        .expect("valid input");
    let r = crate::stats::run_battery(&cs.draws, &targets::double_well_reference(), &opts())
        .expect("valid");
    println!("stuck in different modes: {:?}: {}", r.verdict, r.summary);
    assert_ne!(r.verdict, Verdict::Pass, "{}", r.evidence());
    assert!(r.rhat.iter().any(|(_, v)| *v > 1.5), "{:?}", r.rhat);
}
