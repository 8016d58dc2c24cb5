//! Fuzz target: the draws CSV reader. Any text is read or refused with an error naming the
//! line; nothing panics, and what is read has one finite value per variable per draw.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let vars = vec!["y".to_string(), "z".to_string()];
    let _ = ebmcheck::stats::draws_csv::parse_draws_csv(text, &vars);
    let one = vec!["y".to_string()];
    let _ = ebmcheck::stats::draws_csv::parse_draws_csv(text, &one);
});
