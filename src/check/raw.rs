//! The raw layer of a derivation file: what serde reads from the TOML, every value with its byte
//! span, before any validation; and the help added to serde's own messages.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::expr;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub(crate) title: Spanned<String>,
    pub(crate) source: Option<Spanned<String>>,
    pub(crate) seed: Option<Spanned<i64>>,
    #[serde(default)]
    pub(crate) parameters: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    pub(crate) variables: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(crate) definitions: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(crate) points: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    pub(crate) count: Option<Spanned<i64>>,
    #[serde(default, rename = "check")]
    pub(crate) checks: Vec<Spanned<RawCheck>>,
}

/// Every field any check kind may carry; which ones apply is validated per kind.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) claim: Option<Spanned<String>>,
    pub(crate) kind: Option<Spanned<String>>,
    pub(crate) lhs: Option<Spanned<String>>,
    pub(crate) rhs: Option<Spanned<String>>,
    pub(crate) relation: Option<Spanned<String>>,
    pub(crate) tolerance: Option<Spanned<f64>>,
    pub(crate) expr: Option<Spanned<String>>,
    pub(crate) var: Option<Spanned<String>>,
    pub(crate) to: Option<Spanned<toml::Value>>,
    pub(crate) target: Option<Spanned<String>>,
    pub(crate) rate: Option<Spanned<String>>,
    pub(crate) ladder: Option<Spanned<Vec<f64>>>,
    pub(crate) range: Option<Spanned<String>>,
    pub(crate) direction: Option<Spanned<String>>,
    pub(crate) sense: Option<Spanned<String>>,
    pub(crate) loss: Option<Spanned<String>>,
    pub(crate) wrt: Option<Spanned<String>>,
    pub(crate) exact: Option<Spanned<String>>,
    pub(crate) steps: Option<Spanned<Vec<Spanned<RawStep>>>>,
    pub(crate) estimator: Option<Spanned<String>>,
    pub(crate) energy: Option<Spanned<String>>,
    pub(crate) of: Option<Spanned<String>>,
    pub(crate) sizes: Option<Spanned<Vec<i64>>>,
    pub(crate) replicates: Option<Spanned<i64>>,
    pub(crate) k: Option<Spanned<i64>>,
    pub(crate) start: Option<Spanned<String>>,
    pub(crate) step: Option<Spanned<f64>>,
    pub(crate) predicted: Option<Spanned<String>>,
    pub(crate) points: Option<BTreeMap<String, Spanned<toml::Value>>>,
    pub(crate) at: Option<Vec<BTreeMap<String, Spanned<f64>>>>,
    pub(crate) count: Option<Spanned<i64>>,
}

/// One line of a `chain` check.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub(crate) expr: Option<Spanned<String>>,
    pub(crate) relation: Option<Spanned<String>>,
    pub(crate) note: Option<Spanned<String>>,
    pub(crate) var: Option<Spanned<String>>,
    pub(crate) to: Option<Spanned<toml::Value>>,
}

// ---------------------------------------------------------------------------------------------
// Validated layer.

/// The help under a serde/TOML error: the closest field for an unknown one, the quoting rule for
/// a value of the wrong type.
pub(crate) fn toml_help(message: &str) -> Option<String> {
    if message.starts_with("unknown field") {
        // serde says "unknown field `rsh`, expected one of `name`, `claim`, ...".
        let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
        if let Some((typo, fields)) = quoted.split_first() {
            let swapped = |f: &&str| {
                let (a, b): (Vec<char>, Vec<char>) = (typo.chars().collect(), f.chars().collect());
                a.len() == b.len() && {
                    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
                    diff.len() == 2
                        && diff[1] == diff[0] + 1
                        && a[diff[0]] == b[diff[1]]
                        && a[diff[1]] == b[diff[0]]
                }
            };
            let best = fields
                .iter()
                .find(|f| swapped(f))
                .copied()
                .or_else(|| expr::suggest(typo, fields.iter().copied()));
            if let Some(f) = best {
                return Some(format!("did you mean `{f}`?"));
            }
        }
        Some("check the spelling; docs/derivations.md lists every field of each check kind".into())
    } else if message.contains("invalid type") {
        Some("expressions are strings in double quotes; numbers and lists are bare".into())
    } else {
        None
    }
}
