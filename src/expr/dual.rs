//! Dual numbers `a + b ε` (ε² = 0): forward-mode derivatives through any code generic over `Float`.

use num_traits::{Float, FromPrimitive, Num, NumCast, One, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::num::FpCategory;
use std::ops::{Add, Div, Mul, Neg, Rem, Sub};

/// A value and its first derivative along one direction. Comparisons use the value only.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dual {
    /// The value.
    pub re: f64,
    /// The derivative.
    pub eps: f64,
}

impl Dual {
    /// A dual number.
    pub fn new(re: f64, eps: f64) -> Self {
        Dual { re, eps }
    }

    /// The variable itself: derivative 1.
    pub fn variable(re: f64) -> Self {
        Dual { re, eps: 1.0 }
    }

    /// A constant: derivative 0.
    pub fn constant(re: f64) -> Self {
        Dual { re, eps: 0.0 }
    }

    /// `f(self)` given `f(re)` and `f'(re)`.
    fn chain(self, value: f64, slope: f64) -> Self {
        // A zero direction stays zero even where the slope is infinite (sqrt at 0, log at 0).
        let eps = if self.eps == 0.0 {
            0.0
        } else {
            slope * self.eps
        };
        Dual { re: value, eps }
    }
}

impl PartialEq for Dual {
    fn eq(&self, other: &Self) -> bool {
        self.re.to_bits() == other.re.to_bits() || (self.re - other.re).abs() <= 0.0
    }
}

impl PartialOrd for Dual {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

impl Add for Dual {
    type Output = Dual;
    fn add(self, o: Dual) -> Dual {
        Dual::new(self.re + o.re, self.eps + o.eps)
    }
}

impl Sub for Dual {
    type Output = Dual;
    fn sub(self, o: Dual) -> Dual {
        Dual::new(self.re - o.re, self.eps - o.eps)
    }
}

impl Mul for Dual {
    type Output = Dual;
    fn mul(self, o: Dual) -> Dual {
        Dual::new(self.re * o.re, self.eps * o.re + self.re * o.eps)
    }
}

impl Div for Dual {
    type Output = Dual;
    fn div(self, o: Dual) -> Dual {
        let q = self.re / o.re;
        Dual::new(q, (self.eps - q * o.eps) / o.re)
    }
}

impl Rem for Dual {
    type Output = Dual;
    fn rem(self, o: Dual) -> Dual {
        // x mod y = x - y*trunc(x/y), trunc piecewise constant.
        let t = (self.re / o.re).trunc();
        Dual::new(self.re % o.re, self.eps - t * o.eps)
    }
}

impl Neg for Dual {
    type Output = Dual;
    fn neg(self) -> Dual {
        Dual::new(-self.re, -self.eps)
    }
}

impl Zero for Dual {
    fn zero() -> Self {
        Dual::constant(0.0)
    }
    fn is_zero(&self) -> bool {
        self.re == 0.0
    }
}

impl One for Dual {
    fn one() -> Self {
        Dual::constant(1.0)
    }
}

impl Num for Dual {
    type FromStrRadixErr = <f64 as Num>::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        f64::from_str_radix(s, radix).map(Dual::constant)
    }
}

impl ToPrimitive for Dual {
    fn to_i64(&self) -> Option<i64> {
        self.re.to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.re.to_u64()
    }
    fn to_f64(&self) -> Option<f64> {
        Some(self.re)
    }
}

impl NumCast for Dual {
    fn from<T: ToPrimitive>(n: T) -> Option<Self> {
        n.to_f64().map(Dual::constant)
    }
}

impl FromPrimitive for Dual {
    fn from_i64(n: i64) -> Option<Self> {
        Some(Dual::constant(n as f64))
    }
    fn from_u64(n: u64) -> Option<Self> {
        Some(Dual::constant(n as f64))
    }
    fn from_f64(n: f64) -> Option<Self> {
        Some(Dual::constant(n))
    }
}

impl Float for Dual {
    fn nan() -> Self {
        Dual::constant(f64::NAN)
    }
    fn infinity() -> Self {
        Dual::constant(f64::INFINITY)
    }
    fn neg_infinity() -> Self {
        Dual::constant(f64::NEG_INFINITY)
    }
    fn neg_zero() -> Self {
        Dual::constant(-0.0)
    }
    fn min_value() -> Self {
        Dual::constant(f64::MIN)
    }
    fn min_positive_value() -> Self {
        Dual::constant(f64::MIN_POSITIVE)
    }
    fn epsilon() -> Self {
        Dual::constant(f64::EPSILON)
    }
    fn max_value() -> Self {
        Dual::constant(f64::MAX)
    }
    fn is_nan(self) -> bool {
        self.re.is_nan() || self.eps.is_nan()
    }
    fn is_infinite(self) -> bool {
        self.re.is_infinite()
    }
    fn is_finite(self) -> bool {
        self.re.is_finite()
    }
    fn is_normal(self) -> bool {
        self.re.is_normal()
    }
    fn classify(self) -> FpCategory {
        self.re.classify()
    }
    fn floor(self) -> Self {
        Dual::constant(self.re.floor())
    }
    fn ceil(self) -> Self {
        Dual::constant(self.re.ceil())
    }
    fn round(self) -> Self {
        Dual::constant(self.re.round())
    }
    fn trunc(self) -> Self {
        Dual::constant(self.re.trunc())
    }
    fn fract(self) -> Self {
        Dual::new(self.re.fract(), self.eps)
    }
    fn abs(self) -> Self {
        let s = if self.re > 0.0 {
            1.0
        } else if self.re < 0.0 {
            -1.0
        } else {
            0.0
        };
        Dual::new(self.re.abs(), s * self.eps)
    }
    fn signum(self) -> Self {
        Dual::constant(self.re.signum())
    }
    fn is_sign_positive(self) -> bool {
        self.re.is_sign_positive()
    }
    fn is_sign_negative(self) -> bool {
        self.re.is_sign_negative()
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        self * a + b
    }
    fn recip(self) -> Self {
        Dual::one() / self
    }
    fn powi(self, n: i32) -> Self {
        if n == 0 {
            return Dual::one();
        }
        self.chain(
            self.re.powi(n),
            <f64 as std::convert::From<i32>>::from(n) * self.re.powi(n - 1),
        )
    }
    fn powf(self, y: Self) -> Self {
        let v = self.re.powf(y.re);
        if y.eps == 0.0 {
            return self.chain(v, y.re * self.re.powf(y.re - 1.0));
        }
        let from_base = if self.eps == 0.0 {
            0.0
        } else {
            y.re * self.re.powf(y.re - 1.0) * self.eps
        };
        Dual::new(v, from_base + v * self.re.ln() * y.eps)
    }
    fn sqrt(self) -> Self {
        let s = self.re.sqrt();
        self.chain(s, 0.5 / s)
    }
    fn exp(self) -> Self {
        let e = self.re.exp();
        self.chain(e, e)
    }
    fn exp2(self) -> Self {
        let e = self.re.exp2();
        self.chain(e, e * std::f64::consts::LN_2)
    }
    fn ln(self) -> Self {
        self.chain(self.re.ln(), 1.0 / self.re)
    }
    fn log(self, base: Self) -> Self {
        self.ln() / base.ln()
    }
    fn log2(self) -> Self {
        self.chain(self.re.log2(), 1.0 / (self.re * std::f64::consts::LN_2))
    }
    fn log10(self) -> Self {
        self.chain(self.re.log10(), 1.0 / (self.re * std::f64::consts::LN_10))
    }
    fn max(self, o: Self) -> Self {
        if self.re.is_nan() || o.re > self.re {
            o
        } else {
            self
        }
    }
    fn min(self, o: Self) -> Self {
        if self.re.is_nan() || o.re < self.re {
            o
        } else {
            self
        }
    }
    fn abs_sub(self, o: Self) -> Self {
        if self.re > o.re {
            self - o
        } else {
            Dual::zero()
        }
    }
    fn cbrt(self) -> Self {
        let c = self.re.cbrt();
        self.chain(c, 1.0 / (3.0 * c * c))
    }
    fn hypot(self, o: Self) -> Self {
        (self * self + o * o).sqrt()
    }
    fn sin(self) -> Self {
        self.chain(self.re.sin(), self.re.cos())
    }
    fn cos(self) -> Self {
        self.chain(self.re.cos(), -self.re.sin())
    }
    fn tan(self) -> Self {
        let t = self.re.tan();
        self.chain(t, 1.0 + t * t)
    }
    fn asin(self) -> Self {
        self.chain(self.re.asin(), 1.0 / (1.0 - self.re * self.re).sqrt())
    }
    fn acos(self) -> Self {
        self.chain(self.re.acos(), -1.0 / (1.0 - self.re * self.re).sqrt())
    }
    fn atan(self) -> Self {
        self.chain(self.re.atan(), 1.0 / (1.0 + self.re * self.re))
    }
    fn atan2(self, o: Self) -> Self {
        let r2 = self.re * self.re + o.re * o.re;
        Dual::new(
            self.re.atan2(o.re),
            (o.re * self.eps - self.re * o.eps) / r2,
        )
    }
    fn sin_cos(self) -> (Self, Self) {
        (self.sin(), self.cos())
    }
    fn exp_m1(self) -> Self {
        self.chain(self.re.exp_m1(), self.re.exp())
    }
    fn ln_1p(self) -> Self {
        self.chain(self.re.ln_1p(), 1.0 / (1.0 + self.re))
    }
    fn sinh(self) -> Self {
        self.chain(self.re.sinh(), self.re.cosh())
    }
    fn cosh(self) -> Self {
        self.chain(self.re.cosh(), self.re.sinh())
    }
    fn tanh(self) -> Self {
        let t = self.re.tanh();
        self.chain(t, 1.0 - t * t)
    }
    fn asinh(self) -> Self {
        self.chain(self.re.asinh(), 1.0 / (self.re * self.re + 1.0).sqrt())
    }
    fn acosh(self) -> Self {
        self.chain(self.re.acosh(), 1.0 / (self.re * self.re - 1.0).sqrt())
    }
    fn atanh(self) -> Self {
        self.chain(self.re.atanh(), 1.0 / (1.0 - self.re * self.re))
    }
    fn integer_decode(self) -> (u64, i16, i8) {
        self.re.integer_decode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_of_elementary_functions() {
        let x = Dual::variable(0.7);
        let checks: [(Dual, f64); 5] = [
            (x * x, 1.4),
            (x.exp(), 0.7f64.exp()),
            (x.ln(), 1.0 / 0.7),
            (x.powf(Dual::constant(2.5)), 2.5 * 0.7f64.powf(1.5)),
            (Dual::constant(2.0).powf(x), 2f64.powf(0.7) * 2f64.ln()),
        ];
        for (i, (got, want)) in checks.iter().enumerate() {
            assert!(
                (got.eps - want).abs() < 1e-14,
                "case {i}: {} vs {want}",
                got.eps
            );
        }
    }
}
