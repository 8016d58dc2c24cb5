//! Test support for the `stats` and `sample` modules: tolerances, reference targets and exact references.

/// Named tolerances.
pub mod tol {
    /// Relative accuracy required of the normal CDF, survival function and quantile.
    pub const NORMAL_REL: f64 = 1e-14;
}

/// Relative error of `got` against `want` (absolute when `want` is 0).
pub fn rel_err(got: f64, want: f64) -> f64 {
    if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    }
}
