//! Tests of loading: every lecture file loads, bad files point at the spot with the right help.

use super::*;

fn first_error(name: &str, text: &str) -> SpecError {
    match load_str(name, text) {
        Ok(_) => panic!("{name} should not load"),
        Err(errs) => errs[0].clone(),
    }
}

#[test]
fn every_lecture_derivation_loads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/derivations");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("derivations/ exists") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        let shown = path.display().to_string();
        match load_str(&shown, &text) {
            Ok(f) => n += f.checks.len(),
            Err(errs) => panic!("{}", errs.iter().map(SpecError::render).collect::<String>()),
        }
    }
    assert!(n >= 25, "only {n} checks");
}

#[test]
fn bad_files_point_at_the_spot() {
    let cases = [
        (
            "unknown_key",
            include_str!("../../../tests/data/bad/unknown_key.toml"),
            8,
            1,
        ),
        (
            "wrong_type",
            include_str!("../../../tests/data/bad/wrong_type.toml"),
            7,
            7,
        ),
        (
            "unknown_claim",
            include_str!("../../../tests/data/bad/unknown_claim.toml"),
            5,
            9,
        ),
        (
            "undefined_symbol",
            include_str!("../../../tests/data/bad/undefined_symbol.toml"),
            10,
            15,
        ),
        (
            "parse_error",
            include_str!("../../../tests/data/bad/parse_error.toml"),
            7,
            12,
        ),
    ];
    for (name, text, line, column) in cases {
        let e = first_error(name, text);
        assert_eq!(
            (e.location.line, e.location.column),
            (line, column),
            "{name}:\n{}",
            e.render()
        );
        let r = e.render();
        assert!(
            r.contains('^') && r.contains(&format!("{name}:{line}:{column}")),
            "{r}"
        );
    }
}

#[test]
fn unknown_field_suggests_the_closest_field() {
    let text = "title = \"t\"\n[variables]\nz = \"-inf..inf\"\n[[check]]\nname = \"n\"\nclaim = \"C1\"\nkind = \"equal\"\nlhs = \"z\"\nrsh = \"z\"\n";
    let errors = load_str("f.toml", text).expect_err("a typo");
    let help = errors[0].help.clone().unwrap_or_default();
    assert_eq!(help, "did you mean `rhs`?", "{:?}", errors[0]);
}

#[test]
fn missing_file_has_no_caret_under_an_empty_line() {
    let e =
        super::super::load_path(std::path::Path::new("no/such/file.toml")).expect_err("missing");
    let r = e[0].render();
    assert!(!r.contains('^'), "{r}");
    assert!(r.contains("--> no/such/file.toml:1:1"), "{r}");
}

#[test]
fn parse_error_suggests_the_builtin() {
    let e = first_error(
        "p",
        include_str!("../../../tests/data/bad/parse_error.toml"),
    );
    assert_eq!(
        e.help.as_deref(),
        Some("did you mean `exp`?"),
        "{}",
        e.render()
    );
}

#[test]
fn foreign_fields_and_unknown_kinds_are_named() {
    let text = "title = \"t\"\n[[check]]\nname = \"n\"\nclaim = \"C1\"\nkind = \"equal\"\nlhs = \"1\"\nrhs = \"1\"\nladder = [1, 2, 3]\n";
    let e = first_error("f", text);
    assert!(
        e.message
            .contains("`ladder` does not apply to a `equal` check"),
        "{}",
        e.render()
    );
    assert_eq!(e.location.line, 8);
    let text = "title = \"t\"\n[[check]]\nname = \"n\"\nclaim = \"C1\"\nkind = \"equl\"\n";
    let e = first_error("f", text);
    assert_eq!(e.help.as_deref(), Some("did you mean `equal`?"));
}

#[test]
fn recursive_definitions_are_refused_in_place() {
    let text = "title = \"t\"\n[definitions]\n\"F(x)\" = \"G(x) + 1\"\n\"G(x)\" = \"F(x)\"\n[[check]]\nname = \"n\"\nclaim = \"C1\"\nkind = \"equal\"\nlhs = \"F(1)\"\nrhs = \"1\"\n";
    let e = first_error("f", text);
    assert!(
        e.message.contains("F") && e.message.to_lowercase().contains("call"),
        "{}",
        e.render()
    );
}

proptest::proptest! {
    #![proptest_config(crate::testing::proptest_config(400))]

    /// Random edits of the lecture's files load or give located errors; never a panic.
    #[test]
    fn mutated_files_never_panic((name, text) in crate::testing::check::mutated_derivation()) {
        match load_str(&name, &text) {
            Ok(f) => proptest::prop_assert!(!f.checks.is_empty()),
            Err(errs) => {
                proptest::prop_assert!(!errs.is_empty());
                for e in &errs {
                    proptest::prop_assert!(e.location.line >= 1 && e.location.column >= 1);
                    let _ = e.render();
                }
            }
        }
    }

    /// Arbitrary text: errors, never a panic.
    #[test]
    fn random_text_never_panics(text in "(?s).{0,400}") {
        if let Err(errs) = load_str("random", &text) {
            proptest::prop_assert!(!errs.is_empty());
        }
    }
}

#[test]
fn empty_value_lists_are_refused() {
    let text = "title = \"t\"\n[points]\nx = []\n[[check]]\nname = \"n\"\nclaim = \"C1\"\nkind = \"equal\"\nlhs = \"x\"\nrhs = \"x\"\n";
    let e = first_error("f", text);
    assert!(e.message.contains("must not be empty"), "{}", e.render());
    assert_eq!(e.location.line, 3);
}

#[test]
fn domains_and_point_ranges_parse() {
    assert_eq!(
        parse_domain("-inf..inf"),
        Ok(VarDomain::Continuous {
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY
        })
    );
    assert_eq!(
        parse_domain("integer 0..2"),
        Ok(VarDomain::Integer { lo: 0, hi: 2 })
    );
    assert!(parse_domain("1..0").is_err());
    assert!(parse_domain("a..b").is_err());
    assert_eq!(
        parse_point_range("0.1..100 log"),
        Ok(PointRange::LogUniform(0.1, 100.0))
    );
    assert!(parse_point_range("-1..1 log").is_err());
    assert!(parse_point_range("0..inf").is_err());
}

#[test]
fn estimator_fields_are_checked_where_they_are_written() {
    let head = "title = \"t\"\n[[check]]\nname = \"n\"\nclaim = \"C12\"\nkind = \"estimator\"\nvar = \"y\"\nenergy = \"y^2\"\nof = \"y\"\nexact = \"0\"\n";
    // (the last lines of the check, expected line, column, words of the message)
    let cases = [
        (
            "estimator = \"cdk\"\nreplicates = 100\n",
            10,
            13,
            "unknown estimator",
        ),
        (
            "estimator = \"average\"\nsizes = [4, 2, 8]\nreplicates = 100\n",
            11,
            9,
            "increasing",
        ),
        (
            "estimator = \"cd\"\nk = 0\nstart = \"1\"\nstep = 0.1\npredicted = \"0\"\nreplicates = 100\n",
            11,
            5,
            "at least 1",
        ),
        (
            "estimator = \"single\"\nsizes = [1, 2, 4]\nreplicates = 100\n",
            11,
            9,
            "does not apply",
        ),
        (
            "estimator = \"single\"\nreplicates = 3\n",
            11,
            14,
            "at least 10",
        ),
        (
            "estimator = \"cd\"\nk = 1\nstart = \"1\"\nstep = -1\npredicted = \"0\"\nreplicates = 100\n",
            13,
            8,
            "positive",
        ),
    ];
    for (tail, line, column, words) in cases {
        let text = format!("{head}{tail}");
        let e = first_error("est.toml", &text);
        assert_eq!(
            (e.location.line, e.location.column),
            (line, column),
            "{}",
            e.render()
        );
        assert!(e.message.contains(words), "{}", e.render());
    }
    let ok = format!("{head}estimator = \"average\"\nsizes = [1, 4, 16]\nreplicates = 400\n");
    assert!(load_str("ok.toml", &ok).is_ok());
}

/// `certify`: a check's own key, else the file's default; `certify = false` on a check
/// overrides the file. A kind with nothing to certify (`estimator`, `gradient`) is refused where
/// the request stands: its own key, or its table when the file asked; a value that is not a
/// boolean and a misspelt key are refused as before.
#[test]
fn certify_is_read_per_check_with_the_files_default() {
    let check = |extra: &str| {
        format!(
            "[[check]]\nname = \"n\"\nclaim = \"C5\"\nkind = \"equal\"\nlhs = \"1\"\nrhs = \"1\"\n{extra}"
        )
    };
    let flags = |text: &str| -> Vec<bool> {
        load_str("c.toml", text)
            .unwrap_or_else(|e| panic!("{}", e[0].render()))
            .checks
            .iter()
            .map(|c| c.certify)
            .collect()
    };
    let head = "title = \"t\"\n";
    let text = format!("{head}{}{}", check("certify = true\n"), check(""));
    assert_eq!(flags(&text), [true, false]);
    let text = format!(
        "{head}certify = true\n{}{}",
        check(""),
        check("certify = false\n")
    );
    assert_eq!(flags(&text), [true, false]);
    let gradient = "[[check]]\nname = \"g\"\nclaim = \"C5\"\nkind = \"gradient\"\nloss = \"w^2\"\nwrt = \"w\"\nexact = \"2*w\"\n";
    // A gradient check under a certifying file may opt out, and is then not certified.
    let text = format!("{head}certify = true\n{gradient}certify = false\n");
    assert_eq!(flags(&text), [false]);
    // Refused: at the key (line 9, column 11), or at the check's table under the file's default.
    let e = first_error("g.toml", &format!("{head}{gradient}certify = true\n"));
    assert_eq!(
        (e.location.line, e.location.column),
        (9, 11),
        "{}",
        e.render()
    );
    assert!(
        e.message.contains("does not apply to a `gradient` check"),
        "{}",
        e.render()
    );
    let e = first_error("g.toml", &format!("{head}certify = true\n{gradient}"));
    assert_eq!(e.location.line, 3, "{}", e.render());
    assert!(
        e.message.contains("asked for by the file"),
        "{}",
        e.render()
    );
    assert_eq!(
        e.help.as_deref(),
        Some("set `certify = false` on this check")
    );
    let estimator = "[[check]]\nname = \"n\"\nclaim = \"C12\"\nkind = \"estimator\"\nvar = \"y\"\nenergy = \"y^2\"\nof = \"y\"\nexact = \"0\"\nestimator = \"average\"\nsizes = [1, 4, 16]\nreplicates = 400\ncertify = true\n";
    let e = first_error("e.toml", &format!("{head}{estimator}"));
    assert!(e.message.contains("statistical"), "{}", e.render());
    // Not a boolean; a misspelt key (did you mean ...?); unknown file-level keys stay refused.
    let e = first_error("t.toml", &format!("{head}{}", check("certify = \"yes\"\n")));
    assert!(e.message.contains("invalid type"), "{}", e.render());
    let e = first_error("t.toml", &format!("{head}{}", check("certfy = true\n")));
    assert!(
        e.message.contains("unknown field `certfy`"),
        "{}",
        e.render()
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `certify`?"));
    let e = first_error("t.toml", &format!("{head}certified = true\n{}", check("")));
    assert!(
        e.message.contains("unknown field `certified`"),
        "{}",
        e.render()
    );
}
