//! Test support for the `stats` and `sample` modules: tolerances, reference targets and exact references.

/// Named tolerances.
pub mod tol {
    /// Relative accuracy required of the normal CDF, survival function and quantile.
    pub const NORMAL_REL: f64 = 1e-14;
    /// Relative error allowed for one ESS estimate against the AR(1) truth (the estimator's own
    /// relative sd at S = 10⁵, τ = 19 is about 4 %; 15 % is > 3 sd).
    pub const ESS_REL_ONE: f64 = 0.15;
    /// Relative error allowed for the average ESS over five seeds.
    pub const ESS_REL_AVG: f64 = 0.07;
}

/// Relative error of `got` against `want` (absolute when `want` is 0).
pub fn rel_err(got: f64, want: f64) -> f64 {
    if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    }
}

/// AR(1) chains x_t = φ x_{t−1} + √(1−φ²) ξ_t with unit marginal variance, started stationary.
pub fn ar1_chains(phi: f64, m: usize, n: usize, seed: u64) -> Vec<Vec<f64>> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let s = (1.0 - phi * phi).sqrt();
    (0..m)
        .map(|_| {
            let mut x: f64 = StandardNormal.sample(&mut rng);
            (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    x = phi * x + s * z;
                    x
                })
                .collect()
        })
        .collect()
}

/// Family-wise false-alarm rate of the statistical tests in this crate's own test suite.
pub const ALPHA: f64 = 1e-3;
