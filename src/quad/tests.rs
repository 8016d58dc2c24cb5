//! Reference-battery tests of the quadrature: exact values, honest errors, refusals.

use super::*;
use crate::testing::quad::{self as tq, RefCase, default_tol, tol};
use proptest::prelude::*;
use statrs::function::gamma::ln_gamma;

const INF: f64 = f64::INFINITY;

fn run_case(c: &RefCase) -> LogZ {
    let e = FnEnergy::new(c.bounds.len(), |z: &[f64]| (c.energy)(z));
    let d = Domain::continuous(&c.bounds).expect("valid reference domain");
    log_partition(&e, &d, c.beta, &QuadOptions::default()).expect("reference case integrates")
}

/// Asserts the value is within `tol` and that the reported error covers the true error.
fn check(id: &str, r: &LogZ, truth: f64, tol: f64) {
    let err = (r.log_z - truth).abs();
    assert!(
        r.status == Status::Converged,
        "{id}: status {:?} ({:?})",
        r.status,
        r.reason
    );
    assert!(
        err <= tol,
        "{id}: log Z {} vs {truth}: error {err:e} > {tol:e}",
        r.log_z
    );
    assert!(
        err <= r.abs_error,
        "{id}: reported error {:e} does not cover the true error {err:e}",
        r.abs_error
    );
}

#[test]
fn peer_battery_1d_and_2d_within_tolerance_with_honest_errors() {
    for c in tq::peer_cases() {
        let d = c.bounds.len();
        // 3D/4D cases run in their own tests (slower); one β each.
        if d > 2 {
            continue;
        }
        let r = run_case(&c);
        let t = default_tol(d).max(1e-12 * c.truth.abs());
        check(&c.id, &r, c.truth, t);
    }
}

#[test]
fn peer_gaussians_3d_and_4d() {
    for c in tq::peer_cases() {
        if c.id == "gauss3d_b100" || c.id == "gauss4d_b1" {
            let r = run_case(&c);
            check(&c.id, &r, c.truth, default_tol(c.bounds.len()));
            assert!(
                r.evaluations < 10_000_000,
                "{}: {} evaluations",
                c.id,
                r.evaluations
            );
            let lap = r.laplace_log_z.expect("whitened path reports Laplace");
            // For a Gaussian the Laplace approximation is exact up to the FD Hessian.
            assert!(
                (lap - c.truth).abs() < 1e-5,
                "{}: Laplace {lap} vs {}",
                c.id,
                c.truth
            );
        }
    }
}

#[test]
fn genz_gaussian_and_c0_families() {
    for c in tq::genz_cases() {
        let r = run_case(&c);
        // Genz integrands are exp(-E) on [0,1]^d: log I against the closed form.
        check(&c.id, &r, c.truth.ln(), tol::GENZ_REL);
    }
}

fn spd(d: usize, seed: &[f64]) -> Vec<Vec<f64>> {
    // A = B Bᵀ + d·I from a deterministic B: symmetric positive definite.
    let mut a = vec![vec![0.0; d]; d];
    for i in 0..d {
        for j in 0..d {
            let mut s = 0.0;
            for k in 0..d {
                s += seed[i * d + k] * seed[j * d + k];
            }
            a[i][j] = s + if i == j { 0.5 } else { 0.0 };
        }
    }
    a
}

fn log_det(a: &[Vec<f64>]) -> f64 {
    let d = a.len();
    let m = nalgebra::DMatrix::from_fn(d, d, |i, j| a[i][j]);
    let c = nalgebra::Cholesky::new(m).expect("spd");
    2.0 * (0..d).map(|i| c.l()[(i, i)].ln()).sum::<f64>()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn random_spd_gaussians_match_closed_form(
        d in 1usize..=3,
        seed in proptest::collection::vec(-1.0f64..1.0, 9),
        mu in proptest::collection::vec(-3.0f64..3.0, 3),
        c0 in -5.0f64..5.0,
        log_beta in -3.0f64..6.0,
    ) {
        let beta = 10f64.powf(log_beta);
        let a = spd(d, &seed);
        let mu = mu[..d].to_vec();
        let (a2, mu2) = (a.clone(), mu.clone());
        let e = FnEnergy::new(d, move |z: &[f64]| {
            let mut s = 0.0;
            for i in 0..d { for j in 0..d { s += a2[i][j] * (z[i] - mu2[i]) * (z[j] - mu2[j]); } }
            0.5 * s + c0
        });
        let dom = Domain::continuous(&vec![(-INF, INF); d]).expect("domain");
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
        let truth = -beta * c0 + 0.5 * d as f64 * (2.0 * std::f64::consts::PI / beta).ln()
            - 0.5 * log_det(&a);
        let t = default_tol(d).max(1e-12 * truth.abs());
        check(&format!("spd d={d} β={beta}"), &r, truth, t);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// Wells of different powers and stiffness on each side of a kinked minimum, anywhere on the
    /// line, at any β: the far breakpoint is pulled in on the steep side and the faint pieces
    /// take the short rule, while the flat side (power 1) keeps the full rule.
    /// `∫ exp(-β E) = e^{-β c0} Σ_sides Γ(1 + 1/p) (β s)^{-1/p}`.
    #[test]
    fn asymmetric_power_wells_match_closed_form(
        p_left in 1.0f64..8.0,
        p_right in 1.0f64..8.0,
        log_s_left in -1.0f64..1.0,
        log_s_right in -1.0f64..1.0,
        centre in -5.0f64..5.0,
        c0 in -3.0f64..3.0,
        log_beta in -3.0f64..6.0,
    ) {
        let beta = 10f64.powf(log_beta);
        let w = tq::PowerWell {
            p_left,
            p_right,
            s_left: 10f64.powf(log_s_left),
            s_right: 10f64.powf(log_s_right),
            centre,
        };
        let e = FnEnergy::new(1, move |z: &[f64]| c0 + w.energy(z[0]));
        let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
        let truth = -beta * c0 + w.log_z(beta);
        let t = tol::LOGZ_1D.max(1e-12 * truth.abs());
        check(&format!("powers {p_left}/{p_right} β={beta}"), &r, truth, t);
    }
}

#[test]
fn quartic_at_huge_beta_is_exact() {
    let e = FnEnergy::new(1, |z: &[f64]| z[0].powi(4));
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    for beta in [1e-3, 1.0, 1e3, 1e6] {
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
        let truth = (2.0f64).ln() + ln_gamma(1.25) - 0.25 * f64::ln(beta);
        check(&format!("z^4 β={beta}"), &r, truth, tol::LOGZ_1D);
    }
}

#[test]
fn gamma_type_half_infinite_energies() {
    for a in [0.5, 2.0, 7.0] {
        let e = FnEnergy::new(1, move |z: &[f64]| z[0] - a * z[0].ln());
        let dom = Domain::continuous(&[(0.0, INF)]).expect("domain");
        for beta in [0.01, 1.0, 100.0, 1e4] {
            let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
            let truth = tq::ln_gamma_minus_x_ln_beta(a * beta + 1.0, beta);
            check(
                &format!("z - {a} log z β={beta}"),
                &r,
                truth,
                tol::LOGZ_1D.max(1e-12 * truth.abs()),
            );
        }
    }
}

#[test]
fn gaussian_latent_model_free_energy() {
    // E(y, z) = ½(y - w z)² + ½ a z²: F_β(y) = a y²/(2(w²+a)) + (1/(2β)) log(β(w²+a)/(2π)).
    let (w, a) = (1.3, 0.7);
    for y in [-2.0, 0.5, 3.0] {
        let e = FnEnergy::new(1, move |z: &[f64]| {
            0.5 * (y - w * z[0]).powi(2) + 0.5 * a * z[0] * z[0]
        });
        let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
        for beta in [0.1, 10.0, 1e5] {
            let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
            let f_true = a * y * y / (2.0 * (w * w + a))
                + (beta * (w * w + a) / (2.0 * std::f64::consts::PI)).ln() / (2.0 * beta);
            check(
                &format!("latent y={y} β={beta}"),
                &r,
                -beta * f_true,
                tol::LOGZ_1D.max(1e-12 * (beta * f_true).abs()),
            );
            assert!((r.free_energy(beta) - f_true).abs() <= r.free_energy_error(beta) + 1e-15);
            // F_∞ = min E.
            assert!((r.min_energy - a * y * y / (2.0 * (w * w + a))).abs() < 1e-12);
        }
    }
}

#[test]
fn laplace_asymptotics_of_the_double_well() {
    // Two equivalent minima (E* = 0, E'' = 8): F_β - E* → (1/(2β)) log(8β/(2π)) - (log 2)/β.
    let e = FnEnergy::new(1, |z: &[f64]| (z[0] * z[0] - 1.0).powi(2));
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let mut prev = f64::INFINITY;
    for beta in [1e2, 1e3, 1e4, 1e5] {
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
        let laplace = -(0.5 * (8.0 * beta / (2.0 * std::f64::consts::PI)).ln() - 2f64.ln());
        let gap = (r.log_z - laplace).abs();
        // The relative correction is O(1/β): β·gap stays bounded and shrinks in absolute terms.
        assert!(gap < prev, "β={beta}: gap {gap} did not shrink from {prev}");
        assert!(gap * beta < 2.0, "β={beta}: gap {gap} is not O(1/β)");
        prev = gap;
    }
}

#[test]
fn thermodynamic_identity() {
    // d log Z/dβ = -⟨E⟩_β: quadrature of ⟨E⟩ vs a central difference of log Z.
    let f = |z: &[f64]| 0.5 * z[0] * z[0] + 3.0 * (4.0 * z[0]).cos() + 0.3 * z[0];
    let e = FnEnergy::new(1, f);
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let opts = QuadOptions::default();
    for beta in [0.3, 2.0, 20.0] {
        let obs = |z: &[f64], out: &mut [f64]| out[0] = f(z);
        let ex = expectations(&e, &dom, beta, &obs, 1, &opts).expect("integrates");
        let h = 1e-4 * beta;
        let lp = log_partition(&e, &dom, beta + h, &opts).expect("integrates");
        let lm = log_partition(&e, &dom, beta - h, &opts).expect("integrates");
        let fd = (lp.log_z - lm.log_z) / (2.0 * h);
        // Central-difference truncation ~ h²·|d³ log Z/dβ³| plus rounding of the errors / h.
        let fd_err = (lp.abs_error + lm.abs_error) / (2.0 * h) + 1e-6;
        let diff = (fd + ex.values[0]).abs();
        assert!(
            diff <= fd_err + ex.errors[0],
            "β={beta}: d log Z/dβ = {fd}, -⟨E⟩ = {}, diff {diff:e}",
            -ex.values[0]
        );
    }
}

#[test]
fn expectations_of_a_gaussian_are_exact() {
    let (m, a) = (0.7, 2.0);
    for d in [1usize, 2] {
        let e = FnEnergy::new(d, move |z: &[f64]| {
            z.iter().map(|v| 0.5 * a * (v - m) * (v - m)).sum()
        });
        let dom = Domain::continuous(&vec![(-INF, INF); d]).expect("domain");
        for beta in [0.01, 1.0, 1e4] {
            let obs = |z: &[f64], out: &mut [f64]| {
                out[0] = z[0];
                out[1] = z[0] * z[0];
                out[2] = f64::from(u8::from(z[0] < m));
            };
            let ex =
                expectations(&e, &dom, beta, &obs, 3, &QuadOptions::default()).expect("integrates");
            let truth = [m, m * m + 1.0 / (beta * a), 0.5];
            for k in 0..3 {
                let err = (ex.values[k] - truth[k]).abs();
                assert!(
                    err <= ex.errors[k] && err <= 1e-6 * ex.abs_means[k].max(1.0),
                    "d={d} β={beta} k={k}: {} vs {} (err {err:e}, reported {:e})",
                    ex.values[k],
                    truth[k],
                    ex.errors[k]
                );
            }
        }
    }
}

#[test]
fn discrete_latent_kmeans_is_summed_exactly() {
    // E(y, k) = |y - c_k|² with k ∈ {0, 1, 2}: Z = Σ_k π/β.
    let centres = [[0.0, 0.0], [3.0, -1.0], [-2.0, 5.0]];
    let e = FnEnergy::new(3, move |z: &[f64]| {
        let c = centres[z[2] as usize];
        (z[0] - c[0]).powi(2) + (z[1] - c[1]).powi(2)
    });
    let dom = Domain::new(vec![
        VarDomain::Continuous { lo: -INF, hi: INF },
        VarDomain::Continuous { lo: -INF, hi: INF },
        VarDomain::Integer { lo: 0, hi: 2 },
    ])
    .expect("domain");
    for beta in [0.5, 100.0] {
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
        let truth = (3.0 * std::f64::consts::PI / beta).ln();
        check(&format!("k-means β={beta}"), &r, truth, tol::LOGZ_2D);
    }
    // A purely discrete sum is exact too.
    let e1 = FnEnergy::new(1, |z: &[f64]| 0.5 * z[0]);
    let dom1 = Domain::new(vec![VarDomain::Integer { lo: 0, hi: 9 }]).expect("domain");
    let r = log_partition(&e1, &dom1, 2.0, &QuadOptions::default()).expect("sums");
    let truth = ((0..10).map(|k| (-(k as f64)).exp()).sum::<f64>()).ln();
    check("discrete", &r, truth, 1e-12);
}

#[test]
fn divergent_energies_are_refused_with_a_direction() {
    let cases: Vec<(&str, tq::EnergyFn, (f64, f64), f64)> = vec![
        ("-z^2", Box::new(|z: &[f64]| -z[0] * z[0]), (-INF, INF), 1.0),
        ("0*z", Box::new(|z: &[f64]| 0.0 * z[0]), (-INF, INF), 1.0),
        ("z", Box::new(|z: &[f64]| z[0]), (-INF, INF), 1.0),
        ("z^3", Box::new(|z: &[f64]| z[0].powi(3)), (-INF, INF), 1.0),
        ("-log z", Box::new(|z: &[f64]| -z[0].ln()), (1.0, INF), 0.5),
        (
            "log z on 0..1",
            Box::new(|z: &[f64]| z[0].ln()),
            (0.0, 1.0),
            1.0,
        ),
    ];
    for (name, f, b, beta) in cases {
        let e = FnEnergy::new(1, f);
        let dom = Domain::continuous(&[b]).expect("domain");
        match log_partition(&e, &dom, beta, &QuadOptions::default()) {
            Err(QuadError::Diverges { direction, .. }) => {
                assert!(direction.contains("z1"), "{name}: {direction}");
            }
            other => panic!("{name}: expected divergence, got {other:?}"),
        }
    }
    // 2D: flat along z2, and unbounded below.
    let flat = FnEnergy::new(2, |z: &[f64]| z[0] * z[0]);
    let saddle = FnEnergy::new(2, |z: &[f64]| z[0] * z[0] - z[1] * z[1]);
    let dom = Domain::continuous(&[(-INF, INF), (-INF, INF)]).expect("domain");
    for e in [&flat as &dyn Energy, &saddle] {
        let r = log_partition(e, &dom, 1.0, &QuadOptions::default());
        assert!(matches!(r, Err(QuadError::Diverges { .. })), "{r:?}");
    }
    // An integrable endpoint singularity is not refused: ∫₀¹ z^-1/2 = 2.
    let e = FnEnergy::new(1, |z: &[f64]| 0.5 * z[0].ln());
    let dom = Domain::continuous(&[(0.0, 1.0)]).expect("domain");
    let opts = QuadOptions {
        max_evals: 200_000,
        ..QuadOptions::default()
    };
    let r = log_partition(&e, &dom, 1.0, &opts).expect("integrable");
    assert!(
        (r.log_z - 2f64.ln()).abs() <= r.abs_error.max(1e-6),
        "{r:?}"
    );
}

#[test]
fn interior_poles_are_refused_and_integrable_singularities_and_narrow_wells_are_not() {
    // Non-integrable poles inside the domain (issue 13: `-1/z^2` on [-1, 1] came back as
    // 1.1e49, converged): the pole's position is named.
    // (name, energy, pole, how close the named point must be: `-exp(1/|z-0.2|)` overflows to
    // -inf within 1/709 of its pole, so a point near there is named).
    let poles: Vec<(&str, tq::EnergyFn, f64, f64)> = vec![
        (
            "-1/z^2",
            Box::new(|z: &[f64]| -1.0 / (z[0] * z[0])),
            0.0,
            1e-6,
        ),
        (
            "log|z-0.7|",
            Box::new(|z: &[f64]| (z[0] - 0.7).abs().ln()),
            0.7,
            1e-6,
        ),
        (
            "-exp(1/|z-0.2|)",
            Box::new(|z: &[f64]| -(1.0 / (z[0] - 0.2).abs()).exp()),
            0.2,
            0.01,
        ),
        (
            "z^2 + 3 log|z+0.31|",
            Box::new(|z: &[f64]| z[0] * z[0] + 3.0 * (z[0] + 0.31).abs().ln()),
            -0.31,
            1e-6,
        ),
    ];
    let dom = Domain::continuous(&[(-1.0, 1.0)]).expect("domain");
    for (name, f, at, near) in poles {
        let e = FnEnergy::new(1, f);
        match log_partition(&e, &dom, 1.0, &QuadOptions::default()) {
            Err(QuadError::Diverges { direction, .. }) => {
                let named: f64 = direction
                    .split("z1 = ")
                    .nth(1)
                    .and_then(|t| t.split(' ').next())
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(f64::NAN);
                assert!((named - at).abs() <= near, "{name}: {direction}");
            }
            other => panic!("{name}: expected divergence, got {other:?}"),
        }
    }
    // An integrable pole inside: ∫_{-1}^{1} |z|^-0.9 dz = 20.
    let e = FnEnergy::new(1, |z: &[f64]| 0.9 * z[0].abs().ln());
    let r = log_partition(&e, &dom, 1.0, &QuadOptions::default()).expect("integrable");
    assert_eq!(r.status, Status::Converged, "{r:?}");
    assert!(
        (r.log_z - 20f64.ln()).abs() <= r.abs_error.max(1e-9),
        "{r:?}"
    );
    // Narrow smooth wells fall steeply near their minimum but are not poles:
    // ∫ exp(-k (z - 0.3)^2) = √(π/k).
    for k in [1e6, 1e12, 1e20] {
        let e = FnEnergy::new(1, move |z: &[f64]| k * (z[0] - 0.3).powi(2));
        let r = log_partition(&e, &dom, 1.0, &QuadOptions::default()).expect("a narrow well");
        let truth = 0.5 * (std::f64::consts::PI / k).ln();
        assert!(
            (r.log_z - truth).abs() <= r.abs_error.max(1e-9),
            "k = {k}: {r:?}"
        );
    }
}

#[test]
fn peaks_narrower_than_the_minimiser_resolution_are_repolished() {
    // Issue 13: `z^2` at β = 1e50 came back as log Z −41.77 (truth −56.99), at 1e60 as −2e9:
    // the peak (width 1/√β) was narrower than Brent's resolution of its minimiser.
    let e = FnEnergy::new(1, |z: &[f64]| z[0] * z[0]);
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    for beta in [1e40, 1e50, 1e60, 1e100, 1e200, 1e300] {
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrable");
        let truth = 0.5 * (std::f64::consts::PI / beta).ln();
        assert_eq!(r.status, Status::Converged, "β = {beta}: {r:?}");
        assert!(
            (r.log_z - truth).abs() <= r.abs_error,
            "β = {beta}: {r:?} vs {truth}"
        );
    }
    // Off the origin the peak at β = 1e60 is narrower than the spacing of f64 near 0.3: never
    // a converged wrong number.
    let e = FnEnergy::new(1, |z: &[f64]| (z[0] - 0.3).powi(2));
    for beta in [1e30, 1e60] {
        let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrable");
        let truth = 0.5 * (std::f64::consts::PI / beta).ln();
        assert!(
            r.status != Status::Converged || (r.log_z - truth).abs() <= r.abs_error,
            "β = {beta}: {r:?} vs {truth}"
        );
    }
}

#[test]
fn nan_energy_is_an_error_naming_the_point() {
    let e = FnEnergy::new(
        1,
        |z: &[f64]| if z[0] < -0.5 { f64::NAN } else { z[0] * z[0] },
    );
    let dom = Domain::continuous(&[(-1.0, 1.0)]).expect("domain");
    match log_partition(&e, &dom, 1.0, &QuadOptions::default()) {
        Err(QuadError::NotANumber { point }) => assert!(point[0] < -0.5, "{point:?}"),
        other => panic!("expected NaN error, got {other:?}"),
    }
    // +inf is zero weight: a hard wall.
    let wall = FnEnergy::new(1, |z: &[f64]| if z[0] < 0.0 { INF } else { z[0] });
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let r = log_partition(&wall, &dom, 2.0, &QuadOptions::default()).expect("integrates");
    check("wall", &r, -(2f64.ln()), tol::LOGZ_1D);
}

#[test]
fn invalid_inputs_are_rejected() {
    let e = FnEnergy::new(1, |z: &[f64]| z[0] * z[0]);
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    for beta in [0.0, -1.0, f64::NAN, INF] {
        assert!(matches!(
            log_partition(&e, &dom, beta, &QuadOptions::default()),
            Err(QuadError::InvalidBeta(_))
        ));
    }
    assert!(Domain::continuous(&[(1.0, 1.0)]).is_err());
    assert!(Domain::continuous(&[(f64::NAN, 1.0)]).is_err());
    assert!(Domain::continuous(&[(INF, INF)]).is_err());
    assert!(Domain::continuous(&[(0.0, 1.0); 5]).is_err());
    let dom2 = Domain::continuous(&[(0.0, 1.0); 2]).expect("domain");
    assert!(matches!(
        log_partition(&e, &dom2, 1.0, &QuadOptions::default()),
        Err(QuadError::DimensionMismatch { .. })
    ));
}

#[test]
fn multimodal_global_minimum() {
    let e = FnEnergy::new(1, |z: &[f64]| 0.5 * z[0] * z[0] + 3.0 * (4.0 * z[0]).cos());
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let m = minimize(&e, &dom, &QuadOptions::default()).expect("minimises");
    // The global minimum is the one nearest 0: 4z = ±π + small shift; check by dense scan.
    let scan = (0..200_001)
        .map(|i| -10.0 + 1e-4 * i as f64)
        .map(|z| 0.5 * z * z + 3.0 * (4.0 * z).cos())
        .fold(INF, f64::min);
    assert!(m.value <= scan + 1e-12, "{} vs scan {scan}", m.value);
    assert!(m.local_minima.len() >= 2);
    // The 2D version.
    let e2 = FnEnergy::new(2, |z: &[f64]| {
        0.5 * (z[0] * z[0] + z[1] * z[1]) + 3.0 * (4.0 * z[0]).cos() + 3.0 * (4.0 * z[1]).cos()
    });
    let dom2 = Domain::continuous(&[(-INF, INF), (-INF, INF)]).expect("domain");
    let m2 = minimize(&e2, &dom2, &QuadOptions::default()).expect("minimises");
    // The energy is separable: its minimum is twice the 1D one.
    assert!(
        (m2.value - 2.0 * m.value).abs() < 1e-9,
        "{} vs {}",
        m2.value,
        2.0 * m.value
    );
}

#[test]
fn narrow_well_needs_a_hint_and_the_hint_is_used() {
    // A well of width 1e-6 at z = 3.3 on top of a wide parabola: weight dominates at β = 1e3.
    let f = |z: &[f64]| 0.01 * z[0] * z[0] - 5.0 * (-((z[0] - 3.3) / 1e-6).powi(2)).exp();
    let e = FnEnergy::new(1, f);
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let opts = QuadOptions {
        hints: vec![vec![3.3]],
        ..QuadOptions::default()
    };
    let r = log_partition(&e, &dom, 1e3, &opts).expect("integrates");
    assert!((r.argmin[0] - 3.3).abs() < 1e-6, "{:?}", r.argmin);
    assert!(r.min_energy < -4.8);
}

#[test]
fn quadrature_crate_fails_silently_on_narrow_peaks() {
    // The design card's crate returns ~0 with a ~0 error on a peak of width 1e-2 off-centre.
    let exact = (std::f64::consts::PI / 1e4).sqrt();
    let out = quadrature::double_exponential::integrate(
        |z: f64| (-1e4 * (z - 0.3137).powi(2)).exp(),
        -10.0,
        10.0,
        1e-10,
    );
    let silent = (out.integral - exact).abs() > 0.5 * exact && out.error_estimate < 0.1 * exact;
    assert!(
        silent,
        "quadrature crate: {} ± {} vs {exact}",
        out.integral, out.error_estimate
    );
    // Ours, on the same integrand as an energy 1e4 (z - 0.3137)² at β = 1:
    let e = FnEnergy::new(1, |z: &[f64]| 1e4 * (z[0] - 0.3137).powi(2));
    let dom = Domain::continuous(&[(-10.0, 10.0)]).expect("domain");
    let r = log_partition(&e, &dom, 1.0, &QuadOptions::default()).expect("integrates");
    check("narrow peak", &r, exact.ln(), tol::LOGZ_1D);
    // Double well at β = 1e4 on [-3, 3].
    let dw = quadrature::double_exponential::integrate(
        |z: f64| (-1e4 * (z * z - 1.0).powi(2)).exp(),
        -3.0,
        3.0,
        1e-10,
    );
    let e = FnEnergy::new(1, |z: &[f64]| (z[0] * z[0] - 1.0).powi(2));
    let dom = Domain::continuous(&[(-3.0, 3.0)]).expect("domain");
    let r = log_partition(&e, &dom, 1e4, &QuadOptions::default()).expect("integrates");
    let ours = r.log_z.exp();
    assert!(
        (dw.integral - ours).abs() > 0.1 * ours && dw.error_estimate < 0.1 * ours,
        "quadrature crate on the double well: {} ± {} vs {ours}",
        dw.integral,
        dw.error_estimate
    );
}

#[test]
fn budget_exhaustion_is_a_status_with_an_estimate() {
    let e = FnEnergy::new(2, |z: &[f64]| (z[0] * z[0] + z[1] * z[1] - 1.0).powi(2));
    let dom = Domain::continuous(&[(-INF, INF), (-INF, INF)]).expect("domain");
    let opts = QuadOptions {
        max_evals: 20_000,
        ..QuadOptions::default()
    };
    let r = log_partition(&e, &dom, 100.0, &opts).expect("returns an estimate");
    assert_eq!(r.status, Status::NotConverged);
    assert!(r.reason.is_some() && r.log_z.is_finite());
}

#[test]
fn nested_2d_expectations_match_the_1d_ones() {
    // A separable double well has four minima (nested path); its marginals are the 1D ones.
    let f1 = |x: f64| (x * x - 1.0).powi(2) + 0.2 * x;
    let e1 = FnEnergy::new(1, move |z: &[f64]| f1(z[0]));
    let e2 = FnEnergy::new(2, move |z: &[f64]| f1(z[0]) + f1(z[1]));
    let d1 = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let d2 = Domain::continuous(&[(-INF, INF), (-INF, INF)]).expect("domain");
    let beta = 5.0;
    let opts = QuadOptions::default();
    let o1 = |z: &[f64], out: &mut [f64]| out[0] = z[0] * z[0];
    let o2 = |z: &[f64], out: &mut [f64]| {
        out[0] = z[0] * z[0];
        out[1] = z[0] * z[1];
    };
    let r1 = expectations(&e1, &d1, beta, &o1, 1, &opts).expect("1D");
    let r2 = expectations(&e2, &d2, beta, &o2, 2, &opts).expect("2D");
    check(
        "separable dwell",
        &r2.log_z,
        2.0 * r1.log_z.log_z,
        tol::LOGZ_2D,
    );
    let m1 = {
        let o = |z: &[f64], out: &mut [f64]| out[0] = z[0];
        expectations(&e1, &d1, beta, &o, 1, &opts)
            .expect("1D")
            .values[0]
    };
    let pairs = [
        (r2.values[0], r1.values[0], r2.errors[0] + r1.errors[0]),
        (r2.values[1], m1 * m1, r2.errors[1] + 1e-9),
    ];
    for (got, want, err) in pairs {
        assert!(
            (got - want).abs() <= err,
            "{got} vs {want} (allowed {err:e})"
        );
        assert!((got - want).abs() < 1e-7, "{got} vs {want}");
    }
}

/// A double well in z1 times a Gaussian in z2 on the whole plane (two minima, nested rule): far
/// slices whose inner energy is below f64 resolution must not be taken for a divergence.
/// Reference: the product of the 1D integrals, by mpmath at 30 digits.
#[test]
fn separable_double_well_on_the_plane_is_not_refused() {
    let e = FnEnergy::new(2, |z: &[f64]| (z[0] * z[0] - 1.0).powi(2) + z[1] * z[1]);
    let d = Domain::continuous(&[(-INF, INF), (-INF, INF)]).expect("domain");
    for (beta, truth) in [
        (1.0, 1.252_291_185_818_486_7),
        (2.0, 0.570_029_572_374_336_4),
        (10.0, -1.136_610_652_513_525),
    ] {
        let r = log_partition(&e, &d, beta, &QuadOptions::default()).expect("integrable");
        check(
            &format!("dwell x gauss at β = {beta}"),
            &r,
            truth,
            default_tol(2),
        );
    }
    // Still refused when the second direction is really flat.
    let flat = FnEnergy::new(2, |z: &[f64]| (z[0] * z[0] - 1.0).powi(2));
    assert!(matches!(
        log_partition(&flat, &d, 1.0, &QuadOptions::default()),
        Err(QuadError::Diverges { .. })
    ));
}

/// The ring `(x²+y²-1)²` at β = 1 with observables that vanish slice by slice (`y`, `x·y`):
/// the nested rule must judge them against the slice means of `|g|`, not chase rounding noise
/// (it used to spend the whole 2M-evaluation budget and end `not_converged`). With `s = r²`,
/// `s ~ N(1, 1/2)` truncated to `s > 0` and the angle uniform, so `⟨x²⟩ = ⟨s⟩/2` in closed form.
#[test]
fn ring_expectations_with_vanishing_slice_means_converge() {
    let e = FnEnergy::new(2, |z: &[f64]| (z[0] * z[0] + z[1] * z[1] - 1.0).powi(2));
    let dom = Domain::new(vec![
        VarDomain::Continuous {
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY
        };
        2
    ])
    .expect("domain");
    let obs = |z: &[f64], out: &mut [f64]| {
        out[0] = z[0];
        out[1] = z[1];
        out[2] = z[0] * z[1];
        out[3] = z[0] * z[0];
    };
    let opts = QuadOptions {
        abs_tol: Some(1e-7),
        max_evals: 2_000_000,
        ..QuadOptions::default()
    };
    let ex = expectations(&e, &dom, 1.0, &obs, 4, &opts).expect("integrates");
    assert_eq!(ex.log_z.status, Status::Converged, "{:?}", ex.log_z.reason);
    assert!(
        ex.log_z.evaluations < 300_000,
        "{} evaluations",
        ex.log_z.evaluations
    );
    let sigma = std::f64::consts::FRAC_1_SQRT_2;
    let alpha = -1.0 / sigma;
    let mean_s = 1.0 + sigma * crate::stats::special::pdf(alpha) / crate::stats::special::sf(alpha);
    let truth = [0.0, 0.0, 0.0, 0.5 * mean_s];
    for k in 0..4 {
        let err = (ex.values[k] - truth[k]).abs();
        assert!(
            err <= ex.errors[k].max(1e-15),
            "observable {k}: {} vs {}, error {err:.2e} > reported {:.2e}",
            ex.values[k],
            truth[k],
            ex.errors[k]
        );
        assert!(
            ex.errors[k] <= 1e-7 * ex.abs_means[k].max(0.1),
            "observable {k}: {:.2e}",
            ex.errors[k]
        );
    }
}

/// Energies rising faster than a parabola pull the far breakpoint in, and the pieces beyond it
/// (weight below e^-7 of the target) take the 7-point rule first: the closed forms still hold
/// within tolerance with honest errors, at every β.
#[test]
fn steep_wells_match_their_closed_forms() {
    let dom = Domain::continuous(&[(-INF, INF)]).expect("domain");
    for k in [4, 6, 8] {
        let e = FnEnergy::new(1, move |z: &[f64]| z[0].powi(k));
        for beta in [1e-3, 1.0, 1e3, 1e6] {
            let r = log_partition(&e, &dom, beta, &QuadOptions::default()).expect("integrates");
            // ∫ exp(-β z^k) dz = 2 Γ(1 + 1/k) β^(-1/k).
            let kf = f64::from(k);
            let truth = (2.0f64).ln() + ln_gamma(1.0 + 1.0 / kf) - f64::ln(beta) / kf;
            check(&format!("z^{k} β={beta}"), &r, truth, tol::LOGZ_1D);
        }
    }
}

/// A kink in the slice free energy: `F(z1) = |z1 - 0.3| + z1²/2 + const` (the Gaussian in
/// `z2 - z1` integrates out), on a half plane so the nested rule is used. The outer rule must
/// put a breakpoint on the kink (a kink inside a piece converges slowly and its estimate is
/// unreliable); value within the 2D tolerance and an error estimate that covers it, at every β.
/// Reference: closed form in erfc (`∫ exp(-β(|x - a| + x²/2))` splits into two Gaussians),
/// evaluated by mpmath at 40 digits and confirmed by its adaptive quadrature.
#[test]
fn nested_outer_breakpoint_sits_on_a_kink_of_the_slice_free_energy() {
    let e = FnEnergy::new(2, |z: &[f64]| {
        (z[0] - 0.3).abs() + 0.5 * z[0] * z[0] + 0.5 * (z[1] - z[0]).powi(2)
    });
    let d = Domain::continuous(&[(-6.0, INF), (-INF, INF)]).expect("domain");
    for (beta, truth) in [
        (1.0, 1.166_429_756_439_580_2),
        (10.0, -2.310_184_485_619_944_7),
        (100.0, -9.716_027_193_963_459),
        (1000.0, -53.656_762_914_324_65),
    ] {
        let r = log_partition(&e, &d, beta, &QuadOptions::default()).expect("integrates");
        check(
            &format!("kinked slice free energy β={beta}"),
            &r,
            truth,
            tol::LOGZ_2D,
        );
    }
}

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
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
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

/// Correlated Gaussians in 2–4D reach a tolerance of 1e-8 (the 4D one did not within 20
/// million evaluations of the cubature) through the whitened Gauss–Hermite rules, in few
/// evaluations, with errors that cover the closed form; near-Gaussian minima with heavier
/// tails (products of Student-t, ν = 100 and 300, which pass the Gaussian test at the
/// weight's scale) are either within their stated errors or not converged.
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
            let err = (r.log_z - truth).abs();
            assert!(
                r.status != Status::Converged || err <= r.abs_error,
                "student-t ν={nu} d={d}: {} ± {:e} vs {truth} (error {err:e})",
                r.log_z,
                r.abs_error
            );
        }
    }
}
