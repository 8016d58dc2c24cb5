//! ebmcheck: checks the mathematics of energy-based models, symbolically and numerically.
//!
//! The library is split into domain modules; the `ebmcheck` binary uses only this public API.
//! See ARCHITECTURE.md for the map and its invariants.

pub mod budgets;
pub mod domain;
pub mod energy;
pub mod estimate;
pub mod expr;
pub mod quad;
pub mod remedy;
pub mod sample;
pub mod seed;
pub mod stats;

pub mod check;
pub mod engine;
pub mod grad;
pub mod report;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
