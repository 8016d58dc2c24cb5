//! Timing studies of the compiled evaluator against native Rust (ignored: run them in release mode
//! on a quiet machine with `--ignored --nocapture`).

use super::*;
use crate::expr::parse;
use std::hint::black_box;
use std::time::Instant;

/// Minimum over rounds of the time per call, robust to a loaded machine.
fn min_time(rounds: usize, reps: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    best
}

/// Ratios compiled/native for the benchmark's energies (run with `--release --ignored --nocapture`).
#[test]
#[ignore = "timing; run in release mode on a quiet machine"]
fn compiled_vs_native_ratios() {
    const N: usize = 64;
    let u: Vec<f64> = (0..N).map(|i| -2.0 + 4.0 * i as f64 / N as f64).collect();
    let v: Vec<f64> = (0..N)
        .map(|i| 1.5 - 3.1 * ((i * 37) % N) as f64 / N as f64)
        .collect();
    let mut b = Bindings::new();
    b.set("w", 0.8);
    b.set("a", 1.5);
    measure(
        "0.5*(y - w*z)^2 + 0.5*a*z^2 + log(1 + exp(z))",
        &b,
        &u,
        &v,
        |y, z| 0.5 * (y - 0.8 * z).powi(2) + 0.5 * 1.5 * z * z + (1.0 + z.exp()).ln(),
    );
    measure("(y^2 + z^2 - 1)^2 + 0.2*y", &b, &u, &v, |a, b| {
        (a * a + b * b - 1.0).powi(2) + 0.2 * a
    });
}

/// Time per 64 points evaluated one at a time as in `benches/eval.rs`, each call opaque to
/// the optimiser.
fn one_at_a_time(u: &[f64], v: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
    min_time(200, 200, || {
        let mut s = 0.0;
        for (&y, &z) in black_box(u).iter().zip(black_box(v)) {
            s += f(black_box(y), black_box(z));
        }
        black_box(s);
    })
}

fn measure(src: &str, b: &Bindings, u: &[f64], v: &[f64], native: impl Fn(f64, f64) -> f64) {
    const N: usize = 64;
    let inputs = ["y", "z"];
    {
        let e = parse(src).unwrap_or_else(|e| panic!("{}", e.message));
        let p = Program::compile(&e, &inputs, b).unwrap_or_else(|e| panic!("{}", e.message));
        let mut out = vec![0.0; N];
        let mut scratch = BatchScratch::new();
        let t_native = min_time(200, 200, || {
            for ((o, &y), &z) in out.iter_mut().zip(black_box(u)).zip(black_box(v)) {
                *o = native(y, z);
            }
            black_box(&out);
        });
        let t_batch = min_time(200, 200, || {
            p.eval_batch_with(&mut scratch, &[black_box(u), black_box(v)], &mut out);
            black_box(&out);
        });
        let t_native_single = one_at_a_time(u, v, &native);
        let t_single = one_at_a_time(u, v, |y, z| p.eval(&[y, z]));
        let t_f64 = one_at_a_time(u, v, |y, z| p.eval_f64(&[y, z]));
        let t_tape = one_at_a_time(u, v, |y, z| p.eval_tape(&[y, z]));
        println!(
            "{src}: one point at a time, eval_f64 {:.1} ns/64 ({:.2}x), tape alone {:.1} ns/64 ({:.2}x)",
            t_f64 * 1e9,
            t_f64 / t_native_single,
            t_tape * 1e9,
            t_tape / t_native_single
        );
        println!(
            "{src}: batch of 64: native {:.1} ns, compiled {:.1} ns ({:.2}x); one point at a time: native {:.1} ns/64, compiled {:.1} ns/64 ({:.2}x); {} instructions",
            t_native * 1e9,
            t_batch * 1e9,
            t_batch / t_native,
            t_native_single * 1e9,
            t_single * 1e9,
            t_single / t_native_single,
            p.len()
        );
    }
}
