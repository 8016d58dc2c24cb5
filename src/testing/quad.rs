//! Test support for the `quad` module: strategies, tolerances and reference problems.
