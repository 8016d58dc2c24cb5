//! CLI tests of `ebmcheck sampler-test`: draws from the library's correct and buggy samplers,
//! written to CSV files in a temporary directory (fixed seeds), judged by the real binary.

mod common;

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

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebmcheck-sampler-test-{}", std::process::id()));
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
        // The directory goes with its last file (it fails while other tests still use it).
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

/// Files as tools write them: bookkeeping columns ignored and reported, `--columns`, a chain
/// variable refused, `.npy`, several files against one reference, `"schema"` first.
#[test]
fn real_world_inputs_several_files_and_npy() {
    let mh = RandomWalkMetropolis::new(1.2).expect("valid");
    let chains = draws(&gauss(), &mh, &gauss_inits(), 600);
    // A CSV with ArviZ-like bookkeeping columns around the variables.
    let mut text = String::from("chain,draw,lp,x,y\n");
    for (c, chain) in chains.iter().enumerate() {
        for (i, row) in chain.chunks(2).enumerate() {
            text.push_str(&format!("{c},{i},-1.5,{:e},{:e}\n", row[0], row[1]));
        }
    }
    let a = temp_file("extra-cols.csv", &text);
    let _ca = Cleanup(a.clone());
    // The same draws as a (chains, draws, dims) .npy.
    let n = chains[0].len() / 2;
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {n}, 2), }}",
        chains.len()
    );
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    npy.extend_from_slice(&u16::try_from(h.len()).expect("short").to_le_bytes());
    npy.extend_from_slice(h.as_bytes());
    for v in chains.iter().flatten() {
        npy.extend_from_slice(&v.to_le_bytes());
    }
    let dir = std::env::temp_dir().join(format!("ebmcheck-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let b = dir.join("same.npy");
    std::fs::write(&b, &npy).expect("write npy");
    let (ap, bp) = (
        a.to_string_lossy().into_owned(),
        b.to_string_lossy().into_owned(),
    );
    let label = format!("mh={ap}");
    let common = [
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
        "--format",
        "json",
    ];
    let mut args: Vec<&str> = common.to_vec();
    args.extend(["--samples", &ap]);
    let one = ebmcheck(&args);
    assert!(one.stdout.starts_with("{\"schema\": 1"), "{}", one.stdout);
    let j = json(&one);
    assert_eq!(j["ignored_columns"], serde_json::json!(["draw", "lp"]));
    assert_eq!(j["chains"], 4);
    let report_dir = dir.join("compare");
    let rd = report_dir.to_string_lossy().into_owned();
    let mut args: Vec<&str> = common.to_vec();
    args.extend(["--label", &label, "--samples", &bp, "--report", &rd]);
    let two = ebmcheck(&args);
    // The comparison report: a ranking and one figure per measure, each file's own report beside.
    let html = std::fs::read_to_string(report_dir.join("index.html")).expect("comparison page");
    assert!(html.contains("Ranking") && html.contains("mh") && html.contains("same"));
    assert!(html.matches("<svg").count() >= 3, "three figures");
    assert!(report_dir.join("mh").join("index.html").exists());
    assert!(report_dir.join("same").join("report.json").exists());
    let _ = std::fs::remove_dir_all(&report_dir);
    assert!(two.code == 0 || two.code == 1, "{}", two.stderr);
    let j = json(&two);
    let samples = j["samples"].as_array().expect("one entry per file");
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[0]["label"], "same");
    assert_eq!(samples[1]["label"], "mh");
    // The same draws give the same verdict and the same tests, read from either format.
    assert_eq!(samples[0]["verdict"], samples[1]["verdict"]);
    assert_eq!(samples[0]["tests"], samples[1]["tests"]);
    // --columns maps other names to the variables; a variable named `chain` is refused.
    let c = temp_file("renamed.csv", "a,b\n0.1,0.2\n0.3,0.1\n");
    let _cc = Cleanup(c.clone());
    let cp = c.to_string_lossy().into_owned();
    let mut args: Vec<&str> = common.to_vec();
    args.extend(["--samples", &cp, "--columns", "a,b"]);
    let r = ebmcheck(&args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = ebmcheck(&[
        "sampler-test",
        "chain^2/2",
        "--over",
        "chain=-inf..inf",
        "--beta",
        "1",
        "--samples",
        &ap,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("index column"), "{}", r.stderr);
    let _ = std::fs::remove_file(&b);
    let _ = std::fs::remove_dir(&dir);
}

/// The readers' errors carry data and name no flag; the command adds the flag that fixes each:
/// `--columns` for a missing column or a column map of the wrong length, `--over` for a
/// variable named like an index column or an array with another number of columns.
#[test]
fn draws_errors_name_the_flags_that_fix_them() {
    let c = temp_file("flags_ab.csv", "a,b\n0.1,0.2\n0.3,0.1\n");
    let _cc = Cleanup(c.clone());
    let cp = c.to_string_lossy().into_owned();
    let run = |energy: &str, over: &[&str], extra: &[&str]| {
        let mut args = vec!["sampler-test", energy];
        for o in over {
            args.extend(["--over", o]);
        }
        args.extend(["--beta", "1"]);
        args.extend(extra);
        ebmcheck(&args)
    };
    let xy = ["x=-inf..inf", "y=-inf..inf"];
    let r = run("x^2 + y^2", &xy, &["--samples", &cp]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "line 1: missing column `x` (the header has a, b); name it in the header or map a column to it with --columns"
        ),
        "{}",
        r.stderr
    );
    let r = run("x^2 + y^2", &xy, &["--samples", &cp, "--columns", "a"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("line 1: --columns: 1 columns for 2 variables (x, y)"),
        "{}",
        r.stderr
    );
    let r = run("chain^2/2", &["chain=-inf..inf"], &["--samples", &cp]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "the variable `chain` has the name of an index column; rename the variable (e.g. `--over chain_=…`) or map a column to it with --columns"
        ),
        "{}",
        r.stderr
    );
    let one = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/samples/gauss_one_array.npz"
    );
    let r = run("x^2 + y^2", &xy, &["--samples", one, "--array", "lp"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("columns but --over names 2 variables (x, y)"),
        "{}",
        r.stderr
    );
}

/// `.npz` archives as NumPy writes them (`tests/data/samples/`, made by `np.savez` and
/// `np.savez_compressed` from the same 4 × 250 independent draws of the correlated Gaussian):
/// one array per variable, or one array `draws` beside `lp`; `--array` chooses; errors name the
/// archive's members.
#[test]
fn npz_archives_written_by_numpy() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/samples/");
    let per_var = format!("{data}gauss_per_variable.npz");
    let one = format!("{data}gauss_one_array.npz");
    let common = [
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
        "--format",
        "json",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = common.to_vec();
        args.extend(extra);
        ebmcheck(&args)
    };
    let a = run(&["--samples", &per_var]);
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    let ja = json(&a);
    assert_eq!(ja["verdict"], "pass");
    assert_eq!(ja["chains"], 4);
    assert_eq!(ja["n"], 1000);
    assert_eq!(ja["ignored_columns"], serde_json::json!(["lp"]));
    let b = run(&["--samples", &one]);
    assert_eq!(b.code, 0, "{}{}", b.stdout, b.stderr);
    let jb = json(&b);
    // The same draws, read from either layout, give the same tests.
    assert_eq!(ja["tests"], jb["tests"]);
    let c = run(&["--samples", &one, "--array", "draws"]);
    assert_eq!(json(&c)["tests"], jb["tests"]);
    // `lp` is one array of (chains, draws): it is not (chains, draws, 2).
    let d = run(&["--samples", &one, "--array", "lp"]);
    assert_eq!(d.code, 2);
    assert!(d.stderr.contains("`lp.npy`"), "{}", d.stderr);
    let e = run(&["--samples", &one, "--array", "theta"]);
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.contains("no array `theta`") && e.stderr.contains("draws, lp"),
        "{}",
        e.stderr
    );
    // Variables named otherwise than the arrays, several arrays: the command says how to choose.
    let f = ebmcheck(&[
        "sampler-test",
        "u^2/2",
        "--over",
        "u=-inf..inf",
        "--beta",
        "1",
        "--samples",
        &per_var,
    ]);
    assert_eq!(f.code, 2);
    assert!(
        f.stderr.contains("--array") && f.stderr.contains("x, y, lp"),
        "{}",
        f.stderr
    );
}

/// The comparison report with costs: `--cost LABEL=SECONDS` gives ESS per second, a
/// `grad_evals` column ESS per gradient evaluation, in the JSON, the table and a figure each.
#[test]
fn comparison_with_costs_per_second_and_per_gradient() {
    let mh = RandomWalkMetropolis::new(1.2).expect("valid");
    let chains = draws(&gauss(), &mh, &gauss_inits(), 601);
    let mut text = String::from("chain,x,y,grad_evals\n");
    for (c, chain) in chains.iter().enumerate() {
        for row in chain.chunks(2) {
            text.push_str(&format!("{c},{:e},{:e},3\n", row[0], row[1]));
        }
    }
    let a = temp_file("costly.csv", &text);
    let _ca = Cleanup(a.clone());
    let b = temp_file("cheap.csv", &csv(&["x", "y"], &chains));
    let _cb = Cleanup(b.clone());
    let (ap, bp) = (
        a.to_string_lossy().into_owned(),
        b.to_string_lossy().into_owned(),
    );
    let dir = std::env::temp_dir().join(format!("ebmcheck-cost-{}", std::process::id()));
    let rd = dir.to_string_lossy().into_owned();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
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
            "--format",
            "json",
            "--samples",
            &ap,
            "--samples",
            &bp,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        v.extend(extra.iter().map(ToString::to_string));
        v
    };
    let run = |extra: &[&str]| {
        let v = args(extra);
        ebmcheck(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let r = run(&["--cost", "cheap=2", "--cost", "costly=4", "--report", &rd]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let j = json(&r);
    let samples = j["samples"].as_array().expect("samples");
    let by = |l: &str| {
        samples
            .iter()
            .find(|s| s["label"] == l)
            .expect("labelled")
            .clone()
    };
    let (costly, cheap) = (by("costly"), by("cheap"));
    let n_draws = costly["n"].as_f64().expect("n");
    assert_eq!(costly["cost"]["grad_evals"].as_f64(), Some(3.0 * n_draws));
    assert_eq!(costly["cost"]["seconds"].as_f64(), Some(4.0));
    assert!(cheap["cost"]["grad_evals"].is_null());
    let min_ess = |s: &serde_json::Value| {
        s["ess"]
            .as_object()
            .expect("ess")
            .values()
            .filter_map(serde_json::Value::as_f64)
            .fold(f64::INFINITY, f64::min)
    };
    let per_s = cheap["cost"]["ess_per_second"]
        .as_f64()
        .expect("per second");
    assert!((per_s - min_ess(&cheap) / 2.0).abs() < 1e-9 * per_s);
    let per_g = costly["cost"]["ess_per_grad_eval"]
        .as_f64()
        .expect("per gradient");
    assert!((per_g - min_ess(&costly) / (3.0 * n_draws)).abs() < 1e-9 * per_g);
    let html = std::fs::read_to_string(dir.join("index.html")).expect("comparison page");
    assert!(html.contains("ESS per second") && html.contains("ESS per gradient"));
    assert!(
        html.matches("<svg").count() >= 5,
        "two cost figures besides three"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // A cost for a label that is not a sample, or a malformed one, is a usage error.
    for bad in ["nuts=3", "cheap=-1", "cheap"] {
        let r = run(&["--cost", bad]);
        assert_eq!(r.code, 2, "--cost {bad}: {}", r.stderr);
        assert!(r.stderr.contains("--cost"), "{}", r.stderr);
    }
}
