//! Fuzz target: the derivation-file loader. Any text is loaded or refused with located errors
//! that render; nothing panics.
#![no_main]

use ebmcheck::budgets::{self, Budget};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    budgets::set(Budget::ExpressionBytes, 4096);
    budgets::set(Budget::InlinedNodes, 20_000);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ebmcheck::check::load_str("fuzz.toml", text) {
        Ok(file) => assert!(!file.checks.is_empty() || file.path == "fuzz.toml"),
        Err(errors) => {
            for e in errors {
                let r = e.render();
                assert!(r.starts_with("error: "));
            }
        }
    }
});
