//! Multiple testing: Holm's step-down procedure, Bonferroni, and the Cauchy combination test.

/// Adjusted p-values and rejections of a multiple-testing procedure at family-wise level α.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Adjusted {
    /// Adjusted p-values, in the input order.
    pub adjusted: Vec<f64>,
    /// Whether each hypothesis is rejected at the family-wise level α.
    pub reject: Vec<bool>,
}

/// Holm–Bonferroni: sort p₍₁₎ ≤ … ≤ p₍ₘ₎, adjusted p̃₍ᵢ₎ = max_{j≤i} min(1, (m − j + 1) p₍ⱼ₎);
/// reject H₍ᵢ₎ iff p̃₍ᵢ₎ ≤ α. Controls the family-wise error rate under any dependence.
/// NaN p-values are treated as 1 (never rejected).
pub fn holm(p: &[f64], alpha: f64) -> Adjusted {
    let m = p.len();
    let clean: Vec<f64> = p
        .iter()
        .map(|&v| if v.is_nan() { 1.0 } else { v.clamp(0.0, 1.0) })
        .collect();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| clean[a].total_cmp(&clean[b]));
    let mut adjusted = vec![1.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let v = ((m - rank) as f64 * clean[i]).min(1.0);
        running = running.max(v);
        adjusted[i] = running;
    }
    let reject = adjusted.iter().map(|&a| a <= alpha).collect();
    Adjusted { adjusted, reject }
}

/// Bonferroni: p̃ᵢ = min(1, m pᵢ); reject iff p̃ᵢ ≤ α.
pub fn bonferroni(p: &[f64], alpha: f64) -> Adjusted {
    let m = p.len() as f64;
    let adjusted: Vec<f64> = p
        .iter()
        .map(|&v| {
            if v.is_nan() {
                1.0
            } else {
                (m * v).clamp(0.0, 1.0)
            }
        })
        .collect();
    let reject = adjusted.iter().map(|&a| a <= alpha).collect();
    Adjusted { adjusted, reject }
}

/// Cauchy combination (Liu & Xie 2020): T = Σ wᵢ tan((½ − pᵢ)π), p = ½ − arctan(T)/π, with equal
/// weights when `weights` is `None`. Valid under arbitrary dependence in the small-p regime.
/// Tiny p-values use tan((½ − p)π) ≈ 1/(pπ) to avoid cancellation; returns NaN on empty input.
pub fn cauchy_combination(p: &[f64], weights: Option<&[f64]>) -> f64 {
    if p.is_empty() {
        return f64::NAN;
    }
    let m = p.len() as f64;
    let w_sum: f64 = weights.map_or(1.0, |w| w.iter().sum());
    let mut t = 0.0;
    for (i, &pi) in p.iter().enumerate() {
        let w = weights.map_or(1.0 / m, |w| w.get(i).copied().unwrap_or(0.0) / w_sum);
        let pi = pi.clamp(0.0, 1.0);
        if pi <= 0.0 {
            return 0.0;
        }
        let term = if pi < 1e-15 {
            1.0 / (pi * std::f64::consts::PI)
        } else {
            ((0.5 - pi) * std::f64::consts::PI).tan()
        };
        t += w * term;
    }
    if t > 1.0 {
        // ½ − arctan(T)/π = arctan(1/T)/π without cancellation for large T.
        (1.0 / t).atan() / std::f64::consts::PI
    } else {
        0.5 - t.atan() / std::f64::consts::PI
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_worked_example() {
        // Worked example (Holm 1979 style): p = (0.01, 0.04, 0.03, 0.005), m = 4, α = 0.05.
        // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running max
        // 0.02, 0.03, 0.06, 0.06. Reject the first two only.
        let r = holm(&[0.01, 0.04, 0.03, 0.005], 0.05);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in r.adjusted.iter().zip(want) {
            assert!((a - w).abs() < 1e-15, "{:?}", r.adjusted);
        }
        assert_eq!(r.reject, vec![true, false, false, true]);
    }

    proptest::proptest! {
        #![proptest_config(crate::testing::proptest_config(256))]
        #[test]
        fn holm_is_between_raw_and_bonferroni(p in crate::testing::stats::strategies::p_values(), alpha in 1e-4f64..0.2) {
            let h = holm(&p, alpha);
            let b = bonferroni(&p, alpha);
            for (i, &pi) in p.iter().enumerate() {
                proptest::prop_assert!(h.adjusted[i] >= pi - 1e-15);
                proptest::prop_assert!(h.adjusted[i] <= b.adjusted[i] + 1e-15);
                // Holm rejects everything Bonferroni rejects.
                proptest::prop_assert!(!b.reject[i] || h.reject[i]);
            }
        }
    }

    #[test]
    fn bonferroni_and_nan() {
        let r = bonferroni(&[0.01, f64::NAN, 0.5], 0.05);
        assert!((r.adjusted[0] - 0.03).abs() < 1e-15);
        assert!((r.adjusted[1] - 1.0).abs() < 1e-15);
        assert_eq!(r.reject, vec![true, false, false]);
    }

    #[test]
    fn cauchy_combination_identities() {
        // A single p-value is returned unchanged; identical p-values combine to themselves.
        for &p in &[0.5, 0.1, 1e-3, 1e-20] {
            let c = cauchy_combination(&[p], None);
            assert!((c / p - 1.0).abs() < 1e-10, "p={p}: {c}");
            let c3 = cauchy_combination(&[p, p, p], None);
            assert!((c3 / p - 1.0).abs() < 1e-10, "p={p}: {c3}");
        }
        // Liu & Xie: for small p the combination behaves like a weighted harmonic mean.
        let c = cauchy_combination(&[1e-8, 0.5], None);
        assert!((c / 2e-8 - 1.0).abs() < 1e-6, "{c}");
    }
}
