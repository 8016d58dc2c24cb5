//! Hints on failing checks, from derivations with a planted mistake: each kind of hint (a flipped
//! sign of a side or of one term, a named factor, a variable factor, a reciprocal, a term too
//! many, an additive constant) is given for the mistake that was planted, at every seed; correct
//! derivations and unrelated mistakes get none; and the pages show a hint only where there is one.

mod common;

use common::ebmcheck;

/// `(file, check name or chain step, hint)` for every failing check and chain step of a run.
fn hints(paths: &[&str], seed: &str) -> Vec<(String, String, Option<String>)> {
    let mut args = vec!["check"];
    args.extend_from_slice(paths);
    args.extend_from_slice(&["--format", "json", "--seed", seed]);
    let (code, out, err) = ebmcheck(&args);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let text = |x: &serde_json::Value| x.as_str().map(str::to_string);
    let mut found = Vec::new();
    for f in v["files"].as_array().expect("files") {
        let path = f["path"].as_str().unwrap_or("").to_string();
        for c in f["checks"].as_array().expect("checks") {
            if c["status"] == "fail" && c["steps"].is_null() {
                found.push((
                    path.clone(),
                    text(&c["name"]).unwrap_or_default(),
                    text(&c["hint"]),
                ));
            }
            for s in c["steps"].as_array().into_iter().flatten() {
                if s["status"] == "fail" {
                    found.push((
                        path.clone(),
                        format!("step {}", s["index"]),
                        text(&s["hint"]),
                    ));
                }
            }
            if c["status"] != "fail" {
                assert!(
                    c["hint"].is_null(),
                    "a hint on a check that did not fail: {c}"
                );
            }
        }
    }
    found
}

/// The one hint of a file with one failing check (or the hint of one step of a chain).
fn hint_of(path: &str, what: Option<&str>) -> String {
    let all = hints(&[path], "1");
    let chosen: Vec<_> = all
        .iter()
        .filter(|(_, w, _)| what.is_none_or(|x| x == w))
        .collect();
    assert_eq!(chosen.len(), 1, "{all:?}");
    chosen[0]
        .2
        .clone()
        .unwrap_or_else(|| panic!("no hint for {path} {what:?}"))
}

#[test]
fn each_planted_mistake_gets_its_hint() {
    let cases: [(&str, Option<&str>, &[&str]); 9] = [
        (
            "tests/data/wrong/hints/sign_of_the_free_energy.toml",
            None,
            &["sign flipped?", "the left side is minus the right side"],
        ),
        (
            "tests/data/wrong/flipped_sign.toml",
            None,
            &[
                "sign flipped?",
                "`1/(2*beta)*log(beta*(w^2 + a)/(2*pi))` of the right side changes sign",
            ],
        ),
        (
            "tests/data/wrong/missing_inverse_beta.toml",
            None,
            &[
                "off by a factor beta?",
                "the left side is beta times the right side",
            ],
        ),
        (
            "tests/data/wrong/hints/gaussian_integral_without_sqrt_2pi.toml",
            None,
            &["off by a factor √(2π)?"],
        ),
        (
            "tests/data/wrong/hints/partition_function_inverted.toml",
            None,
            &["reciprocal?"],
        ),
        (
            "tests/data/wrong/hints/log_density_without_normaliser.toml",
            None,
            // −log √(2π) = −0.918938533…
            &[
                "off by an additive constant (a normaliser?)",
                "-9.189385e-1",
            ],
        ),
        (
            "tests/data/wrong/hints/laplace_log_term_twice.toml",
            None,
            &["a term too many", "`log(beta)/(2*beta)` of the right side"],
        ),
        (
            "tests/data/wrong/chains/c7_line4_gaussian_normaliser_factor_2.toml",
            Some("step 3"),
            &["off by a factor 2?", "line 3 is 2 times line 4"],
        ),
        (
            // A factor 2 on one term of line 2 fails steps 1 and 2; both name that term.
            "tests/data/wrong/chains/c11_line2_factor_2.toml",
            Some("step 1"),
            &[
                "off by a factor 2?",
                "`2*diff[w](F(w, x, y))` of line 2 is halved",
            ],
        ),
    ];
    for (path, what, want) in cases {
        let h = hint_of(path, what);
        for w in want {
            assert!(h.contains(w), "{path}: hint {h:?} lacks {w:?}");
        }
    }
}

#[test]
fn a_chain_hint_names_the_wrong_line_shared_by_two_failing_steps() {
    // Line 5 carries the flipped sign: steps 4 and 5 fail and both hints point at line 5.
    let path = "tests/data/wrong/chains/c11_sign_flipped.toml";
    for step in ["step 4", "step 5"] {
        let h = hint_of(path, Some(step));
        assert!(
            h.starts_with("sign flipped?") && h.contains("of line 5 changes sign"),
            "{step}: {h}"
        );
    }
    let h = hint_of(
        "tests/data/wrong/chains/c11_line2_factor_2.toml",
        Some("step 2"),
    );
    assert!(h.contains("of line 2 is halved"), "{h}");
}

#[test]
fn hints_do_not_depend_on_the_seed() {
    let paths = [
        "tests/data/wrong/hints",
        "tests/data/wrong/flipped_sign.toml",
        "tests/data/wrong/missing_inverse_beta.toml",
        "tests/data/wrong/chains/c11_sign_flipped.toml",
    ];
    let base = hints(&paths, "1");
    assert!(
        base.iter().filter(|h| h.2.is_some()).count() >= 8,
        "{base:?}"
    );
    for seed in ["2", "3"] {
        assert_eq!(hints(&paths, seed), base, "seed {seed}");
    }
}

#[test]
fn correct_derivations_and_unrelated_mistakes_get_no_hint() {
    // Every shipped derivation and every correct-but-unusual one passes: no hint anywhere.
    let (code, out, err) = ebmcheck(&[
        "check",
        "derivations",
        "tests/data/right",
        "--format",
        "json",
    ]);
    assert!(code == 0 || code == 1, "{err}");
    assert!(
        !out.contains("\"hint\": \""),
        "a hint on a correct derivation"
    );
    // Mistakes that no simple fix explains: F_β against min E at finite β, a softmax at the
    // wrong temperature, a sign inside one exponent, ∫ log for log ∫, a dropped normaliser that
    // depends on the point, the Laplace rate without its Hessian term.
    let unrelated = [
        "tests/data/wrong/min_at_finite_beta.toml",
        "tests/data/wrong/softmax_wrong_temperature.toml",
        "tests/data/wrong/wrong_laplace_rate.toml",
        "tests/data/wrong/chains/c7_line2_sign_in_one_exponent.toml",
        "tests/data/wrong/chains/c7_line3_integral_of_log.toml",
        "tests/data/wrong/chains/c7_normaliser_dropped.toml",
    ];
    let found = hints(&unrelated, "1");
    assert!(found.len() >= unrelated.len(), "{found:?}");
    for (path, what, hint) in found {
        assert_eq!(hint, None, "{path} {what}");
    }
}

#[test]
fn pages_show_a_hint_only_where_there_is_one() {
    let dir = std::env::temp_dir().join(format!("ebmcheck-hints-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().expect("utf-8 path");
    let (code, text, err) = ebmcheck(&[
        "check",
        "tests/data/wrong/flipped_sign.toml",
        "tests/data/wrong/min_at_finite_beta.toml",
        "--report",
        d,
    ]);
    assert_eq!(code, 1, "{err}");
    // Text: the failing check with a hint says it under its message; the other has no hint line.
    assert_eq!(text.matches("hint: sign flipped?").count(), 1, "{text}");
    assert_eq!(text.matches("hint:").count(), 1, "{text}");
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert_eq!(html.matches("<p class=\"hint\">").count(), 1);
    assert!(html.contains("<code>1/(2*beta)*log(beta*(w^2 + a)/(2*pi))</code>"));
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert_eq!(md.matches("Hint: sign flipped?").count(), 1);
    // A chain: the step table has a hint column only when some step has a hint.
    let (_, _, err) = ebmcheck(&[
        "check",
        "tests/data/wrong/chains/c11_sign_flipped.toml",
        "--report",
        d,
    ]);
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert!(html.contains("<th>hint</th>"), "{err}");
    let (_, _, err) = ebmcheck(&[
        "check",
        "tests/data/wrong/chains/c7_line3_integral_of_log.toml",
        "--report",
        d,
    ]);
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert!(!html.contains("<th>hint</th>"), "{err}");
    assert!(!html.contains("hint:"));
    let _ = std::fs::remove_dir_all(&dir);
}
