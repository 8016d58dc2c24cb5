//! Replicated Monte-Carlo estimators for claim C12: the single-sample estimator and N-sample
//! averages run many times from independent seeds, with the spread of each and the fitted rate
//! at which the spread falls with N.

use rayon::prelude::*;

use crate::quad::Cdf1d;
use crate::sample::{McAverage, Rng, iid_estimate, rng_for};

/// Points of the bracketing table of [`FastQuantile`].
const TABLE: usize = 2048;
/// Illinois iterations are stopped when the bracket is this small relative to max(1, |x|).
const X_TOL: f64 = 1e-13;

/// The quantile of a tabulated CDF found by a table lookup and Illinois (modified regula falsi)
/// steps on [`Cdf1d::cdf`]: the same answer as [`Cdf1d::quantile`]'s bisection to ~1e-13,
/// in about a tenth of the CDF evaluations, for the many draws of replicated estimators.
pub struct FastQuantile<'a> {
    cdf: &'a Cdf1d,
    xs: Vec<f64>,
    fs: Vec<f64>,
}

impl<'a> FastQuantile<'a> {
    /// Tabulates `cdf` at the quantiles of `TABLE` equally spaced probabilities.
    pub fn new(cdf: &'a Cdf1d) -> Self {
        let (lo, hi) = cdf.support();
        let mut xs = Vec::with_capacity(TABLE + 1);
        xs.push(lo);
        for j in 1..TABLE {
            xs.push(cdf.quantile(j as f64 / TABLE as f64));
        }
        xs.push(hi);
        xs.dedup_by(|a, b| a <= b);
        let fs = xs.iter().map(|x| cdf.cdf(*x)).collect();
        FastQuantile { cdf, xs, fs }
    }

    /// The smallest x with F(x) ≥ u, to a relative tolerance of ~1e-13.
    pub fn quantile(&self, u: f64) -> f64 {
        let j = self
            .fs
            .partition_point(|f| *f < u)
            .clamp(1, self.xs.len() - 1);
        let (mut a, mut b) = (self.xs[j - 1], self.xs[j]);
        let (mut fa, mut fb) = (self.fs[j - 1] - u, self.fs[j] - u);
        if fa >= 0.0 {
            return a;
        }
        let mut side = 0;
        for _ in 0..100 {
            if (b - a).abs() <= X_TOL * a.abs().max(b.abs()).max(1.0) {
                break;
            }
            let mut c = if fb > fa {
                a - fa * (b - a) / (fb - fa)
            } else {
                0.5 * (a + b)
            };
            if !(c > a && c < b) {
                c = 0.5 * (a + b);
            }
            let fc = self.cdf.cdf(c) - u;
            if fc < 0.0 {
                a = c;
                fa = fc;
                if side == -1 {
                    fb *= 0.5;
                }
                side = -1;
            } else {
                b = c;
                fb = fc;
                if side == 1 {
                    fa *= 0.5;
                }
                side = 1;
            }
        }
        b
    }
}

/// The replicated averages of one sample size.
#[derive(Debug, Clone)]
pub struct SizeResult {
    /// Draws per average.
    pub n: usize,
    /// The mean of the replicated averages, with its standard error (ESS = replicates).
    pub mean: McAverage,
    /// The standard deviation of the averages across replicates (`σ/√n` for an unbiased
    /// estimator of spread σ).
    pub spread: f64,
    /// Standard error of `ln spread` (delta method with the replicates' fourth moment, so it
    /// holds for non-normal averages too).
    pub log_spread_se: f64,
}

/// The result of [`replicate_averages`].
#[derive(Debug, Clone)]
pub struct RateFit {
    /// One entry per sample size.
    pub sizes: Vec<SizeResult>,
    /// Least-squares slope of `ln spread` against `ln n` (−1/2 for the 1/√N law); NaN with
    /// fewer than two sizes.
    pub exponent: f64,
    /// Its standard error, from the independent `ln spread` errors.
    pub exponent_se: f64,
}

/// Runs the N-sample average of `draw` (one value of the single-sample estimator per call)
/// `replicates` times for each `N` in `sizes`; replicate `r` of size index `i` uses the stream
/// `rng_for(seed, i·replicates + r)`, so the result does not depend on the thread count.
pub fn replicate_averages(
    draw: &(dyn Fn(&mut Rng) -> f64 + Sync),
    sizes: &[usize],
    replicates: usize,
    seed: u64,
) -> RateFit {
    let results: Vec<SizeResult> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let averages: Vec<f64> = (0..replicates)
                .into_par_iter()
                .map(|r| {
                    let mut rng = rng_for(seed, (i * replicates + r) as u64);
                    (0..n).map(|_| draw(&mut rng)).sum::<f64>() / n as f64
                })
                .collect();
            let mean = iid_estimate(&averages);
            let m = mean.estimate;
            let r = replicates as f64;
            let s2 = mean.sd * mean.sd;
            let m4 = averages.iter().map(|a| (a - m).powi(4)).sum::<f64>() / r;
            // Var(s²) ≈ (μ₄ − σ⁴(R − 3)/(R − 1))/R; ln s = ½ ln s².
            let var_s2 = ((m4 - s2 * s2 * (r - 3.0) / (r - 1.0)) / r).max(0.0);
            SizeResult {
                n,
                mean,
                spread: mean.sd,
                log_spread_se: 0.5 * var_s2.sqrt() / s2,
            }
        })
        .collect();
    let (exponent, exponent_se) = fit_exponent(&results);
    RateFit {
        sizes: results,
        exponent,
        exponent_se,
    }
}

/// Ordinary least squares of `ln spread` on `ln n`, with the slope's standard error from the
/// per-point errors (independent replicates across sizes).
fn fit_exponent(sizes: &[SizeResult]) -> (f64, f64) {
    if sizes.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let x: Vec<f64> = sizes.iter().map(|s| (s.n as f64).ln()).collect();
    let y: Vec<f64> = sizes.iter().map(|s| s.spread.ln()).collect();
    let k = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / k, y.iter().sum::<f64>() / k);
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let slope = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / sxx;
    let var = x
        .iter()
        .zip(sizes)
        .map(|(a, s)| (a - mx).powi(2) * s.log_spread_se.powi(2))
        .sum::<f64>()
        / (sxx * sxx);
    (slope, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::special;
    use crate::testing::stats::ALPHA;
    use rand_distr::{Distribution, Exp1};

    #[test]
    fn fast_quantile_agrees_with_bisection() {
        let e = crate::quad::FnEnergy::new(1, |y: &[f64]| (y[0] * y[0] - 1.0).powi(2) + 0.3 * y[0]);
        let cdf = Cdf1d::new(&e, f64::NEG_INFINITY, f64::INFINITY, 2.0).expect("tabulates");
        let fast = FastQuantile::new(&cdf);
        for k in 1..1000 {
            let u = k as f64 / 1000.0 - 3.7e-4;
            let (a, b) = (fast.quantile(u), cdf.quantile(u));
            assert!(
                (a - b).abs() < 1e-11 * b.abs().max(1.0),
                "u = {u}: {a} vs {b}"
            );
        }
    }

    #[test]
    fn the_spread_of_averages_falls_like_one_over_root_n() {
        // Exponential draws (skewed, σ = 1, mean 1): the fitted exponent is −1/2 within its
        // standard error, and each mean is 1 within its standard error.
        let draw = |rng: &mut Rng| -> f64 { Exp1.sample(rng) };
        let fit = replicate_averages(&draw, &[1, 4, 16, 64], 2000, 3);
        let crit = special::quantile(1.0 - ALPHA / 2.0);
        let z = (fit.exponent + 0.5) / fit.exponent_se;
        assert!(
            z.abs() < crit,
            "exponent {} ± {}",
            fit.exponent,
            fit.exponent_se
        );
        for s in &fit.sizes {
            let z = (s.mean.estimate - 1.0) / s.mean.mcse;
            assert!(z.abs() < crit, "n = {}: z = {z}", s.n);
        }
    }
}
