//! Test-only support: proptest strategies, named tolerances and reference problems, in one place.

pub mod check;
pub mod expr;
pub mod grad;
pub mod quad;
pub mod sample_reference;
pub mod stats;
