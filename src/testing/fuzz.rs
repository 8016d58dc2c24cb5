//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*`), here so that the same code runs under
//! cargo-fuzz (nightly, libFuzzer) and, as a regression test, in `cargo test` over every input
//! kept in `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` (`tests/fuzz_corpus.rs`).
//!
//! Each function takes the raw input bytes and panics only on a real defect: a panic inside the
//! library, or a broken property (a located error that does not render, a compiled program that
//! gives NaN where the tree gives a number, printing that does not round-trip).

use crate::budgets::{self, Budget};
use crate::expr::{
    Bindings, Context, Program, derivative_of, eval, parse, parse_definition, simplify,
};

/// A fuzz target's body: it takes the raw input and panics only on a defect.
pub type Target = fn(&[u8]);

/// The fuzz targets, by the names of their binaries and corpus folders.
pub const TARGETS: [(&str, Target); 4] = [
    ("expr_pipeline", expr_pipeline),
    ("derivation_loader", derivation_loader),
    ("draws_csv", draws_csv),
    ("print_round_trip", print_round_trip),
];

/// Work limits small enough that one input runs in milliseconds. The same for every target, so
/// that targets replayed on parallel test threads (the limits are process-wide) agree.
pub fn small_budgets() {
    budgets::set(Budget::SumTerms, 100_000);
    budgets::set(Budget::InlinedNodes, 20_000);
    budgets::set(Budget::DerivativeNodes, 20_000);
    budgets::set(Budget::ExpressionBytes, 4096);
}

/// The expression pipeline. The input's lines are definitions (all but the last, at most 16)
/// and an expression (the last): parse → inline → derivative in `x` → simplify → compile →
/// evaluate by the tree and by the compiled program. Where the tree gives a finite value, the
/// compiled program must give a number too (not NaN).
pub fn expr_pipeline(data: &[u8]) {
    small_budgets();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines: Vec<&str> = text.lines().collect();
    let Some(src) = lines.pop() else {
        return;
    };
    let mut ctx = Context::new();
    for l in lines.iter().take(16) {
        if let Ok(d) = parse_definition(l) {
            let _ = ctx.add_definition(d);
        }
    }
    let Ok(e) = parse(src) else {
        return;
    };
    let Ok(inlined) = ctx.inline(&e) else {
        return;
    };
    let b = Bindings::new().with("x", 0.7).with("y", -1.3);
    let tree = eval(&inlined, &b);
    if let Ok(p) = Program::compile(&inlined, &["x", "y"], &Bindings::new()) {
        let c: f64 = p.eval(&[0.7, -1.3]);
        if let Ok(v) = tree {
            // The tree's value is a real number; the program's may differ by rounding or
            // overflow, never become NaN where every operation was defined.
            assert!(
                !(v.is_finite() && c.is_nan()),
                "tree {v}, compiled NaN for `{inlined}`"
            );
        }
    }
    if let Ok(d) = derivative_of(&inlined, "x") {
        let d = simplify(&d);
        let _ = eval(&d, &b);
        if let Ok(p) = Program::compile(&d, &["x", "y"], &Bindings::new()) {
            let _: f64 = p.eval(&[0.7, -1.3]);
        }
    }
}

/// The derivation-file loader: any text is loaded or refused with located errors that render.
pub fn derivation_loader(data: &[u8]) {
    small_budgets();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match crate::check::load_str("fuzz.toml", text) {
        Ok(file) => assert!(!file.checks.is_empty() || file.path == "fuzz.toml"),
        Err(errors) => {
            for e in errors {
                let r = e.render();
                assert!(
                    r.starts_with("error: "),
                    "an error that does not render: {r}"
                );
            }
        }
    }
}

/// The draws CSV reader: any text is read or refused with an error naming the line, for one
/// and for two variables.
pub fn draws_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let vars = vec!["y".to_string(), "z".to_string()];
    let _ = crate::stats::draws_csv::parse_draws_csv(text, &vars);
    let one = vec!["y".to_string()];
    let _ = crate::stats::draws_csv::parse_draws_csv(text, &one);
}

/// Printing round-trips: whatever parses prints to text that parses again to a tree that prints
/// the same (printing is a fixed point after one round), with the same S-expression form.
pub fn print_round_trip(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(e) = parse(text) else {
        return;
    };
    let printed = e.to_string();
    let again = parse(&printed).unwrap_or_else(|d| {
        panic!(
            "`{text}` printed as `{printed}`, which does not parse: {}",
            d.message
        )
    });
    assert_eq!(
        again.to_string(),
        printed,
        "printing is not a fixed point for `{text}`"
    );
    assert_eq!(
        again.to_sexpr(),
        e.to_sexpr(),
        "`{text}` printed as `{printed}` changed meaning"
    );
}
