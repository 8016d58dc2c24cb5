//! The check kinds, one file each: the fields a kind reads from its `[[check]]` table, its
//! validated type (private fields, built only by validation, so an invalid kind cannot be
//! constructed), and its runner. The dispatch on `kind` is here; the shared machinery (test
//! points, tolerances, verdicts, power) is in `run`, the raw table in `raw`.
//!
//! | kind | file |
//! |---|---|
//! | `equal`, `bound` | `compare` |
//! | `limit` | `limit` |
//! | `monotone`, `convex` | `shape` |
//! | `gradient` | `gradient` |
//! | `chain` | `chain` |
//! | `estimator` | `estimator` |

pub(crate) mod chain;
pub(crate) mod compare;
pub(crate) mod estimator;
pub(crate) mod gradient;
pub(crate) mod limit;
pub(crate) mod shape;

use super::result::{CheckResult, McTrace};
use super::run::CheckFailure;
use super::spec::{CheckKind, CheckSpec, SourceExpr};
use crate::engine::Engine;

/// Each kind's name and the fields it reads (beyond those every kind shares), in the order the
/// kinds are listed to users.
pub(crate) const KINDS: [(&str, &[&str]); 8] = [
    ("equal", compare::EQUAL_FIELDS),
    ("bound", compare::BOUND_FIELDS),
    ("limit", limit::FIELDS),
    ("monotone", shape::MONOTONE_FIELDS),
    ("convex", shape::CONVEX_FIELDS),
    ("gradient", gradient::FIELDS),
    ("chain", chain::FIELDS),
    ("estimator", estimator::FIELDS),
];

impl CheckKind {
    /// The kind's name as written in files and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Equal(_) => "equal",
            CheckKind::Bound(_) => "bound",
            CheckKind::Limit(_) => "limit",
            CheckKind::Monotone(_) => "monotone",
            CheckKind::Convex(_) => "convex",
            CheckKind::Gradient(_) => "gradient",
            CheckKind::Chain(_) => "chain",
            CheckKind::Estimator(_) => "estimator",
        }
    }

    /// The check's expressions, for scope checking.
    pub(crate) fn expressions(&self) -> Vec<&SourceExpr> {
        match self {
            CheckKind::Equal(k) => k.expressions(),
            CheckKind::Bound(k) => k.expressions(),
            CheckKind::Limit(k) => k.expressions(),
            CheckKind::Monotone(k) => vec![k.expr()],
            CheckKind::Convex(k) => vec![k.expr()],
            CheckKind::Gradient(k) => k.expressions(),
            CheckKind::Chain(k) => k.expressions(),
            CheckKind::Estimator(k) => k.expressions(),
        }
    }

    /// The check's expressions as written, with their roles (for reports).
    pub(crate) fn formulas(&self) -> Vec<(String, String)> {
        match self {
            CheckKind::Equal(k) => k.formulas(),
            CheckKind::Bound(k) => k.formulas(),
            CheckKind::Limit(k) => k.formulas(),
            CheckKind::Monotone(k) => vec![("expression".to_string(), k.expr().text.clone())],
            CheckKind::Convex(k) => vec![("expression".to_string(), k.expr().text.clone())],
            CheckKind::Gradient(k) => k.formulas(),
            CheckKind::Chain(k) => k.formulas(),
            CheckKind::Estimator(k) => k.formulas(),
        }
    }

    /// Runs the check's kind.
    pub(crate) fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
    ) -> Result<CheckResult, CheckFailure> {
        match self {
            CheckKind::Equal(k) => k.run(engine, c, seed),
            CheckKind::Bound(k) => k.run(engine, c, seed),
            CheckKind::Limit(k) => k.run(engine, c, seed),
            CheckKind::Monotone(k) => k.run(engine, c, seed),
            CheckKind::Convex(k) => k.run(engine, c, seed),
            CheckKind::Gradient(k) => k.run(engine, c, seed),
            CheckKind::Chain(k) => k.run(engine, c, seed),
            CheckKind::Estimator(k) => k.run(engine, c, seed),
        }
    }

    /// The draws behind the Monte-Carlo side of an `equal` check (for report figures); `None`
    /// for other kinds.
    pub(crate) fn monte_carlo_trace(&self, engine: &Engine, r: &CheckResult) -> Option<McTrace> {
        match self {
            CheckKind::Equal(k) => k.monte_carlo_trace(engine, r),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
