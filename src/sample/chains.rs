//! Running chains in parallel with reproducible per-chain seeds, and the invariance test.

use super::{Energy, Kernel, Rng, SampleError, State};
use crate::stats::battery::{BatteryOptions, BatteryReport, Draws, Reference, run_battery};
use rand::SeedableRng;
use rayon::prelude::*;

/// Seed of stream `index` under run seed `seed`: two SplitMix rounds so neighbouring seeds and
/// indices give unrelated streams ([`crate::seed::stream`], the crate's one seed mixer).
pub fn chain_seed(seed: u64, index: u64) -> u64 {
    crate::seed::stream(seed, index)
}

/// The generator for stream `index` under run seed `seed`.
pub fn rng_for(seed: u64, index: u64) -> Rng {
    Rng::seed_from_u64(chain_seed(seed, index))
}

/// Output of [`run_chains`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainSet {
    /// The draws after warmup, one chain per initial state.
    pub draws: Draws,
    /// Acceptance rate of each chain after warmup.
    pub acceptance: Vec<f64>,
    /// Final step-size multiplier of each chain (1 without adaptation).
    pub step_scale: Vec<f64>,
}

struct OneChain {
    draws: Vec<f64>,
    acceptance: f64,
    scale: f64,
}

fn run_one(
    target: &dyn Energy,
    kernel: &dyn Kernel,
    init: &[f64],
    warmup: usize,
    n: usize,
    rng: &mut Rng,
) -> OneChain {
    let mut state = State::new(target, init.to_vec());
    let mut log_scale: f64 = 0.0;
    let adapt = kernel.adapt_target();
    for t in 0..warmup {
        let acc = kernel.step(target, &mut state, log_scale.exp(), rng);
        if let Some(goal) = adapt {
            // Robbins–Monro on log(step): deterministic given the seed, frozen after warmup.
            let a = if acc { 1.0 } else { 0.0 };
            log_scale = (log_scale + (a - goal) / (t as f64 + 1.0).powf(0.6)).clamp(-10.0, 10.0);
        }
    }
    let scale = log_scale.exp();
    let mut draws = Vec::with_capacity(n * init.len());
    let mut accepted = 0usize;
    for _ in 0..n {
        if kernel.step(target, &mut state, scale, rng) {
            accepted += 1;
        }
        draws.extend_from_slice(&state.y);
    }
    OneChain {
        draws,
        acceptance: if n > 0 {
            accepted as f64 / n as f64
        } else {
            f64::NAN
        },
        scale,
    }
}

/// Runs one chain per initial state in parallel: `warmup` transitions (with step adaptation if
/// the kernel asks for it), then `draws_per_chain` recorded transitions. Chain i uses
/// [`rng_for`]`(seed, i)`, so the output is bit-identical for any thread count.
///
/// # Errors
/// [`SampleError::NoChains`], [`SampleError::Dimension`] or [`SampleError::BadInit`] for bad
/// initial states.
pub fn run_chains(
    target: &dyn Energy,
    kernel: &dyn Kernel,
    inits: &[Vec<f64>],
    warmup: usize,
    draws_per_chain: usize,
    seed: u64,
) -> Result<ChainSet, SampleError> {
    if inits.is_empty() || draws_per_chain == 0 {
        return Err(SampleError::NoChains);
    }
    let dim = target.dim();
    for (i, y) in inits.iter().enumerate() {
        if y.len() != dim {
            return Err(SampleError::Dimension {
                got: y.len(),
                want: dim,
            });
        }
        let e = target.eval(y);
        if !e.is_finite() {
            return Err(SampleError::BadInit {
                chain: i,
                energy: e,
            });
        }
    }
    let out: Vec<OneChain> = inits
        .par_iter()
        .enumerate()
        .map(|(i, y)| {
            run_one(
                target,
                kernel,
                y,
                warmup,
                draws_per_chain,
                &mut rng_for(seed, i as u64),
            )
        })
        .collect();
    let acceptance = out.iter().map(|c| c.acceptance).collect();
    let step_scale = out.iter().map(|c| c.scale).collect();
    let draws = Draws::new(dim, out.into_iter().map(|c| c.draws).collect())?;
    Ok(ChainSet {
        draws,
        acceptance,
        step_scale,
    })
}

/// The settings of [`invariance_test`], by name.
#[derive(Debug, Clone)]
pub struct InvarianceOptions {
    /// Independent chains, each started at an exact draw (its final state is one i.i.d. draw).
    pub n_chains: usize,
    /// Kernel transitions each chain takes.
    pub k_steps: usize,
    /// Options of the battery run on the final states (`iid` is forced on).
    pub battery: BatteryOptions,
    /// Seed: chain i uses [`rng_for`]`(seed, i)`.
    pub seed: u64,
}

/// The invariance test: `opts.n_chains` independent chains start at exact draws, take
/// `opts.k_steps` kernel transitions each, and the final states — i.i.d. from the target if the
/// kernel leaves it invariant — are tested with the battery (`iid` forced on). Exactly
/// calibrated: no ESS estimate is involved. Chain i uses [`rng_for`]`(seed, i)` for its exact
/// draw and its steps.
///
/// Accepts any [`Kernel`], including closures `Fn(&[f64], &mut Rng) -> Vec<f64>`.
///
/// # Errors
/// [`SampleError`] for no chains, a wrong-dimension exact draw, or invalid battery options.
pub fn invariance_test(
    target: &dyn Energy,
    kernel: &dyn Kernel,
    exact_draw: &(dyn Fn(&mut Rng) -> Vec<f64> + Sync),
    reference: &Reference,
    opts: &InvarianceOptions,
) -> Result<BatteryReport, SampleError> {
    let InvarianceOptions {
        n_chains,
        k_steps,
        seed,
        ..
    } = *opts;
    if n_chains == 0 {
        return Err(SampleError::NoChains);
    }
    let dim = target.dim();
    let finals: Vec<Vec<f64>> = (0..n_chains)
        .into_par_iter()
        .map(|i| {
            let mut rng = rng_for(seed, i as u64);
            let y0 = exact_draw(&mut rng);
            let mut state = State::new(target, y0);
            for _ in 0..k_steps {
                kernel.step(target, &mut state, 1.0, &mut rng);
            }
            state.y
        })
        .collect();
    if let Some(bad) = finals.iter().find(|y| y.len() != dim) {
        return Err(SampleError::Dimension {
            got: bad.len(),
            want: dim,
        });
    }
    let draws = Draws::new(dim, vec![finals.concat()])?;
    let battery = BatteryOptions {
        iid: true,
        ..opts.battery.clone()
    };
    Ok(run_battery(&draws, reference, &battery)?)
}
