//! Fuzz target: the expression pipeline. The input's lines are definitions (all but the last)
//! and an expression (the last): parse → inline → derivative in `x` → simplify → compile →
//! evaluate by the tree and by the compiled program. Nothing may panic, hang or exhaust memory;
//! where the tree gives a finite value, the compiled program must give a number too (not NaN).
#![no_main]

use ebmcheck::budgets::{self, Budget};
use ebmcheck::expr::{Bindings, Context, Program, derivative_of, eval, parse, parse_definition, simplify};
use libfuzzer_sys::fuzz_target;

fn small_budgets() {
    budgets::set(Budget::SumTerms, 100_000);
    budgets::set(Budget::InlinedNodes, 20_000);
    budgets::set(Budget::DerivativeNodes, 20_000);
    budgets::set(Budget::ExpressionBytes, 4096);
}

fuzz_target!(|data: &[u8]| {
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
            assert!(!(v.is_finite() && c.is_nan()), "tree {v}, compiled NaN for `{inlined}`");
        }
    }
    if let Ok(d) = derivative_of(&inlined, "x") {
        let d = simplify(&d);
        let _ = eval(&d, &b);
        if let Ok(p) = Program::compile(&d, &["x", "y"], &Bindings::new()) {
            let _ = p.eval(&[0.7, -1.3]);
        }
    }
});
