//! Tests of the exact references against closed forms (Gaussians, the ring, mixtures, bins and
//! basins), and of the sampler-test command on right and wrong draws.

use super::*;
use crate::quad::FnEnergy;
use crate::testing::sample_reference::{
    BIN_NAME_ROUNDING, E_CDF_CHECK_POINTS, MOMENT_ABS, region_mass,
};

/// Midpoint nodes of the angle integral in the ring's closed form, and a bound on its error
/// (the integrand is smooth except at two kinks, error O(1/n²) there).
const RING_ANGLES: usize = 200_000;
const RING_ANGLE_ERROR: f64 = 1e-8;

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| (*s).to_string()).collect()
}

fn exact(r: &QuadReference, name: &str) -> f64 {
    r.reference
        .moments
        .iter()
        .find(|m| m.name == name)
        .map_or(f64::NAN, |m| m.exact)
}

#[test]
fn bin_labels_never_print_a_negative_zero_and_read_back() {
    let label = bin_label(1, "y2", -1e-9, 0.674_489_75);
    assert_eq!(label, "bin 2 of y2 (0.000000 < y2 <= 0.674490)");
    assert_eq!(
        bin_label(0, "x", f64::NEG_INFINITY, -0.000_000_6),
        "bin 1 of x (-inf < x <= -0.000001)"
    );
    let (lo, hi) = crate::testing::sample_reference::bin_edges(&label);
    assert_eq!((lo.to_bits(), hi), (0.0f64.to_bits(), 0.674_49));
}

#[test]
fn correlated_gaussian_moments_bins_and_energy_cdf_are_exact() {
    // βE = ½ yᵀ K y with K = Σ⁻¹, Σ = [[1, ρ], [ρ, 1]]: βE ~ Exp(1) in 2D.
    let rho = 0.8;
    let k = 1.0 / (1.0 - rho * rho);
    let e: SharedEnergy = Arc::new(FnEnergy::new(2, move |y: &[f64]| {
        0.5 * k * (y[0] * y[0] - 2.0 * rho * y[0] * y[1] + y[1] * y[1])
    }));
    let inf = f64::INFINITY;
    let domain = Domain::continuous(&[(-inf, inf), (-inf, inf)]).expect("domain");
    let r = quadrature_reference(
        e,
        &domain,
        1.0,
        &names(&["a", "b"]),
        &ReferenceOptions::default(),
    )
    .expect("reference");
    assert_eq!(r.status, Status::Converged, "{:?}", r.notes);
    for (name, want) in [
        ("mean of a", 0.0),
        ("mean of b^2", 1.0),
        ("mean of a*b", rho),
        ("mean of E(a, b)", 1.0),
    ] {
        let got = exact(&r, name);
        assert!((got - want).abs() < MOMENT_ABS, "{name}: {got} vs {want}");
        assert!(
            (got - want).abs() <= r.moment_error + 1e-12,
            "{name}: error not covered"
        );
    }
    // One minimum: quartile bins of a and of b, each with the normal mass of its interval.
    assert_eq!(r.reference.regions.len(), 8);
    let totals = coordinate_totals(&r.reference.regions);
    assert_eq!(totals.keys().collect::<Vec<_>>(), ["a", "b"]);
    for (name, total) in totals {
        assert!(
            (total - 1.0).abs() <= r.region_error + 1e-12,
            "{name}: {total}"
        );
    }
    for g in &r.reference.regions {
        let want = region_mass(&g.name);
        assert!(
            (g.prob - want).abs() <= r.region_error + BIN_NAME_ROUNDING,
            "{}: {} vs {want}",
            g.name,
            g.prob
        );
    }
    // The CDF of E is 1 − exp(−e); the stated error must cover the true one.
    let cdf = r
        .reference
        .cdfs
        .iter()
        .find(|c| c.name.starts_with("E("))
        .expect("E cdf");
    let worst = (1..E_CDF_CHECK_POINTS)
        .map(|i| {
            let e = 8.0 * i as f64 / E_CDF_CHECK_POINTS as f64;
            ((cdf.cdf)(e) - (1.0 - (-e).exp())).abs()
        })
        .fold(0.0, f64::max);
    assert!(
        worst <= r.e_cdf_error,
        "E-CDF error {worst} > stated {}",
        r.e_cdf_error
    );
    assert!(r.e_cdf_error <= E_CDF_MAX_ERROR, "{}", r.e_cdf_error);
    assert!((cdf.cdf)(0.0) > 0.0, "F is positive at the minimum energy");
}

#[test]
fn double_well_basins_have_the_symmetric_masses() {
    let e: SharedEnergy = Arc::new(FnEnergy::new(2, |y: &[f64]| {
        (y[0] * y[0] - 1.0).powi(2) + 0.5 * y[1] * y[1]
    }));
    let inf = f64::INFINITY;
    let domain = Domain::continuous(&[(-inf, inf), (-inf, inf)]).expect("domain");
    let r = quadrature_reference(
        e,
        &domain,
        2.0,
        &names(&["y1", "y2"]),
        &ReferenceOptions::default(),
    )
    .expect("reference");
    assert_eq!(r.reference.regions.len(), 2, "{:?}", r.reference.regions);
    for g in &r.reference.regions {
        assert!(g.name.contains("basin"), "{}", g.name);
        assert!(
            (g.prob - 0.5).abs() <= r.region_error.max(1e-9),
            "{}: {} (stated error {:.2e}, minima {:?})",
            g.name,
            g.prob,
            r.region_error,
            r.reference.regions
        );
    }
    let e1: SharedEnergy = Arc::new(FnEnergy::new(1, |y: &[f64]| (y[0] * y[0] - 1.0).powi(2)));
    let d1 = Domain::continuous(&[(-inf, inf)]).expect("domain");
    let r = quadrature_reference(e1, &d1, 2.0, &names(&["y"]), &ReferenceOptions::default())
        .expect("reference");
    let masses: Vec<f64> = r.reference.regions.iter().map(|g| g.prob).collect();
    assert_eq!(masses.len(), 2);
    for m in masses {
        assert!((m - 0.5).abs() <= r.region_error.max(1e-12), "{m}");
    }
    assert!(exact(&r, "mean of y").abs() <= r.moment_error + 1e-15);
    assert!(r.cdf_error.is_some_and(|e| e < crate::quad::CDF_TOL));
}

#[test]
fn one_dimensional_energy_cdf_has_an_honest_error() {
    // E = y²/4 at β = 2: y ~ N(0, 1) and P(E ≤ e) = 2Φ(2√e) − 1.
    let e: SharedEnergy = Arc::new(FnEnergy::new(1, |y: &[f64]| 0.25 * y[0] * y[0]));
    let inf = f64::INFINITY;
    let domain = Domain::continuous(&[(-inf, inf)]).expect("domain");
    let r = quadrature_reference(
        e,
        &domain,
        2.0,
        &names(&["y"]),
        &ReferenceOptions::default(),
    )
    .expect("reference");
    let cdf = r
        .reference
        .cdfs
        .iter()
        .find(|c| c.name.starts_with("E("))
        .expect("E cdf");
    let worst = (1..E_CDF_CHECK_POINTS)
        .map(|i| {
            let e = 4.0 * i as f64 / E_CDF_CHECK_POINTS as f64;
            ((cdf.cdf)(e) - (2.0 * crate::stats::special::cdf(2.0 * e.sqrt()) - 1.0)).abs()
        })
        .fold(0.0, f64::max);
    assert!(
        worst <= r.e_cdf_error,
        "E-CDF error {worst} > stated {}",
        r.e_cdf_error
    );
    assert!(r.e_cdf_error <= E_CDF_MAX_ERROR, "{}", r.e_cdf_error);
    // One minimum in 1D: quartile bins of y, each of mass ¼ up to the CDF's error.
    assert_eq!(r.reference.regions.len(), 4);
    for g in &r.reference.regions {
        assert!(
            (g.prob - 0.25).abs() <= r.region_error + 1e-12,
            "{}: {}",
            g.name,
            g.prob
        );
    }
}

/// E = ½ yᵀK y with unit variances and correlation `rho` between neighbours' (an AR(1)
/// covariance Σᵢⱼ = ρ^|i−j|, whose precision K is tridiagonal): y₁ ~ N(0, 1).
fn ar1_gaussian(d: usize, rho: f64) -> SharedEnergy {
    Arc::new(FnEnergy::new(d, move |y: &[f64]| {
        let c = 1.0 - rho * rho;
        let mut s = y[0] * y[0];
        for i in 1..y.len() {
            let r = y[i] - rho * y[i - 1];
            s += r * r / c;
        }
        0.5 * s
    }))
}

/// In 3–4D the CDF of E(y) is tabulated on a grid only to ~1e-2–5e-2, and its KS test is
/// made conservative by that error: the stated error must cover the true one. For a Gaussian
/// in d dimensions 2E ~ χ²_d.
#[test]
fn three_and_four_dimensional_energy_cdf_errors_cover_the_chi_square_truth() {
    // χ²₃ and χ²₄ CDFs.
    let chi3 = |x: f64| {
        statrs::function::erf::erf((x / 2.0).sqrt())
            - (2.0 * x / std::f64::consts::PI).sqrt() * (-x / 2.0).exp()
    };
    let chi4 = |x: f64| 1.0 - (-x / 2.0).exp() * (1.0 + x / 2.0);
    energy_cdf_covers(3, &chi3);
    energy_cdf_covers(4, &chi4);
}

fn energy_cdf_covers(d: usize, chi: &dyn Fn(f64) -> f64) {
    let inf = f64::INFINITY;
    let domain = Domain::continuous(&vec![(-inf, inf); d]).expect("domain");
    let names: Vec<String> = (1..=d).map(|i| format!("y{i}")).collect();
    let r = quadrature_reference(
        ar1_gaussian(d, 0.6),
        &domain,
        1.0,
        &names,
        &ReferenceOptions::default(),
    )
    .expect("reference");
    assert!(
        r.e_cdf_error > E_CDF_MAX_ERROR && r.e_cdf_error <= E_CDF_MARGIN_MAX,
        "{}",
        r.e_cdf_error
    );
    let c = r
        .reference
        .cdfs
        .iter()
        .find(|c| c.name.starts_with("E("))
        .expect("a conservative KS reference for E(y)");
    assert!((c.error - r.e_cdf_error).abs() < 1e-15);
    let worst = (1..400)
        .map(|i| 0.05 * f64::from(i))
        .map(|e| ((c.cdf)(e) - chi(2.0 * e)).abs())
        .fold(0.0, f64::max);
    println!(
        "{d}D: E-CDF true error {worst:.2e}, stated {:.2e}",
        r.e_cdf_error
    );
    assert!(
        worst <= r.e_cdf_error,
        "{d}D: true error {worst:.2e} > stated {:.2e}",
        r.e_cdf_error
    );
}

/// The total mass of the bins of each coordinate (`bin k of NAME (…)`).
fn coordinate_totals(
    regions: &[crate::stats::battery::ExactRegion],
) -> std::collections::BTreeMap<String, f64> {
    let mut totals = std::collections::BTreeMap::new();
    for g in regions {
        let name = g
            .name
            .split_once(" of ")
            .and_then(|(_, rest)| rest.split_once(" ("))
            .map_or(String::new(), |(n, _)| n.to_string());
        *totals.entry(name).or_insert(0.0) += g.prob;
    }
    totals
}

#[test]
fn three_and_four_dimensional_bins_are_exact_by_quadrature() {
    for d in [3, 4] {
        let inf = f64::INFINITY;
        let domain = Domain::continuous(&vec![(-inf, inf); d]).expect("domain");
        let names: Vec<String> = (1..=d).map(|i| format!("y{i}")).collect();
        let start = std::time::Instant::now();
        let r = quadrature_reference(
            ar1_gaussian(d, 0.6),
            &domain,
            1.0,
            &names,
            &ReferenceOptions::default(),
        )
        .expect("reference");
        println!(
            "{d}D Gaussian reference in {:.2} s: region error {:.1e}, E-CDF error {:.1e}, notes {:?}",
            start.elapsed().as_secs_f64(),
            r.region_error,
            r.e_cdf_error,
            r.notes
        );
        assert!(r.region_error <= REGION_MAX_ERROR, "{d}D: {:?}", r.notes);
        // Quartile bins of every coordinate.
        assert_eq!(r.reference.regions.len(), 4 * d, "{d}D: {:?}", r.notes);
        assert_eq!(coordinate_totals(&r.reference.regions).len(), d);
        for g in &r.reference.regions {
            let want = region_mass(&g.name);
            assert!(
                (g.prob - want).abs() <= r.region_error + BIN_NAME_ROUNDING,
                "{d}D {}: {} vs {want} (stated error {:.1e})",
                g.name,
                g.prob,
                r.region_error
            );
        }
    }
}

#[test]
fn three_and_four_dimensional_modes_are_split_between_the_minima() {
    for d in [3, 4] {
        // A double well in y2 (the separating coordinate is found, not assumed), Gaussian in
        // the others: each half-space y2 ≤ 0, y2 > 0 holds mass ½.
        let e: SharedEnergy = Arc::new(FnEnergy::new(d, |y: &[f64]| {
            let rest: f64 = y
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 1)
                .map(|(_, v)| v * v)
                .sum();
            (y[1] * y[1] - 1.0).powi(2) + 0.5 * rest
        }));
        let inf = f64::INFINITY;
        let domain = Domain::continuous(&vec![(-inf, inf); d]).expect("domain");
        let names: Vec<String> = (1..=d).map(|i| format!("y{i}")).collect();
        let r = quadrature_reference(e, &domain, 2.0, &names, &ReferenceOptions::default())
            .expect("reference");
        assert!(r.region_error <= REGION_MAX_ERROR, "{d}D: {:?}", r.notes);
        // Two bins of y2 (cut between the wells), and quartile bins of each other
        // coordinate whose slabs (each holding both wells) the quadrature converged on;
        // those it did not are named in a note.
        let others = r.reference.regions.len() - 2;
        assert_eq!(others % 4, 0, "{d}D: {:?}", r.reference.regions);
        if others < 4 * (d - 1) {
            assert!(
                r.notes.iter().any(|n| n.contains("for the bins of y1")),
                "{d}D: {:?}",
                r.notes
            );
        }
        for g in &r.reference.regions {
            // The other coordinates are N(0, 1/β) = N(0, 1/2).
            let want = if g.name.contains("of y2 (") {
                0.5
            } else {
                let (lo, hi) = crate::testing::sample_reference::bin_edges(&g.name);
                let sd = 0.5f64.sqrt();
                crate::stats::special::cdf(hi / sd) - crate::stats::special::cdf(lo / sd)
            };
            assert!(
                (g.prob - want).abs() <= r.region_error + BIN_NAME_ROUNDING,
                "{d}D {}: {} vs {want} (stated error {:.1e})",
                g.name,
                g.prob,
                r.region_error
            );
        }
        let y2 = r
            .reference
            .regions
            .iter()
            .filter(|g| g.name.contains("of y2 ("))
            .count();
        assert_eq!(y2, 2, "{d}D: {:?}", r.reference.regions);
    }
}

#[test]
fn the_ring_gets_bins_by_quadrature_when_its_basins_defeat_the_grid() {
    // E = (x² + y² − 1)² at β = 1: s = r² ~ N(1, ½) on s > 0 with a uniform angle, so
    // P(x ≤ t) is a 1D integral over the angle of the radial CDF, checked at the bins' edges.
    let e: SharedEnergy = Arc::new(FnEnergy::new(2, |y: &[f64]| {
        (y[0] * y[0] + y[1] * y[1] - 1.0).powi(2)
    }));
    let inf = f64::INFINITY;
    let domain = Domain::continuous(&[(-inf, inf), (-inf, inf)]).expect("domain");
    let r = quadrature_reference(
        e,
        &domain,
        1.0,
        &names(&["x", "y"]),
        &ReferenceOptions::default(),
    )
    .expect("reference");
    // The moments converge too: ⟨y⟩ vanishes slice by slice, which once stalled the nested
    // quadrature for its whole budget.
    assert_eq!(r.status, Status::Converged, "{:?}", r.notes);
    // The CDF of E is tabulated only to ~1e-2 here: a conservative KS reference.
    assert!(
        r.reference
            .cdfs
            .iter()
            .any(|c| c.name.starts_with("E(") && (c.error - r.e_cdf_error).abs() < 1e-15),
        "{:?}",
        r.notes
    );
    assert!(!r.reference.regions.is_empty(), "{:?}", r.notes);
    assert!(r.region_error <= REGION_MAX_ERROR, "{:?}", r.notes);
    // Bins of both coordinates, each set a partition.
    let totals = coordinate_totals(&r.reference.regions);
    assert_eq!(totals.keys().collect::<Vec<_>>(), ["x", "y"]);
    for (name, total) in totals {
        assert!(
            (total - 1.0).abs() <= 2.0 * r.region_error + 1e-12,
            "{name}: {total}"
        );
    }
    // P(x ≤ t) = mean over the angle of P(√s·cos θ ≤ t), with F_s the CDF of s.
    let sd = 0.5f64.sqrt();
    let phi = crate::stats::special::cdf;
    let f_s = |v: f64| (phi((v - 1.0) / sd) - phi(-1.0 / sd)) / (1.0 - phi(-1.0 / sd));
    let cdf_x = |t: f64| {
        if !t.is_finite() {
            return if t > 0.0 { 1.0 } else { 0.0 };
        }
        let n = RING_ANGLES;
        (0..n)
            .map(|k| {
                let c = (std::f64::consts::TAU * (k as f64 + 0.5) / n as f64).cos();
                let v = (t / c).powi(2);
                match (c > 0.0, t >= 0.0) {
                    (true, true) => f_s(v),
                    (true, false) => 0.0,
                    (false, true) => 1.0,
                    (false, false) => 1.0 - f_s(v),
                }
            })
            .sum::<f64>()
            / n as f64
    };
    for g in &r.reference.regions {
        let edges = g.name.split_once('(').map_or("", |(_, rest)| rest);
        let parts: Vec<&str> = edges.trim_end_matches(')').split_whitespace().collect();
        let num = |s: &str| match s {
            "-inf" => f64::NEG_INFINITY,
            "inf" => f64::INFINITY,
            t => t.parse().unwrap_or(f64::NAN),
        };
        assert_eq!(parts.len(), 5, "{}", g.name);
        let want = cdf_x(num(parts[4])) - cdf_x(num(parts[0]));
        assert!(
            (g.prob - want).abs() <= r.region_error + BIN_NAME_ROUNDING + RING_ANGLE_ERROR,
            "{}: {} vs {want} (stated error {:.1e})",
            g.name,
            g.prob,
            r.region_error
        );
    }
}

#[test]
fn integer_variables_and_wrong_names_are_refused() {
    let e: SharedEnergy = Arc::new(FnEnergy::new(1, |y: &[f64]| y[0] * y[0]));
    let d = Domain::new(vec![VarDomain::Integer { lo: 0, hi: 3 }]).expect("domain");
    assert!(matches!(
        quadrature_reference(
            e.clone(),
            &d,
            1.0,
            &names(&["k"]),
            &ReferenceOptions::default()
        ),
        Err(ReferenceError::Integer(0))
    ));
    let d = Domain::continuous(&[(-1.0, 1.0)]).expect("domain");
    assert!(
        quadrature_reference(
            e,
            &d,
            1.0,
            &names(&["a", "b"]),
            &ReferenceOptions::default()
        )
        .is_err()
    );
}
