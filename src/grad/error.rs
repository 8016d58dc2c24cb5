//! What can go wrong before a gradient exists ([`GradError`]), and the conversion of the
//! engine's errors into it with what was being computed.

use super::*;

/// What can go wrong before a gradient exists: invalid input, an energy that cannot be
/// integrated or compiled. Statistical outcomes are never errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GradError {
    /// The problem is ill-posed (message and an optional hint).
    #[error("{message}")]
    Input {
        /// What is wrong.
        message: String,
        /// How to fix it, in words.
        help: Option<String>,
        /// How to fix it, as data (the binary words it with its flags).
        remedy: Option<Remedy>,
    },
    /// The energy uses names that are neither variables nor parameters with values.
    #[error("the energy uses {} without a value", quoted(.0))]
    UnknownNames(Vec<String>),
    /// Sampling needs the energy as a closed expression (no integrals inside).
    #[error("the energy cannot be compiled for sampling: {message}")]
    NotClosed {
        /// Why it cannot be compiled.
        message: String,
    },
    /// A numeric step (quadrature, minimisation, difference) refused.
    #[error("{what}: {message}")]
    Numeric {
        /// Which quantity.
        what: String,
        /// The numeric module's message.
        message: String,
        /// Where in the energy's text the failing node is, when the engine named a node of it
        /// (the spans of [`GradProblem::energy`]; generated text around it has none).
        span: Option<Span>,
    },
    /// A bug: an internal invariant does not hold.
    #[error("internal: {0}")]
    Internal(String),
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl GradError {
    pub(super) fn input(message: impl Into<String>) -> Self {
        GradError::Input {
            message: message.into(),
            help: None,
            remedy: None,
        }
    }

    pub(super) fn input_help(message: impl Into<String>, help: impl Into<String>) -> Self {
        GradError::Input {
            message: message.into(),
            help: Some(help.into()),
            remedy: None,
        }
    }

    pub(crate) fn input_remedy(message: impl Into<String>, remedy: Remedy) -> Self {
        GradError::Input {
            message: message.into(),
            help: Some(remedy.to_string()),
            remedy: Some(remedy),
        }
    }

    /// The fix as data, when there is one (the binary words it with its flags).
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            GradError::Input { remedy, .. } => remedy.clone(),
            GradError::UnknownNames(_) => Some(Remedy::DeclareOrSet),
            GradError::NotClosed { .. } => Some(Remedy::ClosedEnergy),
            GradError::Numeric { .. } | GradError::Internal(_) => None,
        }
    }

    /// A hint on how to fix the input, when there is one.
    pub fn help(&self) -> Option<String> {
        match self {
            GradError::Input { help, .. } => help.clone(),
            GradError::UnknownNames(_) => Some(Remedy::DeclareOrSet.to_string()),
            GradError::NotClosed { .. } => Some(Remedy::ClosedEnergy.to_string()),
            GradError::Numeric { message, .. } if message.contains("diverges") => Some(
                "exp(-beta*E) must be integrable: the energy must grow in every direction of the domain"
                    .into(),
            ),
            GradError::Numeric { .. } | GradError::Internal(_) => None,
        }
    }
}

pub(crate) fn engine_error(e: &impl std::fmt::Display, what: &str) -> GradError {
    GradError::Numeric {
        what: what.to_string(),
        message: e.to_string(),
        span: None,
    }
}

/// An engine error with its place in the energy's text, when it has one: the loss and the
/// gradients are generated text whose nodes carry the empty span, and the energy inlined into
/// them keeps its own ([`Context::keep_spans_of`]).
pub(crate) fn engine_error_at(e: &crate::engine::EngineError, what: &str) -> GradError {
    GradError::Numeric {
        what: what.to_string(),
        message: e.to_string(),
        span: e.span.filter(|s| s.end > s.start),
    }
}
