//! Test support for the `quad` module: strategies, tolerances and reference problems.
//!
//! This file uses no crate item so that `examples/quad_battery.rs` can include it with
//! `#[path]` and run the same peer cases outside `cfg(test)`.
#![allow(dead_code)]

/// Named tolerances on `log Z` (the defaults of the integrator, per continuous dimension).
pub mod tol {
    /// 1D: |error in log Z|.
    pub const LOGZ_1D: f64 = 1e-9;
    /// 2D.
    pub const LOGZ_2D: f64 = 1e-8;
    /// 3D.
    pub const LOGZ_3D: f64 = 1e-7;
    /// 4D.
    pub const LOGZ_4D: f64 = 1e-5;
    /// Relative tolerance of a Genz integral (the peer harness's).
    pub const GENZ_REL: f64 = 1e-6;
}

/// Energy closure type of the reference problems.
pub type EnergyFn = Box<dyn Fn(&[f64]) -> f64 + Sync>;

/// A reference problem with an exact value of `log Z` (or of `I` for Genz cases).
pub struct RefCase {
    /// The peer harness's id (or a local one).
    pub id: String,
    /// Continuous bounds per variable.
    pub bounds: Vec<(f64, f64)>,
    /// Inverse temperature (1 for Genz cases, whose integrand is `exp(-E)` with `E = -log f`).
    pub beta: f64,
    /// The energy.
    pub energy: EnergyFn,
    /// Exact `log Z` (EBM cases) or `I` (Genz cases).
    pub truth: f64,
    /// Whether `truth` is the integral `I` itself (Genz) rather than `log Z`.
    pub is_integral: bool,
}

const INF: f64 = f64::INFINITY;

fn case(id: &str, bounds: Vec<(f64, f64)>, beta: f64, e: EnergyFn, truth: f64) -> RefCase {
    RefCase {
        id: id.into(),
        bounds,
        beta,
        energy: e,
        truth,
        is_integral: false,
    }
}

/// The quadratic form `½ (z − μ)ᵀ A (z − μ)`: the energy of a Gaussian with precision `A`.
pub fn quad_form(a: Vec<Vec<f64>>, mu: Vec<f64>) -> EnergyFn {
    Box::new(move |z: &[f64]| {
        let d = mu.len();
        let mut s = 0.0;
        for i in 0..d {
            for j in 0..d {
                s += a[i][j] * (z[i] - mu[i]) * (z[j] - mu[j]);
            }
        }
        0.5 * s
    })
}

/// Matrix of the 3D Gaussian peer cases (`A = Q diag(0.5, 1.5, 4) Qᵀ`, seed 7).
pub fn gauss3d_matrix() -> (Vec<Vec<f64>>, Vec<f64>) {
    (
        vec![
            vec![3.876372175424448, -0.0318771456100931, -0.5410879941588493],
            vec![-0.0318771456100931, 0.5050070714608085, 0.07479549881438717],
            vec![-0.5410879941588493, 0.07479549881438717, 1.618620753114744],
        ],
        vec![0.4, -0.8, 1.1],
    )
}

/// Matrix of the 4D Gaussian peer cases (`A = Q diag(0.5, 1, 2, 4) Qᵀ`, seed 11).
pub fn gauss4d_matrix() -> (Vec<Vec<f64>>, Vec<f64>) {
    (
        vec![
            vec![
                1.53445264353026,
                0.43296123673978315,
                0.27103388599926537,
                -0.1599005096100629,
            ],
            vec![
                0.43296123673978315,
                2.942067525275813,
                -0.24058047612660408,
                1.3118340486443187,
            ],
            vec![
                0.27103388599926537,
                -0.24058047612660408,
                1.0942333578970307,
                -0.7713021930995351,
            ],
            vec![
                -0.1599005096100629,
                1.3118340486443187,
                -0.7713021930995351,
                1.9292464732968972,
            ],
        ],
        vec![0.3, -0.2, 0.5, 0.0],
    )
}

/// The EBM cases of `../shared/peers/quad/results.jsonl`, energies translated by hand,
/// truths copied from its `truth_f64` field (40-digit mpmath values rounded to f64).
pub fn peer_cases() -> Vec<RefCase> {
    let mut v = Vec::new();
    let gauss_truth = |b: f64| match b {
        0.001 => 4.026242582415769,
        1.0 => 0.5723649429247001,
        1000.0 => -2.8815126965663684,
        _ => -6.335390336057437,
    };
    for b in [0.001, 1.0, 1000.0, 1e6] {
        v.push(case(
            &format!("gauss1d_b{}", fmt_beta(b)),
            vec![(-INF, INF)],
            b,
            Box::new(|z: &[f64]| 0.5 * 2.0 * (z[0] - 0.7).powi(2)),
            gauss_truth(b),
        ));
    }
    for b in [1.0, 1000.0, 1e6] {
        v.push(case(
            &format!("gauss1d_far_b{}", fmt_beta(b)),
            vec![(-INF, INF)],
            b,
            Box::new(|z: &[f64]| 0.5 * 2.0 * (z[0] - 25.0).powi(2)),
            gauss_truth(b),
        ));
    }
    for (b, t) in [
        (1.0, 0.6799262428937866),
        (10.0, -0.5576830489412024),
        (100.0, -1.7283260008812737),
        (10000.0, -4.032786491188005),
    ] {
        v.push(case(
            &format!("dwell1d_b{}", fmt_beta(b)),
            vec![(-INF, INF)],
            b,
            Box::new(|z: &[f64]| (z[0] * z[0] - 1.0).powi(2)),
            t,
        ));
    }
    for (b, t) in [
        (0.001, 5.1220118941438075),
        (1.0, 0.5485751627905342),
        (1000.0, -6.214807998520717),
        (1e6, -13.12236357740423),
    ] {
        v.push(case(
            &format!("kink1d_b{}", fmt_beta(b)),
            vec![(-INF, INF)],
            b,
            Box::new(|z: &[f64]| z[0].abs() + 0.1 * z[0] * z[0]),
            t,
        ));
    }
    for (b, t) in [
        (0.001, 6.914086640662836),
        (1.0, 0.0),
        (100.0, -101.38281322923373),
        (10000.0, -10003.68622331945),
        (1e6, -1000005.9888166625),
    ] {
        v.push(case(
            &format!("gammahalf1d_b{}", fmt_beta(b)),
            vec![(0.0, INF)],
            b,
            Box::new(|z: &[f64]| z[0] - z[0].ln()),
            t,
        ));
    }
    for (b, t) in [
        (0.001, 3.7045831612831783),
        (1.0, 0.7461847541812229),
        (10000.0, -3.6862316527834187),
    ] {
        v.push(case(
            &format!("halfgauss1d_b{}", fmt_beta(b)),
            vec![(0.0, INF)],
            b,
            Box::new(|z: &[f64]| 0.5 * (z[0] - 1.0).powi(2)),
            t,
        ));
    }
    for (b, t) in [
        (0.001, 3.567872216478691),
        (1.0, -0.11078042301237745),
        (1000.0, -228.33965806250345),
        (1e6, -225006.793535702),
    ] {
        v.push(case(
            &format!("latent1d_b{}", fmt_beta(b)),
            vec![(-INF, INF)],
            b,
            Box::new(|z: &[f64]| 0.5 * (1.5 - 2.0 * z[0]).powi(2) + 0.5 * z[0] * z[0]),
            t,
        ));
    }
    for (b, t) in [
        (0.001, 8.745632345391483),
        (1.0, 1.8378770664093456),
        (1000.0, -5.0698782125727915),
        (1e6, -11.97763349155493),
    ] {
        v.push(case(
            &format!("latent2d_b{}", fmt_beta(b)),
            vec![(-INF, INF), (-INF, INF)],
            b,
            Box::new(|z: &[f64]| 0.5 * (z[0] - 2.0 * z[1]).powi(2) + 0.5 * z[1] * z[1]),
            t,
        ));
    }
    for (b, t) in [
        (1.0, 1.6351799658922255),
        (10.0, 0.5657984101613652),
        (100.0, -0.5854902642199454),
        (10000.0, -2.888075357213991),
    ] {
        v.push(case(
            &format!("ring2d_b{}", fmt_beta(b)),
            vec![(-INF, INF), (-INF, INF)],
            b,
            Box::new(|z: &[f64]| (z[0] * z[0] + z[1] * z[1] - 1.0).powi(2)),
            t,
        ));
    }
    for (b, t) in [
        (1.0, 2.2075094552799635),
        (100.0, -4.700245823702174),
        (10000.0, -11.60800110268431),
    ] {
        let (a, mu) = gauss3d_matrix();
        v.push(case(
            &format!("gauss3d_b{}", fmt_beta(b)),
            vec![(-INF, INF); 3],
            b,
            quad_form(a, mu),
            t,
        ));
    }
    for (b, t) in [(1.0, 2.9826069522587457), (100.0, -6.227733419717437)] {
        let (a, mu) = gauss4d_matrix();
        v.push(case(
            &format!("gauss4d_b{}", fmt_beta(b)),
            vec![(-INF, INF); 4],
            b,
            quad_form(a, mu),
            t,
        ));
    }
    v
}

/// The Genz cases of the peer harness (seed 1234; parameters from its `note` field, which
/// rounds them to 4 digits, so only those whose truth does not depend on the rounding are
/// exact here: the truth is recomputed in closed form from the rounded parameters).
pub fn genz_cases() -> Vec<RefCase> {
    let mut v = Vec::new();
    // Gaussian family: ∏ ∫₀¹ exp(-a²(x-u)²) = ∏ √π/(2a) (erf(a(1-u)) + erf(a u)).
    for (id, a, u) in [
        (
            "genz_gaussian_2d",
            vec![24.998f64, 25.002],
            vec![0.6749, 0.6599],
        ),
        (
            "genz_gaussian_3d",
            vec![10.7805, 12.1118, 10.4409],
            vec![0.4489, 0.3705, 0.4827],
        ),
    ] {
        let truth: f64 = a
            .iter()
            .zip(&u)
            .map(|(&ai, &ui)| {
                std::f64::consts::PI.sqrt() / (2.0 * ai) * (erf(ai * (1.0 - ui)) + erf(ai * ui))
            })
            .product();
        let d = a.len();
        v.push(RefCase {
            id: id.into(),
            bounds: vec![(0.0, 1.0); d],
            beta: 1.0,
            energy: Box::new(move |x: &[f64]| {
                (0..d).map(|i| (a[i] * (x[i] - u[i])).powi(2)).sum::<f64>()
            }),
            truth,
            is_integral: true,
        });
    }
    // C0 family: ∏ ∫₀¹ exp(-a|x-u|) = ∏ (2 - e^{-a u} - e^{-a(1-u)})/a.
    for (id, a, u) in [
        ("genz_c0_2d", vec![28.7852f64, 8.7148], vec![0.1721, 0.8704]),
        (
            "genz_c0_3d",
            vec![1.796, 4.4165, 10.4541],
            vec![0.7332, 0.4489, 0.3055],
        ),
    ] {
        let truth: f64 = a
            .iter()
            .zip(&u)
            .map(|(&ai, &ui)| (2.0 - (-ai * ui).exp() - (-ai * (1.0 - ui)).exp()) / ai)
            .product();
        let d = a.len();
        v.push(RefCase {
            id: id.into(),
            bounds: vec![(0.0, 1.0); d],
            beta: 1.0,
            energy: Box::new(move |x: &[f64]| {
                (0..d).map(|i| a[i] * (x[i] - u[i]).abs()).sum::<f64>()
            }),
            truth,
            is_integral: true,
        });
    }
    v
}

/// Error function (Abramowitz–Stegun 7.1.26 is too coarse; this is a continued series good
/// to ~1e-15 via erfc for large arguments).
pub fn erf(x: f64) -> f64 {
    if x < 0.0 {
        return -erf(-x);
    }
    if x < 2.5 {
        // Maclaurin series: converges fast for small x.
        let mut sum = x;
        let mut term = x;
        let x2 = x * x;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() || n > 200.0 {
                break;
            }
        }
        2.0 / std::f64::consts::PI.sqrt() * sum
    } else {
        // Continued fraction for erfc (Lentz), accurate for x ≥ 2.5.
        let mut f = x;
        let tiny = 1e-300;
        let mut c = f;
        let mut d = 0.0;
        for k in 1..200 {
            let a = k as f64 / 2.0;
            d = x + a * d;
            d = if d.abs() < tiny { tiny } else { d };
            c = x + a / c;
            c = if c.abs() < tiny { tiny } else { c };
            d = 1.0 / d;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        1.0 - (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
    }
}

/// Formats β the way the peer harness's ids do (`1e+06`, `0.001`, `10000`).
pub fn fmt_beta(b: f64) -> String {
    if b >= 1e6 {
        "1e+06".into()
    } else if b.fract().abs() < 1e-12 {
        format!("{}", b as i64)
    } else {
        format!("{b}")
    }
}

/// Tolerance on the true error for a reference case with `d` continuous variables.
pub fn default_tol(d: usize) -> f64 {
    match d {
        1 => tol::LOGZ_1D,
        2 => tol::LOGZ_2D,
        3 => tol::LOGZ_3D,
        _ => tol::LOGZ_4D,
    }
}

/// `ln Γ(x) − x ln β` accurate to about one ulp of the result: for `x ≥ 10` Stirling's series
/// written as `x (ln(x/β) − 1) − ½ ln x + ½ ln 2π + …`, so that no term of size `x ln x`
/// cancels (the plain difference loses ~3e-11 at `x = 2e4`, more than the integrator's error).
pub fn ln_gamma_minus_x_ln_beta(x: f64, beta: f64) -> f64 {
    if x < 10.0 {
        return statrs::function::gamma::ln_gamma(x) - x * beta.ln();
    }
    const C: [f64; 7] = [
        1.0 / 12.0,
        -1.0 / 360.0,
        1.0 / 1260.0,
        -1.0 / 1680.0,
        1.0 / 1188.0,
        -691.0 / 360_360.0,
        1.0 / 156.0,
    ];
    let ix = 1.0 / x;
    let mut p = ix;
    let mut series = 0.0;
    for c in C {
        series += c * p;
        p *= ix * ix;
    }
    x * ((x / beta).ln() - 1.0) - 0.5 * x.ln() + 0.5 * (2.0 * std::f64::consts::PI).ln() + series
}

/// `E(z) = s_l |z - c|^p_l` left of `c` and `s_r (z - c)^p_r` right of it: a minimum that is a
/// kink (a power 1 on one side) or flat to f64 resolution over a stretch (a high power), with
/// the closed form `∫ exp(-βE) = Γ(1 + 1/p_l)(β s_l)^(-1/p_l) + Γ(1 + 1/p_r)(β s_r)^(-1/p_r)`.
#[derive(Debug, Clone, Copy)]
pub struct PowerWell {
    /// Power left of the centre.
    pub p_left: f64,
    /// Power right of the centre.
    pub p_right: f64,
    /// Stiffness left of the centre.
    pub s_left: f64,
    /// Stiffness right of the centre.
    pub s_right: f64,
    /// The minimiser.
    pub centre: f64,
}

impl PowerWell {
    /// A well drawn from `u`, a source of uniforms on [0, 1): powers in [1, 1 + `p_span`],
    /// stiffness in [0.1, 10], centre in [-`c_span`, `c_span`].
    pub fn draw(u: &mut impl FnMut() -> f64, p_span: f64, c_span: f64) -> Self {
        Self {
            p_left: 1.0 + p_span * u(),
            p_right: 1.0 + p_span * u(),
            s_left: 10f64.powf(2.0 * u() - 1.0),
            s_right: 10f64.powf(2.0 * u() - 1.0),
            centre: c_span * (2.0 * u() - 1.0),
        }
    }

    /// The energy at `z`.
    pub fn energy(&self, z: f64) -> f64 {
        let u = z - self.centre;
        if u < 0.0 {
            self.s_left * (-u).powf(self.p_left)
        } else {
            self.s_right * u.powf(self.p_right)
        }
    }

    /// `log ∫ exp(-β E) dz` over the line.
    pub fn log_z(&self, beta: f64) -> f64 {
        let side = |p: f64, s: f64| {
            (statrs::function::gamma::ln_gamma(1.0 + 1.0 / p) - (beta * s).ln() / p).exp()
        };
        (side(self.p_left, self.s_left) + side(self.p_right, self.s_right)).ln()
    }

    /// Distance left of the centre beyond which `β E > 800` (the weight is zero in f64).
    pub fn left_reach(&self, beta: f64) -> f64 {
        (800.0 / (beta * self.s_left)).powf(1.0 / self.p_left)
    }
}

/// A fixed-seed source of uniforms on [0, 1) (a 64-bit LCG's top 53 bits) for sweeps that
/// must draw the same cases on every run.
pub fn seeded_uniforms(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A growth energy in 2–4 continuous variables (`z1`, `z2`, …, all over the whole line) with
/// whether `∫ exp(-E)` diverges, for the divergence decision (`quad::tests`,
/// `growth_energies_are_refused_iff_divergent`). Three shapes:
/// - `c·log(1 + |z|²)`: `exp(-E) ~ |z|^-2c`, divergent iff `2c ≤ d` (slopes within 5% of `d`
///   are left out: a finite probe cannot tell them from the critical one);
/// - a sum of even powers `a_i·z_i^(2k_i)` over every coordinate (normalisable), or with one
///   coordinate left out (flat along its axis: divergent);
/// - the same with two coordinates entering only through `(z_i − z_j)²` (flat along the
///   diagonal `e_i + e_j`: divergent) or through `(z_i − z_j)² + (z_i + z_j)²` (normalisable).
pub fn growth_energy() -> impl proptest::strategy::Strategy<Value = (String, usize, bool)> {
    use proptest::prelude::*;
    let log_growth = (2usize..=4, 0.5f64..1.5).prop_filter_map("near critical", |(d, r)| {
        if (r - 1.0).abs() < 0.05 {
            return None;
        }
        let c = r * d as f64 / 2.0;
        let sq = (1..=d)
            .map(|i| format!("z{i}^2"))
            .collect::<Vec<_>>()
            .join(" + ");
        Some((format!("{c}*log(1 + {sq})"), d, r <= 1.0))
    });
    let powers = (
        2usize..=4,
        proptest::collection::vec((0.2f64..3.0, 1u32..=2), 4),
        0usize..3,
        any::<bool>(),
    )
        .prop_map(|(d, terms, shape, flat)| {
            let mut parts: Vec<String> = Vec::new();
            let (i, j) = (d - 1, d);
            for (k, (a, p)) in terms.iter().enumerate().take(d) {
                let var = k + 1;
                let paired = shape == 2 && (var == i || var == j);
                let left_out = shape == 1 && flat && var == d;
                if !paired && !left_out {
                    parts.push(format!("{a}*z{var}^{}", 2 * p));
                }
            }
            if shape == 2 {
                parts.push(format!("(z{i} - z{j})^2"));
                if !flat {
                    parts.push(format!("(z{i} + z{j})^2"));
                }
            }
            let divergent = flat && shape != 0;
            (parts.join(" + "), d, divergent)
        });
    prop_oneof![log_growth, powers]
}

/// A unit Gaussian at 0 plus a narrow far mode holding a small share of the mass, as an
/// expression in `z1` with its exact `log ∫ exp(-E)`: the mode lies at `±m` with `m` in
/// [6, 60], has width `s` in [1e-3, 0.3] and holds `q` of the main mode's mass with `q` in
/// [1e-11, 0.3] (`E = -logsumexp(-z1²/2, ln(q/s) - ((z1 - m)/s)²/2)`, so
/// `log Z = ln √(2π) + ln(1 + q)`). A search that does not find the mode misses `ln(1 + q)`,
/// from below the default tolerance to far above it.
pub fn far_mode_mixture() -> impl proptest::strategy::Strategy<Value = (String, f64)> {
    use proptest::prelude::*;
    (6.0f64..60.0, any::<bool>(), -3.0f64..-0.5, -11.0f64..-0.5).prop_map(
        |(m, left, log_s, log_q)| {
            let (m, s, q) = (
                if left { -m } else { m },
                10f64.powf(log_s),
                10f64.powf(log_q),
            );
            let a = (q / s).ln();
            let src = format!("-logsumexp(-0.5*z1^2, ({a}) - 0.5*((z1 - ({m}))/{s})^2)");
            let truth = 0.5 * (2.0 * std::f64::consts::PI).ln() + q.ln_1p();
            (src, truth)
        },
    )
}

/// A mixture of Gaussian bumps `a - k·(z1 - m)²` as the energy `-logsumexp(...)` in `z1`, with
/// its exact `log ∫ exp(-E)` at β = 1, `log Σ e^a √(π/k)`.
pub fn gaussian_mixture(comps: &[(f64, f64, f64)]) -> (String, f64) {
    let src = format!(
        "-logsumexp({})",
        comps
            .iter()
            .map(|(a, k, m)| format!("({a}) - {k}*(z1 - ({m}))^2"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let z: f64 = comps
        .iter()
        .map(|(a, k, _)| a.exp() * (std::f64::consts::PI / k).sqrt())
        .sum();
    (src, z.ln())
}

/// One correlated 2D Gaussian bump of [`gaussian_mixture_2d`]: `(a, [k11, k12, k22], [m1, m2])`.
pub type Bump2 = (f64, [f64; 3], [f64; 2]);

/// A mixture of correlated 2D Gaussian bumps `a - k11·u² - k12·u·v - k22·v²` (`u = z1 - m1`,
/// `v = z2 - m2`) as the energy `-logsumexp(...)`, with its exact `log ∫∫ exp(-E)` at β = 1,
/// `log Σ e^a·π/√(k11·k22 - k12²/4)`.
pub fn gaussian_mixture_2d(comps: &[Bump2]) -> (String, f64) {
    let src = format!(
        "-logsumexp({})",
        comps
            .iter()
            .map(|(a, [k11, k12, k22], [m1, m2])| {
                let (u, v) = (format!("(z1 - ({m1}))"), format!("(z2 - ({m2}))"));
                format!("({a}) - ({k11})*{u}^2 - ({k12})*{u}*{v} - ({k22})*{v}^2")
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let z: f64 = comps
        .iter()
        .map(|(a, [k11, k12, k22], _)| {
            a.exp() * std::f64::consts::PI / (k11 * k22 - 0.25 * k12 * k12).sqrt()
        })
        .sum();
    (src, z.ln())
}

/// One Gaussian bump of [`gaussian_mixture_nd`]: `(a, P, m)` with `P` a `d × d` positive
/// definite precision matrix, row-major.
pub type BumpNd = (f64, Vec<f64>, Vec<f64>);

/// A mixture of Gaussian bumps `a - ½ (z - m)ᵀ P (z - m)` in `d = m.len()` variables as the
/// energy `-logsumexp(...)`, with its exact `log ∫ exp(-E)` at β = 1,
/// `log Σ e^a (2π)^{d/2} / √det P` (the determinant from a Cholesky factor).
pub fn gaussian_mixture_nd(comps: &[BumpNd]) -> (String, f64) {
    let terms: Vec<String> = comps
        .iter()
        .map(|(a, p, m)| {
            let d = m.len();
            let mut q = Vec::new();
            for i in 0..d {
                for j in i..d {
                    let c = if i == j {
                        0.5 * p[i * d + j]
                    } else {
                        p[i * d + j]
                    };
                    q.push(format!(
                        "({c})*(z{} - ({}))*(z{} - ({}))",
                        i + 1,
                        m[i],
                        j + 1,
                        m[j]
                    ));
                }
            }
            format!("({a}) - ({})", q.join(" + "))
        })
        .collect();
    let log_terms = mixture_nd_log_masses(comps);
    let max = log_terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = log_terms.iter().map(|t| (t - max).exp()).sum();
    (format!("-logsumexp({})", terms.join(", ")), max + z.ln())
}

/// `log ∫ exp(a - ½ (z - m)ᵀ P (z - m)) dz` of each bump of [`gaussian_mixture_nd`].
pub fn mixture_nd_log_masses(comps: &[BumpNd]) -> Vec<f64> {
    comps
        .iter()
        .map(|(a, p, m)| {
            let d = m.len();
            let chol = nalgebra::Cholesky::new(nalgebra::DMatrix::from_row_slice(d, d, p))
                .expect("a positive definite precision");
            let log_det: f64 = (0..d).map(|i| 2.0 * chol.l()[(i, i)].ln()).sum();
            a + 0.5 * d as f64 * (2.0 * std::f64::consts::PI).ln() - 0.5 * log_det
        })
        .collect()
}
