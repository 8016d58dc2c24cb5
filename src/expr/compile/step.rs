//! What one instruction does: at one point in any [`Float`] type, and over a chunk of [`LANES`]
//! points in `f64` (fixed-length loops that vectorise).

use super::*;

/// One instruction at one point; `r` reads a register.
#[inline(always)]
pub(super) fn step<T: Float>(op: Op, r: impl Fn(u32) -> T, lists: &[Vec<f64>]) -> T {
    let c = |v: f64| T::from(v).unwrap_or_else(T::nan);
    match op {
        // Inputs are registers after `lower_inputs`; this instruction is never evaluated.
        Op::Input(_) => T::nan(),
        Op::Const(v) => c(v),
        Op::Add(a, b) => r(a) + r(b),
        Op::Sub(a, b) => r(a) - r(b),
        Op::Mul(a, b) => r(a) * r(b),
        Op::Div(a, b) => r(a) / r(b),
        Op::AddC(a, v) => r(a) + c(v),
        Op::MulC(a, v) => r(a) * c(v),
        Op::SubCR(v, a) => c(v) - r(a),
        Op::DivCR(v, a) => c(v) / r(a),
        Op::Neg(a) => -r(a),
        Op::Sqr(a) => r(a) * r(a),
        Op::Powi(a, n) => r(a).powi(n),
        Op::Powf(a, b) => pow(r(a), r(b)),
        Op::F1(f, a) => apply1(f, r(a)),
        Op::Min(a, b) => min2(r(a), r(b)),
        Op::Max(a, b) => max2(r(a), r(b)),
        Op::Lse(a, b) => logsumexp2(r(a), r(b)),
        Op::Index(l, a) => {
            let list = lists.get(l as usize).map_or(&[][..], Vec::as_slice);
            r(a).to_f64()
                .and_then(|k| crate::expr::eval::list_index(k, list.len()).ok())
                .map_or_else(T::nan, |i| c(list[i]))
        }
        Op::SqrAddC(a, v) => {
            let x = r(a) + c(v);
            x * x
        }
        Op::AddSqr(a, b) => r(a) + r(b) * r(b),
        Op::AddMulC(a, b, v) => r(a) + c(v) * r(b),
        Op::SumSqr(a, b) => r(a) * r(a) + r(b) * r(b),
        Op::SumSqrC(a, b, v) => r(a) * r(a) + r(b) * r(b) + c(v),
        Op::SqrAddMulC(a, b, v) => r(a) * r(a) + c(v) * r(b),
    }
}

pub(super) type Lanes = [f64; LANES];

/// Lanes read where no register exists (never, for a compiled program).
pub(super) const NAN_LANES: Lanes = [f64::NAN; LANES];

#[inline(always)]
fn map1(dst: &mut Lanes, a: &Lanes, f: impl Fn(f64) -> f64) {
    for (d, &x) in dst.iter_mut().zip(a) {
        *d = f(x);
    }
}

#[inline(always)]
fn map2(dst: &mut Lanes, a: &Lanes, b: &Lanes, f: impl Fn(f64, f64) -> f64) {
    for ((d, &x), &y) in dst.iter_mut().zip(a).zip(b) {
        *d = f(x, y);
    }
}

/// One instruction over a chunk of lanes; `r` gives a register's lanes.
#[inline(always)]
pub(super) fn step_lanes<'a>(
    op: Op,
    d: &mut Lanes,
    r: impl Fn(u32) -> &'a Lanes,
    lists: &[Vec<f64>],
) {
    match op {
        Op::Input(_) => d.fill(f64::NAN),
        Op::Const(v) => d.fill(v),
        Op::Add(a, b) => map2(d, r(a), r(b), |x, y| x + y),
        Op::Sub(a, b) => map2(d, r(a), r(b), |x, y| x - y),
        Op::Mul(a, b) => map2(d, r(a), r(b), |x, y| x * y),
        Op::Div(a, b) => map2(d, r(a), r(b), |x, y| x / y),
        Op::AddC(a, c) => map1(d, r(a), |x| x + c),
        Op::MulC(a, c) => map1(d, r(a), |x| x * c),
        Op::SubCR(c, a) => map1(d, r(a), |x| c - x),
        Op::DivCR(c, a) => map1(d, r(a), |x| c / x),
        Op::Neg(a) => map1(d, r(a), |x| -x),
        Op::Sqr(a) => map1(d, r(a), |x| x * x),
        Op::Powi(a, n) => map1(d, r(a), |x| x.powi(n)),
        Op::Powf(a, b) => map2(d, r(a), r(b), pow),
        Op::F1(f, a) => match f {
            Builtin::Exp => map1(d, r(a), f64::exp),
            Builtin::Log => map1(d, r(a), f64::ln),
            Builtin::Log1p => map1(d, r(a), f64::ln_1p),
            Builtin::Sqrt => map1(d, r(a), f64::sqrt),
            Builtin::Abs => map1(d, r(a), f64::abs),
            Builtin::Softplus => map1(d, r(a), crate::expr::eval::softplus),
            Builtin::Sigmoid => map1(d, r(a), crate::expr::eval::sigmoid),
            f => map1(d, r(a), |x| apply1(f, x)),
        },
        Op::Min(a, b) => map2(d, r(a), r(b), min2),
        Op::Max(a, b) => map2(d, r(a), r(b), max2),
        Op::Lse(a, b) => map2(d, r(a), r(b), logsumexp2),
        Op::Index(l, a) => {
            let list = lists.get(l as usize).map_or(&[][..], Vec::as_slice);
            map1(d, r(a), |k| {
                crate::expr::eval::list_index(k, list.len()).map_or(f64::NAN, |i| list[i])
            });
        }
        Op::SqrAddC(a, c) => map1(d, r(a), |x| (x + c) * (x + c)),
        Op::AddSqr(a, b) => map2(d, r(a), r(b), |x, y| x + y * y),
        Op::AddMulC(a, b, c) => map2(d, r(a), r(b), |x, y| x + c * y),
        Op::SumSqr(a, b) => map2(d, r(a), r(b), |x, y| x * x + y * y),
        Op::SumSqrC(a, b, c) => map2(d, r(a), r(b), |x, y| x * x + y * y + c),
        Op::SqrAddMulC(a, b, c) => map2(d, r(a), r(b), |x, y| x * x + c * y),
    }
}
