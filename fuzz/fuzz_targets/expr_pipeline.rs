//! Fuzz target `expr_pipeline`: its body is `ebmcheck::testing::fuzz::expr_pipeline`, which `cargo test` also
//! replays over this target's corpus and regressions (`tests/fuzz_corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ebmcheck::testing::fuzz::expr_pipeline(data));
