//! Draws of `(y', z) ~ exp(−βE)` for the gradient check (exact, MH, MALA, HMC, and the
//! deliberately biased ULA), and contrastive-divergence chains started at the data.

use crate::domain::VarDomain;
use crate::engine::{Engine, ProgramEnergy};
use crate::expr::{Bindings, Expr};
use crate::quad::{self, Cdf1d, Domain, Energy, FnEnergy, QuadError, QuadOptions};
use crate::remedy::{Remedy, SamplerFix};
use crate::sample::{
    Categorical, Hmc, Kernel, Mala, RandomWalkMetropolis, cd_k_states, rng_for, run_chains,
    zoo::Ula,
};
use rand::Rng as _;
use rayon::prelude::*;

use super::{GradError, Variable, engine_error};

/// Chains (MCMC) or parallel streams (exact sampler).
pub(crate) const CHAINS: usize = 4;
/// Warmup transitions of each MCMC chain (the step size adapts during warmup).
pub(crate) const WARMUP: usize = 2_000;
/// Largest joint grid of integer variables enumerated by the exact categorical sampler.
const MAX_GRID: usize = 1_000_000;
/// Largest number of conditional 1D distributions the exact sampler tabulates.
const MAX_MIXED: usize = 10_000;

/// A sampler of `(y', z) ~ exp(−βE)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SamplerKind {
    /// Exact: categorical over the integer variables (marginals by quadrature), inverse CDF of
    /// one continuous variable.
    Exact,
    /// Random-walk Metropolis with an adapted step.
    Mh,
    /// Metropolis-adjusted Langevin, gradients from the symbolic derivative.
    Mala,
    /// Hamiltonian Monte Carlo, gradients from the symbolic derivative.
    Hmc,
    /// Unadjusted Langevin (no Metropolis step): deliberately biased by O(h), to measure the
    /// power of the check. Never a sampler to trust.
    Ula,
}

impl SamplerKind {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            SamplerKind::Exact => "exact",
            SamplerKind::Mh => "mh",
            SamplerKind::Mala => "mala",
            SamplerKind::Hmc => "hmc",
            SamplerKind::Ula => "ula",
        }
    }

    /// Whether the draws form Markov chains (rather than independent draws).
    pub fn is_markov(self) -> bool {
        !matches!(self, SamplerKind::Exact)
    }

    /// The kernel's initial step at inverse temperature β (adapted during warmup, except ULA):
    /// the proposal sd for MH, the Langevin time step for MALA and ULA, the leapfrog step for HMC.
    pub fn default_step(self, beta: f64) -> f64 {
        let s = 1.0 / beta.sqrt();
        match self {
            SamplerKind::Exact | SamplerKind::Mh => s,
            SamplerKind::Mala => 0.5 * s,
            SamplerKind::Hmc => 0.3 * s,
            // ULA cannot adapt (it never rejects): a step small enough to be stable on wells of
            // curvature up to ~10 at β = 1.
            SamplerKind::Ula => 0.05 * s,
        }
    }
}

fn is_integer(v: &Variable) -> bool {
    matches!(v.domain, VarDomain::Integer { .. })
}

/// Exact when it exists cheaply (at most one continuous variable), else mh.
pub(crate) fn default_sampler(vars: &[Variable]) -> SamplerKind {
    if vars.iter().filter(|v| !is_integer(v)).count() <= 1 {
        SamplerKind::Exact
    } else {
        SamplerKind::Mh
    }
}

/// Draws of `∂E/∂w` for each parameter, per chain.
pub(crate) struct SampleRun {
    /// `values[k][c]`: the values of `∂E/∂w_k` along chain (or stream) `c`.
    pub values: Vec<Vec<Vec<f64>>>,
    /// Acceptance rate of each chain (1 for exact draws).
    pub acceptance: Vec<f64>,
}

/// The compiled pieces every sampler needs.
pub(crate) struct Compiled {
    pub names: Vec<String>,
    pub energy: ProgramEnergy,
    /// `∂E/∂w_k` for each parameter.
    pub obs: Vec<ProgramEnergy>,
}

fn compile(e: &Expr, names: &[String], params: &Bindings) -> Result<ProgramEnergy, GradError> {
    let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
    ProgramEnergy::new(e, &inputs, params).map_err(|err| GradError::NotClosed {
        message: err.to_string(),
    })
}

impl Compiled {
    pub(crate) fn new(
        engine: &Engine,
        vars: &[Variable],
        wrt: &[String],
        energy_expr: &Expr,
    ) -> Result<Self, GradError> {
        let names: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
        let params = engine.params().clone();
        let energy = compile(energy_expr, &names, &params)?;
        let mut obs = Vec::new();
        for w in wrt {
            let d = engine
                .derivative(energy_expr, w)
                .map_err(|e| engine_error(&e, &format!("∂E/∂{w}")))?;
            obs.push(compile(&d, &names, &params)?);
        }
        Ok(Compiled { names, energy, obs })
    }

    fn collect(&self, draws: &[Vec<f64>]) -> Vec<Vec<Vec<f64>>> {
        let dim = self.names.len();
        (0..self.obs.len())
            .map(|k| {
                draws
                    .iter()
                    .map(|c| c.chunks_exact(dim).map(|y| self.obs[k].eval(y)).collect())
                    .collect()
            })
            .collect()
    }
}

/// The integer points of the integer variables among `vars` (in order), at most [`MAX_GRID`].
fn integer_grid(vars: &[Variable]) -> Result<Vec<Vec<f64>>, GradError> {
    let mut grid: Vec<Vec<f64>> = vec![Vec::new()];
    for v in vars {
        let Some(range) = v.domain.integers() else {
            continue;
        };
        let len = usize::try_from(range.len()).unwrap_or(usize::MAX);
        if grid.len().saturating_mul(len) > MAX_GRID {
            return Err(GradError::input_help(
                format!("the exact sampler would enumerate more than {MAX_GRID} points"),
                "narrow the integer ranges",
            ));
        }
        let mut next = Vec::with_capacity(grid.len() * len);
        for g in &grid {
            for k in range.values() {
                let mut p = g.clone();
                p.push(k);
                next.push(p);
            }
        }
        grid = next;
    }
    Ok(grid)
}

fn uniform_open(rng: &mut crate::sample::Rng) -> f64 {
    let u: f64 = rng.random();
    u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON)
}

/// Exact draws with integer variables and one continuous variable `x`: the integer point `g`
/// from its marginal `∝ Z(g) = ∫ exp(-βE(g, x)) dx` (quadrature), then `x | g` by inversion.
fn exact_mixed(
    vars: &[Variable],
    energy: &ProgramEnergy,
    beta: f64,
    stream_len: &[usize],
    seed: u64,
) -> Result<Vec<Vec<f64>>, GradError> {
    let Some(xi) = vars.iter().position(|v| !is_integer(v)) else {
        return Err(GradError::Internal("no continuous variable".into()));
    };
    let VarDomain::Continuous { lo, hi } = vars[xi].domain else {
        return Err(GradError::Internal("no continuous variable".into()));
    };
    let grid = integer_grid(vars)?;
    if grid.len() > MAX_MIXED {
        return Err(GradError::input_remedy(
            format!(
                "the exact sampler would tabulate {} conditional distributions (at most {MAX_MIXED})",
                grid.len()
            ),
            Remedy::Sampler(SamplerFix::NarrowOrMcmc),
        ));
    }
    let full = |g: &[f64], x: f64| -> Vec<f64> {
        let mut p = g.to_vec();
        p.insert(xi, x);
        p
    };
    let line = Domain::continuous(&[(lo, hi)])
        .map_err(|e| engine_error(&e, "the exact sampler's domain"))?;
    let conditionals: Vec<_> = grid
        .iter()
        .map(|g| FnEnergy::new(1, move |x: &[f64]| energy.eval(&full(g, x[0]))))
        .collect();
    // Each conditional's inverse CDF, and its log Z as the weight of its integer point.
    let tables: Vec<(Cdf1d, f64)> = conditionals
        .par_iter()
        .map(|e| {
            let cdf = Cdf1d::new(e, lo, hi, beta)?;
            let lz = quad::log_partition(e, &line, beta, &QuadOptions::default())?;
            Ok((cdf, lz.log_z))
        })
        .collect::<Result<_, QuadError>>()
        .map_err(|e| engine_error(&e, "the exact sampler's conditional distributions"))?;
    let logw: Vec<f64> = tables.iter().map(|t| t.1).collect();
    let cat = Categorical::from_log_weights(&logw)
        .map_err(|e| GradError::input(format!("the exact categorical sampler: {e}")))?;
    Ok(stream_len
        .par_iter()
        .enumerate()
        .map(|(c, &len)| {
            let mut rng = rng_for(seed, c as u64);
            let mut out = Vec::with_capacity(len * vars.len());
            for _ in 0..len {
                let k = cat.sample(&mut rng);
                let x = tables[k].0.quantile(uniform_open(&mut rng));
                out.extend(full(&grid[k], x));
            }
            out
        })
        .collect())
}

fn exact_draws(
    c: &Compiled,
    vars: &[Variable],
    beta: f64,
    total: usize,
    seed: u64,
) -> Result<Vec<Vec<f64>>, GradError> {
    let dim = vars.len();
    let integer = vars.iter().filter(|v| is_integer(v)).count();
    let chains = total.clamp(1, CHAINS);
    // Independent streams split the total exactly.
    let lens: Vec<usize> = (0..chains)
        .map(|i| total / chains + usize::from(i < total % chains))
        .collect();
    if integer == dim {
        let grid = integer_grid(vars)?;
        let logw: Vec<f64> = grid.iter().map(|p| -beta * c.energy.eval(p)).collect();
        if logw.iter().any(|v| v.is_nan()) {
            return Err(GradError::input("the energy is NaN on the grid"));
        }
        let cat = Categorical::from_log_weights(&logw)
            .map_err(|e| GradError::input(format!("the exact categorical sampler: {e}")))?;
        Ok(lens
            .par_iter()
            .enumerate()
            .map(|(i, &len)| {
                let mut rng = rng_for(seed, i as u64);
                (0..len)
                    .flat_map(|_| grid[cat.sample(&mut rng)].clone())
                    .collect()
            })
            .collect())
    } else if dim == 1 {
        let VarDomain::Continuous { lo, hi } = vars[0].domain else {
            return Err(GradError::Internal("expected a continuous variable".into()));
        };
        let cdf =
            Cdf1d::new(&c.energy, lo, hi, beta).map_err(|e| engine_error(&e, "the inverse CDF"))?;
        Ok(lens
            .par_iter()
            .enumerate()
            .map(|(i, &len)| {
                let mut rng = rng_for(seed, i as u64);
                (0..len)
                    .map(|_| cdf.quantile(uniform_open(&mut rng)))
                    .collect()
            })
            .collect())
    } else if dim - integer == 1 {
        exact_mixed(vars, &c.energy, beta, &lens, seed)
    } else {
        Err(GradError::input_remedy(
            "the exact sampler handles at most one continuous variable (with any integer ones)",
            Remedy::Sampler(SamplerFix::Mcmc),
        ))
    }
}

/// The target `β·E` (infinite outside the box) with its gradient from the symbolic derivative.
pub(crate) struct Gibbs<'a> {
    energy: &'a ProgramEnergy,
    grads: Vec<ProgramEnergy>,
    bounds: Vec<(f64, f64)>,
    beta: f64,
}

impl<'a> Gibbs<'a> {
    pub(crate) fn new(model: &Sampled<'a>) -> Result<Self, GradError> {
        let (engine, c, vars, energy_expr, beta) = (
            model.engine,
            model.compiled,
            model.vars,
            model.energy,
            model.beta,
        );
        if vars.iter().any(is_integer) {
            return Err(GradError::input_remedy(
                "the MCMC samplers need continuous variables",
                Remedy::Sampler(SamplerFix::Exact),
            ));
        }
        let params = engine.params().clone();
        let mut grads = Vec::new();
        for v in &c.names {
            let d = engine
                .derivative(energy_expr, v)
                .map_err(|e| engine_error(&e, &format!("∂E/∂{v}")))?;
            grads.push(compile(&d, &c.names, &params)?);
        }
        let bounds = vars
            .iter()
            .map(|v| match v.domain {
                VarDomain::Continuous { lo, hi } => (lo, hi),
                #[allow(clippy::cast_precision_loss, reason = "rejected above")]
                VarDomain::Integer { lo, hi } => (lo as f64, hi as f64),
            })
            .collect();
        Ok(Gibbs {
            energy: &c.energy,
            grads,
            bounds,
            beta,
        })
    }

    fn inside(&self, y: &[f64]) -> bool {
        y.iter()
            .zip(&self.bounds)
            .all(|(x, (lo, hi))| x >= lo && x <= hi)
    }

    /// The minimiser of the energy on the box (where MCMC chains start).
    fn argmin(&self) -> Result<Vec<f64>, GradError> {
        let domain = Domain::new(
            self.bounds
                .iter()
                .map(|&(lo, hi)| quad::VarDomain::Continuous { lo, hi })
                .collect(),
        )
        .map_err(|e| GradError::input(e.to_string()))?;
        Ok(
            quad::minimize(self.energy, &domain, &QuadOptions::default())
                .map_err(|e| engine_error(&e, "the sampler's starting point"))?
                .argmin,
        )
    }
}

impl Energy for Gibbs<'_> {
    fn dim(&self) -> usize {
        self.bounds.len()
    }
    fn eval(&self, y: &[f64]) -> f64 {
        if self.inside(y) {
            self.beta * self.energy.eval(y)
        } else {
            f64::INFINITY
        }
    }
    fn grad(&self, y: &[f64], g: &mut [f64]) -> f64 {
        if !self.inside(y) {
            g.fill(0.0);
            return f64::INFINITY;
        }
        for (gi, p) in g.iter_mut().zip(&self.grads) {
            *gi = self.beta * p.eval(y);
        }
        self.beta * self.energy.eval(y)
    }
}

/// The Markov kernel of `kind` with initial step `step`; `adapt` enables warmup adaptation.
pub(crate) fn kernel(
    kind: SamplerKind,
    step: f64,
    adapt: bool,
) -> Result<Box<dyn Kernel>, GradError> {
    let err = |e: crate::sample::SampleError| GradError::input(e.to_string());
    Ok(match kind {
        SamplerKind::Mala => {
            let k = Mala::new(step).map_err(err)?;
            Box::new(if adapt {
                k.with_adaptation(0.57).map_err(err)?
            } else {
                k
            })
        }
        SamplerKind::Hmc => {
            let k = Hmc::new(step, 10).map_err(err)?;
            Box::new(if adapt {
                k.with_adaptation(0.8).map_err(err)?
            } else {
                k
            })
        }
        SamplerKind::Mh => {
            let k = RandomWalkMetropolis::new(step).map_err(err)?;
            Box::new(if adapt {
                k.with_adaptation(0.3).map_err(err)?
            } else {
                k
            })
        }
        SamplerKind::Ula => {
            if !(step.is_finite() && step > 0.0) {
                return Err(GradError::input(format!("invalid parameter step = {step}")));
            }
            Box::new(Ula { step })
        }
        SamplerKind::Exact => {
            return Err(GradError::Internal(
                "the exact sampler has no kernel".into(),
            ));
        }
    })
}

/// The density `exp(−βE)` the samplers draw from: the engine and the energy (as an expression,
/// for its symbolic derivatives, and compiled), the variables and β.
#[derive(Clone, Copy)]
pub(crate) struct Sampled<'a> {
    pub engine: &'a Engine,
    pub compiled: &'a Compiled,
    pub vars: &'a [Variable],
    pub energy: &'a Expr,
    pub beta: f64,
}

/// Draws `total` points from `exp(−βE)` with `kind` and evaluates every `∂E/∂w` on them.
pub(crate) fn sample(
    model: &Sampled<'_>,
    kind: SamplerKind,
    step: Option<f64>,
    total: usize,
    seed: u64,
) -> Result<SampleRun, GradError> {
    let (c, vars, beta) = (model.compiled, model.vars, model.beta);
    if kind == SamplerKind::Exact {
        let draws = exact_draws(c, vars, beta, total, seed)?;
        let chains = draws.len();
        return Ok(SampleRun {
            values: c.collect(&draws),
            acceptance: vec![1.0; chains],
        });
    }
    let gibbs = Gibbs::new(model)?;
    let start = gibbs.argmin()?;
    let chains = total.clamp(1, CHAINS);
    let per_chain = total.div_ceil(chains);
    let k = kernel(kind, step.unwrap_or_else(|| kind.default_step(beta)), true)?;
    let inits = vec![start; chains];
    let set = run_chains(&gibbs, k.as_ref(), &inits, WARMUP, per_chain, seed)
        .map_err(|e| GradError::input(format!("the sampler: {e}")))?;
    Ok(SampleRun {
        values: c.collect(&set.draws.chains),
        acceptance: set.acceptance,
    })
}

/// The contrastive-divergence chains of [`contrastive`]: `chains` chains of `k` steps of the
/// kernel `kind` with step `step`, seeded from `seed`.
#[derive(Clone, Copy)]
pub(crate) struct CdChains {
    pub kind: SamplerKind,
    pub step: f64,
    pub k: usize,
    pub chains: usize,
    pub seed: u64,
}

/// Final states of contrastive-divergence chains: chain `i` starts at data point `i mod n`
/// (with its latents drawn exactly from `p(z | y_i)`, the last `n_latent` variables), takes
/// `k` kernel steps (no warmup, no adaptation), and gives the values of every `∂E/∂w` at its
/// final state.
pub(crate) fn contrastive(
    model: &Sampled<'_>,
    n_latent: usize,
    data: &[Vec<f64>],
    cd: &CdChains,
) -> Result<(Vec<Vec<f64>>, f64), GradError> {
    let (c, vars, beta) = (model.compiled, model.vars, model.beta);
    let CdChains {
        kind,
        step,
        k,
        chains: total,
        seed,
    } = *cd;
    let gibbs = Gibbs::new(model)?;
    let n_data = data.first().map_or(0, Vec::len);
    let n_y = vars.len() - n_latent;
    let point = |i: usize| -> Vec<f64> { data.iter().map(|col| col[i]).collect() };
    // The latent of each data point from p(z | y_i): the positive phase's distribution.
    let conditionals: Vec<Option<Cdf1d>> = match n_latent {
        0 => vec![None; n_data],
        1 => {
            let VarDomain::Continuous { lo, hi } = vars[n_y].domain else {
                return Err(GradError::Internal("expected a continuous latent".into()));
            };
            (0..n_data)
                .map(|i| {
                    let y = point(i);
                    let e = FnEnergy::new(1, |z: &[f64]| {
                        let mut p = y.clone();
                        p.push(z[0]);
                        c.energy.eval(&p)
                    });
                    Cdf1d::new(&e, lo, hi, beta)
                        .map(Some)
                        .map_err(|e| engine_error(&e, "the latent's conditional distribution"))
                })
                .collect::<Result<_, _>>()?
        }
        _ => {
            return Err(GradError::input(
                "contrastive divergence handles at most one latent variable",
            ));
        }
    };
    let latent_seed = crate::sample::chain_seed(seed, u64::MAX);
    let starts: Vec<Vec<f64>> = (0..total)
        .map(|j| {
            let i = j % n_data.max(1);
            let mut p = point(i);
            if let Some(cdf) = &conditionals[i] {
                let mut rng = rng_for(latent_seed, j as u64);
                p.push(cdf.quantile(uniform_open(&mut rng)));
            }
            p
        })
        .collect();
    let kern = kernel(kind, step, false)?;
    let (finals, acceptance) = cd_k_states(&gibbs, kern.as_ref(), &starts, k, seed)
        .map_err(|e| GradError::input(format!("contrastive divergence: {e}")))?;
    let values = c
        .obs
        .iter()
        .map(|o| finals.iter().map(|y| o.eval(y)).collect())
        .collect();
    Ok((values, acceptance))
}
