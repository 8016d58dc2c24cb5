//! How to fix an input, as data: the library names no command-line flag (it is also called from
//! Python and from Rust), so an error that has an obvious fix carries a [`Remedy`], whose
//! `Display` is the library's neutral wording. The binary words each remedy with its flags
//! (`src/bin/ebmcheck/hints.rs`: `--set`, `--over`, `--data`, `--sampler`).
//!
//! Work budgets are the one exception that is not a variant here: a budget error is raised deep
//! inside every layer, so its wording comes from [`crate::budgets::how_to_raise`], which the
//! binary points at its `--budget` flag once at start-up.

use std::fmt;

/// A fix for an input error, with the names it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Give the parameter `name` a number.
    SetNumber(String),
    /// Give the parameter `name` a list of numbers.
    SetList(String),
    /// `name` is a number where a list is needed: give it a list instead.
    MakeList(String),
    /// Declare the predicted variable (continuous, or an integer range).
    DeclarePredicted,
    /// Declare an unknown name as a variable (predicted or latent), or give it a value.
    DeclareOrSet,
    /// Give the predicted variable `name` its observed values.
    AddData(String),
    /// The sampler cannot handle this many points or variables of this kind.
    Sampler(SamplerFix),
    /// A Monte-Carlo gradient needs an energy without bound operators inside.
    ClosedEnergy,
}

/// Which sampler to choose instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplerFix {
    /// The exact sampler's grid is too large: narrow the integer ranges, or sample the
    /// continuous variables by MCMC.
    NarrowOrMcmc,
    /// The exact sampler takes at most one continuous variable: use an MCMC kernel.
    Mcmc,
    /// MCMC kernels need continuous variables: use the exact sampler for integers.
    Exact,
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remedy::SetNumber(name) => write!(f, "give `{name}` a value"),
            Remedy::SetList(name) => write!(f, "give `{name}` a list of values, such as [1, 2]"),
            Remedy::MakeList(name) => write!(f, "give `{name}` a list, such as [1, 2]"),
            Remedy::DeclarePredicted => write!(
                f,
                "declare a predicted variable (a continuous range, or an integer range)"
            ),
            Remedy::DeclareOrSet => write!(f, "declare it as a variable, or give it a value"),
            Remedy::AddData(name) => write!(f, "give `{name}` its observed values"),
            Remedy::Sampler(SamplerFix::NarrowOrMcmc) => write!(
                f,
                "narrow the integer ranges, or use an MCMC sampler on continuous variables"
            ),
            Remedy::Sampler(SamplerFix::Mcmc) => {
                write!(f, "use an MCMC sampler (Metropolis, MALA or HMC)")
            }
            Remedy::Sampler(SamplerFix::Exact) => {
                write!(f, "use the exact sampler for integer variables")
            }
            Remedy::ClosedEnergy => write!(
                f,
                "a Monte-Carlo gradient takes a closed energy (no integrals inside)"
            ),
        }
    }
}
