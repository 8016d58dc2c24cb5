//! The judgement of Monte-Carlo estimates against their exact values: z-tests at family-wise α
//! with Holm across parameters, `inconclusive` when the effective sample size is too small or the
//! chains disagree.

use super::*;

/// One Monte-Carlo estimate to judge against its exact value.
#[derive(Debug, Clone)]
pub struct McInput {
    /// Name of the tested quantity (e.g. `d loss / d w`).
    pub name: String,
    /// The estimate with its MCSE and ESS (`sd` is the spread of the per-draw values).
    pub estimate: McAverage,
    /// The exact value, with its numeric error bound.
    pub exact: Value,
    /// Split R-hat across chains, for MCMC with several chains.
    pub rhat: Option<f64>,
}

/// The outcome of [`judge`].
#[derive(Debug, Clone)]
pub struct McJudgement {
    /// `(estimate − exact)/mcse` per input (0 for an exact constant, ±∞ for a constant that
    /// differs from the exact value).
    pub z: Vec<f64>,
    /// Whether each input's test rejects (after Holm).
    pub reject: Vec<bool>,
    /// Pass, fail or inconclusive.
    pub verdict: Verdict,
    /// Why it is not a pass.
    pub reasons: Vec<String>,
    /// One-paragraph summary of the tests.
    pub summary: String,
}

/// The decision of `ebmcheck grad`: a two-sided z-test of each estimate against its exact value,
/// Holm across the inputs at family-wise `alpha`; `inconclusive` when an ESS is below
/// [`MIN_ESS`] or an R-hat above [`MAX_RHAT`]; an estimate whose draws are all equal must
/// equal the exact value within its numeric error.
pub fn judge(inputs: &[McInput], alpha: f64) -> McJudgement {
    let mut decision = StatisticalDecision::new(alpha, MIN_ESS);
    let mut mismatch: Vec<String> = Vec::new();
    let mut z = Vec::with_capacity(inputs.len());
    let mut tested = Vec::with_capacity(inputs.len());
    for input in inputs {
        let est = &input.estimate;
        let gap = est.estimate - input.exact.value;
        if est.sd > 0.0 {
            tested.push(true);
            decision.add_z_test(
                &input.name,
                est.estimate,
                est.mcse,
                est.ess,
                input.exact.value,
            );
            z.push(gap / est.mcse);
        } else if gap.abs() <= 2.0 * input.exact.error + CONSTANT_TOL * input.exact.value.abs() {
            // The observable takes one value under the model: the average is exact.
            tested.push(false);
            z.push(0.0);
        } else {
            tested.push(false);
            mismatch.push(format!(
                "{}: every draw gives the same value, and the estimate {} differs from the exact {}",
                input.name, est.estimate, input.exact.value
            ));
            z.push(gap.signum() * f64::INFINITY);
        }
        if let Some(rhat) = input.rhat
            && rhat > MAX_RHAT
        {
            decision.add_reason(format!(
                "{}: split R-hat {rhat:.3} > {MAX_RHAT}: the chains disagree; run longer",
                input.name
            ));
        }
    }
    let d = decision.finish();
    let mut tests = d.tests.iter();
    let reject = tested
        .iter()
        .zip(&z)
        .map(|(t, zi)| {
            if *t {
                tests.next().is_some_and(|o| o.reject)
            } else {
                zi.is_infinite()
            }
        })
        .collect();
    let verdict = if mismatch.is_empty() {
        d.verdict
    } else {
        Verdict::Fail
    };
    mismatch.extend(d.reasons.iter().cloned());
    McJudgement {
        z,
        reject,
        verdict,
        reasons: mismatch,
        summary: d.summary,
    }
}
