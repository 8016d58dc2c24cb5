//! The `eval` command's result: its JSON and its text line. A plain value (no bound operator)
//! has only `value`; a value from the numeric engine adds its error bound, whether it
//! converged and why it stopped, and with Monte Carlo its standard error and ESS.

use serde::Serialize;

use crate::estimate::{Estimate, Termination};
use crate::expr::format_number;

/// The JSON of `eval --format json`, keys in this order; absent fields are left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Always 1.
    pub schema: u32,
    /// The value.
    pub value: f64,
    /// The error bound (engine values only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<f64>,
    /// Whether the computation converged (engine values only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converged: Option<bool>,
    /// Why it stopped (engine values only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination: Option<Termination>,
    /// The Monte-Carlo standard error (Monte-Carlo values only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std_error: Option<f64>,
    /// The effective sample size (Monte-Carlo values only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ess: Option<f64>,
}

impl EvalReport {
    /// A value computed without the numeric engine: exact up to rounding.
    pub fn plain(value: f64) -> Self {
        EvalReport {
            schema: 1,
            value,
            error: None,
            converged: None,
            termination: None,
            std_error: None,
            ess: None,
        }
    }

    /// A value from the numeric engine; `value` is its (checked finite) value.
    pub fn engine(value: f64, v: &Estimate) -> Self {
        let mc = v.std_error > 0.0;
        EvalReport {
            schema: 1,
            value,
            error: Some(v.error),
            converged: Some(v.converged()),
            termination: Some(v.termination()),
            std_error: mc.then_some(v.std_error),
            ess: mc.then_some(v.ess),
        }
    }
}

/// The text line: the value with full precision, then for engine values `± error`, the
/// Monte-Carlo standard error and ESS, and why it did not converge.
pub fn text(r: &EvalReport) -> String {
    let Some(error) = r.error else {
        return format!("{}\n", format_number(r.value));
    };
    let mut line = format!("{} ± {:.1e}", format_number(r.value), error);
    if let (Some(se), Some(ess)) = (r.std_error, r.ess) {
        line.push_str(&format!(
            "  (Monte-Carlo standard error {se:.1e}, effective sample size {ess:.0})"
        ));
    }
    if r.converged == Some(false) {
        // The termination as in JSON (`budget_exhausted`, ...).
        let why = serde_json::to_value(r.termination)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        line.push_str(&format!(
            "  (not converged: {why}; the error bound is not reliable)"
        ));
    }
    line.push('\n');
    line
}
