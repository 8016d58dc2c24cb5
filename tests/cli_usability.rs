//! CLI tests of what users expect of a command-line tool: a closed pipe ends quietly, `--color`
//! and `NO_COLOR`, `--filter` semantics, examples in every `--help`, streamed `check` output,
//! `eval` through the numeric engine, readable numbers, load errors once with suggestions, and
//! `--report` saying where it wrote.

mod common;

use common::{ebmcheck, ebmcheck_env};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ebmcheck-usability-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// 4000 standard normal draws in two chains (a fixed linear congruential generator and
/// Box–Muller), as a CSV with a `chain` column.
fn normal_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let mut state: u64 = 12345;
    let mut uniform = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut text = String::from("chain,y\n");
    for i in 0..4000 {
        let (u, v) = (uniform(), uniform());
        let y = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
        text.push_str(&format!("{},{y}\n", i % 2));
    }
    let path = dir.join("draws.csv");
    std::fs::write(&path, text).expect("csv");
    path
}

/// Runs a command whose reader has already gone: it must end quietly (exit 0, no panic).
fn closed_pipe(args: &[&str]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ebmcheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let dir = temp_dir("pipe");
    let csv = normal_csv(&dir);
    let csv = csv.to_str().expect("utf-8 path");
    closed_pipe(&["check", "derivations/kmeans.toml", "--format", "json"]);
    closed_pipe(&["check", "derivations/kmeans.toml"]);
    closed_pipe(&["eval", "1 + 2"]);
    closed_pipe(&["diff", "x^2", "--wrt", "x"]);
    closed_pipe(&["logz", "z^2", "--over", "z=-inf..inf", "--beta", "1"]);
    let sampler = [
        "sampler-test",
        "0.5*y^2",
        "--over",
        "y=-inf..inf",
        "--beta",
        "1",
        "--samples",
        csv,
    ];
    closed_pipe(&sampler);
    let mut json = sampler.to_vec();
    json.extend(["--format", "json"]);
    closed_pipe(&json);
}

#[test]
fn head_reads_the_first_lines_of_check_json() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ebmcheck"))
        .args(["check", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("a line");
    let mut second = String::new();
    reader.read_line(&mut second).expect("a line");
    assert_eq!(first.trim(), "{");
    assert!(second.contains("\"schema\": 1"), "{second}");
    drop(reader);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn color_follows_the_option_and_no_color() {
    let args = ["check", "derivations/kmeans.toml"];
    let (_, plain, _) = ebmcheck(&args);
    assert!(!plain.contains('\x1b'), "a pipe is not coloured by default");
    let (_, always, _) = ebmcheck(&["check", "derivations/kmeans.toml", "--color", "always"]);
    assert!(always.contains("\x1b[32m✓\x1b[0m"), "{always}");
    let (_, never, _) = ebmcheck_env(
        &["check", "derivations/kmeans.toml", "--color", "never"],
        &[("TERM", "xterm")],
    );
    assert!(!never.contains('\x1b'));
    let (_, no_color, _) = ebmcheck_env(&args, &[("NO_COLOR", "1")]);
    assert!(!no_color.contains('\x1b'));
    // `--color` is global: it may come before the subcommand.
    let (_, before, _) = ebmcheck(&["--color", "always", "check", "derivations/kmeans.toml"]);
    assert!(before.contains('\x1b'));
    let (code, _, err) = ebmcheck(&["check", "--color", "sometimes"]);
    assert_eq!(code, 2, "{err}");
}

/// The claim id of every check line (`  ✓ C6   name …`) and the file headers of a text run.
fn lines_of(stdout: &str) -> (Vec<String>, Vec<String>) {
    let mut claims = Vec::new();
    let mut headers = Vec::new();
    for line in stdout.lines() {
        if line.starts_with("derivations/") {
            headers.push(line.split(" — ").next().unwrap_or("").to_string());
        } else if let Some(rest) = line.strip_prefix("  ") {
            if let Some(claim) = rest.split_whitespace().nth(1) {
                claims.push(claim.to_string());
            }
        }
    }
    (claims, headers)
}

#[test]
fn filter_matches_claims_names_and_files_ignoring_case() {
    // A claim id, in lower case: only that claim, only files that have it.
    let (code, out, err) = ebmcheck(&["check", "--filter", "c8"]);
    assert_eq!(code, 0, "{err}");
    let (claims, headers) = lines_of(&out);
    assert!(!claims.is_empty());
    assert!(claims.iter().all(|c| c == "C8"), "{claims:?}");
    assert_eq!(headers, ["derivations/kmeans.toml"], "{out}");
    // `c1` is a claim id, not a prefix: C10–C13 are not selected by it.
    let (_, out, _) = ebmcheck(&["check", "--filter", "C1"]);
    let (claims, _) = lines_of(&out);
    assert!(
        !claims.is_empty() && claims.iter().all(|c| c == "C1"),
        "{claims:?}"
    );
    // A file name, in upper case: every check of that file and checks named after it.
    let (code, out, _) = ebmcheck(&["check", "--filter", "KMEANS"]);
    assert_eq!(code, 0);
    let (claims, headers) = lines_of(&out);
    assert_eq!(headers, ["derivations/kmeans.toml"]);
    assert_eq!(claims.len(), 5, "{out}");
    // Part of a check's name, any case.
    let (_, out, _) = ebmcheck(&["check", "--filter", "Soft-Min"]);
    let (claims, headers) = lines_of(&out);
    assert_eq!(headers, ["derivations/kmeans.toml"]);
    assert!(claims.len() >= 2, "{out}");
    // The JSON lists only the files with selected checks.
    let (_, out, _) = ebmcheck(&["check", "--filter", "laplace", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    for f in v["files"].as_array().expect("files") {
        assert!(!f["checks"].as_array().expect("checks").is_empty(), "{f}");
    }
    // Nothing selected: exit 2, a message, no stray headers.
    let (code, out, err) = ebmcheck(&["check", "--filter", "no such check"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("selects no check"), "{err}");
}

#[test]
fn every_subcommand_help_has_examples() {
    for sub in ["check", "eval", "diff", "logz", "grad", "sampler-test"] {
        let (code, out, err) = ebmcheck(&[sub, "--help"]);
        assert_eq!(code, 0, "{err}");
        let examples = out
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("`{sub} --help` has no examples:\n{out}"));
        let runs = examples
            .lines()
            .filter(|l| l.trim_start().starts_with(&format!("ebmcheck {sub} ")))
            .count();
        assert!((2..=3).contains(&runs), "`{sub} --help`: {runs} examples");
    }
    let (_, out, _) = ebmcheck(&["sampler-test", "--help"]);
    for test in [
        "Kolmogorov-Smirnov",
        "Anderson-Darling",
        "R-hat",
        "region masses",
        "mean of",
    ] {
        assert!(out.contains(test), "sampler-test --help names {test}");
    }
}

#[test]
fn check_streams_each_file_as_it_finishes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ebmcheck"))
        .args([
            "check",
            "derivations/kmeans.toml",
            "derivations/monte_carlo.toml",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    reader.read_line(&mut first).expect("a line");
    assert!(first.starts_with("derivations/kmeans.toml"), "{first}");
    // kmeans takes milliseconds, the Monte-Carlo file a good part of a second or more: the
    // first file's lines arrive while the second still runs.
    assert!(
        child.try_wait().expect("status").is_none(),
        "the first file's lines came only at the end"
    );
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).expect("rest");
    assert_eq!(child.wait().expect("exit").code(), Some(0));
    // The same bytes as a run that prints at the end (the JSON path): same lines, same order.
    let (_, again, _) = ebmcheck(&[
        "check",
        "derivations/kmeans.toml",
        "derivations/monte_carlo.toml",
    ]);
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.rsplit_once("  ").map_or(l, |(a, _)| a).to_string())
            .collect()
    };
    assert_eq!(strip(&format!("{first}{rest}")), strip(&again));
}

#[test]
fn eval_integrates_through_the_engine_with_an_error_bound() {
    let (code, out, err) = ebmcheck(&["eval", "int[z](exp(-z^2))"]);
    assert_eq!(code, 0, "{err}");
    let (value, error) = out.trim().split_once(" ± ").expect("value ± error");
    let value: f64 = value.parse().expect("number");
    let error: f64 = error.parse().expect("number");
    let exact = std::f64::consts::PI.sqrt();
    assert!(error > 0.0 && error < 1e-8, "{out}");
    assert!(
        (value - exact).abs() <= error,
        "{value} vs √π, bound {error}"
    );
    let (code, out, _) = ebmcheck(&[
        "eval",
        "int[z](exp(-z^2))",
        "--over",
        "z=0..inf",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(out.find("\"schema\""), Some(1));
    let half = v["value"].as_f64().expect("value");
    assert!((half - exact / 2.0).abs() <= v["error"].as_f64().expect("error"));
    assert_eq!(v["converged"], true);
    // A plain expression prints as before, without an error bound.
    let (_, out, _) = ebmcheck(&["eval", "1 + 2"]);
    assert_eq!(out, "3\n");
    // A divergent integral is invalid input.
    let (code, _, err) = ebmcheck(&["eval", "int[z](z)"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn numbers_print_with_exponents_and_every_minimum_is_named() {
    let (code, out, err) = ebmcheck(&[
        "logz",
        "(z^2 - 1)^2",
        "--over",
        "z=-inf..inf",
        "--beta",
        "1",
    ]);
    assert_eq!(code, 0, "{err}");
    for word in out.split_whitespace() {
        assert!(word.len() <= 24, "`{word}` is too long to read:\n{out}");
    }
    assert!(out.contains("minima found (2"), "{out}");
    assert!(
        out.contains("z = -0.99999") && out.contains("z = 0.99999"),
        "{out}"
    );
    let (_, out, _) = ebmcheck(&["eval", "1e-300"]);
    assert_eq!(out, "1e-300\n");
}

#[test]
fn load_errors_print_once_with_a_suggestion() {
    let dir = temp_dir("typo");
    let file = dir.join("typo.toml");
    std::fs::write(
        &file,
        "title = \"t\"\n[variables]\nz = \"-inf..inf\"\n[[check]]\nname = \"n\"\nclaim = \"C1\"\nkind = \"equal\"\nlhs = \"z\"\nrsh = \"z\"\n",
    )
    .expect("write");
    let (code, out, err) = ebmcheck(&["check", file.to_str().expect("utf-8")]);
    assert_eq!(code, 2);
    assert_eq!(err.matches("unknown field `rsh`").count(), 1, "{err}");
    assert!(
        !out.contains("unknown field"),
        "stdout repeats the error: {out}"
    );
    assert!(err.contains("did you mean `rhs`?"), "{err}");
    // A missing path has no code frame to show: no caret under an empty line.
    let (code, _, err) = ebmcheck(&["check", "no/such/folder"]);
    assert_eq!(code, 2);
    assert!(!err.contains('^'), "{err}");
}

#[test]
fn labels_do_not_collide_with_user_names() {
    let (_, out, _) = ebmcheck(&["check", "derivations/laplace.toml"]);
    assert!(!out.contains("h^"), "{out}");
    assert!(out.contains("remainder/rate exponent"), "{out}");
    let (_, out, _) = ebmcheck(&[
        "grad",
        "0.5*(y - m)^2",
        "--over",
        "y=-inf..inf",
        "--data",
        "y=1",
        "--wrt",
        "m",
        "--set",
        "m=0",
        "--beta",
        "1",
        "--mc",
        "4000",
        "--sampler",
        "exact",
    ]);
    assert!(out.contains("z-score"), "{out}");
    let dir = temp_dir("labels");
    let csv = normal_csv(&dir);
    let (_, out, _) = ebmcheck(&[
        "sampler-test",
        "0.5*y^2",
        "--over",
        "y=-inf..inf",
        "--beta",
        "1",
        "--samples",
        csv.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert!(out.contains("mean of E(y)"), "{out}");
}

#[test]
fn report_says_where_it_wrote_and_removes_stale_figures() {
    let dir = temp_dir("stale");
    let stale = dir.join("figure-99.svg");
    std::fs::write(&stale, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").expect("write");
    let d = dir.to_str().expect("utf-8");
    let (code, _, err) = ebmcheck(&["check", "derivations/kmeans.toml", "--report", d]);
    assert_eq!(code, 0, "{err}");
    assert!(!stale.exists(), "a stale figure stayed");
    assert!(
        err.contains(&format!("report: {}", dir.join("index.html").display())),
        "{err}"
    );
    assert!(err.contains("removed 1 stale figure"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
