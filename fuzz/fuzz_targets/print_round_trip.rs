//! Fuzz target: printing round-trips. Whatever parses prints to text that parses again to a
//! tree that prints the same (printing is a fixed point after one round), and the S-expression
//! form is preserved.
#![no_main]

use ebmcheck::expr::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(e) = parse(text) else {
        return;
    };
    let printed = e.to_string();
    let again = parse(&printed)
        .unwrap_or_else(|d| panic!("`{text}` printed as `{printed}`, which does not parse: {}", d.message));
    assert_eq!(again.to_string(), printed, "printing is not a fixed point for `{text}`");
    assert_eq!(again.to_sexpr(), e.to_sexpr(), "`{text}` printed as `{printed}` changed meaning");
});
