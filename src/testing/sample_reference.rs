//! Test-only tolerances and closed forms for `sample::reference` (exact references by quadrature).

use crate::stats::special;

/// Absolute tolerance of reference moments against closed forms (quadrature target 1e-7).
pub const MOMENT_ABS: f64 = 1e-6;
/// Mass error from printing bin edges with 6 decimals in their names (density ≤ 0.4, two edges).
pub const BIN_NAME_ROUNDING: f64 = 1e-6;
/// Number of energies at which the tabulated CDF of E is checked against its closed form.
pub const E_CDF_CHECK_POINTS: usize = 400;

/// The edges `(LO, HI)` of a bin from its name `bin k of NAME (LO < NAME <= HI)`; NaN when the
/// name does not have that form.
pub fn bin_edges(name: &str) -> (f64, f64) {
    let inner = name
        .split_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap_or("");
    let parts: Vec<&str> = inner.split_whitespace().collect();
    let num = |s: &str| match s {
        "-inf" => f64::NEG_INFINITY,
        "inf" => f64::INFINITY,
        t => t.parse().unwrap_or(f64::NAN),
    };
    if parts.len() == 5 {
        (num(parts[0]), num(parts[4]))
    } else {
        (f64::NAN, f64::NAN)
    }
}

/// Closed-form mass of a bin named `bin k of a (LO < a <= HI)` under N(0, 1).
pub fn region_mass(name: &str) -> f64 {
    let (lo, hi) = bin_edges(name);
    special::cdf(hi) - special::cdf(lo)
}
