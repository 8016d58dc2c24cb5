//! Tests of hard shapes: power-well sweeps (1D and nested), non-quadratic minima in 3D, point
//! singularities and curved valleys refused exactly when divergent, Gauss–Hermite rules to 1e-8.

use super::tests::{INF, check, log_det, spd};
use super::*;
use crate::testing::quad::{self as tq, tol};
use proptest::prelude::*;
use statrs::function::gamma::ln_gamma;

/// The verdicts of a sweep: results whose reported error does not cover the true error, and
/// results beyond tolerance or not converged.
#[derive(Default)]
struct Sweep {
    uncovered: Vec<String>,
    beyond: Vec<String>,
}

impl Sweep {
    fn record(&mut self, case: String, r: &LogZ, truth: f64, tol: f64) {
        let err = (r.log_z - truth).abs();
        if err > r.abs_error {
            self.uncovered
                .push(format!("{case}: err {err:e} > reported {:e}", r.abs_error));
        }
        if err > tol.max(1e-12 * truth.abs()) || r.status != Status::Converged {
            self.beyond
                .push(format!("{case}: err {err:e}, {:?}", r.status));
        }
    }

    fn assert_clean(&self) {
        let (u, b) = (&self.uncovered, &self.beyond);
        assert!(
            u.is_empty(),
            "{} uncovered: {:?}",
            u.len(),
            &u[..u.len().min(5)]
        );
        assert!(
            b.is_empty(),
            "{} beyond tolerance: {:?}",
            b.len(),
            &b[..b.len().min(5)]
        );
    }
}

/// The asymmetric power wells of `asymmetric_power_wells_match_closed_form`, 20 000 of them
/// from a fixed seed: every value within tolerance and every error covered. Before plateau
/// ends and the non-analytic pieces' estimates, 171 of these were not covered and 45 were
/// beyond tolerance (worst true/reported ratio 400); since, the worst ratio is 0.36.
#[test]
fn power_well_sweep_errors_are_covered() {
    let mut u = tq::seeded_uniforms(12_345);
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let mut sweep = Sweep::default();
    for _ in 0..20_000 {
        let w = tq::PowerWell::draw(&mut u, 7.0, 5.0);
        let c0 = 6.0 * u() - 3.0;
        let beta = 10f64.powf(9.0 * u() - 3.0);
        let e = FnEnergy::new(1, move |z: &[f64]| c0 + w.energy(z[0]));
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
        let truth = -beta * c0 + w.log_z(beta);
        sweep.record(format!("{w:?}, c0 {c0}, β {beta}"), &r, truth, tol::LOGZ_1D);
    }
    sweep.assert_clean();
}

/// Sums of two power wells in 2D on a half plane (the nested rule), from a fixed seed, plus the
/// case that failed: the slice free energy's minimum is a kink on one side and flat on the other,
/// and it is only known to the slices' error, so its plateau ends are found against that noise
/// (`Line::noise`); before, 1 case in 2000 was beyond tolerance (1.6e-8, reported 4.9e-9).
#[test]
fn nested_power_well_sweep_errors_are_covered() {
    let mut u = tq::seeded_uniforms(999);
    let failed = (
        [
            tq::PowerWell {
                p_left: 1.003_707_993_154_559_2,
                p_right: 5.345_884_873_581_697,
                s_left: 5.275_408_722_975_117,
                s_right: 3.096_598_376_461,
                centre: -1.548_961_967_368_301_3,
            },
            tq::PowerWell {
                p_left: 5.532_694_903_584_824,
                p_right: 4.148_656_715_940_399,
                s_left: 0.255_763_072_643_641_95,
                s_right: 4.962_028_500_312_828,
                centre: -0.572_690_292_807_984_2,
            },
        ],
        1.989_618_948_246_686_2,
        0.341_004_616_555_991_1,
    );
    let mut cases = vec![failed];
    for _ in 0..400 {
        let w = [
            tq::PowerWell::draw(&mut u, 5.0, 2.0),
            tq::PowerWell::draw(&mut u, 5.0, 2.0),
        ];
        cases.push((w, 4.0 * u() - 2.0, 10f64.powf(7.0 * u() - 2.0)));
    }
    let mut sweep = Sweep::default();
    for (w, c0, beta) in cases {
        let e = FnEnergy::new(2, move |z: &[f64]| {
            c0 + w[0].energy(z[0]) + w[1].energy(z[1])
        });
        // A lower bound on z1 where the weight is zero in f64: the nested rule, same truth.
        let bound = w[0].centre - w[0].left_reach(beta);
        let dom = Domain::continuous(&[(bound, INF), (-INF, INF)]).expect("domain");
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
        let truth = -beta * c0 + w[0].log_z(beta) + w[1].log_z(beta);
        sweep.record(format!("{w:?}, c0 {c0}, β {beta}"), &r, truth, tol::LOGZ_2D);
    }
    sweep.assert_clean();
}

/// A separable sum of three power wells in 3D whose minimum is flat along two axes and a
/// kink-like `|u|^1.5` along the third: whitened by its finite-difference Hessian, Genz–Malik
/// reported convergence with log Z 1.35 too low. Scaled by the measured widths it converges
/// within tolerance, with an error that covers. (Such minima remain outside what the cubature
/// handles reliably: see `nonquadratic_3d_minima_never_claim_false_convergence`.)
#[test]
fn flat_minimum_in_3d_is_scaled_by_its_measured_widths() {
    let w = [
        tq::PowerWell {
            p_left: 3.334_207_248_459_578,
            p_right: 3.624_504_896_642_66,
            s_left: 0.354_206_254_336_602_47,
            s_right: 1.275_394_326_323_142_2,
            centre: -1.663_510_775_886_123_8,
        },
        tq::PowerWell {
            p_left: 2.709_923_282_892_606_5,
            p_right: 2.716_406_810_143_004_3,
            s_left: 0.181_902_360_465_614_2,
            s_right: 0.497_796_799_195_572_74,
            centre: -1.204_544_847_712_922,
        },
        tq::PowerWell {
            p_left: 1.535_208_340_815_894,
            p_right: 3.547_463_356_768_236,
            s_left: 0.860_554_861_175_355_5,
            s_right: 0.554_219_696_424_407_4,
            centre: -1.433_096_016_573_369_7,
        },
    ];
    let (c0, beta) = (1.043_687_598_635_262, 414.773_721_838_822_95);
    let e = FnEnergy::new(3, move |z: &[f64]| {
        c0 + w[0].energy(z[0]) + w[1].energy(z[1]) + w[2].energy(z[2])
    });
    let d = Domain::continuous(&[(-INF, INF); 3]).expect("domain");
    let r = log_partition(&e, &d, beta, &QuadOptions::default()).expect("integrates");
    let truth = -beta * c0 + w.iter().map(|w| w.log_z(beta)).sum::<f64>();
    check("flat 3D power well", &r, truth, tol::LOGZ_3D);
}

/// The figures ARCHITECTURE.md quotes for non-quadratic minima in 3D: 40 separable sums of
/// power wells (powers 1–5 per side, β 1e-2–1e4) from a fixed seed. Asserts that no result
/// claims convergence beyond tolerance or with an error that does not cover; prints how many
/// end not converged and how many of those report an error below their true one (measured:
/// 38 and 6; the multistart finds several minima on each plateau). About 3 s in release mode.
#[test]
fn nonquadratic_3d_minima_never_claim_false_convergence() {
    let mut u = tq::seeded_uniforms(4242);
    let d = Domain::continuous(&[(-INF, INF); 3]).expect("domain");
    let (mut not_converged, mut uncovered_nc) = (0, 0);
    let mut sweep = Sweep::default();
    for _ in 0..40 {
        let w: [tq::PowerWell; 3] = std::array::from_fn(|_| tq::PowerWell::draw(&mut u, 4.0, 2.0));
        let c0 = 4.0 * u() - 2.0;
        let beta = 10f64.powf(6.0 * u() - 2.0);
        let e = FnEnergy::new(3, move |z: &[f64]| {
            c0 + w[0].energy(z[0]) + w[1].energy(z[1]) + w[2].energy(z[2])
        });
        let r = log_partition(&e, &d, beta, &QuadOptions::default()).expect("integrates");
        let truth = -beta * c0 + w.iter().map(|w| w.log_z(beta)).sum::<f64>();
        if r.status == Status::Converged {
            sweep.record(format!("{w:?}, c0 {c0}, β {beta}"), &r, truth, tol::LOGZ_3D);
        } else {
            not_converged += 1;
            uncovered_nc += usize::from((r.log_z - truth).abs() > r.abs_error);
        }
    }
    eprintln!("40 cases: {not_converged} not converged, {uncovered_nc} of them uncovered");
    sweep.assert_clean();
}

#[test]
fn a_point_singularity_in_nd_is_refused_as_divergent_only_when_it_is() {
    // E = (c/2)·log(|z|²) near 0: exp(-βE) = |z|^-(βc), integrable in d dimensions iff βc < d.
    // Divergent ones are refused as divergent; weaker ones are `Singular` (the integral may be
    // finite and is not integrated), never called divergent and never a number.
    let cases: Vec<(usize, f64, f64, bool)> = vec![
        // (d, c, β, diverges)
        (2, 1.0, 0.5, false), // |z|^-1/2·… : βc = 0.5 < 2
        (2, 2.0, 0.5, false), // βc = 1 < 2
        (2, 2.0, 1.0, true),  // βc = 2 = d: logarithmic divergence
        (2, 2.0, 1.5, true),  // βc = 3 > 2
        (3, 1.0, 2.0, false), // βc = 2 < 3
        (3, 2.0, 2.0, true),  // βc = 4 > 3
    ];
    for (d, c, beta, diverges) in cases {
        let e = FnEnergy::new(d, move |z: &[f64]| {
            0.5 * c * z.iter().map(|v| v * v).sum::<f64>().ln()
        });
        let dom = Domain::continuous(&vec![(-1.0, 1.0); d]).expect("domain");
        let r = log_partition(&e, &dom, beta, &QuadOptions::default());
        match (diverges, &r) {
            (true, Err(QuadError::Diverges { direction, .. })) => {
                assert!(direction.contains("not integrable"), "{direction}");
            }
            (false, Err(QuadError::Singular { exponent, dim, .. })) => {
                assert_eq!(*dim, d);
                assert!(
                    (exponent - beta * c).abs() < 0.05,
                    "{exponent} vs {}",
                    beta * c
                );
            }
            _ => panic!("d = {d}, c = {c}, β = {beta}: got {r:?}"),
        }
    }
    // On a box narrower than the probes' reach (1e-2 of the length scale), with the point on
    // its edge, the growth is still measured: βc = 1 < 2 is not called divergent.
    let e = FnEnergy::new(2, |z: &[f64]| z.iter().map(|v| v * v).sum::<f64>().ln());
    let dom = Domain::continuous(&[(0.0, 1e-4), (-1e-4, 1e-4)]).expect("domain");
    let r = log_partition(&e, &dom, 0.5, &QuadOptions::default());
    assert!(matches!(r, Err(QuadError::Singular { .. })), "{r:?}");
    // A pole that is not logarithmic (`-1/|z|²`) diverges in every dimension.
    let e = FnEnergy::new(3, |z: &[f64]| -1.0 / z.iter().map(|v| v * v).sum::<f64>());
    let dom = Domain::continuous(&[(-1.0, 1.0); 3]).expect("domain");
    let r = log_partition(&e, &dom, 0.01, &QuadOptions::default());
    assert!(matches!(r, Err(QuadError::Diverges { .. })), "{r:?}");
}

/// Issue 18: curved valleys, which no ray follows, decided by following the spheres' minima
/// outward (`valley::follow`). The unconfined banana `(z2 − z1²)²` (flat along `z2 = z1²`, so
/// `∫ exp(-E) = ∫ √π dz1 = ∞`), the same with a logarithmic rise `a·log(1 + z1²)` for
/// `2a ≤ 1` along the valley, and with a confined third coordinate are refused naming a point
/// of the valley; the convergent valleys beside them (the banana, Rosenbrock, the
/// valley with `2a > 1`, or rising like `1e-6·z1²`, a funnel) are integrated, converged or
/// not, never refused.
#[test]
fn curved_valleys_are_refused_iff_divergent() {
    let cases: [(&str, usize, bool); 12] = [
        ("(z2 - z1^2)^2", 2, true),
        ("3*(z2 - 0.5*z1^2)^2", 2, true),
        ("(z2 - z1^2)^2 + 0.1*log(1 + z1^2)", 2, true),
        ("(z2 - z1^2)^2 + 0.3*log(1 + z1^2)", 2, true),
        ("(z2 - z1^2)^2 + z3^2", 3, true),
        ("0.5*z1^2 + 2*(z2 - z1^2)^2", 2, false),
        ("(1 - z1)^2 + 100*(z2 - z1^2)^2", 2, false),
        ("(z2 - z1^2)^2 + log(1 + z1^2)", 2, false),
        ("(z2 - z1^2)^2 + 1e-6*z1^2", 2, false),
        ("z1^2/4.5 + 0.5*z2^2*exp(-z1)", 2, false),
        ("(1 - z1)^2 + (z2 - z1^2)^2 + (z3 - z2^2)^2", 3, false),
        (
            "0.5*z1^2 + 2*(z2 - z1^2)^2 + 2*(z3 - z2^2)^2 + 2*(z4 - z3^2)^2",
            4,
            false,
        ),
    ];
    for (src, d, divergent) in cases {
        let names: Vec<String> = (1..=d).map(|i| format!("z{i}")).collect();
        let vars: Vec<&str> = names.iter().map(String::as_str).collect();
        let e = crate::engine::ProgramEnergy::new(
            &crate::expr::parse(src).expect("parses"),
            &vars,
            &crate::expr::Bindings::new(),
        )
        .expect("compiles");
        let dom = Domain::continuous(&vec![(-INF, INF); d]).expect("domain");
        let opts = QuadOptions {
            max_evals: 300_000,
            ..QuadOptions::default()
        };
        match log_partition(&e, &dom, 1.0, &opts) {
            Err(QuadError::Diverges { direction, .. }) => {
                assert!(divergent, "{src} refused ({direction}) but normalisable");
                assert!(
                    direction.contains("curved valley") && direction.contains("z1 = "),
                    "{src}: {direction}"
                );
            }
            Ok(r) => assert!(
                !divergent,
                "{src} divergent but integrated: {} ({:?})",
                r.log_z, r.status
            ),
            Err(other) => panic!("{src}: {other}"),
        }
    }
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(24))]
    /// Issue 18: divergence decided in nD. Every growth energy of `testing::quad::growth_energy`
    /// (logarithmic growth on either side of the critical slope `d`, even powers over every
    /// coordinate or with an axis or a diagonal left flat) is refused exactly when
    /// `∫ exp(-E)` diverges; a normalisable one is integrated (converged or not, never refused).
    #[test]
    fn growth_energies_are_refused_iff_divergent((src, d, divergent) in tq::growth_energy()) {
        let names: Vec<String> = (1..=d).map(|i| format!("z{i}")).collect();
        let vars: Vec<&str> = names.iter().map(String::as_str).collect();
        let e = crate::engine::ProgramEnergy::new(
            &crate::expr::parse(&src).expect("parses"),
            &vars,
            &crate::expr::Bindings::new(),
        )
        .expect("compiles");
        let dom = Domain::continuous(&vec![(-INF, INF); d]).expect("domain");
        let opts = QuadOptions { max_evals: 200_000, ..QuadOptions::default() };
        match log_partition(&e, &dom, 1.0, &opts) {
            Err(QuadError::Diverges { direction, .. }) => {
                prop_assert!(divergent, "{src} refused ({direction}) but normalisable");
                prop_assert!(direction.contains('z'), "a refusal names its direction: {direction}");
            }
            Ok(r) => prop_assert!(!divergent, "{src} divergent but integrated: {} ({:?})", r.log_z, r.status),
            Err(other) => prop_assert!(false, "{src}: {other}"),
        }
    }
}

/// Correlated Gaussians in 2–4D reach a tolerance of 1e-8 (the 4D one did not within 20
/// million evaluations of the cubature) through the whitened Gauss–Hermite rules, in few
/// evaluations, with errors that cover the closed form; near-Gaussian minima with heavier
/// tails (products of Student-t, ν = 100 and 300, which pass the Gaussian test at the
/// weight's scale) converge to 1e-8 within their stated errors.
#[test]
fn gauss_hermite_reaches_1e_8_on_correlated_gaussians() {
    let opts = QuadOptions {
        abs_tol: Some(1e-8),
        ..QuadOptions::default()
    };
    let seed = [
        0.9, -0.3, 0.2, 0.4, 0.1, 0.7, -0.5, 0.3, -0.2, 0.6, 0.8, -0.1, 0.5, 0.2, -0.4, 0.9,
    ];
    for d in 2..=4 {
        let a = spd(d, &seed[..d * d]);
        let a2 = a.clone();
        let e = FnEnergy::new(d, move |z: &[f64]| {
            let mut s = 0.0;
            for i in 0..d {
                for j in 0..d {
                    s += a2[i][j] * (z[i] - 0.3) * (z[j] - 0.3);
                }
            }
            0.5 * s + 1.5
        });
        let dom = Domain::continuous(&vec![(-INF, INF); d]).expect("domain");
        for beta in [1.0, 100.0] {
            let r = log_partition(&e, &dom, beta, &opts).expect("integrates");
            let truth = -beta * 1.5 + 0.5 * d as f64 * (2.0 * std::f64::consts::PI / beta).ln()
                - 0.5 * log_det(&a);
            check(&format!("gaussian d={d} β={beta}"), &r, truth, 1e-8);
            assert!(
                r.evaluations < 200_000,
                "d = {d}: {} evaluations",
                r.evaluations
            );
        }
    }
    for nu in [100.0f64, 300.0] {
        for d in 2..=4 {
            let e = FnEnergy::new(d, move |z: &[f64]| {
                z.iter()
                    .map(|x| 0.5 * (nu + 1.0) * (x * x / nu).ln_1p())
                    .sum::<f64>()
            });
            let dom = Domain::continuous(&vec![(-INF, INF); d]).expect("domain");
            let r = log_partition(&e, &dom, 1.0, &opts).expect("integrates");
            let one = 0.5 * (nu * std::f64::consts::PI).ln() + ln_gamma(0.5 * nu)
                - ln_gamma(0.5 * (nu + 1.0));
            let truth = d as f64 * one;
            check(&format!("student-t ν={nu} d={d}"), &r, truth, 1e-8);
        }
    }
}

/// Issue 18, found by a stress run: an integrator that missed mass, with an interval audit whose
/// certified upper bound leaves more than a tenth of Z unexplored, does not claim convergence
/// (an arc of a ring off the origin missed by its slices, 43 % of Z; a 2D mixture whose far,
/// deeper mode was never found). Either the mass is found or the result says it may be missing.
#[test]
fn unexplored_mass_withdraws_convergence() {
    let cases = [
        // Z = (π/2)√(π/β)(1 + erf(25√β)) = π^{3/2}/10 at β = 100: the ring of radius 5 about (0, 4).
        (
            "(z1^2 + (z2 - 4)^2 - 25)^2",
            100.0,
            (std::f64::consts::PI.powf(1.5) / 10.0).ln(),
        ),
        // Σ e^{-a_k} 2π/√det(H_k): modes of E = 4 at (1, -3) and E = 3 at (40, 40).
        (
            "-logsumexp((-4) - 50*(z1 - 1)^2 - 4*(z2 + 3)^2, (-3) - 13*(z1 - 40)^2 - 10*(z1 - 40)*(z2 - 40) - 2*(z2 - 40)^2)",
            1.0,
            ((-4f64).exp() * 2.0 * std::f64::consts::PI / (4.0f64 * 50.0 * 4.0).sqrt()
                + (-3f64).exp() * 2.0 * std::f64::consts::PI
                    / (4.0f64 * 13.0 * 2.0 - 100.0).sqrt())
            .ln(),
        ),
    ];
    for (src, beta, truth) in cases {
        let e = crate::engine::ProgramEnergy::new(
            &crate::expr::parse(src).expect("parses"),
            &["z1", "z2"],
            &crate::expr::Bindings::new(),
        )
        .expect("compiles");
        let dom = Domain::continuous(&[(-INF, INF); 2]).expect("domain");
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
        let off = (r.log_z - truth).abs();
        assert!(
            r.status != Status::Converged || off <= r.abs_error + 1e-12,
            "{src}: converged {} ± {:e}, truth {truth}",
            r.log_z,
            r.abs_error
        );
    }
}

/// A 2D minimum on a bound: the Hessian's differences stay inside the domain, where
/// `z1^2.5` is defined (it was refused as "NaN at z1 = -0.0001"; found by a stress run).
/// `∫₀^∞ e^{-z1^p} ∫ e^{-z2²} = Γ(1 + 1/p)·√π`.
#[test]
fn a_minimum_on_a_bound_is_not_differenced_outside_it() {
    for p in [2.5, 1.0, 3.5] {
        let src = format!("z1^{p} + z2^2");
        let e = crate::engine::ProgramEnergy::new(
            &crate::expr::parse(&src).expect("parses"),
            &["z1", "z2"],
            &crate::expr::Bindings::new(),
        )
        .expect("compiles");
        let dom = Domain::continuous(&[(0.0, INF), (-INF, INF)]).expect("domain");
        let r = log_partition(&e, &dom, 1.0, &QuadOptions::default()).expect("integrates");
        let truth = ln_gamma(1.0 + 1.0 / p) + 0.5 * std::f64::consts::PI.ln();
        check(&src, &r, truth, tol::LOGZ_2D);
    }
}

/// A slice far out on the outer tail map (`z1 = 1e8` of a banana, whose energy there is about
/// 1e14) that the inner rule cannot converge in f64 holds no mass that interval enclosures
/// cannot rule out (`nested::NestedLine::certified_nil`): the result, accurate to 1e-15, was
/// "not converged" (two bananas of a stress run). `Z = √(2πs/β)·√(π/(βk))` with
/// `u = z2 − a·z1²`.
#[test]
fn a_failed_slice_of_certified_nil_mass_does_not_matter() {
    for (s, k, a, beta) in [
        (
            13.826100513289683,
            0.12622682708361893,
            0.3267856973511655,
            0.29678704943099066,
        ),
        (
            5.560136906816581,
            380.1068140749861,
            0.1939123918276578,
            0.5827795660291709,
        ),
    ] {
        let src = format!("0.5*z1^2/{s} + {k}*(z2 - {a}*z1^2)^2");
        let pi = std::f64::consts::PI;
        let truth = 0.5 * (2.0 * pi * s / beta).ln() + 0.5 * (pi / (beta * k)).ln();
        super::status_tests::program_case(
            &src,
            &[(-INF, INF), (-INF, INF)],
            beta,
            truth,
            tol::LOGZ_2D,
        );
    }
}

/// The outer tail map's far slices of a correlated Gaussian mixture cannot be converged in f64
/// across a near-singular ridge, whose enclosures overflow far out: at `z1 = 4601`, 8.5e5 below
/// the best point's weight, or at `z1 = 1.7e8`, where the slice's energy is 1e19 and its
/// estimate has no error bound. The results, accurate to 4e-14, were "not converged" (thirteen
/// mixtures of the 2D stress set). Their weight underflows in the outer sum whatever their
/// remaining error (`nested::NestedLine::far_below`).
/// `Z = Σ e^{c} · 2π/√(4ac − b²)` for components `c − a·u² − b·u·v − c'·v²`.
#[test]
fn a_failed_slice_far_below_the_best_does_not_matter() {
    type Comp = (f64, f64, f64, f64, f64, f64);
    let mixtures: [[Comp; 4]; 2] = [
        [
            (
                -2.032555162168027,
                0.9688699242736551,
                -1.214126293450074,
                0.7746458297864125,
                -4.34839709288879,
                1.251384029560219,
            ),
            (
                -4.290215487589438,
                933.0068831436226,
                -116.26682388581827,
                717.3825995764372,
                -4.112184595519769,
                2.3198944764638982,
            ),
            (
                -1.522372870214996,
                63.32992488868145,
                313.23760194153124,
                387.77344203304597,
                -0.3402611878385482,
                1.3876319323322335,
            ),
            (
                -3.842994067806794,
                317.5955651656761,
                349.87403454493096,
                97.35369659892473,
                -40.268514531950075,
                28.000477176774282,
            ),
        ],
        [
            (
                -5.387283471779849,
                20.136795099151897,
                87.03306559547687,
                94.20682612400174,
                4.8289093781443775,
                2.9962052079799975,
            ),
            (
                -6.419611597851617,
                683.0779600592007,
                -2105.852878568607,
                1808.5780485351215,
                2.0039530203557607,
                -2.1643035482536996,
            ),
            (
                -2.503701479518302,
                423.37107532568837,
                -395.55901595615245,
                92.60052007395082,
                0.46211269396734345,
                2.841265876241815,
            ),
            (
                -0.8361945534648934,
                0.4598898328990345,
                0.19191364328647964,
                0.1273941333497614,
                -1.7145604791506752,
                -2.4512559654016863,
            ),
        ],
    ];
    for comps in mixtures {
        let terms: Vec<String> = comps
            .iter()
            .map(|&(c, a, b, cc, m1, m2)| {
                format!("({c}) - {a}*(z1 - ({m1}))^2 - ({b})*(z1 - ({m1}))*(z2 - ({m2})) - {cc}*(z2 - ({m2}))^2")
            })
            .collect();
        let src = format!("-logsumexp({})", terms.join(", "));
        let truth = crate::quad::bounds::logsumexp(comps.iter().map(|&(c, a, b, cc, _, _)| {
            c + (2.0 * std::f64::consts::PI).ln() - 0.5 * (4.0 * a * cc - b * b).ln()
        }));
        super::status_tests::program_case(
            &src,
            &[(-INF, INF), (-INF, INF)],
            1.0,
            truth,
            tol::LOGZ_2D,
        );
    }
}

/// A narrow Gaussian in a wide box in 3–4D: the piece from the outermost cut to a far bound
/// goes through the tail map cut short at the bound (`nd::axis_pieces`). Linear, its rule's
/// nodes sat in its far part and read the weight's fall beyond 3σ as nothing: `50·|z|²` in
/// `[-10, 40]³` claimed ±1e-7 and was 4.1e-3 low (a tenth of a percent of Z per side). Also a
/// box that truncates one axis at a third of its width.
#[test]
fn a_narrow_gaussian_in_a_wide_box_is_not_cut_short() {
    let sq2 = std::f64::consts::SQRT_2;
    let root = (2.0 * std::f64::consts::PI).sqrt();
    // (widths, centres, the box's bounds on every axis)
    type BoxCase<'a> = (&'a [f64], &'a [f64], (f64, f64));
    let cases: [BoxCase; 3] = [
        (&[0.1, 0.1, 0.1], &[0.0, 0.0, 0.0], (-10.0, 40.0)),
        (
            &[0.1, 0.05, 0.3, 0.02],
            &[0.0, 1.0, -4.9, 2.0],
            (-5.0, 30.0),
        ),
        (&[0.02, 0.5, 0.01], &[7.0, -0.3, 11.0], (-1.0, 12.0)),
    ];
    for (s, c, (lo, hi)) in cases {
        let src = s
            .iter()
            .zip(c)
            .enumerate()
            .map(|(i, (s, c))| format!("0.5*((z{} - ({c}))/{s})^2", i + 1))
            .collect::<Vec<_>>()
            .join(" + ");
        let truth: f64 = s
            .iter()
            .zip(c)
            .map(|(s, c)| {
                let mass = 0.5 * (tq::erf((hi - c) / (s * sq2)) - tq::erf((lo - c) / (s * sq2)));
                (s * root * mass).ln()
            })
            .sum();
        let d = s.len();
        super::status_tests::program_case(&src, &vec![(lo, hi); d], 1.0, truth, tq::default_tol(d));
    }
}

/// Correlated Gaussians on finite domains in 3–4D: in a box far wider than the weight
/// (integrated in the Hessian's whitening times the domain's indicator) and cut by a face on
/// one coordinate (in the whitening aligned with it), each exact within its claim. With
/// per-axis conditional widths and the Gaussian test made in another frame, such boxes were
/// 0.1 to 5.5 off in log Z with ±1e-7 claimed; with marginal per-axis widths, the last case
/// (condition 580, a face at -0.4 marginal widths) was 2.3e-7 off with ±1e-7 claimed.
#[test]
fn correlated_gaussians_in_boxes_and_half_spaces_are_exact() {
    let from_seed = |d: usize, seed: &[f64]| -> Vec<f64> {
        spd(d, seed).iter().flatten().map(|v| 100.0 * v).collect()
    };
    let cases: [(Vec<f64>, &[f64]); 3] = [
        (
            from_seed(3, &[0.9, 0.8, -0.3, 0.7, 1.0, 0.2, -0.5, 0.4, 0.6]),
            &[-1.2, -0.4, 0.8],
        ),
        (
            from_seed(
                4,
                &[
                    1.0, 0.9, 0.1, -0.4, 0.8, 1.1, 0.3, 0.2, -0.2, 0.5, 0.9, 0.7, 0.6, -0.3, 0.4,
                    1.0,
                ],
            ),
            &[-1.2, -0.4, 0.8],
        ),
        (
            vec![
                89.05584235869969,
                -43.08383802907805,
                15.930631309216638,
                -43.08383802907805,
                21.65015044916529,
                -7.269576640727935,
                15.930631309216638,
                -7.269576640727935,
                3.4180153444852683,
            ],
            &[-0.3953930269126853],
        ),
    ];
    for (precision, ks) in cases {
        let d = if precision.len() == 9 { 3 } else { 4 };
        let centre: Vec<f64> = (0..d).map(|i| 0.7 - 0.4 * i as f64).collect();
        let bump = (0.0, precision.clone(), centre.clone());
        let (src, full) = tq::gaussian_mixture_nd(std::slice::from_ref(&bump));
        let tol = tq::default_tol(d);
        super::status_tests::program_case(&src, &vec![(-20.0, 30.0); d], 1.0, full, tol);
        for &k in ks {
            half_space_case(&precision, &centre, k);
        }
    }
}

/// The Gaussian of `precision` about `centre` on the half-space `z1 ≥ c1 + k·σ1` (`σ1` its
/// marginal width), whose mass is `Φ(-k)`, at the default tolerance.
fn half_space_case(precision: &[f64], centre: &[f64], k: f64) {
    let d = centre.len();
    let bump = (0.0, precision.to_vec(), centre.to_vec());
    let (src, full) = tq::gaussian_mixture_nd(std::slice::from_ref(&bump));
    let sigma = nalgebra::DMatrix::from_row_slice(d, d, precision)
        .try_inverse()
        .expect("invertible");
    let s1 = sigma[(0, 0)].sqrt();
    let mut bounds = vec![(f64::NEG_INFINITY, f64::INFINITY); d];
    bounds[0].0 = centre[0] + k * s1;
    let truth = full + (0.5 * (1.0 - tq::erf(k / std::f64::consts::SQRT_2))).ln();
    super::status_tests::program_case(&src, &bounds, 1.0, truth, tq::default_tol(d));
}

/// A correlated Gaussian in 4D (condition 710) cut by a face at 1.53 marginal widths, so that
/// its minimum lies on the face (from a stress run): eight boxes three widths across had
/// Genz–Malik's degree-7 and degree-5 rules agreeing to 1.9e-8 with true errors of 1.1e-5, and
/// the result was 1.1e-5 off with 1e-5 claimed (`cubature::decay_error`).
#[test]
fn a_face_past_the_centre_in_4d_is_not_passed_on_an_accidental_agreement() {
    let precision = [
        1.5736386614621016,
        6.212409092194321,
        1.517220370154479,
        -4.380002176288165,
        6.212409092194321,
        34.24956813358329,
        -1.498414208087672,
        -19.92147387888334,
        1.517220370154479,
        -1.498414208087672,
        41.27164897316038,
        -31.184701476666362,
        -4.380002176288165,
        -19.92147387888334,
        -31.184701476666362,
        38.326519670976424,
    ];
    let centre = [
        1.3422768660010966,
        -0.8724886905418314,
        -1.1391273313481056,
        0.5573255202663514,
    ];
    half_space_case(&precision, &centre, 1.5252741657250484);
}
