//! CLI tests of `ebmcheck check`: the lecture's derivations pass, wrong claims fail, bad files
//! are reported with file:line:column, and the JSON contract holds.

mod common;

use common::ebmcheck;

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let (code, stdout, stderr) = ebmcheck(args);
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}); stderr: {stderr}\n{stdout}"));
    (code, v)
}

#[test]
fn every_derivation_passes() {
    let (code, v) = json(&["check", "--format", "json"]);
    let mut failures = Vec::new();
    for f in v["files"].as_array().expect("files") {
        for c in f["checks"].as_array().expect("checks") {
            if c["status"] != "pass" {
                failures.push(format!(
                    "{} / {}: {} — {}",
                    f["path"], c["name"], c["status"], c["message"]
                ));
            }
        }
        assert!(
            f["load_errors"].as_array().expect("load_errors").is_empty(),
            "{f}"
        );
    }
    assert!(
        failures.is_empty(),
        "failing checks:\n{}",
        failures.join("\n")
    );
    assert_eq!(code, 0);
    assert!(v["summary"]["pass"].as_u64().expect("count") >= 25);
}

#[test]
fn every_claim_is_covered() {
    let (_, v) = json(&["check", "--format", "json"]);
    let mut covered = std::collections::BTreeSet::new();
    for f in v["files"].as_array().expect("files") {
        for c in f["checks"].as_array().expect("checks") {
            if c["status"] == "pass" {
                covered.insert(c["claim"].as_str().expect("claim").to_string());
            }
        }
    }
    for id in [
        "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11", "C13",
    ] {
        assert!(covered.contains(id), "claim {id} has no passing check");
    }
}

#[test]
fn json_starts_with_schema_and_is_reproducible() {
    let (_, a, _) = ebmcheck(&[
        "check",
        "derivations/kmeans.toml",
        "--format",
        "json",
        "--seed",
        "7",
    ]);
    let (_, b, _) = ebmcheck(&[
        "check",
        "derivations/kmeans.toml",
        "--format",
        "json",
        "--seed",
        "7",
    ]);
    assert!(a.trim_start().starts_with("{\n  \"schema\": 1"), "{a}");
    assert_eq!(a, b, "same seed, same bytes");
    let (_, c, _) = ebmcheck(&[
        "check",
        "derivations/kmeans.toml",
        "--format",
        "json",
        "--seed",
        "8",
    ]);
    assert_ne!(a, c, "another seed draws other points");
}

#[test]
fn each_wrong_claim_fails_and_names_both_sides() {
    for file in [
        "flipped_sign",
        "missing_inverse_beta",
        "min_at_finite_beta",
        "wrong_laplace_rate",
        "softmax_wrong_temperature",
    ] {
        let path = format!("tests/data/wrong/{file}.toml");
        let (code, v) = json(&["check", &path, "--format", "json"]);
        assert_eq!(code, 1, "{file} must fail");
        let c = &v["files"][0]["checks"][0];
        assert_eq!(c["status"], "fail", "{file}: {c}");
        let w = &c["worst"];
        assert!(w["lhs"].is_number() && w["rhs"].is_number(), "{file}: {w}");
        let (_, text, _) = ebmcheck(&["check", &path]);
        let name = c["name"].as_str().expect("name");
        assert!(
            text.contains(name),
            "{file}: text names the failing check:\n{text}"
        );
        assert!(text.contains('✗'), "{text}");
    }
}

#[test]
fn bad_files_give_file_line_column_and_exit_2() {
    let cases = [
        ("unknown_key", 8, 1, "unknown field"),
        ("wrong_type", 7, 7, "invalid type"),
        ("unknown_claim", 5, 9, "unknown claim id `C42`"),
        ("undefined_symbol", 10, 15, "unknown function `G`"),
        ("parse_error", 7, 12, "exp2"),
    ];
    for (file, line, col, needle) in cases {
        let path = format!("tests/data/bad/{file}.toml");
        let (code, _, stderr) = ebmcheck(&["check", &path]);
        assert_eq!(code, 2, "{file}: {stderr}");
        assert!(
            stderr.contains(&format!("{path}:{line}:{col}")),
            "{file}: expected {line}:{col} in\n{stderr}"
        );
        assert!(
            stderr.contains(needle),
            "{file}: expected `{needle}` in\n{stderr}"
        );
        assert!(
            stderr.contains('^'),
            "{file}: caret under the spot\n{stderr}"
        );
    }
}

#[test]
fn a_bad_file_does_not_stop_the_others() {
    let (code, v) = json(&[
        "check",
        "tests/data/bad/parse_error.toml",
        "derivations/kmeans.toml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let files = v["files"].as_array().expect("files");
    assert_eq!(files.len(), 2);
    assert!(
        !files[0]["load_errors"]
            .as_array()
            .expect("errors")
            .is_empty()
    );
    assert!(
        files[1]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .all(|c| c["status"] == "pass")
    );
}

#[test]
fn filter_keeps_matching_checks() {
    let (code, v) = json(&[
        "check",
        "derivations/kmeans.toml",
        "--filter",
        "soft-min",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let checks = v["files"][0]["checks"].as_array().expect("checks");
    assert!(!checks.is_empty());
    assert!(
        checks
            .iter()
            .all(|c| c["name"].as_str().expect("name").contains("soft-min"))
    );
}

#[test]
fn missing_path_is_a_usage_error() {
    let (code, _, stderr) = ebmcheck(&["check", "no/such/folder"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no/such/folder"), "{stderr}");
}

#[test]
fn each_mutated_chain_fails_at_the_mutated_step() {
    for (file, step) in [
        ("c7_normaliser_dropped", 1),
        ("c7_dropped_inverse_beta", 2),
        ("c11_derivative_inside_log", 1),
        ("c11_sign_flipped", 4),
        ("c11_mc_wrong_temperature", 6),
    ] {
        let path = format!("tests/data/wrong/chains/{file}.toml");
        let (code, v) = json(&["check", &path, "--format", "json"]);
        assert_eq!(code, 1, "{file}");
        let c = &v["files"][0]["checks"][0];
        assert_eq!(c["status"], "fail", "{file}: {c}");
        assert_eq!(c["first_failing_step"], step, "{file}: {}", c["message"]);
        let steps = c["steps"].as_array().expect("steps");
        for s in &steps[..step - 1] {
            assert_eq!(
                s["status"], "pass",
                "{file}: steps before the mutation pass: {s}"
            );
        }
        let relation = if file.contains("_mc_") { "~" } else { "=" };
        assert_eq!(steps[step - 1]["relation"], relation);
        let (_, text, _) = ebmcheck(&["check", &path]);
        assert!(text.contains(&format!("step {step} fails")), "{text}");
    }
}

#[test]
fn lecture_chains_pass_step_by_step() {
    for file in ["chain_free_energy", "chain_gradient"] {
        let path = format!("derivations/{file}.toml");
        let (code, v) = json(&["check", &path, "--format", "json"]);
        let c = &v["files"][0]["checks"][0];
        assert_eq!(code, 0, "{file}: {}", c["message"]);
        assert!(c["first_failing_step"].is_null());
        let steps = c["steps"].as_array().expect("steps");
        assert!(steps.len() >= 3);
        for (i, s) in steps.iter().enumerate() {
            assert_eq!(s["index"], i + 1);
            assert_eq!(s["status"], "pass", "{s}");
            for key in ["lhs", "rhs", "difference", "tolerance"] {
                assert!(s[key].is_number(), "{key} in {s}");
            }
        }
    }
}

/// Calibration of the Monte-Carlo comparisons (`mc[..]` against the exact value): over 60 seeds
/// (600 comparisons of correct estimates) the z-scores must look standard normal. Bounds: the
/// sample standard deviation of 600 N(0,1) values has sd ≈ 0.029, so 0.85–1.15 is about 5σ;
/// the tail fraction beyond 2.576 (1 % nominal) must stay below 3 %.
#[test]
#[ignore = "calibration over 60 seeds (about a minute)"]
fn monte_carlo_comparisons_are_calibrated() {
    let mut zs = Vec::new();
    let mut failed = 0;
    for seed in 1..=60 {
        let s = seed.to_string();
        let (_, v) = json(&[
            "check",
            "derivations/monte_carlo.toml",
            "--format",
            "json",
            "--seed",
            &s,
        ]);
        for c in v["files"][0]["checks"].as_array().expect("checks") {
            if c["status"] != "pass" {
                failed += 1;
            }
            for p in c["points"].as_array().expect("points") {
                if let Some(z) = p["extra"]["z"].as_f64() {
                    zs.push(z);
                }
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let n = zs.len() as f64;
    let mean = zs.iter().sum::<f64>() / n;
    let sd = (zs.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / n).sqrt();
    #[allow(clippy::cast_precision_loss)]
    let tail = zs.iter().filter(|z| z.abs() > 2.576).count() as f64 / n;
    println!(
        "n = {n}, mean z = {mean:.3}, sd z = {sd:.3}, P(|z| > 2.576) = {tail:.3}, failed checks = {failed}"
    );
    assert_eq!(zs.len(), 600);
    assert!((0.85..=1.15).contains(&sd), "sd of z = {sd}");
    assert!(mean.abs() < 0.25, "mean of z = {mean}");
    assert!(tail < 0.03, "tail fraction {tail}");
}

/// `(line L, step S)` at the end of a wrong file's title: the step that must fail first.
fn mutated_step(title: &str) -> Option<usize> {
    let at = title.rfind("step ")?;
    title[at + 5..].trim_end_matches(')').parse().ok()
}

/// Every file in `tests/data/wrong/chains` (mutations of the lecture's two chains in every line:
/// β for 1/β, a sign in one exponent, `min` for the free energy, a factor 2 in a normaliser, a
/// dropped Jacobian, log ∫ for ∫ log; an integral that diverges) fails at exactly the step its
/// title names, and every step before it passes.
#[test]
fn every_wrong_chain_fails_at_its_mutated_line() {
    let (code, v) = json(&["check", "tests/data/wrong/chains", "--format", "json"]);
    assert_eq!(code, 1);
    let files = v["files"].as_array().expect("files");
    assert!(files.len() >= 15, "{} files", files.len());
    for f in files {
        let title = f["title"].as_str().expect("title");
        let step = mutated_step(title).unwrap_or_else(|| panic!("no step in `{title}`"));
        let c = &f["checks"][0];
        assert_eq!(c["status"], "fail", "{title}: {}", c["message"]);
        assert_eq!(c["first_failing_step"], step, "{title}: {}", c["message"]);
        for s in &c["steps"].as_array().expect("steps")[..step - 1] {
            assert_eq!(s["status"], "pass", "{title}: {s}");
        }
    }
}

/// Correct but unusual derivations pass: a change of variables with its Jacobian, a Jensen `≤`
/// step, a symmetry argument (an exact 0), nested integrals in 2D.
#[test]
fn correct_unusual_derivations_pass() {
    let (code, v) = json(&["check", "tests/data/right", "--format", "json"]);
    for f in v["files"].as_array().expect("files") {
        for c in f["checks"].as_array().expect("checks") {
            assert_eq!(c["status"], "pass", "{}: {}", f["path"], c["message"]);
            assert!(
                c["power"].is_number(),
                "{}: power {}",
                f["path"],
                c["power"]
            );
        }
    }
    assert_eq!(code, 0);
}

/// The verdicts of the shipped derivations, the wrong folder and the right folder are the same
/// at several seeds (the test points move; the verdicts, and the step a chain fails at, must not).
#[test]
fn verdicts_do_not_depend_on_the_seed() {
    let verdicts = |seed: &str| {
        let (_, v) = json(&[
            "check",
            "derivations",
            "tests/data/wrong",
            "tests/data/right",
            "--seed",
            seed,
            "--format",
            "json",
        ]);
        let mut out = Vec::new();
        for f in v["files"].as_array().expect("files") {
            for c in f["checks"].as_array().expect("checks") {
                out.push(format!(
                    "{} / {}: {} at step {}",
                    f["path"], c["name"], c["status"], c["first_failing_step"]
                ));
            }
        }
        out
    };
    let base = verdicts("1");
    assert!(base.len() > 60, "{} checks", base.len());
    for seed in ["2", "3"] {
        let other = verdicts(seed);
        let differ: Vec<_> = base.iter().zip(&other).filter(|(a, b)| a != b).collect();
        assert!(differ.is_empty(), "seed {seed}: {differ:#?}");
    }
}

/// A claim whose evaluation fails is an `error` naming the file, line and column of the part of
/// the expression that failed (the divergent integral, the logarithm on the second line of a
/// multi-line string), with the fix (`EngineError` keeps its span and help).
#[test]
fn evaluation_errors_point_at_the_failing_part() {
    let path = "tests/data/errors/engine_spans.toml";
    let (code, v) = json(&["check", path, "--format", "json"]);
    assert_eq!(code, 1, "an error result is exit 1: {v}");
    let checks = v["files"][0]["checks"].as_array().expect("checks");
    let messages: Vec<&str> = checks
        .iter()
        .map(|c| {
            assert_eq!(c["status"], "error", "{c}");
            c["message"].as_str().unwrap_or("")
        })
        .collect();
    // `rhs = "a + log(int[..` : the content starts at column 8, `log(int[..])` at column 12.
    assert!(
        messages[0].contains(&format!("({path}:16:12)"))
            && messages[0].contains("diverges")
            && messages[0].contains("give `z` finite limits"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains(&format!("({path}:25:3)"))
            && messages[1].contains("`log` needs a positive argument"),
        "{}",
        messages[1]
    );
}

/// `eval` shows an engine error under a caret at the failing operator, with its fix.
#[test]
fn eval_puts_a_caret_under_the_failing_operator() {
    let (code, _, stderr) = ebmcheck(&["eval", "1 + int[z](exp(z))"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("diverges") && stderr.contains("at 1:5"),
        "{stderr}"
    );
    assert!(stderr.contains("    ^^^^^^^^^^^^^^"), "{stderr}");
    assert!(stderr.contains("help: give `z` finite limits"), "{stderr}");
}
