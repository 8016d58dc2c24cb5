//! Test support: proptest strategies, named tolerances and reference problems, in one place.
//!
//! Compiled for the crate's unit tests and, with the `testing` feature, for the benches and
//! integration tests (which get it through the dev-dependency on this crate); not part of the
//! default library.

pub mod check;
pub mod expr;
pub mod fuzz;
pub mod grad;
pub mod quad;
pub mod sample_reference;
pub mod stats;

/// The seed of every property test, so that a run's cases, and its verdict, are the same on
/// every machine. `PROPTEST_RNG_SEED=<n>` explores other cases; a failure found there is kept
/// in `proptest-regressions/` and as a named unit test.
pub const PROPTEST_SEED: u64 = 0x00EB_3C4E_C201_2026;

/// A proptest configuration with `cases` cases from [`PROPTEST_SEED`] (or the seed in
/// `PROPTEST_RNG_SEED`, when set).
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    let mut c = proptest::test_runner::Config::with_cases(cases);
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = proptest::test_runner::RngSeed::Fixed(PROPTEST_SEED);
    }
    c
}
