//! The `sampler-test` command as a library call: [`sampler_test`] and [`judge_draws`] compute the
//! exact reference of an energy and judge draws against it with the battery; [`test_draws`] and
//! [`test_kernel`] do the same for draws in memory and for a kernel run here; the outcome renders
//! its JSON ([`SamplerTestOutcome::to_json`]).

use super::*;

/// The outcome of `ebmcheck sampler-test`: the exact reference, the battery's report on the
/// draws, and the family-wise α of the verdict. The command is [`sampler_test`]; its JSON is
/// [`SamplerTestOutcome::to_json`].
#[derive(Debug, Clone)]
pub struct SamplerTestOutcome {
    /// Family-wise false-alarm rate of the verdict (Holm across all tests).
    pub alpha: f64,
    /// The exact reference the draws were judged against, with its errors and notes.
    pub exact: QuadReference,
    /// The battery's tests and verdict.
    pub report: BatteryReport,
}

impl SamplerTestOutcome {
    /// Whether the verdict is `pass`.
    pub fn passed(&self) -> bool {
        self.report.verdict == crate::stats::Verdict::Pass
    }

    /// The documented JSON of `ebmcheck sampler-test --format json` (`"schema": 1`): the battery's
    /// fields (`verdict`, `n`, `ess`, `rhat`, `tests`, `reasons`, `summary`), then `alpha` and
    /// `reference` (the errors of the exact values, the quadrature status and the notes). It holds
    /// no timings, so the same input gives the same bytes.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(OutcomeJson {
            battery: self.report.json(),
            alpha: self.alpha,
            reference: self.exact.json(),
        })
        .unwrap_or(serde_json::Value::Null)
    }
}

/// [`SamplerTestOutcome::to_json`]'s fields (a JSON value sorts them).
#[derive(serde::Serialize)]
struct OutcomeJson<'a> {
    #[serde(flatten)]
    battery: crate::stats::BatteryJson<'a>,
    alpha: f64,
    reference: ReferenceJson<'a>,
}

/// The `reference` object of the sampler test's JSON: the errors of the exact values, the
/// quadrature status and the notes, keys in alphabetical order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReferenceJson<'a> {
    /// Sup-norm error of the coordinate CDF (1D), else `null`.
    pub cdf_error: Option<f64>,
    /// Tabulation error of the CDF of E (`null` when not tabulated).
    pub e_cdf_error: f64,
    /// Largest quadrature error of a moment.
    pub moment_error: f64,
    /// Notes: the choices made and anything skipped.
    pub notes: &'a [String],
    /// Tabulation error of the region masses.
    pub region_error: f64,
    /// Whether every quadrature converged.
    pub status: Status,
}

impl QuadReference {
    /// The `reference` object of the sampler test's JSON.
    pub fn json(&self) -> ReferenceJson<'_> {
        ReferenceJson {
            cdf_error: self.cdf_error,
            e_cdf_error: self.e_cdf_error,
            moment_error: self.moment_error,
            notes: &self.notes,
            region_error: self.region_error,
            status: self.status,
        }
    }
}

/// Judges `draws` against an exact reference already computed by [`quadrature_reference`], at
/// family-wise `alpha`: the second half of [`sampler_test`], for callers that judge many draw
/// sets against one target (the reference does not depend on the draws).
///
/// # Errors
/// [`StatsError`] when the draws are malformed or `alpha` is not in (0, 1).
pub fn judge_draws(
    exact: &QuadReference,
    draws: &Draws,
    alpha: f64,
) -> Result<SamplerTestOutcome, StatsError> {
    let report = run_battery(
        draws,
        &exact.reference,
        &BatteryOptions {
            alpha,
            ..BatteryOptions::default()
        },
    )?;
    Ok(SamplerTestOutcome {
        alpha,
        exact: exact.clone(),
        report,
    })
}

/// `ebmcheck sampler-test` as a library call: are `draws` distributed as exp(−βE)/Z on `domain`?
/// Computes the exact reference by quadrature ([`quadrature_reference`]) and runs the battery
/// at family-wise `alpha` ([`judge_draws`]). The draws' coordinates follow `names`.
///
/// # Errors
/// [`ReferenceError`] when the reference cannot be computed (see [`quadrature_reference`]) and
/// [`ReferenceError::Stats`] when the draws or `alpha` are invalid.
pub fn sampler_test(
    energy: SharedEnergy,
    domain: &Domain,
    beta: f64,
    names: &[String],
    draws: &Draws,
    alpha: f64,
    opts: &ReferenceOptions,
) -> Result<SamplerTestOutcome, ReferenceError> {
    let exact = quadrature_reference(energy, domain, beta, names, opts)?;
    Ok(judge_draws(&exact, draws, alpha)?)
}

/// The sampler test in one call, for draws from your own sampler: `energy` is E(y) as a closure
/// (no gradient), `bounds` the range of each coordinate, `chains` one row-major `n × dim` vector
/// per chain (one chain is fine; walkers interleaved in it are detected and split). The target
/// is exp(−βE)/Z; the exact reference is computed by quadrature; coordinates are named y1, y2, ….
///
/// ```
/// use ebmcheck::sample::test_draws;
/// use rand::SeedableRng;
/// use rand_distr::{Distribution, StandardNormal};
///
/// let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
/// let draws: Vec<f64> = (0..20_000).map(|_| StandardNormal.sample(&mut rng)).collect();
/// let all = (f64::NEG_INFINITY, f64::INFINITY);
/// let out = test_draws(|y: &[f64]| y[0] * y[0] / 2.0, &[all], 1.0, vec![draws], 1e-3).unwrap();
/// assert!(out.passed(), "{}", out.report.summary);
/// ```
///
/// # Errors
/// As [`sampler_test`]; [`ReferenceError::Stats`] when a chain's length is not a multiple of the
/// dimension.
pub fn test_draws<F>(
    energy: F,
    bounds: &[(f64, f64)],
    beta: f64,
    chains: Vec<Vec<f64>>,
    alpha: f64,
) -> Result<SamplerTestOutcome, ReferenceError>
where
    F: Fn(&[f64]) -> f64 + Send + Sync + 'static,
{
    let d = bounds.len();
    let domain = Domain::continuous(bounds)?;
    let draws = Draws::new(d, chains)?;
    let names: Vec<String> = (1..=d).map(|i| format!("y{i}")).collect();
    let energy: SharedEnergy = Arc::new(quad::FnEnergy::new(d, energy));
    sampler_test(
        energy,
        &domain,
        beta,
        &names,
        &draws,
        alpha,
        &ReferenceOptions::default(),
    )
}

/// The chains [`test_kernel`] runs: one chain per initial state, each `warmup` steps of
/// `kernel` (discarded; adaptive kernels adapt there) then `draws_per_chain` kept, seeded
/// from `seed` and the chain's index.
#[derive(Clone, Copy)]
pub struct KernelRun<'a> {
    /// The Markov kernel (any [`crate::sample::Kernel`], including a closure
    /// `(state, rng) -> state`).
    pub kernel: &'a dyn crate::sample::Kernel,
    /// One initial state per chain.
    pub inits: &'a [Vec<f64>],
    /// Warmup steps of each chain.
    pub warmup: usize,
    /// Draws kept from each chain.
    pub draws_per_chain: usize,
    /// The seed.
    pub seed: u64,
}

/// The sampler test of a Markov kernel: the chains of `run` on exp(−βE) (a finite-difference
/// gradient is supplied to kernels that need one) are judged as by [`test_draws`].
///
/// # Errors
/// As [`test_draws`]; [`ReferenceError::Sample`] for bad initial states.
pub fn test_kernel<F>(
    energy: F,
    bounds: &[(f64, f64)],
    beta: f64,
    run: &KernelRun<'_>,
    alpha: f64,
) -> Result<SamplerTestOutcome, ReferenceError>
where
    F: Fn(&[f64]) -> f64 + Send + Sync + Clone + 'static,
{
    let KernelRun {
        kernel,
        inits,
        warmup,
        draws_per_chain,
        seed,
    } = *run;
    let e = energy.clone();
    let target =
        crate::sample::FiniteDiffTarget::new(bounds.len(), move |y: &[f64]| beta * e(y), 1e-5);
    let cs = crate::sample::run_chains(&target, kernel, inits, warmup, draws_per_chain, seed)
        .map_err(|e| ReferenceError::Sample(e.to_string()))?;
    test_draws(energy, bounds, beta, cs.draws.chains, alpha)
}
