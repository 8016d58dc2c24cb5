//! Domain types shared by every layer: the range of a variable and the value of a parameter.
//!
//! They live here, below the numeric engine, so that `quad`, `engine`, `grad` and `check` all
//! name the same type (`quad::VarDomain` and `check::spec::VarDomain` are re-exports of
//! [`VarDomain`]) and no numeric module has to import the derivation-file schema.

/// The range of one variable: the default limits of integrals, sums and minima over it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VarDomain {
    /// A continuous variable on `lo..hi`; either end may be infinite.
    Continuous {
        /// Lower end (`-inf` allowed).
        lo: f64,
        /// Upper end (`+inf` allowed).
        hi: f64,
    },
    /// An integer variable taking every value in `lo..=hi`, summed exactly.
    Integer {
        /// Smallest value.
        lo: i64,
        /// Largest value (inclusive).
        hi: i64,
    },
}

/// A parameter value: a number or a list of numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A single number.
    Number(f64),
    /// A list, indexed from 0 by an integer variable (`c[k]`).
    List(Vec<f64>),
}
