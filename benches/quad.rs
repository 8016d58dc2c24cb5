//! Criterion benchmarks of representative partition functions (1D Gaussian, double well at
//! β = 1e4, the 2D ring at β = 1e4, 3D and 4D Gaussians from the peer battery).

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use ebmcheck::quad::{Domain, FnEnergy, QuadOptions, log_partition};
use std::hint::black_box;

const INF: f64 = f64::INFINITY;

fn quad_form(a: Vec<Vec<f64>>, mu: Vec<f64>) -> impl Fn(&[f64]) -> f64 + Sync {
    move |z: &[f64]| {
        let d = mu.len();
        let mut s = 0.0;
        for i in 0..d {
            for j in 0..d {
                s += a[i][j] * (z[i] - mu[i]) * (z[j] - mu[j]);
            }
        }
        0.5 * s
    }
}

fn bench(c: &mut Criterion) {
    let opts = QuadOptions::default();
    let line = Domain::continuous(&[(-INF, INF)]).expect("domain");
    let plane = Domain::continuous(&[(-INF, INF); 2]).expect("domain");
    let gauss = FnEnergy::new(1, |z: &[f64]| (z[0] - 0.7).powi(2));
    c.bench_function("gauss1d_b1", |b| {
        b.iter(|| log_partition(&gauss, &line, black_box(1.0), &opts))
    });
    let dwell = FnEnergy::new(1, |z: &[f64]| (z[0] * z[0] - 1.0).powi(2));
    c.bench_function("dwell1d_b1", |b| {
        b.iter(|| log_partition(&dwell, &line, black_box(1.0), &opts))
    });
    let kink = FnEnergy::new(1, |z: &[f64]| z[0].abs() + 0.1 * z[0] * z[0]);
    c.bench_function("kink1d_b1", |b| {
        b.iter(|| log_partition(&kink, &line, black_box(1.0), &opts))
    });
    c.bench_function("dwell1d_b1e4", |b| {
        b.iter(|| log_partition(&dwell, &line, black_box(1e4), &opts))
    });
    let ring = FnEnergy::new(2, |z: &[f64]| (z[0] * z[0] + z[1] * z[1] - 1.0).powi(2));
    c.bench_function("ring2d_b1e4", |b| {
        b.iter(|| log_partition(&ring, &plane, black_box(1e4), &opts))
    });
    let a3 = vec![
        vec![3.876372175424448, -0.0318771456100931, -0.5410879941588493],
        vec![-0.0318771456100931, 0.5050070714608085, 0.07479549881438717],
        vec![-0.5410879941588493, 0.07479549881438717, 1.618620753114744],
    ];
    let g3 = FnEnergy::new(3, quad_form(a3, vec![0.4, -0.8, 1.1]));
    let space3 = Domain::continuous(&[(-INF, INF); 3]).expect("domain");
    c.bench_function("gauss3d_b100", |b| {
        b.iter(|| log_partition(&g3, &space3, black_box(100.0), &opts))
    });
    let a4 = vec![
        vec![
            1.53445264353026,
            0.43296123673978315,
            0.27103388599926537,
            -0.1599005096100629,
        ],
        vec![
            0.43296123673978315,
            2.942067525275813,
            -0.24058047612660408,
            1.3118340486443187,
        ],
        vec![
            0.27103388599926537,
            -0.24058047612660408,
            1.0942333578970307,
            -0.7713021930995351,
        ],
        vec![
            -0.1599005096100629,
            1.3118340486443187,
            -0.7713021930995351,
            1.9292464732968972,
        ],
    ];
    let g4 = FnEnergy::new(4, quad_form(a4, vec![0.3, -0.2, 0.5, 0.0]));
    let space4 = Domain::continuous(&[(-INF, INF); 4]).expect("domain");
    c.bench_function("gauss4d_b1", |b| {
        b.iter(|| log_partition(&g4, &space4, black_box(1.0), &opts))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
