//! Monte-Carlo statistics: effective sample size, standard errors, goodness of fit, multiple testing.
//!
//! Everything here is a pure function of numbers (no I/O). The sampler-test battery
//! ([`battery::run_battery`]) combines moment z-tests with autocorrelation-aware standard errors,
//! region-mass tests, KS/AD goodness of fit and R̂ into one Holm-corrected verdict.

pub mod battery;
pub mod draws_csv;
pub mod draws_npy;
pub mod draws_npz;
pub mod ess;
pub mod gof;
pub mod multiple;
pub mod special;
pub mod test;

pub use battery::{
    BatteryJson, BatteryOptions, BatteryReport, Draws, ExactCdf, ExactMoment, ExactRegion,
    Reference, assert_battery_passes, run_battery,
};
pub use draws_csv::{
    CsvDraws, CsvError, CsvErrorKind, CsvOptions, parse_draws_csv, parse_draws_csv_with,
};
pub use draws_npy::{NpyError, parse_draws_npy};
pub use draws_npz::{NpzDraws, NpzError, parse_draws_npz};
pub use test::{Decision, StatisticalDecision, TestOutcome, Verdict};

/// The default family-wise false-alarm rate of every statistical decision of the crate (Holm
/// across the family): the sampler-test battery, the gradient's z-tests and the Monte-Carlo
/// comparisons of a `check` run (`grad::ALPHA` and `check::run::tol::ALPHA` are this constant).
pub const ALPHA: f64 = 1e-3;

/// Below this effective sample size a Monte-Carlo standard error of an average is not trusted:
/// the comparison is inconclusive (`grad::MIN_ESS` and `check::run::tol::MIN_ESS` are this
/// constant). The sampler-test battery, which carries the ESS's own uncertainty into each test,
/// has a lower floor of its own ([`battery::DEFAULT_MIN_ESS`]).
pub const MIN_ESS: f64 = 400.0;

/// Errors of the statistics module (malformed input; statistical outcomes are never errors).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// No chains or no draws.
    #[error("no draws")]
    NoDraws,
    /// The dimension is zero or a chain's length is not a multiple of it.
    #[error("chain {chain} has {len} values, not a multiple of the dimension {dim}")]
    Ragged {
        /// Chain index.
        chain: usize,
        /// Number of values in the chain.
        len: usize,
        /// Declared dimension.
        dim: usize,
    },
    /// `names` does not have one entry per coordinate.
    #[error("{names} coordinate names for dimension {dim}")]
    Names {
        /// Number of names given.
        names: usize,
        /// Declared dimension.
        dim: usize,
    },
    /// An option is out of range.
    #[error("invalid option {name} = {value}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// Offending value.
        value: f64,
    },
}
