//! Test support for the `expr` module: strategies, tolerances and reference problems.
