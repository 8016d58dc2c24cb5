//! Monte-Carlo estimators for the gradient issue: the single-sample estimator, N-sample (i.i.d.)
//! and MCMC averages with standard errors and effective sample sizes, and CD-k.

use super::chains::rng_for;
use super::{Energy, Kernel, Rng, SampleError, State};
use crate::stats::{StatisticalDecision, ess};
use rayon::prelude::*;

/// A Monte-Carlo estimate with its standard error and effective sample size.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct McAverage {
    /// The average.
    pub estimate: f64,
    /// Monte-Carlo standard error (NaN when it cannot be estimated, e.g. one draw).
    pub mcse: f64,
    /// Effective sample size.
    pub ess: f64,
    /// Sample standard deviation of the values.
    pub sd: f64,
    /// Number of values.
    pub n: usize,
}

impl McAverage {
    /// As the crate's one estimate type: the average with its standard error (∞ when it cannot
    /// be estimated) and ESS (0 when not finite); such an estimate is never converged.
    pub fn to_estimate(&self) -> crate::estimate::Estimate {
        let se = if self.mcse.is_finite() {
            self.mcse
        } else {
            f64::INFINITY
        };
        let ess = if self.ess.is_finite() { self.ess } else { 0.0 };
        let t = if self.mcse.is_finite() {
            crate::estimate::Termination::Converged
        } else {
            crate::estimate::Termination::ErrorNotFinite
        };
        crate::estimate::Estimate::random(self.estimate, 0.0, se, ess, t)
    }
}

/// MCMC average over chains of per-draw values, with the multi-chain ESS and MCSE = sd/√ESS.
pub fn mc_estimate(chains: &[&[f64]]) -> McAverage {
    let n: usize = chains.iter().map(|c| c.len()).sum();
    let estimate = chains.iter().flat_map(|c| c.iter()).sum::<f64>() / n as f64;
    let sd = ess::pooled_sd(chains);
    let e = ess::ess_mean(chains);
    McAverage {
        estimate,
        mcse: sd / e.sqrt(),
        ess: e,
        sd,
        n,
    }
}

/// Average of independent values (N-sample estimator, or replicated single-sample estimators):
/// ESS = N, MCSE = sd/√N.
pub fn iid_estimate(values: &[f64]) -> McAverage {
    let n = values.len();
    let estimate = values.iter().sum::<f64>() / n as f64;
    let sd = ess::pooled_sd(&[values]);
    McAverage {
        estimate,
        mcse: sd / (n as f64).sqrt(),
        ess: n as f64,
        sd,
        n,
    }
}

/// The lecture's single-sample estimator: one value, unbiased, with no standard error.
pub fn single_sample(value: f64) -> McAverage {
    McAverage {
        estimate: value,
        mcse: f64::NAN,
        ess: 1.0,
        sd: f64::NAN,
        n: 1,
    }
}

/// Adds a z-test of `est` against `exact` to a decision (Holm across all checks of a run).
pub fn check_estimate(decision: &mut StatisticalDecision, name: &str, est: &McAverage, exact: f64) {
    decision.add_z_test(name, est.estimate, est.mcse, est.ess, exact);
}

/// Result of [`cd_k`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct CdkResult {
    /// Negative-phase average of g over the k-step states (independent across data points).
    pub estimate: McAverage,
    /// Acceptance rate over all steps.
    pub acceptance: f64,
}

/// Contrastive divergence CD-k negative phase: from each data point run `k` kernel steps (chain
/// i seeded by `rng_for(seed, i)`) and average `g` at the final states.
///
/// # Errors
/// [`SampleError::NoChains`] without data; [`SampleError::Dimension`] for a wrong-size point.
pub fn cd_k(
    target: &dyn Energy,
    kernel: &dyn Kernel,
    data: &[Vec<f64>],
    k: usize,
    g: &(dyn Fn(&[f64]) -> f64 + Sync),
    seed: u64,
) -> Result<CdkResult, SampleError> {
    let (finals, acceptance) = cd_k_states(target, kernel, data, k, seed)?;
    let values: Vec<f64> = finals.iter().map(|y| g(y)).collect();
    Ok(CdkResult {
        estimate: iid_estimate(&values),
        acceptance,
    })
}

/// The final states of CD-k chains: chain `i` starts at `starts[i]` (a data point, with its
/// latents if any), takes `k` kernel steps at unit scale (no warmup, no adaptation: CD-k is
/// defined by its short chains), seeded by `rng_for(seed, i)`. Returns the states and the
/// acceptance rate over all steps (NaN for `k = 0`). The states are independent across chains,
/// so averages over them have ESS = number of chains.
///
/// # Errors
/// [`SampleError::NoChains`] without starts; [`SampleError::Dimension`] for a wrong-size point;
/// [`SampleError::BadInit`] for a start with non-finite energy.
pub fn cd_k_states(
    target: &dyn Energy,
    kernel: &dyn Kernel,
    starts: &[Vec<f64>],
    k: usize,
    seed: u64,
) -> Result<(Vec<Vec<f64>>, f64), SampleError> {
    if starts.is_empty() {
        return Err(SampleError::NoChains);
    }
    if let Some(bad) = starts.iter().find(|y| y.len() != target.dim()) {
        return Err(SampleError::Dimension {
            got: bad.len(),
            want: target.dim(),
        });
    }
    if let Some((chain, energy)) = starts
        .iter()
        .map(|y| target.eval(y))
        .enumerate()
        .find(|(_, e)| !e.is_finite())
    {
        return Err(SampleError::BadInit { chain, energy });
    }
    let out: Vec<(Vec<f64>, usize)> = starts
        .par_iter()
        .enumerate()
        .map(|(i, y)| {
            let mut rng: Rng = rng_for(seed, i as u64);
            let mut state = State::new(target, y.clone());
            let mut acc = 0;
            for _ in 0..k {
                if kernel.step(target, &mut state, 1.0, &mut rng) {
                    acc += 1;
                }
            }
            (state.y, acc)
        })
        .collect();
    let accepted: usize = out.iter().map(|o| o.1).sum();
    let acceptance = if k > 0 {
        accepted as f64 / (k * starts.len()) as f64
    } else {
        f64::NAN
    };
    Ok((out.into_iter().map(|o| o.0).collect(), acceptance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::zoo::GaussianAr1;
    use crate::stats::Verdict;
    use crate::testing::stats::{ALPHA, targets};

    #[test]
    fn cd_k_on_gaussian_matches_closed_form() {
        // sampler-testing.md §3.10: with an exact AR(1) kernel x' = ρx + √(1−ρ²)ξ on N(0,1) and
        // data at a fixed point x, the CD-k negative phase of g(x) = x has mean ρᵏ·x̄_data.
        let t = targets::normal_1d();
        let rho = 0.7;
        let kernel = GaussianAr1 { rho };
        let data: Vec<Vec<f64>> = (0..20_000).map(|_| vec![1.5]).collect();
        for k in [1, 3] {
            let r = cd_k(&t, &kernel, &data, k, &|y| y[0], 9).expect("runs");
            let exact = rho.powi(k as i32) * 1.5;
            let mut d = StatisticalDecision::new(ALPHA, 400.0);
            check_estimate(&mut d, "CD-k negative phase", &r.estimate, exact);
            let out = d.finish();
            assert_eq!(out.verdict, Verdict::Pass, "k={k}: {}", out.summary);
        }
    }

    #[test]
    fn estimators_report_standard_errors() {
        let e = iid_estimate(&[1.0, 2.0, 3.0, 4.0]);
        assert!((e.estimate - 2.5).abs() < 1e-15);
        assert!((e.mcse - (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-15);
        assert!(single_sample(3.0).mcse.is_nan());
    }
}
