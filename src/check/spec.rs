//! Derivation files, validated: the types a loaded file is made of (checks, their kinds, test
//! points, relations). Loading lives beside it: `raw` (what serde reads, with spans), `validate`
//! ([`load_str`]: every field checked, every expression parsed) and `source` (file:line:column
//! diagnostics).

use std::collections::BTreeMap;

pub use super::source::{Location, SpecError, SpecErrorKind};
pub use super::validate::load_str;
use crate::expr::Expr;

/// An expression from a derivation file, with its text and where it starts.
#[derive(Debug, Clone)]
pub struct SourceExpr {
    /// The parsed expression.
    pub expr: Expr,
    /// The text as written.
    pub text: String,
    /// Where the text starts in the file.
    pub location: Location,
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

/// One line of a chain.
#[derive(Debug, Clone)]
pub struct ChainLine {
    /// The line's expression.
    pub expr: SourceExpr,
    /// Relation to the next line (ignored on the last line).
    pub relation: Relation,
    /// The rule applied, as written.
    pub note: Option<String>,
    /// For a `→` step: the variable and where it tends.
    pub limit: Option<(String, LimitPoint)>,
}

/// What a check asserts, by kind.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// Two expressions agree at every test point.
    Equal {
        /// Left side.
        lhs: SourceExpr,
        /// Right side.
        rhs: SourceExpr,
        /// Extra absolute tolerance on top of the propagated numerical errors.
        tolerance: Option<f64>,
    },
    /// `lhs ≤ rhs` or `lhs ≥ rhs` at every test point.
    Bound {
        /// Left side.
        lhs: SourceExpr,
        /// `<=` or `>=`.
        relation: Relation,
        /// Right side.
        rhs: SourceExpr,
        /// Extra absolute tolerance.
        tolerance: Option<f64>,
    },
    /// `expr → target` as `var → to`, on a ladder of values, optionally at a given rate.
    Limit {
        /// The expression that tends to the target.
        expr: SourceExpr,
        /// The variable that moves.
        var: String,
        /// Where the variable goes.
        to: LimitPoint,
        /// The limit value.
        target: SourceExpr,
        /// How `expr - target` behaves, if claimed.
        rate: Option<SourceExpr>,
        /// Values of `var`, approaching `to`.
        ladder: Vec<f64>,
        /// Tolerance on the last rung (without a rate).
        tolerance: Option<f64>,
    },
    /// `expr` is monotone in `var` on `range`.
    Monotone {
        /// The expression.
        expr: SourceExpr,
        /// The variable.
        var: String,
        /// The range of the variable.
        range: (f64, f64),
        /// Claimed direction.
        direction: Direction,
    },
    /// `expr` is convex (or concave) in `var` on `range`.
    Convex {
        /// The expression.
        expr: SourceExpr,
        /// The variable.
        var: String,
        /// The range of the variable.
        range: (f64, f64),
        /// `true` for concave.
        concave: bool,
    },
    /// The exact ML gradient against finite differences of the loss and its symbolic derivative.
    Gradient {
        /// The loss.
        loss: SourceExpr,
        /// The parameter.
        wrt: String,
        /// The claimed exact gradient.
        exact: SourceExpr,
    },
    /// A derivation line by line.
    Chain {
        /// The lines, in order.
        lines: Vec<ChainLine>,
    },
    /// A Monte-Carlo estimator of `⟨of⟩` under `exp(−energy)` over `var`, run many times and
    /// judged statistically (claim C12): unbiased, converging at `1/√N`, or CD-k's known bias.
    Estimator {
        /// Which estimator and what is claimed of it.
        estimator: EstimatorSpec,
        /// The sampled variable (real line).
        var: String,
        /// `U` with the density ∝ exp(−U) (β folded in).
        energy: SourceExpr,
        /// The averaged observable.
        of: SourceExpr,
        /// The exact expectation `⟨of⟩`.
        exact: SourceExpr,
        /// Independent replicates of the estimator (CD-k: chains).
        replicates: usize,
    },
}

/// The estimator of an `estimator` check, and what its check claims.
#[derive(Debug, Clone)]
pub enum EstimatorSpec {
    /// One exact draw per replicate: the mean of the replicates equals the exact value.
    Single,
    /// The average of `N` exact draws for each `N` of `sizes`: unbiased at every `N`, and its
    /// spread across replicates falls like `N^(-1/2)`.
    Average {
        /// The sample sizes, increasing.
        sizes: Vec<usize>,
    },
    /// CD-k: chains started at `start` take `k` unadjusted-Langevin steps of size `step`; the
    /// average of `of` at their final states equals `predicted` and differs from `exact`.
    Cd {
        /// Kernel steps.
        k: usize,
        /// The starting point (the data point).
        start: Box<SourceExpr>,
        /// The Langevin time step.
        step: f64,
        /// The claimed (biased) value.
        predicted: Box<SourceExpr>,
    },
}

impl CheckKind {
    /// The kind's name as written in files and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Equal { .. } => "equal",
            CheckKind::Bound { .. } => "bound",
            CheckKind::Limit { .. } => "limit",
            CheckKind::Monotone { .. } => "monotone",
            CheckKind::Convex { .. } => "convex",
            CheckKind::Gradient { .. } => "gradient",
            CheckKind::Chain { .. } => "chain",
            CheckKind::Estimator { .. } => "estimator",
        }
    }
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
