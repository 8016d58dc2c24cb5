//! Derivation files, validated: the types a loaded file is made of (checks, their kinds, test
//! points, relations). Loading lives beside it: `raw` (what serde reads, with spans), `validate`
//! ([`load_str`]: every field checked, every expression parsed) and `source` (file:line:column
//! diagnostics).

use std::collections::BTreeMap;

pub use super::source::{Location, SpecError, SpecErrorKind};
pub use super::validate::load_str;
use crate::expr::{Expr, Span};

/// An expression from a derivation file, with its text and where it starts.
#[derive(Debug, Clone)]
pub struct SourceExpr {
    /// The parsed expression.
    pub expr: Expr,
    /// The text as written.
    pub text: String,
    /// Where the text starts in the file.
    pub location: Location,
    /// Whether the text stands in the file as written (no escape sequences), so that a byte of
    /// it maps to a line and column of the file ([`SourceExpr::location_of`]).
    pub(crate) verbatim: bool,
}

impl SourceExpr {
    /// Where in the file the part `span` of the expression's text stands (a span from parsing or
    /// evaluating [`SourceExpr::expr`]); the start of the text when the text is not verbatim
    /// (escape sequences) or the span lies outside it.
    pub fn location_of(&self, span: Span) -> Location {
        let Some(before) = self.text.get(..span.start).filter(|_| self.verbatim) else {
            return self.location.clone();
        };
        let (line, column) = match before.rfind('\n') {
            Some(nl) => (
                self.location.line + before.matches('\n').count(),
                before[nl + 1..].chars().count() + 1,
            ),
            None => (
                self.location.line,
                self.location.column + before.chars().count(),
            ),
        };
        Location {
            path: self.location.path.clone(),
            line,
            column,
        }
    }
}

pub use crate::domain::{ParamValue, VarDomain};

/// How a test-point coordinate is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum PointRange {
    /// Uniform on `lo..hi`.
    Uniform(f64, f64),
    /// Log-uniform on `lo..hi` (both positive).
    LogUniform(f64, f64),
    /// Uniform over the integers `lo..=hi`.
    Integer(i64, i64),
    /// Always this value.
    Fixed(f64),
    /// Cycles through the listed values.
    Values(Vec<f64>),
}

/// Where a check's test points come from.
#[derive(Debug, Clone, Default)]
pub struct PointSpec {
    /// Ranges for random draws, by variable.
    pub ranges: BTreeMap<String, PointRange>,
    /// Explicitly listed points (each a full assignment of the named variables).
    pub listed: Vec<BTreeMap<String, f64>>,
    /// How many random points to draw (default 5).
    pub count: usize,
}

/// Relation between two sides of a `bound` check or two lines of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Relation {
    /// `=`
    #[serde(rename = "=")]
    Equal,
    /// `≈` / `~`: judged statistically (Monte Carlo).
    #[serde(rename = "~")]
    Approx,
    /// `→` / `->`: a limit step.
    #[serde(rename = "->")]
    Limit,
    /// `≤` / `<=`
    #[serde(rename = "<=")]
    LessEq,
    /// `≥` / `>=`
    #[serde(rename = ">=")]
    GreaterEq,
}

impl Relation {
    /// Parses `=`, `≈`/`~`, `→`/`->`, `≤`/`<=`, `≥`/`>=`.
    pub fn parse(s: &str) -> Option<Relation> {
        match s.trim() {
            "=" | "==" => Some(Relation::Equal),
            "≈" | "~" => Some(Relation::Approx),
            "→" | "->" => Some(Relation::Limit),
            "≤" | "<=" => Some(Relation::LessEq),
            "≥" | ">=" => Some(Relation::GreaterEq),
            _ => None,
        }
    }

    /// The ASCII spelling used in JSON.
    pub fn ascii(self) -> &'static str {
        match self {
            Relation::Equal => "=",
            Relation::Approx => "~",
            Relation::Limit => "->",
            Relation::LessEq => "<=",
            Relation::GreaterEq => ">=",
        }
    }
}

/// Where a limit is taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LimitPoint {
    /// `+inf`
    PosInf,
    /// `-inf`
    NegInf,
    /// A finite value.
    Value(f64),
}

/// Direction of a `monotone` check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Strictly increasing.
    Increasing,
    /// Non-decreasing.
    NonDecreasing,
    /// Strictly decreasing.
    Decreasing,
    /// Non-increasing.
    NonIncreasing,
}

pub use super::kinds::chain::{Chain, ChainLine};
pub use super::kinds::compare::{Bound, Equal};
pub use super::kinds::estimator::{Estimator, EstimatorSpec};
pub use super::kinds::gradient::Gradient;
pub use super::kinds::limit::Limit;
pub use super::kinds::shape::{Convex, Monotone};

/// What a check asserts, by kind. Each kind's type has private fields and is built only by
/// [`load_str`]'s validation (`check::kinds`), so every kind a program holds is a valid one.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// Two expressions agree at every test point.
    Equal(Equal),
    /// `lhs ≤ rhs` or `lhs ≥ rhs` at every test point.
    Bound(Bound),
    /// `expr → target` as `var → to`, on a ladder of values, optionally at a given rate.
    Limit(Limit),
    /// `expr` is monotone in `var` on `range`.
    Monotone(Monotone),
    /// `expr` is convex (or concave) in `var` on `range`.
    Convex(Convex),
    /// The exact ML gradient against finite differences of the loss and its symbolic derivative.
    Gradient(Gradient),
    /// A derivation line by line.
    Chain(Chain),
    /// A Monte-Carlo estimator of `⟨of⟩` under `exp(−energy)` over `var`, run many times and
    /// judged statistically (claim C12): unbiased, converging at `1/√N`, or CD-k's known bias.
    Estimator(Estimator),
}

/// One check of a derivation file.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// Its name.
    pub name: String,
    /// The claim id it covers (`C1`…`C13`).
    pub claim: String,
    /// What it asserts.
    pub kind: CheckKind,
    /// Its test points (file defaults merged with its own).
    pub points: PointSpec,
    /// Where its `[[check]]` table starts.
    pub location: Location,
    /// Whether its values must be certified (`certify = true`): every integral is computed as a
    /// certified enclosure of `log Z`, and a value that cannot be certified is an error.
    pub certify: bool,
}

/// A parsed user definition `name(params) = body`.
#[derive(Debug, Clone)]
pub struct DefinitionSpec {
    /// The function's name.
    pub name: String,
    /// Parameter names.
    pub params: Vec<String>,
    /// The body.
    pub body: SourceExpr,
}

/// A loaded, validated derivation file.
#[derive(Debug, Clone)]
pub struct DerivationFile {
    /// Path as given.
    pub path: String,
    /// Title.
    pub title: String,
    /// Where the claims come from.
    pub source: Option<String>,
    /// Seed for this file's random test points (mixed with the run's seed).
    pub seed: Option<u64>,
    /// Parameters by name.
    pub parameters: BTreeMap<String, ParamValue>,
    /// Declared variables and their domains.
    pub variables: BTreeMap<String, VarDomain>,
    /// Definitions, in dependency order.
    pub definitions: Vec<DefinitionSpec>,
    /// The checks, in file order.
    pub checks: Vec<CheckSpec>,
}
