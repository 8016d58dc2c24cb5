//! Exact samplers: categorical from log-weights (discrete variables) and inverse CDF (1D, from quadrature).

use super::{Rng, SampleError};
use rand::RngCore;

/// Uniform on the open interval (0, 1) with 53 random bits (never 0 or 1).
pub(crate) fn open_uniform(rng: &mut Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Exact categorical sampler from unnormalised log-weights (log-sum-exp normalised once).
#[derive(Debug, Clone)]
pub struct Categorical {
    cumulative: Vec<f64>,
    probs: Vec<f64>,
}

impl Categorical {
    /// # Errors
    /// [`SampleError::InvalidParameter`] if a log-weight is NaN or +∞, or all are −∞ (or none given).
    pub fn from_log_weights(log_w: &[f64]) -> Result<Self, SampleError> {
        if let Some(&bad) = log_w.iter().find(|v| v.is_nan() || **v == f64::INFINITY) {
            return Err(SampleError::InvalidParameter {
                name: "log_weight",
                value: bad,
            });
        }
        let max = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !max.is_finite() {
            return Err(SampleError::InvalidParameter {
                name: "log_weight",
                value: max,
            });
        }
        let w: Vec<f64> = log_w.iter().map(|v| (v - max).exp()).collect();
        let total: f64 = w.iter().sum();
        let probs: Vec<f64> = w.iter().map(|v| v / total).collect();
        let mut acc = 0.0;
        let cumulative = probs
            .iter()
            .map(|p| {
                acc += p;
                acc
            })
            .collect();
        Ok(Self { cumulative, probs })
    }

    /// Normalised probabilities.
    pub fn probs(&self) -> &[f64] {
        &self.probs
    }

    /// One draw (an index).
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let u = open_uniform(rng) * total;
        self.cumulative
            .partition_point(|&c| c < u)
            .min(self.probs.len() - 1)
    }
}

/// Exact 1D sampler x = Q(u), u ~ U(0, 1), from a quantile function (e.g. from quadrature).
pub struct InverseCdf<Q> {
    quantile: Q,
}

impl<Q: Fn(f64) -> f64 + Sync> InverseCdf<Q> {
    /// Wraps the quantile function.
    pub fn new(quantile: Q) -> Self {
        Self { quantile }
    }

    /// One draw.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        (self.quantile)(open_uniform(rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{gof, special, test};
    use crate::testing::stats::ALPHA;
    use rand::SeedableRng;

    #[test]
    fn categorical_matches_probabilities() {
        let c = Categorical::from_log_weights(&[0.0, 1.0f64.ln(), 2.0f64.ln(), f64::NEG_INFINITY])
            .expect("valid");
        let mut rng = Rng::seed_from_u64(3);
        let n = 40_000;
        let mut counts = [0.0; 4];
        for _ in 0..n {
            counts[c.sample(&mut rng)] += 1.0;
        }
        assert!(counts[3] < 0.5);
        let r = gof::pearson_chi2(&counts[..3], &c.probs()[..3], 0);
        assert!(r.p_value > ALPHA, "χ² = {} p = {}", r.statistic, r.p_value);
        assert!(Categorical::from_log_weights(&[f64::NEG_INFINITY]).is_err());
        assert!(Categorical::from_log_weights(&[f64::NAN, 0.0]).is_err());
    }

    #[test]
    fn inverse_cdf_gives_normal_draws() {
        let s = InverseCdf::new(special::quantile);
        let mut rng = Rng::seed_from_u64(4);
        let x: Vec<f64> = (0..20_000).map(|_| s.sample(&mut rng)).collect();
        let ks = gof::ks_test(&x, &special::cdf);
        assert!(
            ks.p_value > ALPHA,
            "D = {} p = {}",
            ks.statistic,
            ks.p_value
        );
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let z = test::z_test(mean, (1.0 / x.len() as f64).sqrt(), 0.0);
        assert!(z.p_value > ALPHA, "z = {}", z.z);
    }
}
