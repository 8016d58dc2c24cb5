//! Criterion benchmarks of representative partition functions (1D Gaussian, double well at
//! β = 1e4, the 2D ring at β = 10 and 1e4, 3D and 4D Gaussians from the peer battery, taken from
//! `ebmcheck::testing`).

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use ebmcheck::quad::{Domain, FnEnergy, QuadOptions, log_partition};
use ebmcheck::testing::quad::{gauss3d_matrix, gauss4d_matrix, quad_form};
use std::hint::black_box;

const INF: f64 = f64::INFINITY;

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
    // The ring at β = 10 was the peers' worst ratio against SciPy (2.6× before the polar rule).
    c.bench_function("ring2d_b10", |b| {
        b.iter(|| log_partition(&ring, &plane, black_box(10.0), &opts))
    });
    c.bench_function("ring2d_b1e4", |b| {
        b.iter(|| log_partition(&ring, &plane, black_box(1e4), &opts))
    });
    let (a3, mu3) = gauss3d_matrix();
    let g3 = FnEnergy::new(3, quad_form(a3, mu3));
    let space3 = Domain::continuous(&[(-INF, INF); 3]).expect("domain");
    c.bench_function("gauss3d_b100", |b| {
        b.iter(|| log_partition(&g3, &space3, black_box(100.0), &opts))
    });
    let (a4, mu4) = gauss4d_matrix();
    let g4 = FnEnergy::new(4, quad_form(a4, mu4));
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
