//! Sampler speed: draws per second and effective samples per second of RWM, MALA and HMC on a
//! correlated 2D Gaussian, and the cost of the sampler-test battery on 60 000 draws in 2D.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ebmcheck::sample::{Energy, FnTarget, Hmc, Kernel, Mala, RandomWalkMetropolis, run_chains};
use ebmcheck::stats::{BatteryOptions, Reference, ess, run_battery, special};
use std::hint::black_box;

const RHO: f64 = 0.9;
const DRAWS: usize = 20_000;

fn energy(y: &[f64]) -> f64 {
    (y[0] * y[0] - 2.0 * RHO * y[0] * y[1] + y[1] * y[1]) / (2.0 * (1.0 - RHO * RHO))
}

fn grad(y: &[f64], g: &mut [f64]) -> f64 {
    let c = 1.0 - RHO * RHO;
    g[0] = (y[0] - RHO * y[1]) / c;
    g[1] = (y[1] - RHO * y[0]) / c;
    energy(y)
}

/// Minimum over coordinates of the ESS per draw of one chain of `DRAWS` draws.
fn ess_per_draw(target: &dyn Energy, kernel: &dyn Kernel) -> f64 {
    let cs = run_chains(target, kernel, &[vec![0.0, 0.0]], 1000, DRAWS, 1).expect("valid");
    let c = &cs.draws.chains[0];
    (0..2)
        .map(|j| {
            let col: Vec<f64> = c.chunks(2).map(|y| y[j]).collect();
            ess::ess_bulk(&[&col]) / DRAWS as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn samplers(c: &mut Criterion) {
    let target = FnTarget::new(2, energy, grad);
    let kernels: Vec<(&str, Box<dyn Kernel>)> = vec![
        (
            "rwm",
            Box::new(RandomWalkMetropolis::new(0.5).expect("valid")),
        ),
        ("mala", Box::new(Mala::new(0.05).expect("valid"))),
        ("hmc", Box::new(Hmc::new(0.2, 8).expect("valid"))),
    ];
    let mut group = c.benchmark_group("samplers_2d_gaussian");
    group.throughput(Throughput::Elements(DRAWS as u64));
    for (name, k) in &kernels {
        let epd = ess_per_draw(&target, k.as_ref());
        println!("{name}: ESS per draw = {epd:.4} (effective samples/s = draws/s × this)");
        group.bench_function(*name, |b| {
            b.iter(|| {
                run_chains(
                    &target,
                    k.as_ref(),
                    &[vec![0.0, 0.0]],
                    0,
                    black_box(DRAWS),
                    1,
                )
                .expect("valid")
            })
        });
    }
    group.finish();
}

fn battery(c: &mut Criterion) {
    let target = FnTarget::new(2, energy, grad);
    let hmc = Hmc::new(0.2, 8).expect("valid");
    let inits = vec![vec![0.0, 0.0]; 4];
    let cs = run_chains(&target, &hmc, &inits, 500, 15_000, 3).expect("valid");
    let reference = Reference::new()
        .moment("mean of y1", |y| y[0], 0.0, Some(1.0))
        .moment("mean of y2", |y| y[1], 0.0, Some(1.0))
        .moment("mean of y1^2", |y| y[0] * y[0], 1.0, None)
        .moment("mean of y2^2", |y| y[1] * y[1], 1.0, None)
        .moment("mean of y1*y2", |y| y[0] * y[1], RHO, None)
        .moment("mean of E(y)", energy, 1.0, Some(1.0))
        .region("y1 > 0", |y| y[0] > 0.0, 0.5)
        .region("y1 > 1", |y| y[0] > 1.0, special::sf(1.0))
        .cdf("y1", |y| y[0], special::cdf)
        .cdf(
            "E(y)",
            energy,
            |x| if x <= 0.0 { 0.0 } else { -(-x).exp_m1() },
        );
    c.bench_function("battery_60000_draws_2d", |b| {
        b.iter(|| {
            run_battery(black_box(&cs.draws), &reference, &BatteryOptions::default())
                .expect("valid")
        })
    });
}

/// ESS of one AR(1) chain (φ = 0.9, τ = 19: past the direct lags, so the FFT path runs).
fn ess_cost(c: &mut Criterion) {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
    let mut x = 0.0_f64;
    let chain: Vec<f64> = (0..1_000_000)
        .map(|_| {
            let z: f64 = StandardNormal.sample(&mut rng);
            x = 0.9 * x + 0.19_f64.sqrt() * z;
            x
        })
        .collect();
    for n in [100_000, 1_000_000] {
        c.bench_function(&format!("ess_mean_ar1_{n}"), |b| {
            b.iter(|| ess::ess_mean(&[black_box(&chain[..n])]))
        });
        c.bench_function(&format!("ess_bulk_ar1_{n}"), |b| {
            b.iter(|| ess::ess_bulk(&[black_box(&chain[..n])]))
        });
    }
}

// criterion's macro generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, samplers, battery, ess_cost);
}
criterion_main!(group::benches);
