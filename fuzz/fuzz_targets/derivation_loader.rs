//! Fuzz target `derivation_loader`: its body is `ebmcheck::testing::fuzz::derivation_loader`, which `cargo test` also
//! replays over this target's corpus and regressions (`tests/fuzz_corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ebmcheck::testing::fuzz::derivation_loader(data));
