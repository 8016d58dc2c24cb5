//! Test support for the `stats` module: strategies, tolerances and reference problems.
