//! The termination rule of `log_partition` results (issue 13): a converged result's error covers
//! the closed form, a non-finite error is never converged, and at extreme β a result is right
//! within its error or refused (not converged, or an error), never a wrong converged number;
//! error estimates that QUADPACK's heuristic alone got wrong.

use super::*;
use crate::testing::quad as tq;
use proptest::prelude::*;
use statrs::function::gamma::ln_gamma;

/// `Err` when `r` claims convergence it does not have against `truth` (`slack` covers the
/// truncation of an asymptotic reference).
fn honest(r: &LogZ, truth: f64, slack: f64) -> Result<(), String> {
    if r.status != Status::Converged {
        return Ok(());
    }
    if !(r.abs_error.is_finite() && r.log_z.is_finite()) {
        return Err(format!(
            "converged with log Z {} ± {}",
            r.log_z, r.abs_error
        ));
    }
    if (r.log_z - truth).abs() > r.abs_error + slack {
        return Err(format!(
            "converged log Z {} ± {:e} but the truth is {truth} (off by {:e})",
            r.log_z,
            r.abs_error,
            r.log_z - truth
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(48))]
    /// Random power wells (kinks, flat minima, powers 1–8) at β from 1e-12 to 1e12: converged
    /// means the error covers the closed form; non-finite errors are never converged.
    #[test]
    fn converged_power_wells_cover_the_closed_form(seed in any::<u64>(), lb in -12.0..12.0f64) {
        let mut u = tq::seeded_uniforms(seed);
        let w = tq::PowerWell::draw(&mut u, 7.0, 5.0);
        let beta = 10f64.powf(lb);
        let e = FnEnergy::new(1, move |z: &[f64]| w.energy(z[0]));
        let d = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY)]).expect("domain");
        if let Ok(r) = log_partition(&e, &d, beta, &QuadOptions::default()) {
            prop_assert_eq!(r.status == Status::Converged, r.termination == Termination::Converged);
            if let Err(m) = honest(&r, w.log_z(beta), 0.0) {
                return Err(TestCaseError::fail(format!("{w:?} at β {beta:e}: {m}")));
            }
        }
    }
}

/// A named energy with its reference `(log Z, slack)` when one is known.
type Case<'a> = (&'a str, &'a dyn Energy, Option<(f64, f64)>);

/// `z²` and the double well `(z² − 1)²` at β = 1e-300 … 1e300: right within the error or refused.
/// References: `½ log(π/β)` for `z²`; for the double well the Laplace expansion
/// `log √(π/β) + log(1 + 3/(16β))` (β ≥ 1e8, next term O(β⁻²)) and the small-β expansion
/// `log(β^(-1/4)(2Γ(5/4) + √β Γ(3/4))) − β` (β ≤ 1e-8, next term O(β)).
#[test]
fn extreme_beta_is_right_within_its_error_or_refused() {
    use statrs::function::gamma::gamma;
    let d = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY)]).expect("domain");
    let quad = FnEnergy::new(1, |z: &[f64]| z[0] * z[0]);
    let well = FnEnergy::new(1, |z: &[f64]| (z[0] * z[0] - 1.0).powi(2));
    let mut wrong = Vec::new();
    let mut tally = [0usize; 3];
    for k in (-300..=300).step_by(10) {
        let beta = 10f64.powi(k);
        let cases: Vec<Case<'_>> = vec![
            (
                "z^2",
                &quad,
                Some((0.5 * (std::f64::consts::PI / beta).ln(), 0.0)),
            ),
            (
                "(z^2-1)^2",
                &well,
                if beta >= 1e8 {
                    Some((
                        0.5 * (std::f64::consts::PI / beta).ln() + (3.0 / (16.0 * beta)).ln_1p(),
                        1e-14,
                    ))
                } else if beta <= 1e-8 {
                    Some((
                        (beta.powf(-0.25) * (2.0 * gamma(1.25) + beta.sqrt() * gamma(0.75))).ln()
                            - beta,
                        4.0 * beta,
                    ))
                } else {
                    None
                },
            ),
        ];
        for (name, e, truth) in cases {
            match log_partition(e, &d, beta, &QuadOptions::default()) {
                Ok(r) => {
                    tally[usize::from(r.status != Status::Converged)] += 1;
                    if let Some((t, slack)) = truth
                        && let Err(m) = honest(&r, t, slack)
                    {
                        wrong.push(format!("{name} at β {beta:e}: {m}"));
                    }
                }
                Err(_) => tally[2] += 1,
            }
        }
    }
    println!(
        "extreme β: {} converged, {} not converged, {} refused",
        tally[0], tally[1], tally[2]
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The case `asymmetric_power_wells_match_closed_form` once found: the steep side flat in f64
/// out to 0.0024 (`0.394 + 0.656 z^5.81` at β = 145 402), its plateau edge starting a piece
/// whose K21 and G10 sums erred alike by 7.5e-7 while claiming 2e-8. The null rules of
/// `gk::rule` see it; every β near it must be right within the stated error, on the line and
/// on the half-line alike.
#[test]
fn a_plateau_edge_near_a_branch_point_is_not_misjudged() {
    let (p, s, c0) = (
        5.814_486_034_412_272,
        0.656_245_550_011_036_9,
        0.394_453_746_100_508_65,
    );
    for beta in [145_401.721_148_924_67, 1.4e5, 1.5e5, 3e4] {
        for lo in [f64::NEG_INFINITY, 0.0] {
            let w = tq::PowerWell {
                p_left: 1.0,
                p_right: p,
                s_left: 1.0,
                s_right: s,
                centre: 0.0,
            };
            let e = FnEnergy::new(1, move |z: &[f64]| c0 + w.energy(z[0]));
            let dom = Domain::continuous(&[(lo, f64::INFINITY)]).expect("domain");
            let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
            let mass = if lo == 0.0 {
                statrs::function::gamma::ln_gamma(1.0 + 1.0 / p) - (beta * s).ln() / p
            } else {
                w.log_z(beta)
            };
            let truth = -beta * c0 + mass;
            let t = tq::tol::LOGZ_1D.max(1e-12 * truth.abs());
            super::tests::check(&format!("z^{p} on [{lo}, ∞) β={beta}"), &r, truth, t);
        }
    }
}

/// Issue 18: a narrow mode far out holding from 1e-11 to 0.3 of the main mode's mass
/// (`testing::quad::far_mode_mixture`, 96 cases of the fixed proptest seed) is found, or its
/// possible mass is in the error, or the result is not converged; never dropped silently. And
/// the search finds them: at least 90 % converge. (A mode at z = 10 holding 9e-6 of Z was
/// dropped with ±4e-13 claimed: the 1D audit certified only modes above 1e-4 of Z. Over ten
/// seeds, 635 of 640 cases converge.)
#[test]
fn far_narrow_modes_are_found_or_accounted_for() {
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::new(crate::testing::proptest_config(96));
    let converged = std::cell::Cell::new(0u32);
    runner
        .run(&tq::far_mode_mixture(), |(src, truth)| {
            let e = crate::engine::ProgramEnergy::new(
                &crate::expr::parse(&src).expect("parses"),
                &["z1"],
                &crate::expr::Bindings::new(),
            )
            .expect("compiles");
            let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY)]).expect("domain");
            let r = log_partition(&e, &dom, 1.0, &QuadOptions::default()).expect("integrates");
            honest(&r, truth, 0.0).map_err(|m| TestCaseError::fail(format!("{src}: {m}")))?;
            converged.set(converged.get() + u32::from(r.status == Status::Converged));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(converged.get() >= 87, "{} of 96 converged", converged.get());
}

/// Modes the 1D search and audit lost in a stress run, now found (each was "converged" and
/// wrong): a narrow mode at 29.5 next to a hint on another at 17.4, with no grid point between
/// them, so the hint at 29.5 was no local minimum of the points (3.4e-5 of Z missed), and the
/// boxes' search that followed kept only the modes it found itself; a narrow dip at -3.24 on
/// the slope of a broad located minimum at -3.86, inside a run of pieces the coarse cover
/// left without a sign (2.5e-9 of Z, ±6e-11 claimed); a narrow dip on a broad mode's slope
/// whose hint slid down to the broad mode.
#[test]
fn modes_beside_hints_and_inside_located_runs_are_found() {
    let line = [(f64::NEG_INFINITY, f64::INFINITY)];
    // β = 1: Z = Σ e^a √(π/k) over the components a - k(z - m)².
    let comps: [(f64, f64, f64); 4] = [
        (-3.099730956925075, 1032.7656889956625, -2.8118181798249733),
        (-5.112096445198604, 1912.9187982209096, 17.40564585074958),
        (-5.739908885498468, 11.199210719232319, 29.484588757922623),
        (
            -0.27317674544608733,
            0.03495383513306858,
            -2.9385532878100973,
        ),
    ];
    let (src, truth) = tq::gaussian_mixture(&comps);
    program_case(&src, &line, 1.0, truth, tq::tol::LOGZ_1D);
    // A narrow dip at -4.16 on the slope of a broad mode at -1.84 (3.7e-5 of Z): its hint,
    // refined between its neighbours, slid down to the broad mode.
    let comps: [(f64, f64, f64); 5] = [
        (-0.8608017823535796, 71.27997554790416, 30.23335557529903),
        (-4.6745121080192416, 13.436473673376423, -17.672129703258967),
        (-4.041485502000341, 10.077440844425336, -41.505995828373145),
        (-5.33592737608367, 1763.3698484622093, -4.1629688766670085),
        (
            -0.6126380273925758,
            0.03091485238761795,
            -1.8369915399128498,
        ),
    ];
    let (src, truth) = tq::gaussian_mixture(&comps);
    program_case(&src, &line, 1.0, truth, tq::tol::LOGZ_1D);
    // mpmath at 30 and 40 digits with two sets of breakpoints: -6.817988401807961.
    let src = "-logsumexp((-0.6346340674934128) - 535.0551218300195*(z1 - 0.4543654311533407)^2, \
               (-3.9321338546759486) - 1831.4717797011485*(z1 - (-3.2395657253323784))^2, \
               (-5.9647124226159765) - 0.09035114022432174*(z1 - (-3.861707487265477))^2, \
               (-4.592368524024694) - 20.409036501497777*(z1 - (-19.664032542828693))^2, \
               (-1.5012604334923125) - 0.16327724203727584*(z1 - (-21.97758805511508))^2)";
    program_case(
        src,
        &line,
        5.813_378_393_817_508_5,
        -6.817_988_401_807_961,
        tq::tol::LOGZ_1D,
    );
}

/// Integrable singularities `z^-c` of the weight at a finite end go through the exponential
/// end map: `c·log z + z` on [0, ∞) has `log Z = ln Γ(1 - c)`. Bisection towards the end
/// claimed ±9.9e-10 at c = 0.946 and was 1.65e-9 low (a stress run), and spent 2e7
/// evaluations without converging at c = 0.5 and 0.6 once the map was first tried. Close to
/// the critical c = 1 the mass nearer the end than f64 resolves is in the error: not
/// converged at c = 0.99, never wrong.
#[test]
fn integrable_end_singularities_go_through_the_end_map() {
    let half_line = [(0.0, f64::INFINITY)];
    for c in [0.5f64, 0.6, 0.8, 0.946, 0.96] {
        program_case(
            &format!("{c}*log(z1) + z1"),
            &half_line,
            1.0,
            ln_gamma(1.0 - c),
            tq::tol::LOGZ_1D,
        );
    }
    for c in [0.97f64, 0.99] {
        let src = format!("{c}*log(z1) + z1");
        let e = crate::engine::ProgramEnergy::new(
            &crate::expr::parse(&src).expect("parses"),
            &["z1"],
            &crate::expr::Bindings::new(),
        )
        .expect("compiles");
        let dom = Domain::continuous(&half_line).expect("domain");
        let r = log_partition(&e, &dom, 1.0, &QuadOptions::default()).expect("integrates");
        honest(&r, ln_gamma(1.0 - c), 0.0).unwrap_or_else(|m| panic!("{src}: {m}"));
        assert!(
            r.evaluations < 100_000,
            "{src}: {} evaluations",
            r.evaluations
        );
    }
}

/// The energy of the expression `src` in the variables `z1, …, zd`.
pub(super) fn program_energy(src: &str, d: usize) -> crate::engine::ProgramEnergy {
    let names: Vec<String> = (1..=d).map(|i| format!("z{i}")).collect();
    let vars: Vec<&str> = names.iter().map(String::as_str).collect();
    crate::engine::ProgramEnergy::new(
        &crate::expr::parse(src).expect("parses"),
        &vars,
        &crate::expr::Bindings::new(),
    )
    .expect("compiles")
}

/// `exp(-β E)` of `src` over `bounds` at β, checked converged and within its error of `truth`.
pub(super) fn program_case(src: &str, bounds: &[(f64, f64)], beta: f64, truth: f64, tol: f64) {
    let e = program_energy(src, bounds.len());
    let dom = Domain::continuous(bounds).expect("domain");
    let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
    super::tests::check(&format!("{src} β={beta}"), &r, truth, tol);
}

/// A minimum at a finite end whose energy rises slowly (a line, a square root, a power below
/// 2): the far breakpoint is pushed out to where the weight is negligible, so that the piece
/// beyond it, as long as the rest of the domain, no longer starts where the weight still
/// counts. (`z` on [0, 1] at β = 2e4 claimed ±2e-14 while 0.4 % of Z lay before the first node
/// of [5w, 1]; `sqrt(z)` at β = 1000 was 0.31 off; both found by a stress run.)
#[test]
fn slow_rises_to_a_finite_end_are_not_cut_short() {
    let t = tq::tol::LOGZ_1D;
    for beta in [1e3f64, 2e4, 1e6, 1e8] {
        // ∫₀¹ e^{-βz} = (1 - e^{-β})/β.
        program_case(
            "z1",
            &[(0.0, 1.0)],
            beta,
            (-(-beta).exp()).ln_1p() - beta.ln(),
            t,
        );
    }
    for beta in [1e3f64, 2e4] {
        // ∫₀¹ e^{-β√z} = 2γ(2, β)/β² = 2(1 - e^{-β}(1 + β))/β².
        let truth = (2.0 * (1.0 - (-beta).exp() * (1.0 + beta))).ln() - 2.0 * beta.ln();
        program_case("sqrt(z1)", &[(0.0, 1.0)], beta, truth, t);
    }
    // A rise slower than linear leaves more mass beyond a given β(E - E_m) than the far
    // breakpoint's e^-40 suggests: `26·z^0.433` at β = 18.6 lost 1.25e-9 of Z beyond q = 24.6
    // (a stress run). ∫₀^L e^{-a z^p} = γ(1/p, a L^p)/(p a^{1/p}), the mass beyond L negligible.
    let (s, p, beta) = (
        26.039_898_854_415_63f64,
        0.433_364_643_978_983_67f64,
        18.634_830_858_375_068f64,
    );
    let truth = ln_gamma(1.0 / p) - p.ln() - (beta * s).ln() / p;
    program_case(
        &format!("{s}*z1^{p}"),
        &[(0.0, 0.295_094_363_725_557_6)],
        beta,
        truth,
        t,
    );
    for (p, beta) in [(1.323_568_975_567_733_3f64, 1e6f64), (1.5, 1e6), (1.1, 1e4)] {
        // The mass beyond 1 is below e^-1e4: ∫₀^∞ e^{-β|z|^p} = Γ(1 + 1/p) β^{-1/p}.
        let truth = ln_gamma(1.0 + 1.0 / p) - beta.ln() / p;
        program_case(&format!("abs(z1)^{p}"), &[(-1.0, 0.0)], beta, truth, t);
    }
}

/// Heavy tails `|z|^-a` with `1.1 ≤ a < 3` go through the exponential tail map: Student-t
/// with ν = 0.3 (the rational map exhausted 2e7 evaluations on ν = 0.5) converge; a 2D radial
/// tail `1.5·log(1 + z1² + z2²)`, whose slice free energies decay like `|z1|^-2`, converges;
/// heavier 2D tails, whose far slices are flat in f64 over the search grid, are right within
/// their error or not converged.
#[test]
fn heavy_tails_converge_through_the_exponential_map() {
    let t = tq::tol::LOGZ_1D;
    for (nu, beta) in [(0.3, 1.0), (0.5, 1.0), (1.0, 1.0), (0.5, 2.0)] {
        // ∫ (1 + z²/ν)^{-a} = √ν B(1/2, a - 1/2), a = β(ν + 1)/2.
        let a: f64 = beta * (nu + 1.0) / 2.0;
        let truth = 0.5 * f64::ln(nu) + ln_gamma(0.5) + ln_gamma(a - 0.5) - ln_gamma(a);
        let src = format!("{}*log(1 + z1^2/{nu})", (nu + 1.0) / 2.0);
        program_case(&src, &[(f64::NEG_INFINITY, f64::INFINITY)], beta, truth, t);
    }
    let plane = [(f64::NEG_INFINITY, f64::INFINITY); 2];
    // ∫∫ (1 + r²)^{-c} = π/(c - 1).
    let truth = |c: f64| (std::f64::consts::PI / (c - 1.0)).ln();
    program_case(
        "1.5*log(1 + z1^2 + z2^2)",
        &plane,
        1.0,
        truth(1.5),
        tq::tol::LOGZ_2D,
    );
    for c in [1.1, 1.25] {
        let src = format!("{c}*log(1 + z1^2 + z2^2)");
        let e = crate::engine::ProgramEnergy::new(
            &crate::expr::parse(&src).expect("parses"),
            &["z1", "z2"],
            &crate::expr::Bindings::new(),
        )
        .expect("compiles");
        let dom = Domain::continuous(&plane).expect("domain");
        let r = log_partition(&e, &dom, 1.0, &QuadOptions::default()).expect("integrates");
        honest(&r, truth(c), 0.0).unwrap_or_else(|m| panic!("{src}: {m}"));
    }
}

/// 2D mixtures of narrow correlated Gaussians whose far modes the multistart search missed
/// (each was "converged" with ±5e-9 or less, and 2.2 to 3.3 low in log Z). The audit's boxes
/// bound them now that the Taylor models see a correlated quadratic exactly (plain intervals
/// gave `[-126530, +inf]`), and the descent from the boxes that may hold a minimum finds the
/// modes before the nested rule integrates (`audit::complete_minima_2d`).
#[test]
fn far_narrow_correlated_modes_in_2d_are_found() {
    let plane = [(f64::NEG_INFINITY, f64::INFINITY); 2];
    let cases: [&[tq::Bump2]; 3] = [
        &[
            (
                -4.353833358884257,
                [423.0872702521871, -922.787036276881, 1053.2568979180403],
                [4.044994665060226, -0.13691066386431228],
            ),
            (
                -2.221434197279569,
                [102.27006861743743, -348.4741634268664, 298.4517735744948],
                [-4.415920273402685, -1.6863872646872293],
            ),
            (
                -3.0584328543028665,
                [
                    0.08096693712028472,
                    -0.15950847644585123,
                    0.6567096484992468,
                ],
                [25.720431923543302, 40.7728462993758],
            ),
            (
                -2.4730065682000424,
                [679.869322993117, -58.348634524032576, 45.03875555876759],
                [34.15847494523737, 13.081963373901942],
            ),
        ],
        &[
            (
                -1.7656289077966996,
                [312.28702967559485, -1996.1568856366548, 3199.6268084179874],
                [-4.668309371220381, -4.8404514707870705],
            ),
            (
                -4.1492416062518656,
                [53.393256666591256, 0.8705492472974082, 4.367660394938134],
                [1.1295153262150155, -3.2353745639642595],
            ),
            (
                -3.045482277376678,
                [12.822269719753821, 9.969624089877206, 2.4469671908322135],
                [36.16834959595529, 41.3043270028805],
            ),
        ],
        &[
            (
                -6.277719514074475,
                [95.90698131722489, 34.066688187605436, 3.0470912165396453],
                [1.2610726610428769, -4.872277077959409],
            ),
            (
                -3.1494607183070165,
                [7.852881527863618, -11.315028003552586, 6.03625554348058],
                [-18.52016738448299, -26.481757530035864],
            ),
        ],
    ];
    for comps in cases {
        let (src, truth) = tq::gaussian_mixture_2d(comps);
        program_case(&src, &plane, 1.0, truth, tq::default_tol(2));
    }
}

/// Neal's funnel written `z2²/18 + z1²·exp(-z2)/2`: at `z1 = 0` and `z2 < -709` the energy
/// reads `0·∞` = NaN, where it is `z2²/18` and the weight 0 in f64. The slice at `z1 = 0` then
/// steps a hair off its line (24 of 62 stress funnels were refused: "the energy is not a
/// number at z1 = 0, z2 = -1e8"). `log Z = ½log(2π/β) + ½log(18π/β) + 9/(8β)`.
#[test]
fn funnels_whose_energy_reads_zero_times_infinity_are_integrated() {
    let plane = [(f64::NEG_INFINITY, f64::INFINITY); 2];
    for beta in [1.1137539496799838, 20.35652145005755] {
        let pi = std::f64::consts::PI;
        let truth =
            0.5 * (2.0 * pi / beta).ln() + 0.5 * (18.0 * pi / beta).ln() + 9.0 / (8.0 * beta);
        program_case(
            "z2^2/18 + z1^2*exp(-z2)/2",
            &plane,
            beta,
            truth,
            tq::default_tol(2),
        );
    }
}

/// Near-singular 2D Gaussians `½a·u² + b·u·v + ½c·v²` (a·c within 1e-5 of b² relative): along
/// the ridge the energy is a difference of terms far larger than itself, and its rounding
/// left `log Z` up to 4e-10 off while the Hermite rule claimed 1e-12 to 1e-10 (10 of 240 stress
/// cases). The floor now includes `β` times the width of the energy's interval enclosure at
/// points along the whitened axes. Truth: `log(2π/β) - ½ log(ac - b²)`, the determinant of the
/// written coefficients taken exactly (products split by `mul_add`).
#[test]
fn near_singular_gaussians_claim_their_rounding_floor() {
    let plane = [(f64::NEG_INFINITY, f64::INFINITY); 2];
    let exact_det = |a: f64, b: f64, c: f64| {
        let (ac, bb) = (a * c, b * b);
        let (ac_lo, bb_lo) = (a.mul_add(c, -ac), b.mul_add(b, -bb));
        (ac - bb) + (ac_lo - bb_lo)
    };
    let cases = [
        (
            8.928767528904533,
            11.91669215065225,
            15.904517606268213,
            [-4.282867777567051, 1.8773712557417994],
            568.6453157703672,
        ),
        (
            0.31189536599621914,
            0.20725438687851205,
            0.137720494894872,
            [0.25188298625192296, -2.6134278954382637],
            5.198241180142563,
        ),
    ];
    for (a, b, c, [m1, m2], beta) in cases {
        let src = format!(
            "0.5*{a}*(z1 - ({m1}))^2 + {b}*(z1 - ({m1}))*(z2 - ({m2})) + 0.5*{c}*(z2 - ({m2}))^2"
        );
        let truth = (2.0 * std::f64::consts::PI / beta).ln() - 0.5 * exact_det(a, b, c).ln();
        program_case(&src, &plane, beta, truth, tq::default_tol(2));
    }
}

/// Modes whose slices the nested rule lost (2D stress cases, each "converged" with ±3e-10 to
/// ±5e-9 and 2.5e-4 to 1.5e-3 low in log Z):
/// - a far correlated needle at `(33.9, 19.4)`: two outer widths out its slices' minima lie 9
///   from its own inner coordinate, where a search seeded there found nothing; the slices now
///   follow each minimum's ridge (`nested::Ridge`, the conditional mean of its quadratic model);
/// - a mode at `z1 = -36.6` beyond the outer grid, whose only neighbour among the points (at
///   -18.1) was lower: a hint that is no local minimum of the points is now followed downhill;
/// - a needle on the flank of a broad mode (a barrier 3 above the needle, 0.7 above the broad
///   one, so not "separate" from it), which further along its ridge is only a shoulder 0.013
///   wide in the slices: its ridge now gives the slices breakpoints (`LineSpec::features`);
/// - a separable energy whose outer factor has modes at 4.6, 18.6, 32.2 and 48.1 beyond the
///   outer grid.
#[test]
fn slices_follow_the_ridges_of_correlated_modes() {
    let plane = [(f64::NEG_INFINITY, f64::INFINITY); 2];
    let cases: [&[tq::Bump2]; 3] = [
        &[
            (
                -0.21174338776198448,
                [0.19445518820055618, 0.3540532906790458, 0.8725174617900199],
                [2.9294009663873366, 4.949342138628625],
            ),
            (
                -0.8779512311045101,
                [1366.1483515372076, -585.8754903177903, 62.93681402122939],
                [33.90469780510105, 19.359281256727726],
            ),
            (
                -3.6688015202087016,
                [570.503756349005, 94.57262816000198, 4.011636410965532],
                [3.497796410928558, 4.310908042785318],
            ),
        ],
        &[
            (
                -4.617756110974101,
                [0.1389455549327173, 0.37963924592138154, 0.7446923634937841],
                [-1.6087273615323294, 3.896538529490133],
            ),
            (
                -2.188958171381188,
                [1376.163972092906, 387.6579141860558, 28.36720890006627],
                [-1.4857422034548495, -4.972472046709873],
            ),
            (
                -5.615439669339564,
                [215.4932578431268, 10.965183253146908, 14.099364550838752],
                [-36.60408856463434, 0.2225626542575938],
            ),
            (
                -4.491956954800526,
                [2.3916678155772044, 1.8743079055838194, 3.266458937209312],
                [-18.13779139385383, -44.83658194671896],
            ),
        ],
        &[
            (
                -4.527889253522715,
                [1.1646798791763986, 0.42843282163437535, 0.07812863697595808],
                [4.536226962167197, 3.416611036836727],
            ),
            (
                -2.2083790390855214,
                [3892.1987364645483, -305.90612377990624, 2996.507932021768],
                [4.75841639317651, -3.5150107176853016],
            ),
        ],
    ];
    for comps in cases {
        let (src, truth) = tq::gaussian_mixture_2d(comps);
        program_case(&src, &plane, 1.0, truth, tq::default_tol(2));
    }
    // exp(-E) = exp(-3.54 - 0.0254(z1 + 1.05)²) + ... (1D modes) times exp(-z2²/2).
    let modes: [(f64, f64, f64); 5] = [
        (
            -3.5443088261309006,
            0.025391296718545488,
            -1.049521391932199,
        ),
        (-3.8956616383655125, 0.8465118264615293, 18.63037253117625),
        (-1.3758140260322573, 4345.560492263313, 4.561974054388795),
        (-0.5955415535923753, 18.406259414964758, 32.20573030787942),
        (-3.0023907561582748, 1250.6929804005142, 48.11697928791159),
    ];
    let terms: Vec<String> = modes
        .iter()
        .map(|(a, k, m)| format!("({a}) - ({k})*(z1 - ({m}))^2"))
        .collect();
    let src = format!("-logsumexp({}) + z2^2/2", terms.join(", "));
    let pi = std::f64::consts::PI;
    let z1: f64 = modes
        .iter()
        .map(|(a, k, _)| a.exp() * (pi / k).sqrt())
        .sum();
    let truth = z1.ln() + 0.5 * (2.0 * pi).ln();
    program_case(&src, &plane, 1.0, truth, tq::default_tol(2));
}

/// A broad mode, a needle 0.012 wide and 4 long inside it (no minimum of its own), a far
/// narrow mode at (-35.3, 9.5) holding 1e-3 of Z and a fourth (a 2D stress case).
const NEEDLE_AND_FAR_MODE: &[tq::Bump2] = &[
    (
        -0.12590804569415062,
        [
            0.04832192577039823,
            0.14095818691002385,
            0.21114870627957275,
        ],
        [1.3297764020064529, -4.180656540756865],
    ),
    (
        -2.7784319526008865,
        [238.7610708147329, 1752.6720547472169, 3218.599376918904],
        [2.1505870571051213, -2.739350040365732],
    ),
    (
        -1.9460267046026054,
        [191.32665248424163, -420.24222065608615, 231.4924546220193],
        [-35.25810465097786, 9.52482004609115],
    ),
    (
        -3.8494518531474777,
        [0.5158977891976011, 0.1358451741232807, 0.6145016820306034],
        [-4.533736825935963, -1.7282682220908594],
    ),
];

/// The critical boxes of the 2D minima completion (`bounds::Enclosure::critical`) that a
/// located minimum explains take no place: along a needle's ridge inside a broad mode (no
/// minimum of its own) every box's gradient enclosure contains 0, and those boxes took all 32
/// places before the box of a far mode at `(-35.3, 9.5)` holding 1e-3 of Z, which was never
/// searched from (a stress case, 9.9e-4 low in log Z).
#[test]
fn critical_boxes_a_located_minimum_explains_take_no_place() {
    let comps = NEEDLE_AND_FAR_MODE;
    let (src, _) = tq::gaussian_mixture_2d(comps);
    let e = crate::engine::ProgramEnergy::new(
        &crate::expr::parse(&src).expect("parses"),
        &["z1", "z2"],
        &crate::expr::Bindings::new(),
    )
    .expect("compiles");
    let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY); 2]).expect("domain");
    let probs = problems(&e, &dom);
    let opts = QuadOptions::default();
    let spec = PartSpec {
        beta: 1.0,
        obs: None,
        n_obs: 0,
        tol: tq::default_tol(2),
        budget: opts.max_evals,
        opts: &opts,
    };
    let main = vec![1.3297763604785044, -4.1806565268309335];
    let mut mins = vec![(probs[0].eval(&main).expect("finite"), main)];
    audit::complete_minima_2d(&probs[0], &spec, &mut mins).expect("completes");
    let far = [-35.25810465097786, 9.52482004609115];
    assert!(
        mins.iter()
            .any(|(_, x)| (x[0] - far[0]).abs() < 1e-4 && (x[1] - far[1]).abs() < 1e-4),
        "the far mode at {far:?} was not found: {mins:?}"
    );
}

/// A narrow ring off the origin at β = 4.7e4 (`h·(|z − c|² − R²)²`): slices seeded only with
/// the tangents of its minima (`nested::Ridge`) cross the ring far from them, and lost 1.7 % of
/// Z with ±5e-9 claimed; each minimum's own inner coordinate seeds them too.
/// `Z = π·√(π/(βh))·erfc(−R²√(βh))/2`, the erfc term `1 − 1e-90` here.
#[test]
fn narrow_rings_off_the_origin_keep_their_slices() {
    let (h, r2, beta) = (0.15025322410932324, 0.17072254888291616, 46735.59724295816);
    let (c1, c2) = (4.649946513532676, -3.800533397903232);
    let src = format!("{h}*((z1 - {c1})^2 + (z2 - ({c2}))^2 - {r2})^2");
    let bh: f64 = beta * h;
    assert!(r2 * bh.sqrt() > 14.0, "the erfc term is 1 only this far in");
    let pi = std::f64::consts::PI;
    let truth = pi.ln() + 0.5 * (pi / bh).ln();
    let plane = [(f64::NEG_INFINITY, f64::INFINITY); 2];
    program_case(&src, &plane, beta, truth, tq::default_tol(2));
}

/// A needle 0.012 wide and 4 long inside a broad mode forms no minimum of its own: the 2D
/// minima completion's critical sub-boxes along it are explained by the broad mode, and its
/// slices saw a shoulder between their nodes (1.65e-4 low in log Z with ±5e-9 claimed, a stress
/// case). Those sub-boxes now seed ridges (`nested::Ridge::seed`, polished onto the slice's
/// local minimum) whose crossings give the slices breakpoints. A far mode at (-35.3, 9.5)
/// completes the mixture.
#[test]
fn needles_without_a_minimum_get_breakpoints_from_critical_boxes() {
    let comps = NEEDLE_AND_FAR_MODE;
    let (src, truth) = tq::gaussian_mixture_2d(comps);
    let plane = [(f64::NEG_INFINITY, f64::INFINITY); 2];
    program_case(&src, &plane, 1.0, truth, tq::default_tol(2));
}

/// A narrow ring at β = 1e4, `(z1² + z2² − 1)²`: accurate, but its audit's bounds at the usual
/// 12 000 boxes left 0.27 of room above the estimate and withdrew it; taken again with four
/// times the boxes (`audit::REFINED_BOXES`) the room is 0.06 and the result stands.
#[test]
fn loose_audit_bounds_are_refined_before_a_result_is_withdrawn() {
    let beta: f64 = 1e4;
    // Z = (π/2)·√(π/β)·(1 + erf(√β)), and erf(100) = 1 in f64.
    let truth = (std::f64::consts::PI / 2.0 * (std::f64::consts::PI / beta).sqrt() * 2.0).ln();
    let plane = [(f64::NEG_INFINITY, f64::INFINITY); 2];
    program_case(
        "(z1^2 + z2^2 - 1)^2",
        &plane,
        beta,
        truth,
        tq::default_tol(2),
    );
}

/// A jump of the energy beside a mode (`a·(1 + sign(z − b))`, from a stress run of random
/// Gaussians with steps): after a split the jump lay between the new midpoint and the nearest
/// node of a child, whose rule read a smooth integrand; 2.1e-5 and 1.0e-4 off with ±8.8e-11 and
/// ±6.6e-12 claimed (`line::adaptive::Adaptive::check_ends`).
#[test]
fn a_jump_beside_a_mode_is_not_hidden_between_an_end_and_a_node() {
    let cases: [(f64, f64, f64, f64); 2] = [
        (
            0.923196066410366,
            1.499276777601715,
            -3.495817921440357,
            0.30453523554114403,
        ),
        (
            -0.9492316563593217,
            2.6966405220592415,
            0.945928163436063,
            -0.24266939982231917,
        ),
    ];
    let phi = |x: f64| 0.5 * (1.0 + tq::erf(x / std::f64::consts::SQRT_2));
    for (c, s, a, b) in cases {
        let src = format!("0.5*((z1 - ({c:?}))/{s:?})^2 + {a:?}*(1 + sign(z1 - ({b:?})))");
        // Z = s·√(2π)·(Φ(k) + e^{-2a}·Φ(-k)), k = (b - c)/s.
        let k = (b - c) / s;
        let truth = (s * (2.0 * std::f64::consts::PI).sqrt()).ln()
            + (phi(k) + (-2.0 * a).exp() * phi(-k)).ln();
        program_case(
            &src,
            &[(f64::NEG_INFINITY, f64::INFINITY)],
            1.0,
            truth,
            tq::tol::LOGZ_1D,
        );
    }
}
