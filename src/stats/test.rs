//! Hypothesis tests for Monte-Carlo claims: z-tests with MCSE, ESS-aware proportions, binomial
//! tests, minimum detectable effects, and [`StatisticalDecision`], which combines any number of
//! tests with Holm's correction into one verdict (`pass` / `fail` / `inconclusive`).

use super::{gof, multiple, special};
use statrs::distribution::{Beta, Binomial, ContinuousCDF, DiscreteCDF, StudentsT};

/// Outcome of a z-test.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ZTest {
    /// Standardised difference (estimate − exact)/se.
    pub z: f64,
    /// Two-sided p-value 2Φ̄(|z|).
    pub p_value: f64,
}

/// Two-sided z-test of an estimate against an exact value with standard error `se`.
pub fn z_test(estimate: f64, se: f64, exact: f64) -> ZTest {
    let z = (estimate - exact) / se;
    let p_value = if z.is_nan() {
        // 0/0: estimate equals exact with no spread; nothing to reject.
        if (estimate - exact).abs() <= f64::EPSILON * exact.abs() {
            1.0
        } else {
            f64::NAN
        }
    } else {
        (2.0 * special::sf(z.abs())).min(1.0)
    };
    ZTest { z, p_value }
}

/// Two-sided test of an estimate against an exact value whose standard error `se` is itself
/// estimated with `dof` degrees of freedom: the z-score referred to Student's t, p = 2·T̄_ν(|z|).
/// Falls back to [`z_test`] for non-finite or non-positive `dof`.
pub fn t_test(estimate: f64, se: f64, exact: f64, dof: f64) -> ZTest {
    let zt = z_test(estimate, se, exact);
    if !(dof > 0.0 && dof.is_finite()) || zt.z.is_nan() {
        return zt;
    }
    let p_value =
        StudentsT::new(0.0, 1.0, dof).map_or(zt.p_value, |t| (2.0 * t.sf(zt.z.abs())).min(1.0));
    ZTest { z: zt.z, p_value }
}

/// Proportion test of an observed fraction against an exact probability p₀ with effective sample
/// size `ess`, using the null standard error sqrt(p₀(1 − p₀)/ess).
pub fn proportion_test(fraction: f64, p0: f64, ess: f64) -> ZTest {
    z_test(fraction, (p0 * (1.0 - p0) / ess).sqrt(), p0)
}

/// Smallest true difference a two-sided z-test at level α detects with probability `power`:
/// (z_{1−α/2} + z_{power})·se, in the units of the estimate.
pub fn min_detectable_z(se: f64, alpha: f64, power: f64) -> f64 {
    (special::quantile(1.0 - alpha / 2.0) + special::quantile(power)) * se
}

/// Clopper–Pearson (exact) two-sided confidence interval for a binomial proportion k/n.
pub fn clopper_pearson(k: u64, n: u64, confidence: f64) -> (f64, f64) {
    let a = 1.0 - confidence;
    let lo = if k == 0 {
        0.0
    } else {
        Beta::new(k as f64, (n - k) as f64 + 1.0).map_or(f64::NAN, |b| b.inverse_cdf(a / 2.0))
    };
    let hi = if k >= n {
        1.0
    } else {
        Beta::new(k as f64 + 1.0, (n - k) as f64).map_or(f64::NAN, |b| b.inverse_cdf(1.0 - a / 2.0))
    };
    (lo, hi)
}

/// Two-sided exact binomial test of k successes in n trials against p: min(1, 2 min(P(X ≤ k), P(X ≥ k))).
pub fn binomial_test(k: u64, n: u64, p: f64) -> f64 {
    let Ok(b) = Binomial::new(p, n) else {
        return f64::NAN;
    };
    let lower = b.cdf(k);
    let upper = if k == 0 { 1.0 } else { b.sf(k - 1) };
    (2.0 * lower.min(upper)).min(1.0)
}

/// Verdict of a statistical decision: the crate's one verdict type (a decision gives `pass`,
/// `fail` or `inconclusive`, never `error`).
pub use crate::estimate::Verdict;

/// How the minimum detectable effect of a test is computed once the family size is known.
#[derive(Debug, Clone, Copy)]
pub enum Mde {
    /// A z-test with this standard error, in the estimate's units.
    Z(f64),
    /// A KS test on this many i.i.d. draws: the DKWM bound on sup |F̂ − F|.
    Ks(usize),
    /// A KS test on this many i.i.d. draws against a reference CDF known only to within this
    /// sup-norm error: the DKWM bound plus the error (the test is made conservative by it).
    KsWithMargin(usize, f64),
    /// Not available for this test.
    None,
}

/// One test within a decision, ready to render.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TestOutcome {
    /// Human name, e.g. "mean of y1".
    pub name: String,
    /// The test statistic (z, D, A², …).
    pub statistic: f64,
    /// Unadjusted p-value.
    pub p_value: f64,
    /// Holm-adjusted p-value.
    pub adjusted_p: f64,
    /// Rejected at the family-wise level after Holm's correction.
    pub reject: bool,
    /// Effective sample size behind the test, when meaningful.
    pub ess: Option<f64>,
    /// Whether the ESS is large enough for the p-value to be trusted.
    pub trusted: bool,
    /// Human sentence with the evidence, e.g. "mean of y1 is 0.0013 ± 0.004, exact −0.2440, z-score 49".
    pub detail: String,
    /// Smallest effect detectable at this ESS with power [`POWER`], in the test's own units.
    pub min_detectable_effect: Option<f64>,
    #[serde(skip)]
    mde: Mde,
}

/// Power at which minimum detectable effects are reported.
pub const POWER: f64 = 0.99;

/// Collects tests and turns them into one verdict with Holm's correction at family-wise α.
///
/// Rule: Holm over all tests with a p-value. `Fail` if any test whose ESS is at least `min_ess`
/// rejects; otherwise `Inconclusive` if any test had ESS below `min_ess` or a reason was added
/// (e.g. R̂ > 1.01); otherwise `Pass`.
#[derive(Debug, Clone)]
pub struct StatisticalDecision {
    alpha: f64,
    min_ess: f64,
    tests: Vec<TestOutcome>,
    reasons: Vec<String>,
}

/// Result of [`StatisticalDecision::finish`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Decision {
    /// The combined verdict.
    pub verdict: Verdict,
    /// Every test, with adjusted p-values and rejections.
    pub tests: Vec<TestOutcome>,
    /// Why the verdict is inconclusive (empty otherwise), each with a hint.
    pub reasons: Vec<String>,
    /// One-paragraph human summary.
    pub summary: String,
}

fn fmt_num(x: f64) -> String {
    if x == 0.0 || (1e-3..1e5).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

impl StatisticalDecision {
    /// A decision at family-wise level `alpha`; tests with ESS below `min_ess` are not trusted.
    pub fn new(alpha: f64, min_ess: f64) -> Self {
        Self {
            alpha,
            min_ess,
            tests: Vec::new(),
            reasons: Vec::new(),
        }
    }

    /// Adds a z-test of `estimate` ± `se` against `exact`, based on `ess` effective samples.
    pub fn add_z_test(&mut self, name: &str, estimate: f64, se: f64, ess: f64, exact: f64) {
        let t = z_test(estimate, se, exact);
        let detail = format!(
            "{name} is {} ± {}, exact {}, z-score {:.2} (ESS {:.0})",
            fmt_num(estimate),
            fmt_num(se),
            fmt_num(exact),
            t.z,
            ess
        );
        self.push(name, t.z, t.p_value, Some(ess), detail, Mde::Z(se));
    }

    /// Adds a test given by its statistic and p-value (e.g. KS or AD).
    pub fn add_p_value(
        &mut self,
        name: &str,
        statistic: f64,
        p_value: f64,
        ess: Option<f64>,
        detail: String,
        mde: Mde,
    ) {
        self.push(name, statistic, p_value, ess, detail, mde);
    }

    /// Appends `note` to the detail of the test added last (no-op without tests).
    pub fn annotate_last(&mut self, note: &str) {
        if let Some(t) = self.tests.last_mut() {
            t.detail.push_str(note);
        }
    }

    /// Records a reason that prevents a `pass` (e.g. chains disagree); it does not prevent `fail`.
    pub fn add_reason(&mut self, reason: String) {
        self.reasons.push(reason);
    }

    fn push(
        &mut self,
        name: &str,
        statistic: f64,
        p_value: f64,
        ess: Option<f64>,
        detail: String,
        mde: Mde,
    ) {
        let trusted = ess.is_none_or(|e| e >= self.min_ess) && !p_value.is_nan();
        self.tests.push(TestOutcome {
            name: name.to_string(),
            statistic,
            p_value,
            adjusted_p: f64::NAN,
            reject: false,
            ess,
            trusted,
            detail,
            min_detectable_effect: None,
            mde,
        });
    }

    /// Applies Holm's correction and decides.
    pub fn finish(mut self) -> Decision {
        let p: Vec<f64> = self.tests.iter().map(|t| t.p_value).collect();
        let adj = multiple::holm(&p, self.alpha);
        let m = self.tests.len().max(1) as f64;
        let per_test = self.alpha / m;
        for (i, t) in self.tests.iter_mut().enumerate() {
            t.adjusted_p = adj.adjusted[i];
            t.reject = adj.reject[i];
            t.min_detectable_effect = match t.mde {
                Mde::Z(se) => Some(min_detectable_z(se, per_test, POWER)),
                Mde::Ks(n) => Some(gof::dkwm_min_detectable(n, per_test, 1.0 - POWER)),
                Mde::KsWithMargin(n, margin) => {
                    Some(gof::dkwm_min_detectable(n, per_test, 1.0 - POWER) + 2.0 * margin)
                }
                Mde::None => None,
            };
        }
        for t in &self.tests {
            if t.p_value.is_nan() {
                self.reasons.push(format!(
                    "{}: the statistic is undefined (NaN); check the reference and the draws",
                    t.name
                ));
            } else if !t.trusted {
                let e = t.ess.unwrap_or(f64::NAN);
                self.reasons.push(format!(
                    "{}: effective sample size {:.0} is below {:.0}{}; run longer",
                    t.name,
                    e,
                    self.min_ess,
                    if t.reject {
                        " (it would reject, but its standard error is not trusted)"
                    } else {
                        ""
                    }
                ));
            }
        }
        let failed: Vec<&TestOutcome> = self
            .tests
            .iter()
            .filter(|t| t.reject && t.trusted)
            .collect();
        let verdict = if !failed.is_empty() {
            Verdict::Fail
        } else if !self.reasons.is_empty() {
            Verdict::Inconclusive
        } else {
            Verdict::Pass
        };
        let summary = match verdict {
            Verdict::Fail => format!(
                "fail at family-wise α = {}: {}",
                self.alpha,
                failed
                    .iter()
                    .map(|t| format!("{} (Holm p = {:.2e})", t.detail, t.adjusted_p))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Verdict::Inconclusive | Verdict::Error => {
                format!("inconclusive: {}", self.reasons.join("; "))
            }
            Verdict::Pass => format!(
                "pass: {} tests, none rejects at family-wise α = {} (Holm)",
                self.tests.len(),
                self.alpha
            ),
        };
        Decision {
            verdict,
            tests: self.tests,
            reasons: self.reasons,
            summary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_test_p_values() {
        let t = z_test(1.96, 1.0, 0.0);
        assert!((t.p_value - 0.05).abs() < 1e-4);
        let far = z_test(30.0, 1.0, 0.0);
        assert!(
            far.p_value > 1e-198 && far.p_value < 1e-196,
            "{}",
            far.p_value
        );
    }

    #[test]
    fn min_detectable_effect_inverts_power() {
        // At the MDE, the z-test rejects with probability `power` (ignoring the far tail).
        let se = 0.01;
        let alpha = 1e-3;
        let mde = min_detectable_z(se, alpha, 0.99);
        let crit = special::quantile(1.0 - alpha / 2.0);
        let power = special::sf(crit - mde / se);
        assert!((power - 0.99).abs() < 1e-12);
    }

    #[test]
    fn clopper_pearson_known_interval() {
        // k = 0 of n: the upper bound is 1 − (α/2)^{1/n} (exact closed form).
        let (lo, hi) = clopper_pearson(0, 100, 0.95);
        assert!(lo.abs() < 1e-15);
        assert!((hi - (1.0 - 0.025_f64.powf(0.01))).abs() < 1e-8, "{hi}");
        // Symmetry: CI(k, n) = 1 − CI(n − k, n) reversed.
        let (a, b) = clopper_pearson(37, 200, 0.99);
        let (c, d) = clopper_pearson(163, 200, 0.99);
        assert!((a - (1.0 - d)).abs() < 1e-8 && (b - (1.0 - c)).abs() < 1e-8);
    }

    #[test]
    fn binomial_test_values() {
        // 10 heads of 10 fair flips: two-sided p = 2/1024.
        assert!((binomial_test(10, 10, 0.5) - 2.0 / 1024.0).abs() < 1e-12);
        assert!((binomial_test(5, 10, 0.5) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn decision_rules() {
        let mut d = StatisticalDecision::new(1e-3, 400.0);
        d.add_z_test("mean of y1", 0.0013, 0.004, 5000.0, -0.2440);
        d.add_z_test("mean of y2", 0.0, 0.01, 5000.0, 0.001);
        let r = d.finish();
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(r.tests[0].reject && !r.tests[1].reject);
        assert!(
            r.summary
                .contains("mean of y1 is 0.0013 ± 0.0040, exact -0.2440, z-score 61.32"),
            "{}",
            r.summary
        );

        let mut d = StatisticalDecision::new(1e-3, 400.0);
        d.add_z_test("mean of y1", 0.01, 0.01, 100.0, 0.0);
        let r = d.finish();
        assert_eq!(r.verdict, Verdict::Inconclusive);
        assert!(r.reasons[0].contains("run longer"));

        let mut d = StatisticalDecision::new(1e-3, 400.0);
        d.add_z_test("mean of y1", 0.01, 0.01, 1000.0, 0.0);
        assert_eq!(d.finish().verdict, Verdict::Pass);
    }
}
