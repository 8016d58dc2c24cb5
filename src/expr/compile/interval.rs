//! Interval evaluation of a compiled program: an enclosure of its values over a box.

use super::{Op, Program};
use crate::expr::interval::Interval;
use std::hash::{DefaultHasher, Hasher};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// One instruction over intervals; `r` gives a register's interval.
fn step_interval(op: Op, r: impl Fn(u32) -> Interval, lists: &[Vec<f64>]) -> Interval {
    let c = Interval::point;
    match op {
        // Inputs are registers after `lower_inputs`; this instruction is never evaluated.
        Op::Input(_) => Interval::ENTIRE,
        Op::Const(v) => c(v),
        Op::Add(a, b) => r(a).add(r(b)),
        Op::Sub(a, b) => r(a).sub(r(b)),
        Op::Mul(a, b) if a == b => r(a).sqr(),
        Op::Mul(a, b) => r(a).mul(r(b)),
        Op::Div(a, b) => r(a).div(r(b)),
        Op::AddC(a, v) => r(a).add(c(v)),
        Op::MulC(a, v) => r(a).scale(v),
        Op::SubCR(v, a) => c(v).sub(r(a)),
        Op::DivCR(v, a) => c(v).div(r(a)),
        Op::Neg(a) => r(a).neg(),
        Op::Sqr(a) => r(a).sqr(),
        Op::Powi(a, n) => r(a).powi(n),
        Op::Powf(a, b) => r(a).pow(r(b)),
        Op::F1(f, a) => r(a).apply1(f),
        Op::Min(a, b) => r(a).min(r(b)),
        Op::Max(a, b) => r(a).max(r(b)),
        Op::Lse(a, b) => r(a).logsumexp(r(b)),
        Op::Index(l, a) => {
            let list = lists.get(l as usize).map_or(&[][..], Vec::as_slice);
            let k = r(a);
            if k.lo < k.hi {
                // Non-integer indices inside: no value there.
                return Interval::ENTIRE;
            }
            crate::expr::eval::list_index(k.lo, list.len()).map_or(Interval::ENTIRE, |i| c(list[i]))
        }
        Op::SqrAddC(a, v) => r(a).add(c(v)).sqr(),
        Op::AddSqr(a, b) => r(a).add(r(b).sqr()),
        Op::AddMulC(a, b, v) => r(a).add(r(b).scale(v)),
        Op::SumSqr(a, b) => r(a).sqr().add(r(b).sqr()),
        Op::SumSqrC(a, b, v) => r(a).sqr().add(r(b).sqr()).add(c(v)),
        Op::SqrAddMulC(a, b, v) => r(a).sqr().add(r(b).scale(v)),
    }
}

impl Program {
    /// An enclosure of the program's values over the box `inputs[i]` (one interval per input;
    /// missing inputs are [`Interval::ENTIRE`]): every value the expression takes at a point of
    /// the box lies in the result, with outward rounding. Where the expression has no real value
    /// somewhere in the box the result is [`Interval::ENTIRE`] (no information). Ends may be
    /// infinite: `[30, inf]` is a ray.
    pub fn eval_interval(&self, inputs: &[Interval]) -> Interval {
        let n_in = self.inputs.len();
        let mut regs: Vec<Interval> = (0..n_in)
            .map(|k| inputs.get(k).copied().unwrap_or(Interval::ENTIRE))
            .collect();
        regs.reserve(self.ops.len());
        // Quadratic parts read twice get their exact range from Taylor models.
        let mut models = self.quad.as_ref().and_then(|q| q.start(inputs, n_in));
        for (i, op) in self.ops.iter().enumerate() {
            let mut v = step_interval(
                *op,
                |j| regs.get(j as usize).copied().unwrap_or(Interval::ENTIRE),
                &self.lists,
            );
            if let Some(m) = models.as_mut() {
                v = m.step(i, *op, v);
            }
            regs.push(v);
        }
        regs.get(self.output as usize)
            .copied()
            .unwrap_or(Interval::ENTIRE)
    }
}

/// Feeds formatted text to a hasher without allocating.
struct HashWriter<'a>(&'a mut DefaultHasher);

impl std::fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

impl Program {
    /// A 128-bit hash of the program as a function of its inputs: its instructions (constants
    /// exactly, by their shortest round-trip text), lists, input count and output register.
    /// Equal programs have equal fingerprints; the quadrature keys reused certified bounds by it.
    pub fn fingerprint(&self) -> u128 {
        use std::fmt::Write;
        let mut out = 0u128;
        for salt in [0x9e37_79b9_7f4a_7c15u64, 0xc2b2_ae3d_27d4_eb4f] {
            let mut h = DefaultHasher::new();
            h.write_u64(salt);
            h.write_usize(self.inputs.len());
            h.write_u32(self.output);
            let mut w = HashWriter(&mut h);
            for op in &self.ops {
                let _ = write!(w, "{op:?};");
            }
            for l in &self.lists {
                let _ = write!(w, "{l:?};");
            }
            out = (out << 64) | u128::from(h.finish());
        }
        out
    }
}
