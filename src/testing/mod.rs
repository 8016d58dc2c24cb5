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
