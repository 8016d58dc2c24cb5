//! Samplers as users run them, for testing the sampler test on realistic output: emcee's
//! affine-invariant stretch-move ensemble (Goodman & Weare 2010, red–blue split as in emcee 3)
//! and HMC with jittered path lengths and step sizes over several chains (a stand-in for NUTS:
//! random integration times, an adapted step, several chains). Both are correct samplers; the
//! buggy variants are built by composition (a wrong target, a transform without its Jacobian,
//! too few walkers, a short warm-up) in the self-test.

use super::kernels::{Kernel, State, accept, leapfrog};
use super::{Energy, Rng, SampleError, rng_for};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};

/// Runs an affine-invariant stretch-move ensemble: `inits.len()` walkers (at least 2), `warmup`
/// discarded steps then `steps` recorded ones, stretch scale `a` (emcee's default is 2). Each
/// step updates the two halves of the ensemble in turn, every walker of one half moving along
/// the line through a random walker of the other half: Y = X_j + z(X_k − X_j) with
/// g(z) ∝ 1/√z on [1/a, a], accepted with probability min(1, z^{d−1} p(Y)/p(X_k)).
///
/// Returns one chain per walker, each row-major `steps × dim`.
///
/// # Errors
/// [`SampleError::InvalidParameter`] for fewer than 2 walkers or `a ≤ 1`,
/// [`SampleError::Dimension`] or [`SampleError::BadInit`] for bad initial states.
pub fn stretch_move(
    target: &dyn Energy,
    inits: &[Vec<f64>],
    warmup: usize,
    steps: usize,
    a: f64,
    seed: u64,
) -> Result<Vec<Vec<f64>>, SampleError> {
    let k = inits.len();
    if k < 2 {
        return Err(SampleError::InvalidParameter {
            name: "walkers",
            value: k as f64,
        });
    }
    if !(a > 1.0 && a.is_finite()) {
        return Err(SampleError::InvalidParameter {
            name: "a",
            value: a,
        });
    }
    let d = target.dim();
    let mut x: Vec<Vec<f64>> = Vec::with_capacity(k);
    let mut e: Vec<f64> = Vec::with_capacity(k);
    for (i, y) in inits.iter().enumerate() {
        if y.len() != d {
            return Err(SampleError::Dimension {
                got: y.len(),
                want: d,
            });
        }
        let en = target.eval(y);
        if !en.is_finite() {
            return Err(SampleError::BadInit {
                chain: i,
                energy: en,
            });
        }
        x.push(y.clone());
        e.push(en);
    }
    let mut rng = rng_for(seed, 0);
    let mut out = vec![Vec::with_capacity(steps * d); k];
    let half = k / 2;
    for t in 0..warmup + steps {
        for (lo, hi, olo, ohi) in [(0, half, half, k), (half, k, 0, half)] {
            for w in lo..hi {
                let j = rng.random_range(olo..ohi);
                let u: f64 = rng.random();
                let z = ((a - 1.0) * u + 1.0).powi(2) / a;
                let y: Vec<f64> = (0..d).map(|i| x[j][i] + z * (x[w][i] - x[j][i])).collect();
                let ey = target.eval(&y);
                if accept((d as f64 - 1.0) * z.ln() + e[w] - ey, &mut rng) {
                    x[w] = y;
                    e[w] = ey;
                }
            }
        }
        if t >= warmup {
            for w in 0..k {
                out[w].extend_from_slice(&x[w]);
            }
        }
    }
    Ok(out)
}

/// emcee's `get_chain(flat=True)` layout: step by step, walker after walker, in one chain.
pub fn interleave(walkers: &[Vec<f64>], dim: usize) -> Vec<f64> {
    let steps = walkers
        .iter()
        .map(|w| w.len() / dim.max(1))
        .min()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(steps * walkers.len() * dim);
    for t in 0..steps {
        for w in walkers {
            out.extend_from_slice(&w[t * dim..(t + 1) * dim]);
        }
    }
    out
}

/// HMC with unit mass whose number of leapfrog steps is drawn uniformly from 1..=`max_leapfrog`
/// and whose step size is jittered uniformly by ±20 % at every transition (independently of the
/// state, so each transition is a mixture of valid HMC kernels and leaves the target invariant).
/// Random integration times avoid the periodicities of fixed-length HMC, as NUTS does.
#[derive(Debug, Clone)]
pub struct JitteredHmc {
    step_size: f64,
    max_leapfrog: usize,
    adapt: Option<f64>,
}

impl JitteredHmc {
    /// # Errors
    /// [`SampleError::InvalidParameter`] unless `step_size` is finite and positive and
    /// `max_leapfrog ≥ 1`.
    pub fn new(step_size: f64, max_leapfrog: usize) -> Result<Self, SampleError> {
        if !(step_size > 0.0 && step_size.is_finite()) {
            return Err(SampleError::InvalidParameter {
                name: "step_size",
                value: step_size,
            });
        }
        if max_leapfrog == 0 {
            return Err(SampleError::InvalidParameter {
                name: "max_leapfrog",
                value: 0.0,
            });
        }
        Ok(Self {
            step_size,
            max_leapfrog,
            adapt: Some(0.8),
        })
    }

    /// Turns off the warm-up adaptation of the step size (it is on, toward 0.8, by default).
    pub fn without_adaptation(mut self) -> Self {
        self.adapt = None;
        self
    }
}

impl Kernel for JitteredHmc {
    fn step(&self, target: &dyn Energy, state: &mut State, scale: f64, rng: &mut Rng) -> bool {
        let jitter = 0.8 + 0.4 * rng.random::<f64>();
        let eps = self.step_size * scale * jitter;
        let n = rng.random_range(1..=self.max_leapfrog);
        let mut g0 = vec![0.0; state.y.len()];
        state.energy = target.grad(&state.y, &mut g0);
        let p0: Vec<f64> = (0..state.y.len())
            .map(|_| StandardNormal.sample(rng))
            .collect();
        let (y, p, e, g) = leapfrog(target, &state.y, &g0, &p0, eps, n, 0.5);
        let k0: f64 = p0.iter().map(|v| v * v).sum::<f64>() / 2.0;
        let k1: f64 = p.iter().map(|v| v * v).sum::<f64>() / 2.0;
        if accept(state.energy + k0 - e - k1, rng) {
            *state = State {
                y,
                energy: e,
                grad: Some(g),
            };
            true
        } else {
            false
        }
    }
    fn adapt_target(&self) -> Option<f64> {
        self.adapt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::stats::targets;

    #[test]
    fn stretch_move_validates_and_is_reproducible() {
        let t = targets::gauss_2d();
        assert!(stretch_move(&t, &[vec![0.0, 0.0]], 1, 1, 2.0, 1).is_err());
        assert!(stretch_move(&t, &vec![vec![0.0, 0.0]; 4], 1, 1, 1.0, 1).is_err());
        assert!(stretch_move(&t, &vec![vec![0.0]; 4], 1, 1, 2.0, 1).is_err());
        let inits: Vec<Vec<f64>> = (0..8)
            .map(|i| vec![0.1 * i as f64, -0.05 * i as f64])
            .collect();
        let a = stretch_move(&t, &inits, 10, 50, 2.0, 7).expect("valid");
        let b = stretch_move(&t, &inits, 10, 50, 2.0, 7).expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.len(), 8);
        assert!(a.iter().all(|w| w.len() == 100));
        let flat = interleave(&a, 2);
        assert_eq!(flat.len(), 800);
        assert_eq!(&flat[2..4], &a[1][0..2]);
        assert_eq!(&flat[16..18], &a[0][2..4]);
    }

    #[test]
    fn jittered_hmc_validates() {
        assert!(JitteredHmc::new(0.0, 5).is_err());
        assert!(JitteredHmc::new(0.1, 0).is_err());
        assert!(JitteredHmc::new(0.1, 5).is_ok());
    }
}
