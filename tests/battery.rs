//! The partition-function battery (`scripts/battery.py` → `tests/data/battery.jsonl`): literature
//! families in 1–4D with exact log Z, each classified as accurate, not converged or *silent*
//! (reported converged while the true error exceeds the reported error), and every divergent
//! energy refused.
//!
//! `battery_fast_subset_has_no_silent_failure` runs the 1D cases and the 2D closed-form
//! families in the default suite; `battery_study` (ignored, `cargo test --release --test
//! battery -- --ignored --nocapture`) runs all 168 cases and prints the per-family table.

use ebmcheck::engine::ProgramEnergy;
use ebmcheck::expr::{Bindings, parse};
use ebmcheck::quad::{self, Domain, QuadError, QuadOptions, Status, VarDomain};
use std::collections::BTreeMap;

struct Case {
    id: String,
    family: String,
    dim: usize,
    energy: String,
    over: Vec<String>,
    beta: f64,
    /// `None` for a divergent energy.
    truth: Option<f64>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("data/battery.jsonl");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("battery line is JSON");
            Case {
                id: v["id"].as_str().unwrap_or_default().to_string(),
                family: v["family"].as_str().unwrap_or_default().to_string(),
                dim: v["dim"].as_u64().unwrap_or(0) as usize,
                energy: v["energy"].as_str().unwrap_or_default().to_string(),
                over: v["over"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                beta: v["beta"].as_f64().unwrap_or(f64::NAN),
                truth: v["truth"].as_f64(),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Accurate,
    NotConverged,
    Silent,
    Refused,
    /// A divergent energy integrated (converged or not): a silent failure when converged.
    NotRefused,
    Error,
}

fn parse_range(s: &str) -> (String, f64, f64) {
    let (name, range) = s.split_once('=').expect("name=lo..hi");
    let (lo, hi) = range.split_once("..").expect("lo..hi");
    let num = |t: &str| match t {
        "-inf" => f64::NEG_INFINITY,
        "inf" => f64::INFINITY,
        t => t.parse().expect("number"),
    };
    (name.to_string(), num(lo), num(hi))
}

fn run_case(c: &Case, max_evals: u64) -> (Outcome, String) {
    let ranges: Vec<(String, f64, f64)> = c.over.iter().map(|s| parse_range(s)).collect();
    let names: Vec<&str> = ranges.iter().map(|r| r.0.as_str()).collect();
    let e = parse(&c.energy).expect("battery energy parses");
    let energy = ProgramEnergy::new(&e, &names, &Bindings::new()).expect("compiles");
    let domain = Domain::new(
        ranges
            .iter()
            .map(|r| VarDomain::Continuous { lo: r.1, hi: r.2 })
            .collect(),
    )
    .expect("domain");
    let opts = QuadOptions {
        max_evals,
        ..QuadOptions::default()
    };
    match (
        quad::log_partition(&energy, &domain, c.beta, &opts),
        c.truth,
    ) {
        (Ok(lz), Some(t)) => {
            let err = (lz.log_z - t).abs();
            let msg = format!(
                "log Z {:.10} ± {:.1e} (true error {:.1e}), {} evals",
                lz.log_z, lz.abs_error, err, lz.evaluations
            );
            let outcome = if lz.status != Status::Converged {
                Outcome::NotConverged
            } else if err <= lz.abs_error {
                Outcome::Accurate
            } else {
                Outcome::Silent
            };
            (outcome, msg)
        }
        (Ok(lz), None) => (
            if lz.status == Status::Converged {
                Outcome::Silent
            } else {
                Outcome::NotRefused
            },
            format!(
                "divergent energy integrated to {} ({:?})",
                lz.log_z, lz.status
            ),
        ),
        (Err(QuadError::Diverges { direction, .. }), None) => (Outcome::Refused, direction),
        (Err(e), _) => (Outcome::Error, e.to_string()),
    }
}

/// Runs the cases (two threads) and prints a table per family and dimension; returns the
/// silent failures.
fn study(cases: &[Case], max_evals: u64) -> Vec<String> {
    let results: Vec<(usize, Outcome, String, f64)> = std::thread::scope(|s| {
        let chunks: Vec<Vec<usize>> = (0..2)
            .map(|t| (0..cases.len()).filter(|i| i % 2 == t).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|idx| {
                s.spawn(move || {
                    idx.into_iter()
                        .map(|i| {
                            let t0 = std::time::Instant::now();
                            let (o, m) = run_case(&cases[i], max_evals);
                            (i, o, m, t0.elapsed().as_secs_f64())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("battery thread"))
            .collect();
        all.sort_by_key(|r| r.0);
        all
    });
    let mut table: BTreeMap<(String, usize), [usize; 6]> = BTreeMap::new();
    let mut silent = Vec::new();
    for (i, o, m, secs) in &results {
        let c = &cases[*i];
        let row = table.entry((c.family.clone(), c.dim)).or_default();
        row[*o as usize] += 1;
        // `BATTERY_ALL=1` prints every case (evaluation counts included).
        if std::env::var("BATTERY_ALL").is_ok()
            || (*o != Outcome::Accurate && *o != Outcome::Refused)
        {
            println!("{:<22} {:?}: {m} [{secs:.2} s]", c.id, o);
        }
        if *o == Outcome::Silent {
            silent.push(format!("{}: {m}", c.id));
        }
    }
    println!(
        "{:<16} {:>3}  {:>8} {:>8} {:>6} {:>7} {:>11} {:>5}",
        "family", "d", "accurate", "not conv", "silent", "refused", "not refused", "error"
    );
    for ((f, d), r) in &table {
        println!(
            "{f:<16} {d:>3}  {:>8} {:>8} {:>6} {:>7} {:>11} {:>5}",
            r[0], r[1], r[2], r[3], r[4], r[5]
        );
    }
    silent
}

#[test]
fn battery_fast_subset_has_no_silent_failure() {
    let all = cases();
    assert!(all.len() >= 150, "the battery has {} cases", all.len());
    let subset: Vec<Case> = all
        .into_iter()
        .filter(|c| c.dim == 1 || (c.dim == 2 && std::env::var("BATTERY_2D").is_ok()))
        .collect();
    let silent = study(&subset, 2_000_000);
    assert!(silent.is_empty(), "silent failures: {silent:#?}");
}

#[test]
#[ignore = "study: all 168 cases, a few minutes on 2 cores"]
fn battery_study() {
    // `BATTERY_ONLY=corner_peak-4d` runs the cases whose id contains it.
    let only = std::env::var("BATTERY_ONLY").unwrap_or_default();
    let all: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.id.contains(&only))
        .collect();
    let silent = study(&all, 5_000_000);
    println!("silent: {}", silent.len());
}

/// Every divergent energy of the battery (10, in 1–4D) is refused with its direction: log
/// growths too slow for their dimension, flat lines and planes, and the unconfined banana
/// `(z2 − z1²)²`, flat along a parabola no ray follows (refused by the valley follow since
/// session 10; before, integrated to "not converged"). Each refusal takes well under a second.
#[test]
fn every_divergent_energy_of_the_battery_is_refused() {
    let divergent: Vec<Case> = cases().into_iter().filter(|c| c.truth.is_none()).collect();
    assert_eq!(divergent.len(), 10);
    for c in &divergent {
        let (outcome, message) = run_case(c, 5_000_000);
        assert_eq!(outcome, Outcome::Refused, "{}: {message}", c.id);
        assert!(
            message.contains('z'),
            "{}: a refusal names its direction: {message}",
            c.id
        );
    }
    let banana = divergent
        .iter()
        .find(|c| c.energy == "(z2 - z1^2)^2")
        .expect("the unconfined banana is in the battery");
    let (_, message) = run_case(banana, 5_000_000);
    assert!(message.contains("curved valley"), "{message}");
}

/// `log ∫_{[0,1]^d} (1 + a·z)^-(d+1) dz` in closed form: d integrations of the power give
/// `Σ_v (−1)^(d−|v|) (1 + a·v)^-1 / (Π a_i · Π_{j<d} (j − d))` over the corners `v`.
fn corner_peak_truth(a: &[f64]) -> f64 {
    let d = a.len();
    let mut sum = 0.0;
    for mask in 0..(1usize << d) {
        let dot: f64 = (0..d).filter(|i| mask >> i & 1 == 1).map(|i| a[i]).sum();
        let sign = if (d - mask.count_ones() as usize) % 2 == 0 {
            1.0
        } else {
            -1.0
        };
        sum += sign / (1.0 + dot);
    }
    let den: f64 = a.iter().product::<f64>() * (0..d).map(|j| j as f64 - d as f64).product::<f64>();
    (sum / den).ln()
}

#[test]
fn corner_peaks_on_the_unit_cube_are_right_or_not_converged() {
    // Genz's corner peak: the weight's maximum is a corner of the cube, where the energy's
    // gradient does not vanish. Battery case corner_peak-4d-7 stopped on 2 Genz–Malik boxes
    // claiming 3.4e-6 with 7.0e-6 true; a first estimate on few boxes on a finite domain is
    // now cross-checked on a second partition. The closed form is checked against the
    // battery's mpmath truth first.
    let battery = [
        0.03559328689579895,
        0.37748105464605525,
        0.2834813828272133,
        0.24094427563093263,
    ];
    assert!((corner_peak_truth(&battery) - -1.7501818627808816).abs() < 1e-11);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        state = ebmcheck::seed::splitmix64(state);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut cases = vec![battery.to_vec()];
    for d in [3, 3, 3, 4, 4, 4, 4, 4] {
        cases.push((0..d).map(|_| 0.05 + 0.45 * uniform()).collect());
    }
    let n = cases.len();
    let mut accurate = 0;
    for a in cases {
        let names: Vec<String> = (1..=a.len()).map(|i| format!("z{i}")).collect();
        let energy = format!(
            "{}*log(1 + {})",
            a.len() + 1,
            a.iter()
                .zip(&names)
                .map(|(c, n)| format!("{c}*{n}"))
                .collect::<Vec<_>>()
                .join(" + ")
        );
        let case = Case {
            id: format!("corner {a:?}"),
            family: "corner_peak".into(),
            dim: a.len(),
            energy,
            over: names.iter().map(|n| format!("{n}=0..1")).collect(),
            beta: 1.0,
            truth: Some(corner_peak_truth(&a)),
        };
        let (outcome, msg) = run_case(&case, 2_000_000);
        assert!(
            matches!(outcome, Outcome::Accurate | Outcome::NotConverged),
            "{}: {outcome:?} {msg}",
            case.id
        );
        accurate += usize::from(outcome == Outcome::Accurate);
    }
    // Correct and smooth: the check must not turn them into "not converged" either.
    assert!(accurate == n, "{accurate} of {n} accurate");
}
