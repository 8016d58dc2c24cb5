//! What can go wrong while evaluating: [`EngineError`], and quadrature errors in the user's
//! words (variables by name).

use crate::expr::{self, EvalError, Expr};
use crate::quad;

/// What can go wrong while evaluating.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// An expression error (unknown variable, wrong use of a list, …).
    #[error("{0}")]
    Expr(String),
    /// The expression has no real value at the point (`log` of a negative number, `0/0`, …).
    #[error("{0}")]
    NoRealValue(String),
    /// The quadrature or minimiser refused (a divergent integral, NaN energy, …).
    #[error("{0}")]
    Numeric(String),
    /// A construct the engine cannot evaluate here.
    #[error("{0}")]
    Unsupported(String),
    /// An integral diverges (the direction is in the message).
    #[error("{0}")]
    Diverges(String),
    /// A work budget ran out (its name and how to raise it are in the message).
    #[error("{0}")]
    Budget(String),
}

/// A quadrature error as an engine error: a divergent integral keeps its own variant (a chain
/// line that diverges fails its step rather than stopping the check).
pub(super) fn quad_error(e: quad::QuadError) -> EngineError {
    match e {
        quad::QuadError::Diverges { .. } => EngineError::Diverges(e.to_string()),
        other => EngineError::Numeric(other.to_string()),
    }
}

impl From<EvalError> for EngineError {
    fn from(e: EvalError) -> Self {
        EngineError::Expr(e.message)
    }
}

/// `Ok` while the evaluation at this point is within its time budget
/// ([`crate::budgets::check_point_clock`]); the error names `node`.
pub(super) fn point_clock(node: &Expr) -> Result<(), EngineError> {
    crate::budgets::check_point_clock("").map_err(|e| {
        EngineError::Budget(format!(
            "evaluating `{}` at this point took more than {} s, its time budget `{}`; {}",
            crate::expr::excerpt(&node.to_string(), 60),
            e.limit,
            e.budget.name(),
            e.help()
        ))
    })
}

/// A quadrature error in the user's words: variables by name (the quadrature numbers them
/// `z1, z2, …`), and for a minimisation no talk of a partition function.
pub fn named_quad_error(e: &quad::QuadError, names: &[String], minimising: bool) -> String {
    if let quad::QuadError::NotANumber { point } = e {
        let at: Vec<String> = point
            .iter()
            .enumerate()
            .map(|(i, x)| match names.get(i) {
                Some(n) => format!("{n} = {}", expr::format_number(*x)),
                None => expr::format_number(*x),
            })
            .collect();
        return format!("the energy is not a number (NaN) at {}", at.join(", "));
    }
    let mut msg = e.to_string();
    // Highest index first, so that `z1` does not match inside `z12`.
    for (i, n) in names.iter().enumerate().rev() {
        for arrow in [" →", " ->"] {
            msg = msg.replace(&format!("z{}{arrow}", i + 1), &format!("`{n}`{arrow}"));
        }
    }
    if minimising {
        msg = msg.replace(
            "the partition function diverges",
            "the minimum does not exist",
        );
    }
    msg
}
