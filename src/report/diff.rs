//! The `diff` command's result: the simplified derivative, and its value when every name has
//! one.

use serde::Serialize;

use crate::expr::format_number;

/// The JSON of `diff --format json`, keys in this order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// Always 1.
    pub schema: u32,
    /// The simplified derivative, as an expression that parses again.
    pub derivative: String,
    /// Its value at the `--set` point, when every name has a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// The text: the derivative, then `= value` when there is one.
pub fn text(r: &DiffReport) -> String {
    match r.value {
        Some(v) => format!("{}\n= {}\n", r.derivative, format_number(v)),
        None => format!("{}\n", r.derivative),
    }
}
