//! What can go wrong while evaluating: [`EngineError`], and quadrature errors in the user's
//! words (variables by name).

use crate::expr::{self, EvalError, Expr, Span};
use crate::quad;

/// What kind of failure an [`EngineError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineErrorKind {
    /// An expression error (unknown variable, wrong use of a list, …).
    Expr,
    /// The expression has no real value at the point (`log` of a negative number, `0/0`, …).
    NoRealValue,
    /// The quadrature or minimiser refused (a divergent integral, NaN energy, …).
    Numeric,
    /// A construct the engine cannot evaluate here.
    Unsupported,
    /// An integral diverges (the direction is in the message).
    Diverges,
    /// A work budget ran out (its name and how to raise it are in the message).
    Budget,
    /// A certified value was asked for ([`super::EngineOptions::certify`]) and the construct has
    /// none (the message says why).
    NotCertified,
}

/// What went wrong while evaluating (`kind` and `message`), where (`span`: the part of the
/// evaluated expression that failed, in bytes of the text it was parsed from; definitions
/// inlined into it point at their call), and how to fix it (`help`, where the engine knows).
/// Its display is the message alone; callers place the span and the help (`eval` draws a
/// caret, `check` names the file, line and column).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    /// What kind of failure.
    pub kind: EngineErrorKind,
    /// What failed, a lowercase sentence without trailing period.
    pub message: String,
    /// Where: the innermost node known to have failed (a bound operator, or the operation an
    /// expression error names); `None` when no node of the user's text is to blame.
    pub span: Option<Span>,
    /// The likely fix.
    pub help: Option<String>,
}

impl EngineError {
    /// An error of `kind` with `message`, not yet placed.
    pub fn new(kind: EngineErrorKind, message: impl Into<String>) -> Self {
        EngineError {
            kind,
            message: message.into(),
            span: None,
            help: None,
        }
    }

    /// [`EngineErrorKind::Expr`].
    pub fn expr(message: impl Into<String>) -> Self {
        Self::new(EngineErrorKind::Expr, message)
    }

    /// [`EngineErrorKind::NoRealValue`].
    pub fn no_real_value(message: impl Into<String>) -> Self {
        Self::new(EngineErrorKind::NoRealValue, message)
    }

    /// [`EngineErrorKind::Numeric`].
    pub fn numeric(message: impl Into<String>) -> Self {
        Self::new(EngineErrorKind::Numeric, message)
    }

    /// [`EngineErrorKind::Unsupported`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(EngineErrorKind::Unsupported, message)
    }

    /// [`EngineErrorKind::Diverges`].
    pub fn diverges(message: impl Into<String>) -> Self {
        Self::new(EngineErrorKind::Diverges, message)
    }

    /// [`EngineErrorKind::Budget`].
    pub fn budget(message: impl Into<String>) -> Self {
        Self::new(EngineErrorKind::Budget, message)
    }

    /// [`EngineErrorKind::NotCertified`].
    pub fn not_certified(message: impl Into<String>) -> Self {
        Self::new(EngineErrorKind::NotCertified, message)
    }

    /// Places the error at `span` unless it is placed already (an inner node is the more
    /// precise place) or `span` is empty (a node the engine built, with no text behind it).
    #[must_use]
    pub fn at(mut self, span: Span) -> Self {
        if self.span.is_none() && span.end > span.start {
            self.span = Some(span);
        }
        self
    }

    /// Adds the likely fix, unless one is known already.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        if self.help.is_none() {
            self.help = Some(help.into());
        }
        self
    }

    /// The error of an integral of a plain integrand `f` (not `exp(-U)` alone), which the
    /// quadrature integrates as `sign(f)·exp(-U)` with `U = -log|f|`: its words about `exp(-βE)`
    /// and the energy are put in terms of `|f|`.
    #[must_use]
    pub(crate) fn in_integrand_words(mut self) -> Self {
        if self.kind != EngineErrorKind::Diverges {
            return self;
        }
        fn words(s: &str) -> String {
            s.replace("the partition function diverges", "the integral diverges")
                .replace("the energy falls to -inf", "|f| grows without bound")
                .replace("exp(-βE)", "|f|")
                .replace(
                    "or check the sign: exp(-energy) must decay",
                    "or check the integrand: |f| must be integrable",
                )
                .replace("does not decay as", "does not decay integrably as")
        }
        self.message = words(&self.message);
        self.help = self.help.as_deref().map(words);
        self
    }
}

/// A quadrature error as an engine error: a divergent integral keeps its own kind (a chain
/// line that diverges fails its step rather than stopping the check).
pub(super) fn quad_error(e: quad::QuadError) -> EngineError {
    match e {
        quad::QuadError::Diverges { .. } => EngineError::diverges(e.to_string()),
        other => EngineError::numeric(other.to_string()),
    }
}

/// An expression error keeps its place and its help. Its kind is [`EngineErrorKind::Expr`]
/// (a caller that tells "no real value" apart maps it itself, as top-level evaluation does).
impl From<EvalError> for EngineError {
    fn from(e: EvalError) -> Self {
        EngineError {
            kind: EngineErrorKind::Expr,
            message: e.message,
            span: None,
            help: e.help,
        }
        .at(e.span)
    }
}

/// `Ok` while the evaluation at this point is within its time budget
/// ([`crate::budgets::check_point_clock`]); the error names `node`.
pub(super) fn point_clock(node: &Expr) -> Result<(), EngineError> {
    crate::budgets::check_point_clock("").map_err(|e| {
        EngineError::budget(format!(
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
        // `z1 → +inf`, `z1 -> inf`, and a point `near z1 = 0.3`.
        for arrow in [" →", " ->", " ="] {
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
