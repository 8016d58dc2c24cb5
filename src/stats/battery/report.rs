//! The battery's options and its report: every test with its p-value and trust, the verdict, the
//! machine-readable reasons, and the report's JSON.

use super::*;

/// The default ESS floor below which no test is trusted. Below ~100 effective draws the ESS
/// estimate itself is unreliable (relative sd of τ̂ above 45 %, `tau_rel_sd`); above it the
/// estimate's uncertainty is carried into each test (Student's t with ESS/10 degrees of freedom),
/// so the floor need not also absorb it. Four chains need 25 effective draws each, 32 walkers
/// about 3.
pub const DEFAULT_MIN_ESS: f64 = 100.0;

/// Options of the battery.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatteryOptions {
    /// Family-wise false-alarm rate (Holm across all tests); default 1e-3.
    pub alpha: f64,
    /// Tests with a smaller effective sample size are not trusted; default [`DEFAULT_MIN_ESS`].
    pub min_ess: f64,
    /// The draws are known to be independent (e.g. final states of an invariance test).
    pub iid: bool,
}

impl Default for BatteryOptions {
    fn default() -> Self {
        Self {
            alpha: crate::stats::ALPHA,
            min_ess: DEFAULT_MIN_ESS,
            iid: false,
        }
    }
}

/// Result of the battery, ready to render.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatteryReport {
    /// Combined verdict.
    pub verdict: Verdict,
    /// Total number of draws.
    pub n: usize,
    /// Effective sample size per coordinate.
    pub ess: Vec<(String, f64)>,
    /// Rank-normalised split R̂ per coordinate (empty with one chain or `iid`).
    pub rhat: Vec<(String, f64)>,
    /// Every test.
    pub tests: Vec<TestOutcome>,
    /// Reasons for `inconclusive`, each with a hint.
    pub reasons: Vec<String>,
    /// One-paragraph human summary.
    pub summary: String,
    /// The R̂ threshold of each coordinate ([`ess::rhat_check`]), in the order of `rhat`.
    pub rhat_threshold: Vec<(String, f64)>,
    /// Machine-readable reasons for the verdict: every trusted rejection (`fail`) and everything
    /// that keeps a `pass` from being reached (`inconclusive`). Empty for `pass`.
    pub reason_codes: Vec<Reason>,
    /// Number of chains judged (after de-interleaving).
    pub chains: usize,
    /// The walker stride when a stored chain was found to interleave walkers and was split.
    pub interleaving: Option<Interleaving>,
    /// About how many more draws (at the measured ESS per draw) would make an inconclusive
    /// verdict conclusive, when low ESS is all that stands in the way.
    pub more_draws: Option<u64>,
    /// Notes on how the draws were read (de-interleaving).
    pub notes: Vec<String>,
}

/// A machine-readable reason for a verdict (see `docs/sampler-test-json.md`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reason {
    /// What: `reject` (a trusted test rejects: this makes the verdict `fail`),
    /// `reject_untrusted` (a test rejects but its ESS is below the floor), `low_ess` (a test's
    /// or a coordinate's ESS is below the floor), `rhat` (chains disagree), `undefined` (a
    /// statistic is NaN).
    pub code: &'static str,
    /// The verdict this reason leads to: `fail` or `inconclusive`.
    pub verdict: Verdict,
    /// The test or coordinate it concerns.
    pub variable: String,
    /// The measured value (Holm-adjusted p for `reject`, ESS for `low_ess`, R̂ for `rhat`).
    pub value: f64,
    /// The threshold the value was judged against (α, the ESS floor, the R̂ threshold).
    pub threshold: f64,
    /// For `low_ess`: about how many more draws reach the floor at the measured ESS per draw;
    /// for `rhat` (R̂ ≤ 1.2): how many bring R̂ under its threshold if the chains mix.
    pub more_draws: Option<u64>,
    /// Human sentence.
    pub message: String,
}

/// [`BatteryReport`]'s JSON, keys in alphabetical order after `schema` (the contract since the
/// object was a sorted JSON map); maps by variable name are sorted by name. Non-finite numbers
/// are `null`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatteryJson<'a> {
    /// Always 1.
    pub schema: u32,
    /// Chains judged.
    pub chains: usize,
    /// ESS by variable.
    pub ess: BTreeMap<&'a str, f64>,
    /// The walker stride found, if any.
    pub interleaving: Option<InterleavingJson>,
    /// Draws that would make an inconclusive verdict conclusive.
    pub more_draws: Option<u64>,
    /// Number of draws.
    pub n: usize,
    /// Notes on how the draws were read.
    pub notes: &'a [String],
    /// Machine-readable reasons.
    pub reasons: Vec<ReasonJson<'a>>,
    /// R̂ by variable.
    pub rhat: BTreeMap<&'a str, f64>,
    /// R̂ threshold by variable.
    pub rhat_threshold: BTreeMap<&'a str, f64>,
    /// The summary sentence.
    pub summary: &'a str,
    /// Every test.
    pub tests: Vec<TestJson<'a>>,
    /// The verdict.
    pub verdict: Verdict,
}

/// One test's JSON, keys in alphabetical order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TestJson<'a> {
    /// Holm-adjusted p-value.
    pub adjusted_p: f64,
    /// Human detail.
    pub detail: &'a str,
    /// The test's ESS.
    pub ess: Option<f64>,
    /// The smallest effect the test could detect.
    pub min_detectable_effect: Option<f64>,
    /// The test's name.
    pub name: &'a str,
    /// Raw p-value.
    pub p_value: f64,
    /// Whether Holm rejects it.
    pub reject: bool,
    /// The statistic.
    pub statistic: f64,
    /// Whether its ESS is above the floor.
    pub trusted: bool,
}

/// One [`Reason`]'s JSON, keys in alphabetical order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReasonJson<'a> {
    /// What (`reject`, `low_ess`, ...).
    pub code: &'static str,
    /// Human sentence.
    pub message: &'a str,
    /// Draws that would help.
    pub more_draws: Option<u64>,
    /// The threshold.
    pub threshold: f64,
    /// The measured value.
    pub value: f64,
    /// The test or coordinate.
    pub variable: &'a str,
    /// `fail` or `inconclusive`.
    pub verdict: Verdict,
}

/// [`Interleaving`]'s JSON, keys in alphabetical order.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct InterleavingJson {
    /// Lag-1 autocorrelation.
    pub rho_1: f64,
    /// Autocorrelation at the stride.
    pub rho_stride: f64,
    /// The walker stride.
    pub stride: usize,
}

impl Reason {
    /// The reason's JSON.
    pub fn json(&self) -> ReasonJson<'_> {
        ReasonJson {
            code: self.code,
            message: &self.message,
            more_draws: self.more_draws,
            threshold: self.threshold,
            value: self.value,
            variable: &self.variable,
            verdict: self.verdict,
        }
    }

    /// The reason as a JSON value; NaN values become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.json()).unwrap_or(serde_json::Value::Null)
    }
}

fn by_name(pairs: &[(String, f64)]) -> BTreeMap<&str, f64> {
    pairs.iter().map(|(k, v)| (k.as_str(), *v)).collect()
}

impl BatteryReport {
    /// The documented JSON (`"schema": 1`), as a serde type.
    pub fn json(&self) -> BatteryJson<'_> {
        BatteryJson {
            schema: 1,
            chains: self.chains,
            ess: by_name(&self.ess),
            interleaving: self.interleaving.map(|i| InterleavingJson {
                rho_1: i.rho_1,
                rho_stride: i.rho_stride,
                stride: i.stride,
            }),
            more_draws: self.more_draws,
            n: self.n,
            notes: &self.notes,
            reasons: self.reason_codes.iter().map(Reason::json).collect(),
            rhat: by_name(&self.rhat),
            rhat_threshold: by_name(&self.rhat_threshold),
            summary: &self.summary,
            tests: self
                .tests
                .iter()
                .map(|t| TestJson {
                    adjusted_p: t.adjusted_p,
                    detail: &t.detail,
                    ess: t.ess,
                    min_detectable_effect: t.min_detectable_effect,
                    name: &t.name,
                    p_value: t.p_value,
                    reject: t.reject,
                    statistic: t.statistic,
                    trusted: t.trusted,
                })
                .collect(),
            verdict: self.verdict,
        }
    }

    /// The documented JSON form (`"schema": 1`) as a JSON value; NaN values become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.json()).unwrap_or(serde_json::Value::Null)
    }

    /// The failing (rejected and trusted) tests.
    pub fn failures(&self) -> Vec<&TestOutcome> {
        self.tests
            .iter()
            .filter(|t| t.reject && t.trusted)
            .collect()
    }

    /// A multi-line listing of every test, for panics and logs.
    pub fn evidence(&self) -> String {
        let mut s = format!(
            "verdict {:?} on {} draws: {}\n",
            self.verdict, self.n, self.summary
        );
        for t in &self.tests {
            s.push_str(&format!(
                "  {} {:<28} p = {:.3e} (Holm {:.3e}) {}\n",
                if t.reject { "REJECT" } else { "ok    " },
                t.name,
                t.p_value,
                t.adjusted_p,
                t.detail
            ));
        }
        for (k, v) in &self.ess {
            s.push_str(&format!("  ESS {k} = {v:.0}\n"));
        }
        for (k, v) in &self.rhat {
            s.push_str(&format!("  R-hat {k} = {v:.4}\n"));
        }
        s
    }
}

/// Panics with the full evidence unless the verdict is `pass`. For users' `#[test]`s.
///
/// # Panics
/// When `report.verdict` is not [`Verdict::Pass`].
pub fn assert_battery_passes(report: &BatteryReport) {
    assert!(
        report.verdict == Verdict::Pass,
        "sampler test did not pass\n{}",
        report.evidence()
    );
}
