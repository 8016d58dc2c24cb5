//! Interval arithmetic with outward rounding: enclosures of every operation of the language.
//!
//! An [`Interval`] `[lo, hi]` stands for a set of real numbers that contains every value an
//! expression takes over a box of inputs. Each operation returns an interval containing the
//! exact result for every choice of operands in its argument intervals (an *inclusion
//! function*), rounded outward: `+ - * /` and `sqrt` are correctly rounded in IEEE arithmetic,
//! so one step of [`f64::next_down`]/[`f64::next_up`] suffices; the transcendental functions
//! of the platform's libm are not, so their results are widened by [`LIBM_ULPS`] ulps.
//!
//! The ends may be infinite (`[30, inf]` is the ray `z ≥ 30`). An operation that has no real
//! value somewhere in its arguments (`log` of an interval reaching below 0, `x/y` with `0` in
//! `y`) returns [`Interval::ENTIRE`]: no information, which is always sound for a bound. An
//! end that is infinite only because a finite value overflowed is kept finite (`f64::MAX`), so
//! `lo` is never `+inf` and `hi` never `-inf`, and no inclusion computes `inf - inf`.
//!
//! The compiled [`Program`](super::Program) evaluates these over boxes
//! ([`Program::eval_interval`](super::Program::eval_interval)); the quadrature uses them to bound
//! the mass of regions it has not integrated.

use super::ast::Builtin;
use std::f64::consts::{FRAC_PI_2, PI};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Ulps by which the results of libm functions (`exp`, `ln`, `sin`, …) are widened. glibc's
/// are within 1–2 ulps; 4 leaves a margin for other platforms.
pub const LIBM_ULPS: f64 = 4.0;

/// A closed interval `[lo, hi]` of extended reals, `lo <= hi`, neither end NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower end (`-inf` allowed, never `+inf`).
    pub lo: f64,
    /// Upper end (`+inf` allowed, never `-inf`).
    pub hi: f64,
}

/// The largest `f64` below the finite `x` (`f64::next_down`, stable only since Rust 1.86).
fn next_down(x: f64) -> f64 {
    if x == 0.0 {
        return -f64::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f64::from_bits(bits - 1)
    } else {
        f64::from_bits(bits + 1)
    }
}

/// `x` rounded one step down (infinities kept, except `+inf`, the overflow of a finite value,
/// which becomes `f64::MAX`).
fn dn(x: f64) -> f64 {
    if x == f64::INFINITY {
        f64::MAX
    } else if x == f64::NEG_INFINITY || x.is_nan() {
        f64::NEG_INFINITY
    } else {
        next_down(x)
    }
}

/// `x` rounded one step up (see [`dn`]).
fn up(x: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        -f64::MAX
    } else if x == f64::INFINITY || x.is_nan() {
        f64::INFINITY
    } else {
        -next_down(-x)
    }
}

/// A libm result widened down by [`LIBM_ULPS`] ulps (relative) plus a tiny absolute slack.
fn dn_libm(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return dn(x);
    }
    dn(x - (x.abs() * (LIBM_ULPS * f64::EPSILON) + 1e-300))
}

/// A libm result widened up (see [`dn_libm`]).
fn up_libm(x: f64) -> f64 {
    if x.is_nan() {
        return f64::INFINITY;
    }
    if x.is_infinite() {
        return up(x);
    }
    up(x + (x.abs() * (LIBM_ULPS * f64::EPSILON) + 1e-300))
}

/// Product of two interval ends with `0 · ±inf = 0` (an infinite end stands for unbounded
/// finite values, whose product with 0 is 0).
fn mul_end(a: f64, b: f64) -> f64 {
    if a == 0.0 || b == 0.0 { 0.0 } else { a * b }
}

impl Interval {
    /// Every real number (and the answer when nothing is known).
    pub const ENTIRE: Interval = Interval {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };

    /// `[lo, hi]`; NaN ends or `lo > hi` give [`Interval::ENTIRE`].
    pub fn new(lo: f64, hi: f64) -> Interval {
        if lo.is_nan() || hi.is_nan() || lo > hi {
            Interval::ENTIRE
        } else {
            Interval {
                lo: if lo == f64::INFINITY { f64::MAX } else { lo },
                hi: if hi == f64::NEG_INFINITY {
                    -f64::MAX
                } else {
                    hi
                },
            }
        }
    }

    /// The single number `x` (`[x, x]`); NaN gives [`Interval::ENTIRE`].
    pub fn point(x: f64) -> Interval {
        Interval::new(x, x)
    }

    /// Whether `x` lies in the interval.
    pub fn contains(self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// Whether nothing is known (`[-inf, inf]`).
    pub fn is_entire(self) -> bool {
        self.lo == f64::NEG_INFINITY && self.hi == f64::INFINITY
    }

    /// `hi - lo` rounded up.
    pub fn width(self) -> f64 {
        up(self.hi - self.lo)
    }

    /// The midpoint (finite when both ends are finite; 0 for [`Interval::ENTIRE`]).
    pub fn mid(self) -> f64 {
        if self.lo.is_finite() && self.hi.is_finite() {
            0.5 * self.lo + 0.5 * self.hi
        } else if self.lo.is_finite() {
            self.lo
        } else if self.hi.is_finite() {
            self.hi
        } else {
            0.0
        }
    }

    /// The smallest interval containing both.
    #[must_use]
    pub fn hull(self, other: Interval) -> Interval {
        Interval::new(self.lo.min(other.lo), self.hi.max(other.hi))
    }

    /// The intersection, or `None` when empty.
    pub fn intersect(self, other: Interval) -> Option<Interval> {
        let lo = self.lo.max(other.lo);
        let hi = self.hi.min(other.hi);
        (lo <= hi).then_some(Interval { lo, hi })
    }

    /// `self + other`.
    #[must_use]
    fn add_iv(self, o: Interval) -> Interval {
        let mut lo = dn(self.lo + o.lo);
        if self.lo >= 0.0 && o.lo >= 0.0 {
            lo = lo.max(0.0);
        }
        let mut hi = up(self.hi + o.hi);
        if self.hi <= 0.0 && o.hi <= 0.0 {
            hi = hi.min(0.0);
        }
        Interval::new(lo, hi)
    }

    /// `-self` (exact).
    #[must_use]
    fn neg_iv(self) -> Interval {
        Interval::new(-self.hi, -self.lo)
    }

    /// `self - other`.
    #[must_use]
    fn sub_iv(self, o: Interval) -> Interval {
        self.add(o.neg())
    }

    /// `self * other`.
    #[must_use]
    fn mul_iv(self, o: Interval) -> Interval {
        let p = [
            mul_end(self.lo, o.lo),
            mul_end(self.lo, o.hi),
            mul_end(self.hi, o.lo),
            mul_end(self.hi, o.hi),
        ];
        let lo = p.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut lo = dn(lo);
        let mut hi = up(hi);
        // A product of operands of known signs keeps its sign.
        let nonneg = (self.lo >= 0.0 && o.lo >= 0.0) || (self.hi <= 0.0 && o.hi <= 0.0);
        let nonpos = (self.lo >= 0.0 && o.hi <= 0.0) || (self.hi <= 0.0 && o.lo >= 0.0);
        if nonneg {
            lo = lo.max(0.0);
        }
        if nonpos {
            hi = hi.min(0.0);
        }
        Interval::new(lo, hi)
    }

    /// `self * c` for a number `c`.
    #[must_use]
    pub fn scale(self, c: f64) -> Interval {
        self.mul(Interval::point(c))
    }

    /// `1 / self`; [`Interval::ENTIRE`] when `0` is inside.
    #[must_use]
    pub fn recip(self) -> Interval {
        if self.lo > 0.0 || self.hi < 0.0 {
            // 1/x is decreasing on each side of 0.
            let lo = if self.hi == f64::INFINITY {
                0.0
            } else {
                dn(1.0 / self.hi)
            };
            let hi = if self.lo == f64::NEG_INFINITY {
                0.0
            } else {
                up(1.0 / self.lo)
            };
            let (lo, hi) = if self.lo > 0.0 {
                (lo.max(0.0), hi)
            } else {
                (lo, hi.min(0.0))
            };
            Interval::new(lo, hi)
        } else {
            Interval::ENTIRE
        }
    }

    /// `self / other`.
    #[must_use]
    fn div_iv(self, o: Interval) -> Interval {
        if self.lo == 0.0 && self.hi == 0.0 && (o.lo > 0.0 || o.hi < 0.0) {
            return Interval::point(0.0);
        }
        if o.lo > 0.0 || o.hi < 0.0 {
            // Dividing directly is tighter than multiplying by a rounded reciprocal when both
            // ends are finite.
            if self.lo.is_finite() && self.hi.is_finite() && o.lo.is_finite() && o.hi.is_finite() {
                let q = [
                    self.lo / o.lo,
                    self.lo / o.hi,
                    self.hi / o.lo,
                    self.hi / o.hi,
                ];
                let lo = q.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = q.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let (mut lo, mut hi) = (dn(lo), up(hi));
                let same = (self.lo >= 0.0 && o.lo > 0.0) || (self.hi <= 0.0 && o.hi < 0.0);
                let opposite = (self.lo >= 0.0 && o.hi < 0.0) || (self.hi <= 0.0 && o.lo > 0.0);
                if same {
                    lo = lo.max(0.0);
                }
                if opposite {
                    hi = hi.min(0.0);
                }
                return Interval::new(lo, hi);
            }
            return self.mul(o.recip());
        }
        Interval::ENTIRE
    }

    /// `self²` (tighter than `self * self`: never negative).
    #[must_use]
    pub fn sqr(self) -> Interval {
        let a = self.abs();
        let lo = if a.lo == 0.0 {
            0.0
        } else {
            dn(a.lo * a.lo).max(0.0)
        };
        Interval::new(lo, up(a.hi * a.hi))
    }

    /// `|self|`.
    #[must_use]
    pub fn abs(self) -> Interval {
        if self.lo >= 0.0 {
            self
        } else if self.hi <= 0.0 {
            self.neg()
        } else {
            Interval::new(0.0, (-self.lo).max(self.hi))
        }
    }

    /// `self^n` for an integer `n` (repeated multiplication, as the evaluators do).
    #[must_use]
    pub fn powi(self, n: i32) -> Interval {
        if n == 0 {
            return Interval::point(1.0);
        }
        if n < 0 {
            return self.powi(-n).recip();
        }
        // x^n is increasing in |x| for even n and increasing in x for odd n. powi is not
        // correctly rounded: widen by n ulps.
        let widen = |v: f64, down: bool| -> f64 {
            if v.is_infinite() || v == 0.0 {
                return v;
            }
            let s = v.abs() * ((f64::from(n) + 1.0) * f64::EPSILON) + 1e-300;
            if down { dn(v - s) } else { up(v + s) }
        };
        if n % 2 == 0 {
            let a = self.abs();
            let lo = widen(a.lo.powi(n), true).max(0.0);
            Interval::new(lo, widen(a.hi.powi(n), false))
        } else {
            Interval::new(widen(self.lo.powi(n), true), widen(self.hi.powi(n), false))
        }
    }

    /// `self^e` with the language's semantics: an exponent that is a single integer of
    /// magnitude ≤ 64 is [`Interval::powi`] (negative bases allowed); otherwise the base must
    /// be non-negative (`exp(e·log x)`), else [`Interval::ENTIRE`].
    #[must_use]
    pub fn pow(self, e: Interval) -> Interval {
        if e.hi <= e.lo && e.lo.fract() == 0.0 && e.lo.abs() <= 64.0 {
            return self.powi(e.lo as i32);
        }
        if self.lo < 0.0 {
            return Interval::ENTIRE;
        }
        if self.hi == 0.0 {
            // 0^e: 0 for e > 0, inf for e < 0, 1 at 0.
            return if e.lo > 0.0 {
                Interval::point(0.0)
            } else {
                Interval::new(0.0, f64::INFINITY)
            };
        }
        let l = self.log();
        e.mul(l).exp()
    }

    /// Applies a monotone non-decreasing libm function to both ends.
    fn increasing(self, f: impl Fn(f64) -> f64) -> Interval {
        Interval::new(dn_libm(f(self.lo)), up_libm(f(self.hi)))
    }

    /// `exp(self)`.
    #[must_use]
    pub fn exp(self) -> Interval {
        let r = self.increasing(f64::exp);
        Interval::new(r.lo.max(0.0), r.hi)
    }

    /// `log(self)`; [`Interval::ENTIRE`] when the interval reaches below 0.
    #[must_use]
    pub fn log(self) -> Interval {
        if self.lo < 0.0 {
            return Interval::ENTIRE;
        }
        self.increasing(f64::ln)
    }

    /// `log1p(self)`.
    #[must_use]
    pub fn log1p(self) -> Interval {
        if self.lo < -1.0 {
            return Interval::ENTIRE;
        }
        self.increasing(f64::ln_1p)
    }

    /// `expm1(self)`.
    #[must_use]
    pub fn expm1(self) -> Interval {
        let r = self.increasing(f64::exp_m1);
        Interval::new(r.lo.max(-1.0), r.hi)
    }

    /// `sqrt(self)` (correctly rounded).
    #[must_use]
    pub fn sqrt(self) -> Interval {
        if self.lo < 0.0 {
            return Interval::ENTIRE;
        }
        let lo = if self.lo == 0.0 {
            0.0
        } else {
            dn(self.lo.sqrt()).max(0.0)
        };
        Interval::new(lo, up(self.hi.sqrt()))
    }

    /// `sign(self)`.
    #[must_use]
    pub fn sign(self) -> Interval {
        let s = |x: f64| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        };
        Interval::new(s(self.lo), s(self.hi))
    }

    /// `sin(self)`.
    #[must_use]
    pub fn sin(self) -> Interval {
        self.periodic(f64::sin, FRAC_PI_2)
    }

    /// `cos(self)`.
    #[must_use]
    pub fn cos(self) -> Interval {
        self.periodic(f64::cos, 0.0)
    }

    /// A 2π-periodic function with its maximum 1 at `peak + 2πk` and its minimum −1 at
    /// `peak + π + 2πk`, monotone in between: the ends' values plus every extremum inside
    /// (extrema within a small margin of an end are included, to stay sound under rounding).
    fn periodic(self, f: impl Fn(f64) -> f64, peak: f64) -> Interval {
        let full = Interval::new(-1.0, 1.0);
        if !(self.lo.is_finite() && self.hi.is_finite()) || self.hi - self.lo >= 2.0 * PI {
            return full;
        }
        if self.lo.abs().max(self.hi.abs()) > 1e9 {
            return full;
        }
        let a = f(self.lo);
        let b = f(self.hi);
        let mut lo = dn_libm(a.min(b)).max(-1.0);
        let mut hi = up_libm(a.max(b)).min(1.0);
        let margin = 1e-9 * (1.0 + self.lo.abs().max(self.hi.abs()));
        let hits = |center: f64| -> bool {
            // Is there an integer k with lo - margin <= center + 2πk <= hi + margin?
            let k = ((self.lo - margin - center) / (2.0 * PI)).ceil();
            center + 2.0 * PI * k <= self.hi + margin
        };
        if hits(peak) {
            hi = 1.0;
        }
        if hits(peak + PI) {
            lo = -1.0;
        }
        Interval::new(lo, hi)
    }

    /// `tan(self)`: monotone between poles; [`Interval::ENTIRE`] when a pole may be inside.
    #[must_use]
    pub fn tan(self) -> Interval {
        if !(self.lo.is_finite() && self.hi.is_finite()) || self.hi - self.lo >= PI {
            return Interval::ENTIRE;
        }
        if self.lo.abs().max(self.hi.abs()) > 1e9 {
            return Interval::ENTIRE;
        }
        let margin = 1e-9 * (1.0 + self.lo.abs().max(self.hi.abs()));
        let k = ((self.lo - margin - FRAC_PI_2) / PI).ceil();
        if FRAC_PI_2 + PI * k <= self.hi + margin {
            return Interval::ENTIRE;
        }
        self.increasing(f64::tan)
    }

    /// `sinh(self)`.
    #[must_use]
    pub fn sinh(self) -> Interval {
        self.increasing(f64::sinh)
    }

    /// `cosh(self)`: even, minimum 1 at 0.
    #[must_use]
    pub fn cosh(self) -> Interval {
        let a = self.abs();
        let r = a.increasing(f64::cosh);
        Interval::new(r.lo.max(1.0), r.hi)
    }

    /// `tanh(self)`.
    #[must_use]
    pub fn tanh(self) -> Interval {
        let r = self.increasing(f64::tanh);
        Interval::new(r.lo.max(-1.0), r.hi.min(1.0))
    }

    /// `sigmoid(self)`.
    #[must_use]
    pub fn sigmoid(self) -> Interval {
        let r = self.increasing(super::eval::sigmoid::<f64>);
        Interval::new(r.lo.max(0.0), r.hi.min(1.0))
    }

    /// `softplus(self) = log(1 + exp(self))`.
    #[must_use]
    pub fn softplus(self) -> Interval {
        let r = self.increasing(super::eval::softplus::<f64>);
        Interval::new(r.lo.max(0.0), r.hi)
    }

    /// `min(self, other)`.
    #[must_use]
    pub fn min(self, o: Interval) -> Interval {
        Interval::new(self.lo.min(o.lo), self.hi.min(o.hi))
    }

    /// `max(self, other)`.
    #[must_use]
    pub fn max(self, o: Interval) -> Interval {
        Interval::new(self.lo.max(o.lo), self.hi.max(o.hi))
    }

    /// `logsumexp(self, other)`: non-decreasing in both arguments.
    #[must_use]
    pub fn logsumexp(self, o: Interval) -> Interval {
        let f = super::eval::logsumexp2::<f64>;
        let lo = f(self.lo, o.lo);
        let hi = f(self.hi, o.hi);
        // `m + ln(e^(a-m) + e^(b-m))`: the logarithm of a sum in [1, 2] is off by ulps of 1, not
        // of the result, and `m` by ulps of `m`; widen by both (the point evaluators use the
        // same formula, `logsumexp(softplus(y), y)` at y = -2.918 was 7 ulps off).
        let slack = |m: f64, v: f64| {
            if v.is_finite() && m.is_finite() {
                (m.abs() + 1.0) * (LIBM_ULPS * f64::EPSILON)
            } else {
                0.0
            }
        };
        let lo = dn_libm(lo - slack(self.lo.max(o.lo), lo));
        let hi = up_libm(hi + slack(self.hi.max(o.hi), hi));
        // The result is at least the larger argument's lower end.
        Interval::new(lo.max(self.lo.max(o.lo)), hi)
    }

    /// A one-argument builtin applied to the interval.
    #[must_use]
    pub fn apply1(self, f: Builtin) -> Interval {
        match f {
            Builtin::Exp => self.exp(),
            Builtin::Log => self.log(),
            Builtin::Log1p => self.log1p(),
            Builtin::Expm1 => self.expm1(),
            Builtin::Sqrt => self.sqrt(),
            Builtin::Abs => self.abs(),
            Builtin::Sign => self.sign(),
            Builtin::Sin => self.sin(),
            Builtin::Cos => self.cos(),
            Builtin::Tan => self.tan(),
            Builtin::Sinh => self.sinh(),
            Builtin::Cosh => self.cosh(),
            Builtin::Tanh => self.tanh(),
            Builtin::Sigmoid => self.sigmoid(),
            Builtin::Softplus => self.softplus(),
            Builtin::Min | Builtin::Max | Builtin::LogSumExp => self,
        }
    }
}

impl Add for Interval {
    type Output = Interval;
    /// An enclosure of `a + b` for `a` in `self`, `b` in `o`.
    fn add(self, o: Interval) -> Interval {
        self.add_iv(o)
    }
}

impl Sub for Interval {
    type Output = Interval;
    /// An enclosure of `a - b`.
    fn sub(self, o: Interval) -> Interval {
        self.sub_iv(o)
    }
}

impl Mul for Interval {
    type Output = Interval;
    /// An enclosure of `a * b` (`0 · ±inf = 0` at the ends).
    fn mul(self, o: Interval) -> Interval {
        self.mul_iv(o)
    }
}

impl Div for Interval {
    type Output = Interval;
    /// An enclosure of `a / b`; [`Interval::ENTIRE`] when `0` is in `b`.
    fn div(self, o: Interval) -> Interval {
        self.div_iv(o)
    }
}

impl Neg for Interval {
    type Output = Interval;
    /// `-a` (exact).
    fn neg(self) -> Interval {
        self.neg_iv()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(lo: f64, hi: f64) -> Interval {
        Interval::new(lo, hi)
    }

    #[test]
    fn arithmetic_encloses_exact_results() {
        let a = iv(1.0, 2.0);
        let b = iv(-3.0, 0.5);
        assert!(a.add(b).contains(-2.0) && a.add(b).contains(2.5));
        assert!(a.mul(b).contains(-6.0) && a.mul(b).contains(1.0));
        assert!(a.div(iv(2.0, 4.0)).contains(0.25) && a.div(iv(2.0, 4.0)).contains(1.0));
        assert!(a.div(b).is_entire());
        // 0.1 + 0.2 is not 0.3 in f64: the enclosure contains both roundings.
        let s = Interval::point(0.1).add(Interval::point(0.2));
        assert!(s.lo < 0.1 + 0.2 && s.hi > 0.1 + 0.2);
    }

    #[test]
    fn unbounded_rays_stay_sound() {
        let ray = iv(30.0, f64::INFINITY);
        let sq = ray.sqr();
        assert!(sq.hi.is_infinite());
        assert!(sq.lo <= 900.0 && sq.lo > 899.0);
        // exp(-z^2) over z >= 30 is within [0, exp(-900)].
        let w = sq.neg().exp();
        assert!(w.lo == 0.0 && w.hi >= (-900.0f64).exp() && w.hi <= 2e-300);
        // 0 * inf is 0 at the ends: [0, 1] * [1, inf] = [0, inf].
        let p = iv(0.0, 1.0).mul(iv(1.0, f64::INFINITY));
        assert!(p.lo >= -1e-300 && p.lo <= 0.0 && p.hi.is_infinite());
        // inf - inf never arises: [30, inf] - [30, inf] is everything.
        assert!(ray.sub(ray).is_entire());
        // Overflow of a finite value is not an infinite lower end.
        let big = iv(1e300, 1e300).mul(iv(1e300, 1e300));
        assert!(big.lo.is_finite() && big.hi == f64::INFINITY);
    }

    #[test]
    fn functions_handle_domains_and_extrema() {
        assert!(iv(-1.0, 1.0).log().is_entire());
        assert!(iv(0.0, 1.0).log().lo == f64::NEG_INFINITY);
        let s = iv(0.0, 4.0).sin();
        assert!(s.hi >= 1.0 && s.lo < (4.0f64).sin());
        let c = iv(3.0, 3.5).cos();
        assert!(c.lo <= -1.0);
        assert!(iv(1.0, 2.0).tan().is_entire());
        assert!(iv(-1.0, 1.0).tan().contains(1.0f64.tan()));
        assert!(iv(-2.0, 3.0).cosh().lo >= 1.0 && iv(-2.0, 3.0).cosh().contains(1.0));
        assert!(iv(-2.0, 3.0).powi(2).contains(0.0) && iv(-2.0, 3.0).powi(2).contains(9.0));
        assert!(iv(-2.0, 3.0).powi(-2).is_entire());
        assert!(iv(-8.0, -2.0).powi(3).contains(-512.0));
        assert!(iv(-1.0, 2.0).pow(Interval::point(0.5)).is_entire());
        let r = iv(4.0, 9.0).pow(Interval::point(0.5));
        assert!(r.contains(2.0) && r.contains(3.0) && r.width() < 1.01);
        let l = iv(-1.0, 2.0).logsumexp(iv(0.0, 1.0));
        assert!(l.contains(super::super::eval::logsumexp2(-1.0, 0.0)));
        assert!(l.contains(super::super::eval::logsumexp2(2.0, 1.0)));
    }

    /// The libm slack of an end near `f64::MAX` does not overflow to an infinite end:
    /// `logsumexp` over `-z²/2` for `z` in `[2e154, 4e154]` (where `z²` overflows) kept `+inf`
    /// as its upper end, so `-logsumexp(...)`, a Gaussian mixture's energy, had no lower bound
    /// past `|z| = 1.3e154` and every ray reaching there had unbounded mass.
    #[test]
    fn slack_near_the_largest_double_stays_finite() {
        let a = iv(f64::NEG_INFINITY, -8.9e307);
        let l = a.logsumexp(a);
        assert!(l.hi.is_finite() && l.hi < -8.8e307, "{l:?}");
        // `powi`'s widening `|v|·(n + 1)·ε` overflowed the same way: both ends became infinite.
        let big = iv(1e308, 1.7e308).powi(1);
        assert!(
            big.lo.is_finite() && big.hi.is_finite() && big.contains(1.7e308),
            "{big:?}"
        );
    }
}
