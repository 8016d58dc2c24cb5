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

impl VarDomain {
    /// The integers of an integer domain.
    pub fn integers(&self) -> Option<IntRange> {
        match *self {
            VarDomain::Integer { lo, hi } => Some(IntRange { lo, hi }),
            VarDomain::Continuous { .. } => None,
        }
    }
}

/// The largest magnitude of an integer limit: beyond 2^53 a float counter skips integers.
pub const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// The most values one declared integer domain may hold.
pub const MAX_DOMAIN_VALUES: u128 = 1_000_000;

/// The integers `lo..=hi` (none when `lo > hi`): the one integer-range type of every sum (the
/// expression evaluator's, the compiler's unrolled ones, the engine's) and every integer domain
/// (declared in a file, enumerated by the exact sampler). Sizes are counted in `u128`, so no
/// width of `i64` limits overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntRange {
    /// Smallest value.
    pub lo: i64,
    /// Largest value (inclusive).
    pub hi: i64,
}

impl IntRange {
    /// The integers in the real interval `[lo, hi]`: `ceil(lo)..=floor(hi)`. `None` when a limit
    /// is not finite or beyond ±2^53 ([`MAX_EXACT_INTEGER`]).
    pub fn from_limits(lo: f64, hi: f64) -> Option<IntRange> {
        let (lo, hi) = (lo.ceil(), hi.floor());
        if !(lo.abs() <= MAX_EXACT_INTEGER && hi.abs() <= MAX_EXACT_INTEGER) {
            return None;
        }
        // Both are integers within ±2^53, so the casts are exact.
        #[allow(clippy::cast_possible_truncation)]
        Some(IntRange {
            lo: lo as i64,
            hi: hi as i64,
        })
    }

    /// How many integers the range holds (0 when `lo > hi`).
    pub fn len(&self) -> u128 {
        (i128::from(self.hi) - i128::from(self.lo) + 1)
            .max(0)
            .unsigned_abs()
    }

    /// Whether the range holds no integer.
    pub fn is_empty(&self) -> bool {
        self.lo > self.hi
    }

    /// The points of the product of `ranges` (saturating; 1 for no range).
    pub fn product_len(ranges: &[IntRange]) -> u128 {
        ranges
            .iter()
            .map(IntRange::len)
            .fold(1u128, u128::saturating_mul)
    }

    /// The integers as floats, in increasing order (exact: the limits lie within ±2^53 when
    /// built by [`IntRange::from_limits`]).
    pub fn values(&self) -> impl Iterator<Item = f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.lo..=self.hi).map(|k| k as f64)
    }
}

/// A parameter value: a number or a list of numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A single number.
    Number(f64),
    /// A list, indexed from 0 by an integer variable (`c[k]`).
    List(Vec<f64>),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integers in `[lo, hi]`, counted without overflow, refused beyond ±2^53.
    #[test]
    fn int_range_takes_the_integers_in_the_interval() {
        let r = IntRange::from_limits(-0.5, 2.6).expect("finite");
        assert_eq!(r, IntRange { lo: 0, hi: 2 });
        assert_eq!(r.values().collect::<Vec<_>>(), vec![0.0, 1.0, 2.0]);
        assert_eq!(r.len(), 3);
        assert!(IntRange::from_limits(0.2, 0.8).expect("finite").is_empty());
        assert_eq!(IntRange::from_limits(0.2, 0.8).map(|r| r.len()), Some(0));
        assert_eq!(IntRange::from_limits(0.0, 1e300), None);
        assert_eq!(IntRange::from_limits(f64::NEG_INFINITY, 0.0), None);
        assert_eq!(IntRange::from_limits(f64::NAN, 0.0), None);
        let wide = IntRange {
            lo: i64::MIN,
            hi: i64::MAX,
        };
        assert_eq!(wide.len(), 1u128 << 64);
        assert_eq!(IntRange::product_len(&[wide, wide, wide]), u128::MAX);
        assert_eq!(IntRange::product_len(&[]), 1);
        assert_eq!(
            VarDomain::Integer { lo: 2, hi: 4 }.integers(),
            Some(IntRange { lo: 2, hi: 4 })
        );
    }
}
