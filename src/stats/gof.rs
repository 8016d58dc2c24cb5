//! One-sample goodness of fit against an exact CDF: Kolmogorov–Smirnov, Anderson–Darling, Pearson χ², DKWM.
//!
//! KS p-value regimes (documented boundaries):
//! * n ≤ [`KS_EXACT_MAX_N`] and n·D² ≤ 7.24 (3.76 for n > 99): the exact distribution by the
//!   Marsaglia–Tsang–Wang (2003) matrix method (13–15 digits of the CDF, so absolute accuracy
//!   ~1e-14 on the p-value);
//! * n ≤ [`KS_EXACT_MAX_N`] beyond that: MTW's own tail formula
//!   p ≈ 2 exp(−(2.000071 + 0.331/√n + 1.409/n) n D²), good to a few percent relative where p < 1e-6;
//! * n > [`KS_EXACT_MAX_N`]: the Kolmogorov limit Q(t) with Stephens' (1970) finite-n argument
//!   t = (√n + 0.12 + 0.11/√n) D, accurate to about 1 % relative in the region of interest.
//!
//! Anderson–Darling uses Marsaglia & Marsaglia (2004): `adinf` (|error| < 2e-6) plus the finite-n
//! `errfix` correction, for F fully specified.

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Largest n for which the KS p-value is computed from the exact distribution.
pub const KS_EXACT_MAX_N: usize = 140;

/// Result of a one-sample goodness-of-fit test.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GofResult {
    /// Test statistic (D for KS, A² for AD, X² for χ²).
    pub statistic: f64,
    /// p-value under H₀ (the draws are i.i.d. from F).
    pub p_value: f64,
    /// Number of draws.
    pub n: usize,
    /// Degrees of freedom (χ² only).
    pub df: Option<usize>,
}

/// Sorted probability-integral values F(xᵢ); NaN values (from a NaN draw or CDF) sort last and
/// make the statistics NaN.
fn sorted_u(values: &[f64], cdf: &dyn Fn(f64) -> f64) -> Vec<f64> {
    let mut u: Vec<f64> = values.iter().map(|&x| cdf(x)).collect();
    u.sort_by(f64::total_cmp);
    u
}

/// KS statistic Dₙ = maxᵢ max(i/n − uᵢ, uᵢ − (i−1)/n) of sorted probability-integral values.
pub fn ks_statistic_sorted(u: &[f64]) -> f64 {
    let n = u.len() as f64;
    u.iter()
        .enumerate()
        .map(|(i, &ui)| ((i as f64 + 1.0) / n - ui).max(ui - i as f64 / n))
        .fold(0.0, f64::max)
}

/// Kolmogorov's limiting survival function Q(t) = P(√n Dₙ > t) as n → ∞.
pub fn kolmogorov_sf(t: f64) -> f64 {
    if t <= 0.0 {
        return 1.0;
    }
    if t < 1.0 {
        // The theta-function form K(t) = √(2π)/t Σ exp(−(2k−1)²π²/(8t²)) converges fast for small t.
        let pi2 = std::f64::consts::PI * std::f64::consts::PI;
        let s: f64 = (1..=6)
            .map(|k| {
                let o = (2 * k - 1) as f64;
                (-o * o * pi2 / (8.0 * t * t)).exp()
            })
            .sum();
        1.0 - (2.0 * std::f64::consts::PI).sqrt() / t * s
    } else {
        let s: f64 = (1..=20)
            .map(|k| {
                let kf = k as f64;
                let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
                sign * (-2.0 * kf * kf * t * t).exp()
            })
            .sum();
        (2.0 * s).clamp(0.0, 1.0)
    }
}

/// Exact P(Dₙ < d) by Marsaglia, Tsang & Wang (2003), "Evaluating Kolmogorov's distribution".
fn mtw_cdf(n: usize, d: f64) -> f64 {
    let nd = n as f64 * d;
    let k = nd.floor() as usize + 1;
    let m = 2 * k - 1;
    let h = k as f64 - nd;
    let mut hm = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            hm[i * m + j] = if i + 1 >= j { 1.0 } else { 0.0 };
        }
    }
    for i in 0..m {
        hm[i * m] -= h.powi(i as i32 + 1);
        hm[(m - 1) * m + i] -= h.powi((m - i) as i32);
    }
    if 2.0 * h - 1.0 > 0.0 {
        hm[(m - 1) * m] += (2.0 * h - 1.0).powi(m as i32);
    }
    for i in 0..m {
        for j in 0..m {
            if i + 1 > j {
                for g in 1..=(i + 1 - j) {
                    hm[i * m + j] /= g as f64;
                }
            }
        }
    }
    let (q, mut e) = mat_pow(&hm, m, n);
    let mut s = q[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        s = s * i as f64 / n as f64;
        if s < 1e-140 {
            s *= 1e140;
            e -= 140;
        }
    }
    s * 10f64.powi(e)
}

fn mat_mul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                c[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    c
}

/// Aⁿ with a decimal exponent kept aside to avoid overflow: returns (B, e) with Aⁿ = B·10^e.
fn mat_pow(a: &[f64], m: usize, n: usize) -> (Vec<f64>, i32) {
    if n == 1 {
        return (a.to_vec(), 0);
    }
    let (half, eh) = mat_pow(a, m, n / 2);
    let mut b = mat_mul(&half, &half, m);
    let mut e = 2 * eh;
    if n % 2 == 1 {
        b = mat_mul(a, &b, m);
    }
    let centre = (m / 2) * m + m / 2;
    if b[centre] > 1e140 {
        b.iter_mut().for_each(|v| *v *= 1e-140);
        e += 140;
    }
    (b, e)
}

/// p-value P(Dₙ ≥ d) for the one-sample KS test (regimes in the module docs).
pub fn ks_p_value(n: usize, d: f64) -> f64 {
    if n == 0 || d.is_nan() {
        return f64::NAN;
    }
    if d <= 0.0 {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    if n <= KS_EXACT_MAX_N {
        let s = d * d * nf;
        if s > 7.24 || (s > 3.76 && n > 99) {
            let c = 2.000_071 + 0.331 / nf.sqrt() + 1.409 / nf;
            return (2.0 * (-c * s).exp()).min(1.0);
        }
        (1.0 - mtw_cdf(n, d)).clamp(0.0, 1.0)
    } else {
        let sq = nf.sqrt();
        kolmogorov_sf((sq + 0.12 + 0.11 / sq) * d)
    }
}

/// One-sample KS test of `values` against the continuous CDF `cdf`.
pub fn ks_test(values: &[f64], cdf: &dyn Fn(f64) -> f64) -> GofResult {
    let u = sorted_u(values, cdf);
    let d = if u.iter().any(|v| v.is_nan()) {
        f64::NAN
    } else {
        ks_statistic_sorted(&u)
    };
    GofResult {
        statistic: d,
        p_value: ks_p_value(u.len(), d),
        n: u.len(),
        df: None,
    }
}

/// Marsaglia & Marsaglia (2004) `adinf`: the limiting CDF of A² (|error| < 2e-6).
fn adinf(z: f64) -> f64 {
    if z <= 0.0 {
        return 0.0;
    }
    if z < 2.0 {
        (-1.233_714_1 / z).exp() / z.sqrt()
            * (2.00012
                + (0.247_105
                    - (0.064_982_1 - (0.034_796_2 - (0.011_672 - 0.001_686_91 * z) * z) * z) * z)
                    * z)
    } else {
        (-(1.0776
            - (2.30695 - (0.43424 - (0.082433 - (0.008056 - 0.000_314_6 * z) * z) * z) * z) * z)
            .exp())
        .exp()
    }
}

/// Marsaglia & Marsaglia (2004) `errfix`: finite-n correction to x = adinf(z).
fn errfix(n: usize, x: f64) -> f64 {
    let nf = n as f64;
    if x > 0.8 {
        return (-130.2137
            + (745.2337 - (1705.091 - (1950.646 - (1116.360 - 255.7844 * x) * x) * x) * x) * x)
            / nf;
    }
    let c = 0.01265 + 0.1757 / nf;
    if x < c {
        let t = x / c;
        let t = t.sqrt() * (1.0 - t) * (49.0 * t - 102.0);
        return t * (0.0037 / (nf * nf) + 0.00078 / nf + 0.00006) / nf;
    }
    let t = (x - c) / (0.8 - c);
    let t =
        -0.000_226_33 + (6.54034 - (14.6538 - (14.458 - (8.259 - 1.91864 * t) * t) * t) * t) * t;
    t * (0.04213 + 0.01365 / nf) / nf
}

/// p-value of the Anderson–Darling statistic A² for n draws and F fully specified.
pub fn ad_p_value(n: usize, a2: f64) -> f64 {
    if n == 0 || a2.is_nan() {
        return f64::NAN;
    }
    if a2.is_infinite() {
        return 0.0;
    }
    let x = adinf(a2);
    (1.0 - (x + errfix(n, x))).clamp(0.0, 1.0)
}

/// Anderson–Darling test: A² = −n − (1/n) Σ (2i−1)[ln uᵢ + ln(1 − u₍ₙ₊₁₋ᵢ₎)], uᵢ = F(x₍ᵢ₎).
pub fn ad_test(values: &[f64], cdf: &dyn Fn(f64) -> f64) -> GofResult {
    let u = sorted_u(values, cdf);
    let n = u.len();
    let nf = n as f64;
    let mut s = 0.0;
    for i in 0..n {
        let lo = u[i];
        let hi = 1.0 - u[n - 1 - i];
        s += (2.0 * i as f64 + 1.0) * (lo.ln() + hi.ln());
    }
    let a2 = if n == 0 { f64::NAN } else { -nf - s / nf };
    GofResult {
        statistic: a2,
        p_value: ad_p_value(n, a2),
        n,
        df: None,
    }
}

/// Pearson χ² of observed counts against cell probabilities (renormalised to sum 1), with
/// K − 1 − `ddof` degrees of freedom. Cells with zero probability and zero count are dropped.
pub fn pearson_chi2(observed: &[f64], probs: &[f64], ddof: usize) -> GofResult {
    let n: f64 = observed.iter().sum();
    let psum: f64 = probs.iter().sum();
    let mut x2 = 0.0;
    let mut cells = 0usize;
    for (&o, &p) in observed.iter().zip(probs) {
        let e = n * p / psum;
        if e > 0.0 {
            x2 += (o - e) * (o - e) / e;
            cells += 1;
        } else if o > 0.0 {
            x2 = f64::INFINITY;
            cells += 1;
        }
    }
    let df = cells.saturating_sub(1 + ddof);
    let p = if df == 0 {
        f64::NAN
    } else if x2.is_infinite() {
        0.0
    } else {
        ChiSquared::new(df as f64).map_or(f64::NAN, |c| c.sf(x2))
    };
    GofResult {
        statistic: x2,
        p_value: p,
        n: n as usize,
        df: Some(df),
    }
}

/// Pearson χ² on `k` equiprobable bins whose edges come from the exact quantile function.
pub fn chi2_equiprobable(values: &[f64], quantile: &dyn Fn(f64) -> f64, k: usize) -> GofResult {
    let k = k.max(2);
    let edges: Vec<f64> = (1..k).map(|i| quantile(i as f64 / k as f64)).collect();
    let mut counts = vec![0.0; k];
    for &v in values {
        let b = edges.partition_point(|&e| e < v);
        counts[b] += 1.0;
    }
    pearson_chi2(&counts, &vec![1.0; k], 0)
}

/// DKWM (Massart 1990) half-width: P(Dₙ > ε) ≤ α for ε = sqrt(ln(2/α)/(2n)).
pub fn dkwm_epsilon(n: usize, alpha: f64) -> f64 {
    ((2.0 / alpha).ln() / (2.0 * n as f64)).sqrt()
}

/// Conservative DKWM p-value min(1, 2 exp(−2 n d²)).
pub fn dkwm_p_value(n: usize, d: f64) -> f64 {
    (2.0 * (-2.0 * n as f64 * d * d).exp()).min(1.0)
}

/// Smallest sup-distance between CDFs detectable with false-fail rate α and false-pass rate β
/// (TFP's construction): sqrt(ln(2/α)/(2n)) + sqrt(ln(1/β)/(2n)).
pub fn dkwm_min_detectable(n: usize, alpha: f64, beta: f64) -> f64 {
    dkwm_epsilon(n, alpha) + ((1.0 / beta).ln() / (2.0 * n as f64)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::special;

    #[test]
    fn mtw_reproduces_the_papers_example() {
        // Marsaglia, Tsang & Wang (2003), §4: K(10, 0.274) = 0.6284796154565043.
        let got = mtw_cdf(10, 0.274);
        assert!((got - 0.628_479_615_456_504_3).abs() < 1e-13, "{got}");
    }

    #[test]
    fn kolmogorov_critical_values() {
        // Tabulated: √n·D = 1.949 at α = 1e-3 and 2.693 at 1e-6 (sampler-testing.md §3.5);
        // 1.358 at 0.05 and 1.628 at 0.01 (Smirnov 1948 table). Values are rounded to 3 decimals,
        // so compare within the change of Q over ±0.0005.
        for &(t, alpha) in &[(1.949, 1e-3), (2.693, 1e-6), (1.358, 0.05), (1.628, 0.01)] {
            let q = kolmogorov_sf(t);
            let slack = (kolmogorov_sf(t - 5e-4) - kolmogorov_sf(t + 5e-4)).abs();
            assert!((q - alpha).abs() <= slack, "Q({t}) = {q:e}, want {alpha:e}");
        }
        // Both series agree at the switch point t = 1.
        let t = 1.0 - 1e-12;
        assert!((kolmogorov_sf(t) - kolmogorov_sf(1.0)).abs() < 1e-10);
    }

    #[test]
    fn exact_and_asymptotic_regimes_agree_at_the_boundary() {
        let n = KS_EXACT_MAX_N;
        // Stephens' approximation is good to ~1-2 % relative (Stephens 1970); the tail matters most.
        for &t in &[0.8, 1.0, 1.2, 1.5, 1.8] {
            let d = t / (n as f64).sqrt();
            let exact = ks_p_value(n, d);
            let sq = (n as f64).sqrt();
            let asym = kolmogorov_sf((sq + 0.12 + 0.11 / sq) * d);
            println!("t={t}: exact {exact} vs Stephens {asym}");
            assert!(
                (exact / asym - 1.0).abs() < 0.02,
                "t={t}: exact {exact} vs Stephens {asym}"
            );
        }
    }

    #[test]
    fn ad_critical_values() {
        // F fully specified, n → ∞: 2.492 (5 %), 3.857 (1 %) (Stephens 1974 / D'Agostino & Stephens).
        for &(a2, alpha) in &[(2.492, 0.05), (3.857, 0.01)] {
            let p = 1.0 - adinf(a2);
            assert!((p - alpha).abs() < 3e-4, "A²={a2}: p={p}");
        }
        // The finite-n correction is small at n = 1000.
        assert!((ad_p_value(1000, 2.492) - 0.05).abs() < 1e-3);
    }

    #[test]
    fn ks_and_ad_on_perfect_quantiles_do_not_reject() {
        let n = 500;
        let x: Vec<f64> = (0..n)
            .map(|i| special::quantile((i as f64 + 0.5) / n as f64))
            .collect();
        let ks = ks_test(&x, &special::cdf);
        assert!((ks.statistic - 0.5 / n as f64).abs() < 1e-12);
        assert!(ks.p_value > 0.999);
        let ad = ad_test(&x, &special::cdf);
        assert!(ad.p_value > 0.99, "{ad:?}");
    }

    #[test]
    fn ks_and_ad_reject_a_shift() {
        let n = 2000;
        let x: Vec<f64> = (0..n)
            .map(|i| special::quantile((i as f64 + 0.5) / n as f64) + 0.2)
            .collect();
        assert!(ks_test(&x, &special::cdf).p_value < 1e-6);
        assert!(ad_test(&x, &special::cdf).p_value < 1e-6);
    }

    #[test]
    fn chi2_matches_hand_computation() {
        // Observed (30, 20, 50) vs uniform thirds of 100: X² = (3.33² + 13.33² + 16.67²)/33.33 = 14.
        let r = pearson_chi2(&[30.0, 20.0, 50.0], &[1.0, 1.0, 1.0], 0);
        assert!((r.statistic - 14.0).abs() < 1e-12);
        assert_eq!(r.df, Some(2));
        // χ²₂ survival is exp(−x/2).
        assert!((r.p_value - (-7.0_f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn dkwm_formulas() {
        let e = dkwm_epsilon(1000, 0.05);
        assert!((dkwm_p_value(1000, e) - 0.05).abs() < 1e-12);
        assert!(dkwm_min_detectable(1000, 0.05, 0.01) > e);
    }
}
