//! CLI tests of `ebmcheck sampler-test`: draws from the library's correct and buggy samplers,
//! written to CSV files in a temporary directory (fixed seeds), judged by the real binary.

mod common;
#[path = "cli_sampler_test/files.rs"]
mod files;

use ebmcheck::sample::{
    FnTarget, Hmc, Kernel, Mala, RandomWalkMetropolis, Target, run_chains,
    zoo::{ModeLocked, Ula, WrongTemperature},
};
use ebmcheck::stats::test::clopper_pearson;
use std::path::PathBuf;
use std::time::Instant;

/// The command's default family-wise false-alarm rate, used for every verdict here.
const ALPHA: &str = "1e-3";
const DW: &str = "(y^2-1)^2";
const DW_BETA: f64 = 2.0;
const RHO: f64 = 0.8;
const GAUSS: &str = "(x^2 - 2*rho*x*y + y^2)/(2*(1-rho^2))";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    seconds: f64,
}

fn ebmcheck(args: &[&str]) -> Run {
    let start = Instant::now();
    let (code, stdout, stderr) = common::ebmcheck(args);
    Run {
        code,
        stdout,
        stderr,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// A file in a directory of its own: a directory shared by the tests raced, one test's
/// [`Cleanup`] removing it between another's creating it and writing into it.
fn temp_file(name: &str, text: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("ebmcheck-sampler-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write csv");
    path
}

/// Removes a temporary CSV file when the run that reads it is over.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        // The file's own directory goes with it.
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn csv(names: &[&str], chains: &[Vec<f64>]) -> String {
    let d = names.len();
    let mut s = format!("{},chain\n", names.join(","));
    for (c, chain) in chains.iter().enumerate() {
        for row in chain.chunks(d) {
            let fields: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
            s.push_str(&format!("{},{c}\n", fields.join(",")));
        }
    }
    s
}

fn double_well() -> impl Target {
    FnTarget::new(
        1,
        |y: &[f64]| DW_BETA * (y[0] * y[0] - 1.0).powi(2),
        |y: &[f64], g: &mut [f64]| {
            g[0] = DW_BETA * 4.0 * y[0] * (y[0] * y[0] - 1.0);
            DW_BETA * (y[0] * y[0] - 1.0).powi(2)
        },
    )
}

fn gauss() -> impl Target {
    let k = 1.0 / (1.0 - RHO * RHO);
    FnTarget::new(
        2,
        move |y: &[f64]| 0.5 * k * (y[0] * y[0] - 2.0 * RHO * y[0] * y[1] + y[1] * y[1]),
        move |y: &[f64], g: &mut [f64]| {
            g[0] = k * (y[0] - RHO * y[1]);
            g[1] = k * (y[1] - RHO * y[0]);
            0.5 * k * (y[0] * y[0] - 2.0 * RHO * y[0] * y[1] + y[1] * y[1])
        },
    )
}

/// 4 chains of 15 000 draws after 2 000 warmup steps: 60 000 draws.
fn draws(target: &dyn Target, kernel: &dyn Kernel, inits: &[Vec<f64>], seed: u64) -> Vec<Vec<f64>> {
    run_chains(target, kernel, inits, 2000, 15_000, seed)
        .expect("chains run")
        .draws
        .chains
}

fn judge_dw(chains: &[Vec<f64>], file: &str, format: &str) -> Run {
    let path = temp_file(file, &csv(&["y"], chains));
    let p = path.to_string_lossy().into_owned();
    let _cleanup = Cleanup(path.clone());
    ebmcheck(&[
        "sampler-test",
        DW,
        "--over",
        "y=-inf..inf",
        "--beta",
        "2",
        "--samples",
        &p,
        "--alpha",
        ALPHA,
        "--format",
        format,
    ])
}

fn judge_gauss(chains: &[Vec<f64>], file: &str, format: &str) -> Run {
    let path = temp_file(file, &csv(&["x", "y"], chains));
    let p = path.to_string_lossy().into_owned();
    let _cleanup = Cleanup(path.clone());
    let rho = format!("rho={RHO}");
    ebmcheck(&[
        "sampler-test",
        GAUSS,
        "--over",
        "y=-inf..inf",
        "--over",
        "x=-inf..inf",
        "--beta",
        "1",
        "--set",
        &rho,
        "--samples",
        &p,
        "--alpha",
        ALPHA,
        "--format",
        format,
    ])
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.stdout))
}

fn dw_inits() -> Vec<Vec<f64>> {
    vec![vec![-1.0], vec![1.0], vec![-0.5], vec![0.5]]
}

fn gauss_inits() -> Vec<Vec<f64>> {
    vec![
        vec![0.0, 0.0],
        vec![1.0, 1.0],
        vec![-1.0, -1.0],
        vec![0.5, -0.5],
    ]
}

fn kernels() -> Vec<(&'static str, Box<dyn Kernel>)> {
    vec![
        (
            "mh",
            Box::new(
                RandomWalkMetropolis::new(1.0)
                    .expect("valid")
                    .with_adaptation(0.3)
                    .expect("valid"),
            ),
        ),
        (
            "mala",
            Box::new(
                Mala::new(0.3)
                    .expect("valid")
                    .with_adaptation(0.57)
                    .expect("valid"),
            ),
        ),
        (
            "hmc",
            Box::new(
                Hmc::new(0.2, 8)
                    .expect("valid")
                    .with_adaptation(0.8)
                    .expect("valid"),
            ),
        ),
    ]
}

#[test]
fn correct_samplers_pass_on_the_double_well_and_the_correlated_gaussian() {
    for (i, (name, kernel)) in kernels().into_iter().enumerate() {
        let chains = draws(&double_well(), &*kernel, &dw_inits(), 100 + i as u64);
        let r = judge_dw(&chains, &format!("dw-{name}.csv"), "json");
        assert_eq!(
            r.code, 0,
            "{name} on the double well:\n{}\n{}",
            r.stdout, r.stderr
        );
        let v = json(&r);
        assert_eq!(v["verdict"], "pass", "{name}: {v}");
        let chains = draws(&gauss(), &*kernel, &gauss_inits(), 200 + i as u64);
        // The CSV names its columns x, y; --over lists them in the other order.
        let r = judge_gauss(&chains, &format!("gauss-{name}.csv"), "text");
        assert_eq!(
            r.code, 0,
            "{name} on the Gaussian:\n{}\n{}",
            r.stdout, r.stderr
        );
        assert!(
            r.stdout.contains("verdict at alpha = 0.001: pass"),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn contract_json_and_a_verdict_at_60000_draws() {
    let mh = RandomWalkMetropolis::new(0.5).expect("valid");
    let chains = draws(&gauss(), &mh, &gauss_inits(), 300);
    let r = judge_gauss(&chains, "gauss-contract.csv", "json");
    let v = json(&r);
    assert_eq!(v["schema"], 1);
    assert_eq!(v["n"], 60_000);
    assert_ne!(v["verdict"], "inconclusive", "{v}");
    for k in ["x", "y"] {
        let e = v["ess"][k].as_f64().expect("ess per variable");
        assert!(
            (1000.0..30_000.0).contains(&e),
            "ESS of {k} = {e}: not 'a few thousand'"
        );
    }
    let tests = v["tests"].as_array().expect("tests");
    let names: Vec<&str> = tests.iter().filter_map(|t| t["name"].as_str()).collect();
    // --over lists y before x, so the cross moment is named y*x.
    for want in [
        "mean of x",
        "mean of y^2",
        "mean of y*x",
        "mean of E(y, x)",
        "KS of E(y, x)",
    ] {
        assert!(names.contains(&want), "missing {want} in {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("mass of")), "{names:?}");
    for t in tests {
        for key in ["name", "statistic", "p_value", "reject", "detail"] {
            assert!(t.get(key).is_some(), "missing {key} in {t}");
        }
        assert!(t["reject"].is_boolean());
    }
    // The speed budget is checked on CPU time in tests/sampler_test_speed.rs.
    println!("60 000 draws in 2D judged in {:.3} s wall", r.seconds);
}

#[test]
fn a_chain_stuck_in_one_mode_fails_on_the_basin_masses() {
    let stuck = ModeLocked {
        inner: RandomWalkMetropolis::new(1.0).expect("valid"),
    };
    let inits = vec![vec![1.0]; 4];
    let chains = draws(&double_well(), &stuck, &inits, 400);
    let r = judge_dw(&chains, "dw-stuck.csv", "text");
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("verdict at alpha = 0.001: fail"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("mass of the basin"), "{}", r.stdout);
}

#[test]
fn the_wrong_temperature_and_ula_fail() {
    let hot = WrongTemperature {
        inner: RandomWalkMetropolis::new(1.0).expect("valid"),
        beta: 0.5,
    };
    let chains = draws(&double_well(), &hot, &dw_inits(), 500);
    let r = judge_dw(&chains, "dw-hot.csv", "json");
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(json(&r)["verdict"], "fail");
    let ula = Ula { step: 0.1 };
    let chains = draws(&gauss(), &ula, &gauss_inits(), 501);
    let r = judge_gauss(&chains, "gauss-ula.csv", "json");
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(json(&r)["verdict"], "fail", "{}", r.stdout);
}

#[test]
fn bad_csv_files_exit_2_naming_the_line() {
    let cases = [
        ("missing.csv", "x\n1\n", "line 1", "missing column `y`"),
        (
            "numbers.csv",
            "0.1,0.2\n1,2\n",
            "line 1",
            "add a header naming the columns",
        ),
        ("tabs.csv", "x\ty\n1\t2\n", "line 1", "tab-separated"),
        ("nan.csv", "x,y\n1,2\n3,NaN\n", "line 3", "not finite"),
        ("inf.csv", "x,y\n1,2\n3,4\ninf,1\n", "line 4", "not finite"),
        ("word.csv", "x,y\n1,abc\n", "line 2", "not a number"),
        (
            "ragged.csv",
            "x,y\n1,2\n3\n",
            "line 3",
            "1 fields, the header has 2",
        ),
        ("empty.csv", "x,y\n", "line 2", "no rows"),
        ("chain.csv", "x,y,chain\n1,2,a\n", "line 2", "chain id `a`"),
    ];
    for (file, text, line, what) in cases {
        let r = judge_file(file, text);
        assert_eq!(r.code, 2, "{file}: {}", r.stderr);
        assert!(
            r.stderr.contains(line) && r.stderr.contains(what),
            "{file}: {}",
            r.stderr
        );
    }
    let r = ebmcheck(&[
        "sampler-test",
        GAUSS,
        "--over",
        "x=-inf..inf",
        "--over",
        "y=-inf..inf",
        "--beta",
        "1",
        "--samples",
        "/nonexistent/draws.csv",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

fn judge_file(file: &str, text: &str) -> Run {
    let path = temp_file(file, text);
    let p = path.to_string_lossy().into_owned();
    let _cleanup = Cleanup(path.clone());
    ebmcheck(&[
        "sampler-test",
        GAUSS,
        "--over",
        "x=-inf..inf",
        "--over",
        "y=-inf..inf",
        "--beta",
        "1",
        "--set",
        "rho=0.8",
        "--samples",
        &p,
    ])
}

/// Seeds of the false-alarm calibration run (the issue asks for at least 1000).
const CALIBRATION_SEEDS: u64 = 1000;
/// Family-wise levels of the calibration run: the command runs at the first, and a test's
/// Holm-adjusted p-value tells whether it would also reject at the others.
const CALIBRATION_ALPHAS: [f64; 2] = [0.05, 0.01];
/// Confidence of the binomial bound on the false-alarm rate.
const CALIBRATION_CONFIDENCE: f64 = 0.999;

/// False-alarm rate of the real binary on CSV files of correct MH chains on the double well: the
/// fraction of runs with a trusted rejection at each α must not exceed α beyond its 99.9 %
/// Clopper–Pearson bound (slow: run with --ignored).
#[test]
#[ignore = "calibration run through the binary, 1000 seeds: 10-20 minutes in release mode"]
fn false_alarm_rate_on_correct_chains_is_at_most_alpha() {
    let mh = RandomWalkMetropolis::new(1.0).expect("valid");
    let alpha = CALIBRATION_ALPHAS[0].to_string();
    let mut fails = [0u64; 2];
    let mut inconclusive = 0u64;
    for seed in 0..CALIBRATION_SEEDS {
        let chains = draws(&double_well(), &mh, &dw_inits(), 10_000 + seed);
        let path = temp_file(&format!("calib-{seed}.csv"), &csv(&["y"], &chains));
        let _cleanup = Cleanup(path.clone());
        let p = path.to_string_lossy().into_owned();
        let r = ebmcheck(&[
            "sampler-test",
            DW,
            "--over",
            "y=-inf..inf",
            "--beta",
            "2",
            "--samples",
            &p,
            "--alpha",
            &alpha,
            "--format",
            "json",
        ]);
        let v = json(&r);
        if v["verdict"] == "inconclusive" {
            inconclusive += 1;
        }
        let tests = v["tests"].as_array().expect("tests");
        for (k, a) in CALIBRATION_ALPHAS.iter().enumerate() {
            let reject = tests
                .iter()
                .any(|t| t["trusted"] == true && t["adjusted_p"].as_f64().is_some_and(|p| p <= *a));
            fails[k] += u64::from(reject);
        }
    }
    for (k, a) in CALIBRATION_ALPHAS.iter().enumerate() {
        let (lo, hi) = clopper_pearson(fails[k], CALIBRATION_SEEDS, CALIBRATION_CONFIDENCE);
        println!(
            "false alarms of the binary: {} of {CALIBRATION_SEEDS} at alpha = {a} (99.9 % CI [{lo:.4}, {hi:.4}])",
            fails[k]
        );
        assert!(lo <= *a, "false-alarm rate above {a}");
    }
    println!("inconclusive: {inconclusive} of {CALIBRATION_SEEDS}");
}

/// Runs `sampler-test --report DIR --format json` on draws and returns (run, DIR).
fn judge_with_report(
    energy: &str,
    over: &[&str],
    beta: &str,
    names: &[&str],
    chains: &[Vec<f64>],
    tag: &str,
) -> (Run, PathBuf) {
    let path = temp_file(&format!("{tag}.csv"), &csv(names, chains));
    let p = path.to_string_lossy().into_owned();
    let _cleanup = Cleanup(path.clone());
    let dir = std::env::temp_dir().join(format!(
        "ebmcheck-sampler-report-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_string_lossy().into_owned();
    let mut args = vec!["sampler-test", energy];
    for o in over {
        args.extend(["--over", o]);
    }
    args.extend([
        "--beta",
        beta,
        "--samples",
        &p,
        "--format",
        "json",
        "--report",
        &d,
    ]);
    (ebmcheck(&args), dir)
}

/// Checks a report folder: the three files, SVGs that parse, nothing fetched from outside, and
/// the figure captions `kinds` (each `(caption fragment, count)`); returns the HTML.
fn check_report(dir: &std::path::Path, stdout: &str, kinds: &[(&str, usize)]) -> String {
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    let json = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    let mut a: serde_json::Value = serde_json::from_str(&json).expect("report.json parses");
    // report.json adds where it comes from.
    assert!(a["provenance"]["date"].is_string(), "{a}");
    a.as_object_mut().map(|o| o.remove("provenance"));
    let b: serde_json::Value = serde_json::from_str(stdout).expect("stdout is JSON");
    assert_eq!(a, b, "report.json is the --format json output");
    let figures: usize = kinds.iter().map(|k| k.1).sum();
    assert_eq!(html.matches("<svg").count(), figures, "inline figures");
    for (kind, n) in kinds {
        assert_eq!(
            html.matches(kind).count(),
            *n,
            "figures whose caption holds `{kind}`"
        );
    }
    assert_eq!(
        common::check_report_folder(dir, &html, &md),
        figures,
        "one SVG file per figure"
    );
    assert!(
        !html.to_lowercase().contains("href=\"http"),
        "no external links"
    );
    html
}

#[test]
fn report_folders_hold_the_page_the_markdown_the_json_and_each_figure() {
    // 1D: histogram over the exact density, QQ plots of y and of E(y), the trace.
    let mh = RandomWalkMetropolis::new(1.0).expect("valid");
    let chains = draws(&double_well(), &mh, &dw_inits(), 600);
    let (r, dir) = judge_with_report(DW, &["y=-inf..inf"], "2", &["y"], &chains, "dw");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let html = check_report(
        &dir,
        &r.stdout,
        &[
            ("over the exact density exp(−βE)/Z", 1),
            ("Quantiles of the draws", 2),
            ("Trace of y in each chain", 1),
            ("Rank plot of y", 1),
            ("Autocorrelation of y per chain", 1),
        ],
    );
    assert!(html.contains("✓ pass"), "the verdict is on the page");
    assert!(html.contains("smallest detectable effect"));
    let _ = std::fs::remove_dir_all(&dir);

    // 2D: the marginals, the contours with the draws, QQ of E(y), a trace per coordinate.
    let chains = draws(&gauss(), &mh, &gauss_inits(), 601);
    let (r, dir) = judge_with_report(
        &GAUSS.replace("rho", &RHO.to_string()),
        &["x=-inf..inf", "y=-inf..inf"],
        "1",
        &["x", "y"],
        &chains,
        "gauss",
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    check_report(
        &dir,
        &r.stdout,
        &[
            ("over its exact marginal density", 2),
            ("over the contours of the exact density", 1),
            ("Quantiles of the draws", 1),
            ("in each chain", 2),
            ("Rank plot of", 2),
            ("Autocorrelation of", 2),
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);

    // A failing sampler: the verdict and the failing rows are marked.
    let stuck = ModeLocked {
        inner: RandomWalkMetropolis::new(1.0).expect("valid"),
    };
    let chains = draws(&double_well(), &stuck, &vec![vec![1.0]; 4], 602);
    let (r, dir) = judge_with_report(DW, &["y=-inf..inf"], "2", &["y"], &chains, "stuck");
    assert_eq!(r.code, 1, "{}", r.stdout);
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert!(html.contains("✗ fail"), "the failure is marked");
    let _ = std::fs::remove_dir_all(&dir);
}
