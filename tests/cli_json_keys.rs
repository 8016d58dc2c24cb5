//! The JSON contract of every command that prints one object (`logz`, `eval`, `diff`, `grad`,
//! `sampler-test`): `"schema": 1` is the first key, and the keys, in their printed order, are
//! pinned (contracts are additive only: a new key must be added here on purpose).

mod common;

use common::ebmcheck;

/// The keys of the outer object of `json`, in the order printed (a parsed `serde_json::Value`
/// would sort them).
fn outer_keys(json: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut current = String::new();
    let mut last_string = String::new();
    for c in json.chars() {
        if in_string {
            if escaped {
                escaped = false;
                current.push(c);
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                last_string = std::mem::take(&mut current);
            } else {
                current.push(c);
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            ':' if depth == 1 => keys.push(last_string.clone()),
            _ => {}
        }
    }
    keys
}

/// Runs the command, checks it printed one JSON object whose first key is `"schema": 1`, and
/// returns its outer keys and the parsed value.
fn json_of(args: &[&str]) -> (Vec<String>, serde_json::Value) {
    let (code, out, err) = ebmcheck(args);
    assert!(code == 0 || code == 1, "{args:?}: exit {code}: {err}");
    assert!(out.starts_with("{\"schema\": 1"), "{args:?}: {out}");
    assert_eq!(out.lines().count(), 1, "one line: {out}");
    let value: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(value["schema"], 1);
    (outer_keys(&out), value)
}

fn sorted_keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn outer_keys_reads_the_printed_order() {
    assert_eq!(
        outer_keys(r#"{"schema": 1, "z": {"a":[1,"}"]}, "b\"": 2}"#),
        ["schema", "z", "b\""]
    );
}

#[test]
fn logz_keys_are_pinned() {
    let (keys, _) = json_of(&[
        "logz",
        "(z^2 - 1)^2",
        "--over",
        "z=-inf..inf",
        "--beta",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(
        keys,
        [
            "schema",
            "log_z",
            "abs_error",
            "free_energy",
            "min_energy",
            "argmin",
            "minima",
            "evaluations",
            "status"
        ]
    );
    let (keys, _) = json_of(&[
        "logz",
        "z^2",
        "--over",
        "z=-inf..inf",
        "--beta",
        "1",
        "--certify",
        "--format",
        "json",
    ]);
    assert_eq!(keys.last().map(String::as_str), Some("certified"));
    let (keys, value) = json_of(&[
        "logz",
        "z^2",
        "--over",
        "z=-inf..inf",
        "--beta",
        "1,2",
        "--certify",
        "--format",
        "json",
    ]);
    assert_eq!(keys, ["schema", "results"]);
    let rows = value["results"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        sorted_keys(&rows[0]),
        [
            "abs_error",
            "argmin",
            "beta",
            "certified",
            "evaluations",
            "free_energy",
            "log_z",
            "min_energy",
            "minima",
            "status"
        ]
    );
    assert_eq!(
        sorted_keys(&rows[0]["certified"]),
        [
            "boxes",
            "hi",
            "interval_evaluations",
            "lo",
            "tail_extrapolated",
            "width"
        ]
    );
}

#[test]
fn eval_keys_are_pinned() {
    let (keys, _) = json_of(&["eval", "1+2", "--format", "json"]);
    assert_eq!(keys, ["schema", "value"]);
    let (keys, _) = json_of(&["eval", "int[z](exp(-z^2))", "--format", "json"]);
    assert_eq!(
        keys,
        ["schema", "value", "error", "converged", "termination"]
    );
    let (keys, _) = json_of(&[
        "eval",
        "mc[z ~ exp(-z^2/2); n = 1000](z^2)",
        "--format",
        "json",
    ]);
    assert_eq!(
        keys,
        [
            "schema",
            "value",
            "error",
            "converged",
            "termination",
            "std_error",
            "ess"
        ]
    );
}

#[test]
fn diff_keys_are_pinned() {
    let (keys, _) = json_of(&["diff", "0.5*(y - w*z)^2", "--wrt", "w", "--format", "json"]);
    assert_eq!(keys, ["schema", "derivative"]);
    let (keys, value) = json_of(&[
        "diff", "w^2", "--wrt", "w", "--set", "w=3", "--format", "json",
    ]);
    assert_eq!(keys, ["schema", "derivative", "value"]);
    assert_eq!(value["value"], 6.0);
}

#[test]
fn grad_keys_are_pinned() {
    let (keys, value) = json_of(&[
        "grad",
        "0.5*(y - w)^2 + a*y^4",
        "--over",
        "y=-inf..inf",
        "--data",
        "y=0.3,-1.2,0.8",
        "--wrt",
        "w,a",
        "--set",
        "w=1.5",
        "--set",
        "a=0.1",
        "--beta",
        "2",
        "--mc",
        "2000",
        "--cd",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(
        keys,
        [
            "schema",
            "loss",
            "exact",
            "finite_difference",
            "monte_carlo",
            "status",
            "power",
            "agreement",
            "reasons",
            "contrastive_divergence"
        ]
    );
    assert_eq!(
        sorted_keys(&value["monte_carlo"]["w"]),
        ["ess", "estimate", "mcse", "power", "z"]
    );
    assert_eq!(
        sorted_keys(&value["contrastive_divergence"]),
        ["a", "acceptance", "chains", "k", "sampler", "step", "w"]
    );
    assert_eq!(
        sorted_keys(&value["contrastive_divergence"]["a"]),
        [
            "bias",
            "biased",
            "estimate",
            "mcse",
            "relative_bias",
            "shrink_factor",
            "z",
            "z_predicted"
        ]
    );
}

/// A CSV of `n` standard-normal draws of `y` (inverse CDF of a scrambled grid; a verdict is not
/// what this test is about).
fn normal_csv(dir: &std::path::Path, name: &str, n: usize) -> std::path::PathBuf {
    let mut text = String::from("y\n");
    for i in 0..n {
        // A deterministic permutation of the quantile grid, so draws are not sorted.
        let k = (i * 7919) % n;
        let u = (k as f64 + 0.5) / n as f64;
        // The logistic quantile scaled to unit variance: close to normal, enough here.
        let y = (u / (1.0 - u)).ln() * 3f64.sqrt() / std::f64::consts::PI;
        text.push_str(&format!("{y}\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the draws");
    path
}

#[test]
fn sampler_test_keys_are_pinned() {
    let dir = std::env::temp_dir().join(format!("ebmcheck-json-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let a = normal_csv(&dir, "a.csv", 2000);
    let b = normal_csv(&dir, "b.csv", 1500);
    let (a, b) = (a.to_string_lossy(), b.to_string_lossy());
    let one = [
        "sampler-test",
        "0.5*y^2",
        "--over",
        "y=-inf..inf",
        "--beta",
        "1",
        "--format",
        "json",
        "--samples",
    ];
    let (keys, value) = json_of(&[&one[..], &[&a]].concat());
    // Alphabetical after `schema` (the order of the sorted map the object was once built from).
    assert_eq!(
        keys,
        [
            "schema",
            "alpha",
            "chains",
            "ess",
            "file",
            "ignored_columns",
            "interleaving",
            "more_draws",
            "n",
            "notes",
            "reasons",
            "reference",
            "rhat",
            "rhat_threshold",
            "summary",
            "tests",
            "verdict"
        ]
    );
    assert_eq!(
        sorted_keys(&value["tests"][0]),
        [
            "adjusted_p",
            "detail",
            "ess",
            "min_detectable_effect",
            "name",
            "p_value",
            "reject",
            "statistic",
            "trusted"
        ]
    );
    assert_eq!(
        sorted_keys(&value["reference"]),
        [
            "cdf_error",
            "e_cdf_error",
            "moment_error",
            "notes",
            "region_error",
            "status"
        ]
    );
    let (keys, value) = json_of(&[&one[..], &[&a, "--samples", &b, "--cost", "a=2"]].concat());
    assert_eq!(keys, ["schema", "verdict", "alpha", "samples"]);
    let samples = value["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 2);
    assert!(samples[0]["cost"].is_object() && samples[1].get("cost").is_none());
    assert_eq!(samples[0]["label"], "a");
    assert!(samples[0].get("schema").is_none());
    let _ = std::fs::remove_dir_all(&dir);
}
