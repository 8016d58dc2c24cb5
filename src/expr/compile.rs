//! The compiled evaluator: closed expressions become a flat tape evaluated per point or over batches.
//!
//! The tape is in SSA form over registers (input `k` is register `k`, instruction `i` writes
//! register `inputs + i`), with constants folded, common sub-expressions shared, `x^2` a
//! multiplication, small integer powers `powi`, and common shapes of energies (sums of squares,
//! a square plus a scaled term) fused into single instructions. A batch is
//! evaluated in chunks of [`LANES`] points, one instruction at a time over the whole chunk, so the
//! arithmetic loops have fixed length and vectorise. One point in `f64` is evaluated by a tree of
//! closures built at compile time ([`scalar`]) when the program is a small tree, else on the
//! tape; other [`Float`] types (dual numbers) always use the tape. The NaN policy is the numeric
//! engine's: a lane where the expression has no real value gets NaN, never an error.

use super::ast::{BinOp, Binding, Builtin, Expr, ExprKind};
use super::context::substitute;
use super::diagnostic::{CompileError, Diagnostic, ErrorKind};
use super::eval::{Bindings, Value, apply1, logsumexp2, max2, min2, pow};
use crate::budgets::{self, Budget};
use crate::domain::IntRange;
use num_traits::Float;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

mod interval;
mod scalar;

/// Points per chunk of the batched evaluator.
pub const LANES: usize = 64;

/// Default largest number of sum terms one compilation unrolls, all sums together (the
/// `unrolled_terms` budget of [`crate::budgets`]).
pub const MAX_UNROLLED_TERMS: usize = 4096;

#[derive(Debug, Clone, Copy)]
enum Op {
    Input(u32),
    Const(f64),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    AddC(u32, f64),
    MulC(u32, f64),
    /// `c - a`
    SubCR(f64, u32),
    /// `c / a`
    DivCR(f64, u32),
    Neg(u32),
    Sqr(u32),
    Powi(u32, i32),
    Powf(u32, u32),
    F1(Builtin, u32),
    Min(u32, u32),
    Max(u32, u32),
    Lse(u32, u32),
    /// `lists[list][round(a)]`, NaN when out of range or not an integer.
    Index(u32, u32),
    /// Fused `(a + c)^2`.
    SqrAddC(u32, f64),
    /// Fused `a + b*b`.
    AddSqr(u32, u32),
    /// Fused `a + c*b`.
    AddMulC(u32, u32, f64),
    /// Fused `a*a + b*b`.
    SumSqr(u32, u32),
    /// Fused `a*a + b*b + c`.
    SumSqrC(u32, u32, f64),
    /// Fused `a*a + c*b`.
    SqrAddMulC(u32, u32, f64),
}

#[derive(Debug, Clone, Copy)]
enum Operand {
    Const(f64),
    Slot(u32),
}

/// A compiled closed expression: a function of its input variables, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Program {
    ops: Vec<Op>,
    lists: Vec<Vec<f64>>,
    inputs: Vec<String>,
    output: u32,
    /// The same program as nested closures, for one-point evaluation in `f64` (trees only).
    tree: Option<Tree>,
}

/// A program's closure tree ([`scalar`]), shared by clones.
#[derive(Clone)]
struct Tree(scalar::Root);

impl Tree {
    /// The value at the first `N` coordinates of `point` (missing ones are NaN).
    #[inline(always)]
    fn call<const N: usize, T: Float>(&self, point: &[T]) -> f64 {
        let f = |x: &T| x.to_f64().unwrap_or(f64::NAN);
        let p: [f64; N] = match point.first_chunk::<N>() {
            Some(head) => head.each_ref().map(f),
            None => std::array::from_fn(|k| point.get(k).map_or(f64::NAN, f)),
        };
        (self.0)(&p)
    }
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tree")
    }
}

/// Whether `T` is `f64` in all but name: eight bytes with `f64`'s precision and range, so that
/// converting through `f64` loses nothing. Constant for each `T` once inlined.
fn is_f64<T: Float>() -> bool {
    std::mem::size_of::<T>() == 8
        && T::epsilon().to_f64().map(f64::to_bits) == Some(f64::EPSILON.to_bits())
        && T::max_value().to_f64().map(f64::to_bits) == Some(f64::MAX.to_bits())
        && T::min_positive_value().to_f64().map(f64::to_bits) == Some(f64::MIN_POSITIVE.to_bits())
}

/// Reusable memory of [`Program::eval_batch_with`], so that batches allocate nothing.
#[derive(Debug, Clone, Default)]
pub struct BatchScratch {
    buf: Vec<f64>,
}

impl BatchScratch {
    /// Empty scratch memory (it grows on first use).
    pub fn new() -> Self {
        Self::default()
    }
}

struct Compiler<'a> {
    inputs: &'a [&'a str],
    ops: Vec<Op>,
    lists: Vec<Vec<f64>>,
    list_ids: HashMap<String, u32>,
    cse: HashMap<String, u32>,
    locals: HashMap<String, f64>,
    bindings: &'a Bindings,
    /// Terms unrolled so far, against the `unrolled_terms` budget.
    unrolled: u64,
}

fn not_compilable(e: &Expr, what: &str) -> CompileError {
    Diagnostic::new(
        ErrorKind::NotCompilable,
        e.span,
        format!("{what} cannot be compiled"),
    )
    .with_help(
        "compile closed, inlined expressions without integrals, minima, limits or expectations",
    )
}

impl Compiler<'_> {
    fn push(&mut self, op: Op) -> Operand {
        let key = format!("{op:?}");
        if let Some(&slot) = self.cse.get(&key) {
            return Operand::Slot(slot);
        }
        let slot = self.ops.len() as u32;
        self.ops.push(op);
        self.cse.insert(key, slot);
        Operand::Slot(slot)
    }

    fn slot(&mut self, a: Operand) -> u32 {
        match a {
            Operand::Slot(s) => s,
            Operand::Const(c) => match self.push(Op::Const(c)) {
                Operand::Slot(s) => s,
                Operand::Const(_) => 0,
            },
        }
    }

    fn binary(&mut self, op: BinOp, a: Operand, b: Operand) -> Operand {
        use Operand::{Const as C, Slot as S};
        match (op, a, b) {
            (_, C(x), C(y)) => C(super::eval::binary(op, x, y)),
            (BinOp::Add, S(s), C(c)) | (BinOp::Add, C(c), S(s)) | (BinOp::Sub, S(s), C(c))
                if c == 0.0 =>
            {
                S(s)
            }
            (BinOp::Mul, S(s), C(c)) | (BinOp::Mul, C(c), S(s)) | (BinOp::Div, S(s), C(c))
                if c.to_bits() == 1f64.to_bits() =>
            {
                S(s)
            }
            (BinOp::Add, S(s), C(c)) | (BinOp::Add, C(c), S(s)) => self.push(Op::AddC(s, c)),
            (BinOp::Sub, S(s), C(c)) => self.push(Op::AddC(s, -c)),
            (BinOp::Sub, C(c), S(s)) => self.push(Op::SubCR(c, s)),
            (BinOp::Mul, S(s), C(c)) | (BinOp::Mul, C(c), S(s)) => self.push(Op::MulC(s, c)),
            (BinOp::Div, C(c), S(s)) => self.push(Op::DivCR(c, s)),
            (BinOp::Div, S(s), C(c)) => self.push(Op::MulC(s, 1.0 / c)),
            (BinOp::Pow, S(s), C(c)) if c.fract() == 0.0 && c.abs() <= 64.0 => {
                // Exactly representable small integers, so the cast is exact.
                let n = c as i32;
                match n {
                    1 => S(s),
                    2 => self.push(Op::Sqr(s)),
                    _ => self.push(Op::Powi(s, n)),
                }
            }
            (BinOp::Add, S(x), S(y)) => self.push(Op::Add(x, y)),
            (BinOp::Sub, S(x), S(y)) => self.push(Op::Sub(x, y)),
            (BinOp::Mul, S(x), S(y)) if x == y => self.push(Op::Sqr(x)),
            (BinOp::Mul, S(x), S(y)) => self.push(Op::Mul(x, y)),
            (BinOp::Div, S(x), S(y)) => self.push(Op::Div(x, y)),
            (BinOp::Pow, x, y) => {
                let (x, y) = (self.slot(x), self.slot(y));
                self.push(Op::Powf(x, y))
            }
        }
    }

    fn fold_pair(&mut self, f: Builtin, a: Operand, b: Operand) -> Operand {
        match (a, b) {
            (Operand::Const(x), Operand::Const(y)) => Operand::Const(match f {
                Builtin::Min => min2(x, y),
                Builtin::Max => max2(x, y),
                _ => logsumexp2(x, y),
            }),
            _ => {
                let (x, y) = (self.slot(a), self.slot(b));
                self.push(match f {
                    Builtin::Min => Op::Min(x, y),
                    Builtin::Max => Op::Max(x, y),
                    _ => Op::Lse(x, y),
                })
            }
        }
    }

    fn emit(&mut self, e: &Expr) -> Result<Operand, CompileError> {
        use ExprKind as K;
        Ok(match &e.kind {
            K::Number(v) => Operand::Const(*v),
            K::Const(c) => Operand::Const(c.value()),
            K::Var(name) => {
                if let Some(v) = self.locals.get(name) {
                    Operand::Const(*v)
                } else if let Some(i) = self.inputs.iter().position(|n| n == name) {
                    self.push(Op::Input(i as u32))
                } else {
                    match self.bindings.get(name) {
                        Some(Value::Number(v)) => Operand::Const(*v),
                        Some(Value::List(_)) => {
                            return Err(Diagnostic::new(
                                ErrorKind::TypeMismatch,
                                e.span,
                                format!("`{name}` is a list, not a number"),
                            )
                            .with_help(format!("index it as `{name}[k]`")));
                        }
                        None => {
                            return Err(Diagnostic::new(
                                ErrorKind::UnknownVariable,
                                e.span,
                                format!("unknown variable `{name}`"),
                            )
                            .with_help(
                                "list it among the inputs or give it a value in the bindings",
                            ));
                        }
                    }
                }
            }
            K::Index { list, index } => {
                let Some(values) = self.bindings.list(list) else {
                    return Err(Diagnostic::new(
                        ErrorKind::UnknownVariable,
                        e.span,
                        format!("unknown list `{list}`"),
                    )
                    .with_help("give it a value in the bindings"));
                };
                let values = values.to_vec();
                match self.emit(index)? {
                    Operand::Const(k) => Operand::Const(
                        super::eval::list_index(k, values.len()).map_or(f64::NAN, |i| values[i]),
                    ),
                    Operand::Slot(s) => {
                        let id = match self.list_ids.get(list) {
                            Some(&id) => id,
                            None => {
                                let id = self.lists.len() as u32;
                                self.lists.push(values);
                                self.list_ids.insert(list.clone(), id);
                                id
                            }
                        };
                        self.push(Op::Index(id, s))
                    }
                }
            }
            K::Neg(a) => match self.emit(a)? {
                Operand::Const(c) => Operand::Const(-c),
                Operand::Slot(s) => self.push(Op::Neg(s)),
            },
            K::Binary { op, lhs, rhs } => {
                let (a, b) = (self.emit(lhs)?, self.emit(rhs)?);
                self.binary(*op, a, b)
            }
            K::Call { func, args } => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.emit(a)?);
                }
                match func {
                    Builtin::Min | Builtin::Max | Builtin::LogSumExp => {
                        let mut it = vals.into_iter();
                        let Some(first) = it.next() else {
                            return Ok(Operand::Const(f64::NAN));
                        };
                        it.fold(first, |acc, v| self.fold_pair(*func, acc, v))
                    }
                    f => match vals.first().copied() {
                        Some(Operand::Const(c)) => Operand::Const(apply1(*f, c)),
                        Some(Operand::Slot(s)) => self.push(Op::F1(*f, s)),
                        None => Operand::Const(f64::NAN),
                    },
                }
            }
            K::Derivative { var, body, .. } => {
                let d = super::simplify::simplify(&super::diff::derivative_of(body, var)?);
                self.emit(&d)?
            }
            K::Sum { bindings, body } => self.unrolled_sum(e, bindings, body)?,
            K::UserCall { name, .. } => {
                return Err(not_compilable(e, &format!("the call of `{name}`"))
                    .with_help("inline user definitions with `Context::inline` first"));
            }
            K::List(_) => return Err(not_compilable(e, "a list")),
            _ => return Err(not_compilable(e, "a bound operator")),
        })
    }

    fn unrolled_sum(
        &mut self,
        e: &Expr,
        bindings: &[Binding],
        body: &Expr,
    ) -> Result<Operand, CompileError> {
        let Some((first, rest)) = bindings.split_first() else {
            return self.emit(body);
        };
        let Some((lo, hi)) = &first.range else {
            return Err(not_compilable(e, "a sum over a declared domain"));
        };
        let (Operand::Const(lo), Operand::Const(hi)) = (self.emit(lo)?, self.emit(hi)?) else {
            return Err(not_compilable(e, "a sum whose limits vary per point"));
        };
        let Some(range) = IntRange::from_limits(lo, hi) else {
            return Err(not_compilable(
                e,
                "a sum with infinitely or very many terms",
            ));
        };
        // All unrolled sums of one program together (nested sums multiply).
        let n = range.len();
        let budget = u128::from(budgets::limit(Budget::UnrolledTerms));
        if u128::from(self.unrolled) + n > budget {
            return Err(not_compilable(
                e,
                "a sum with infinitely or very many terms",
            ));
        }
        #[allow(clippy::cast_possible_truncation)]
        {
            self.unrolled += n as u64;
        }
        let inner = Expr::new(
            ExprKind::Sum {
                bindings: rest.to_vec(),
                body: Box::new(body.clone()),
            },
            e.span,
        );
        let mut total = Operand::Const(0.0);
        for kf in range.values() {
            let map: HashMap<String, Expr> = [(first.var.clone(), Expr::number(kf, e.span))]
                .into_iter()
                .collect();
            let term = substitute(&inner, &map)?;
            let v = self.emit(&term)?;
            total = self.binary(BinOp::Add, total, v);
        }
        Ok(total)
    }
}

fn operands(op: &Op) -> [Option<u32>; 2] {
    match *op {
        Op::Input(_) | Op::Const(_) => [None, None],
        Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Powf(a, b) => {
            [Some(a), Some(b)]
        }
        Op::Min(a, b) | Op::Max(a, b) | Op::Lse(a, b) => [Some(a), Some(b)],
        Op::AddC(a, _)
        | Op::MulC(a, _)
        | Op::SubCR(_, a)
        | Op::DivCR(_, a)
        | Op::Neg(a)
        | Op::Sqr(a) => [Some(a), None],
        Op::Powi(a, _) | Op::F1(_, a) | Op::Index(_, a) | Op::SqrAddC(a, _) => [Some(a), None],
        Op::AddSqr(a, b) | Op::AddMulC(a, b, _) | Op::SumSqr(a, b) => [Some(a), Some(b)],
        Op::SumSqrC(a, b, _) | Op::SqrAddMulC(a, b, _) => [Some(a), Some(b)],
    }
}

fn remap(op: Op, m: &[u32]) -> Op {
    let r = |s: u32| m[s as usize];
    match op {
        Op::Input(_) | Op::Const(_) => op,
        Op::Add(a, b) => Op::Add(r(a), r(b)),
        Op::Sub(a, b) => Op::Sub(r(a), r(b)),
        Op::Mul(a, b) => Op::Mul(r(a), r(b)),
        Op::Div(a, b) => Op::Div(r(a), r(b)),
        Op::Powf(a, b) => Op::Powf(r(a), r(b)),
        Op::Min(a, b) => Op::Min(r(a), r(b)),
        Op::Max(a, b) => Op::Max(r(a), r(b)),
        Op::Lse(a, b) => Op::Lse(r(a), r(b)),
        Op::AddC(a, c) => Op::AddC(r(a), c),
        Op::MulC(a, c) => Op::MulC(r(a), c),
        Op::SubCR(c, a) => Op::SubCR(c, r(a)),
        Op::DivCR(c, a) => Op::DivCR(c, r(a)),
        Op::Neg(a) => Op::Neg(r(a)),
        Op::Sqr(a) => Op::Sqr(r(a)),
        Op::Powi(a, n) => Op::Powi(r(a), n),
        Op::F1(f, a) => Op::F1(f, r(a)),
        Op::Index(l, a) => Op::Index(l, r(a)),
        Op::SqrAddC(a, c) => Op::SqrAddC(r(a), c),
        Op::AddSqr(a, b) => Op::AddSqr(r(a), r(b)),
        Op::AddMulC(a, b, c) => Op::AddMulC(r(a), r(b), c),
        Op::SumSqr(a, b) => Op::SumSqr(r(a), r(b)),
        Op::SumSqrC(a, b, c) => Op::SumSqrC(r(a), r(b), c),
        Op::SqrAddMulC(a, b, c) => Op::SqrAddMulC(r(a), r(b), c),
    }
}

/// Removes instructions the output does not need and renumbers the rest; returns the new output.
fn eliminate_dead(ops: &mut Vec<Op>, out: u32) -> u32 {
    let mut live = vec![false; ops.len()];
    if let Some(l) = live.get_mut(out as usize) {
        *l = true;
    }
    for i in (0..ops.len()).rev() {
        if live[i] {
            for s in operands(&ops[i]).into_iter().flatten() {
                live[s as usize] = true;
            }
        }
    }
    let mut map = vec![0u32; ops.len()];
    let mut kept = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        if live[i] {
            map[i] = kept.len() as u32;
            kept.push(remap(*op, &map));
        }
    }
    *ops = kept;
    map.get(out as usize).copied().unwrap_or(0)
}

/// Fuses an instruction with a single-use producer into one instruction (fewer passes over a
/// batch, fewer dispatches per point): `(a + c)^2`, `a + b^2`, `a ± c*b`, `a^2 + b^2`,
/// `a^2 + c*b`, `a^2 + b^2 + c`.
fn fuse(ops: &mut [Op], out: u32) {
    let mut uses = vec![0u32; ops.len()];
    for op in ops.iter() {
        for s in operands(op).into_iter().flatten() {
            uses[s as usize] += 1;
        }
    }
    if let Some(u) = uses.get_mut(out as usize) {
        *u += 1;
    }
    for i in 0..ops.len() {
        let single = |j: u32| uses[j as usize] == 1;
        let fused = match ops[i] {
            Op::Sqr(a) if single(a) => match ops[a as usize] {
                Op::AddC(x, c) => Some(Op::SqrAddC(x, c)),
                _ => None,
            },
            Op::Add(a, b) => {
                let pick = |p: u32, q: u32| match ops[q as usize] {
                    Op::Sqr(x) if single(q) => Some(Op::AddSqr(p, x)),
                    Op::MulC(x, c) if single(q) => Some(Op::AddMulC(p, x, c)),
                    _ => None,
                };
                pick(a, b).or_else(|| pick(b, a))
            }
            Op::Sub(a, b) if single(b) => match ops[b as usize] {
                Op::MulC(x, c) => Some(Op::AddMulC(a, x, -c)),
                _ => None,
            },
            _ => None,
        };
        // Second level, after the fusions above: a sum of two squares, a square plus a scaled
        // term, a sum of two squares plus a constant. Each computes the same operations in the
        // same order as the instructions it replaces, so results are bit for bit the same.
        let fused = match fused {
            Some(Op::AddSqr(p, x)) => match ops[p as usize] {
                Op::Sqr(y) if single(p) => Some(Op::SumSqr(y, x)),
                _ => Some(Op::AddSqr(p, x)),
            },
            Some(Op::AddMulC(p, x, c)) => match ops[p as usize] {
                Op::Sqr(y) if single(p) => Some(Op::SqrAddMulC(y, x, c)),
                _ => Some(Op::AddMulC(p, x, c)),
            },
            None => match ops[i] {
                Op::AddC(p, c) if single(p) => match ops[p as usize] {
                    Op::SumSqr(x, y) => Some(Op::SumSqrC(x, y, c)),
                    _ => None,
                },
                _ => None,
            },
            f => f,
        };
        if let Some(f) = fused {
            ops[i] = f;
        }
    }
}

/// Renumbers a compiled tape into registers: input `k` is register `k`, instruction `i` of the
/// result writes register `n_in + i`, and `Input` instructions disappear (inputs are read where
/// they are, which saves a dispatch per input and per point). Returns the output register.
fn lower_inputs(ops: &mut Vec<Op>, out: u32, n_in: usize) -> u32 {
    let mut map = vec![0u32; ops.len()];
    let mut kept = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        map[i] = match *op {
            Op::Input(k) => k,
            _ => {
                kept.push(remap(*op, &map));
                (n_in + kept.len() - 1) as u32
            }
        };
    }
    *ops = kept;
    map.get(out as usize).copied().unwrap_or(0)
}

/// One instruction at one point; `r` reads a register.
#[inline(always)]
fn step<T: Float>(op: Op, r: impl Fn(u32) -> T, lists: &[Vec<f64>]) -> T {
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
                .and_then(|k| super::eval::list_index(k, list.len()).ok())
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

type Lanes = [f64; LANES];

/// Lanes read where no register exists (never, for a compiled program).
const NAN_LANES: Lanes = [f64::NAN; LANES];

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
fn step_lanes<'a>(op: Op, d: &mut Lanes, r: impl Fn(u32) -> &'a Lanes, lists: &[Vec<f64>]) {
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
            Builtin::Softplus => map1(d, r(a), super::eval::softplus),
            Builtin::Sigmoid => map1(d, r(a), super::eval::sigmoid),
            f => map1(d, r(a), |x| apply1(f, x)),
        },
        Op::Min(a, b) => map2(d, r(a), r(b), min2),
        Op::Max(a, b) => map2(d, r(a), r(b), max2),
        Op::Lse(a, b) => map2(d, r(a), r(b), logsumexp2),
        Op::Index(l, a) => {
            let list = lists.get(l as usize).map_or(&[][..], Vec::as_slice);
            map1(d, r(a), |k| {
                super::eval::list_index(k, list.len()).map_or(f64::NAN, |i| list[i])
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

impl Program {
    /// Compiles a closed, inlined expression. `inputs` names the variables that vary per point,
    /// in the order of [`Program::eval`]'s point and [`Program::eval_batch`]'s columns; every
    /// other variable is a constant taken from `bindings` and folded. List indexing `c[k]` with
    /// `k` an input is allowed; `diff[w](f)` is differentiated symbolically and `sum[k = a..b]`
    /// with constant limits is unrolled.
    ///
    /// # Errors
    /// A variable neither an input nor bound, a user call (inline first), a bound operator other
    /// than `diff` and finite `sum`, a list misuse.
    pub fn compile(
        expr: &Expr,
        inputs: &[&str],
        bindings: &Bindings,
    ) -> Result<Program, CompileError> {
        let mut c = Compiler {
            inputs,
            ops: Vec::new(),
            lists: Vec::new(),
            list_ids: HashMap::new(),
            cse: HashMap::new(),
            locals: HashMap::new(),
            bindings,
            unrolled: 0,
        };
        let out = c.emit(expr)?;
        let out = c.slot(out);
        let mut ops = c.ops;
        // Constants folded into `AddC`-style instructions leave their `Const` slots unused, and
        // fusion leaves the fused producers unused.
        let out = eliminate_dead(&mut ops, out);
        fuse(&mut ops, out);
        let out = eliminate_dead(&mut ops, out);
        let output = lower_inputs(&mut ops, out, inputs.len());
        let mut program = Program {
            ops,
            lists: c.lists,
            inputs: inputs.iter().map(|s| (*s).to_string()).collect(),
            output,
            tree: None,
        };
        program.tree = scalar::build(&program).map(Tree);
        Ok(program)
    }

    /// The input variables, in order.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The number of instructions (reading an input is not one).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the program has no instructions (true when the expression is one of its inputs).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The value at one point (`point[i]` is input `i`; missing inputs are NaN). Generic over
    /// [`Float`], so `Program::eval::<Dual>` gives a forward-mode derivative.
    #[inline]
    pub fn eval<T: Float>(&self, point: &[T]) -> T {
        if let Some(tree) = &self.tree
            && is_f64::<T>()
        {
            // The point is copied (converting to `f64`, which changes nothing) into an array
            // of the program's arity, so that the copy is a few moves.
            let v = match self.inputs.len() {
                1 => tree.call::<1, T>(point),
                2 => tree.call::<2, T>(point),
                3 => tree.call::<3, T>(point),
                4 => tree.call::<4, T>(point),
                _ => tree.call::<{ scalar::MAX_TREE_INPUTS }, T>(point),
            };
            return T::from(v).unwrap_or_else(T::nan);
        }
        self.eval_tape(point)
    }

    /// [`Program::eval`] in `f64`, without the copy of the point that the generic version needs
    /// to reach the closure tree (the fastest one-point evaluation).
    #[inline]
    pub fn eval_f64(&self, point: &[f64]) -> f64 {
        match &self.tree {
            Some(tree) => (tree.0)(point),
            None => self.eval_tape(point),
        }
    }

    /// [`Program::eval`] on the tape, for every program and every [`Float`] type. Kept out of
    /// line so that the closure path of `eval` is small enough to be inlined into its callers.
    #[inline(never)]
    fn eval_tape<T: Float>(&self, point: &[T]) -> T {
        // A register file on the stack sized to the program, so small programs neither allocate
        // nor clear a large buffer.
        let n = self.inputs.len() + self.ops.len();
        if n <= 8 {
            self.run::<T, 8>(point)
        } else if n <= 16 {
            self.run::<T, 16>(point)
        } else if n <= 32 {
            self.run::<T, 32>(point)
        } else if n <= 64 {
            self.run::<T, 64>(point)
        } else {
            self.run_heap(point)
        }
    }

    /// [`Program::eval`] with `N >= inputs + instructions` registers, `N` a power of two.
    #[inline(always)]
    fn run<T: Float, const N: usize>(&self, point: &[T]) -> T {
        // Register numbers are below `N` by construction, so masking them changes nothing and
        // lets the compiler drop the bounds checks from the dispatch loop.
        let mask = N - 1;
        let mut regs = [T::zero(); N];
        let n_in = self.inputs.len();
        for (k, r) in regs.iter_mut().enumerate().take(n_in) {
            *r = point.get(k).copied().unwrap_or_else(T::nan);
        }
        for (i, op) in self.ops.iter().enumerate() {
            let v = step(*op, |j| regs[j as usize & mask], &self.lists);
            regs[(n_in + i) & mask] = v;
        }
        regs[self.output as usize & mask]
    }

    fn run_heap<T: Float>(&self, point: &[T]) -> T {
        let n_in = self.inputs.len();
        let mut regs: Vec<T> = (0..n_in)
            .map(|k| point.get(k).copied().unwrap_or_else(T::nan))
            .collect();
        regs.reserve(self.ops.len());
        for op in &self.ops {
            let v = step(
                *op,
                |j| regs.get(j as usize).copied().unwrap_or_else(T::nan),
                &self.lists,
            );
            regs.push(v);
        }
        regs.get(self.output as usize)
            .copied()
            .unwrap_or_else(T::nan)
    }

    /// Values at many points, given column-major (`columns[i][p]` is input `i` at point `p`),
    /// written to `out` (one value per point; `out.len()` is the number of points). Points where
    /// a column is too short, or inputs are missing, get NaN.
    pub fn eval_batch(&self, columns: &[&[f64]], out: &mut [f64]) {
        thread_local! {
            // Callers that do not keep a scratch of their own (the engine's energies) then
            // allocate nothing after their first batch on each thread.
            static SCRATCH: RefCell<BatchScratch> = RefCell::new(BatchScratch::new());
        }
        // Large programs get memory of their own, so that a thread does not keep it.
        const KEPT: usize = 16 * 1024;
        if (self.inputs.len() + self.ops.len()) * LANES > KEPT {
            return self.eval_batch_with(&mut BatchScratch::new(), columns, out);
        }
        SCRATCH.with(|s| match s.try_borrow_mut() {
            Ok(mut scratch) => self.eval_batch_with(&mut scratch, columns, out),
            Err(_) => self.eval_batch_with(&mut BatchScratch::new(), columns, out),
        });
    }

    /// As [`Program::eval_batch`], reusing `scratch` so that no call allocates after the first.
    pub fn eval_batch_with(&self, scratch: &mut BatchScratch, columns: &[&[f64]], out: &mut [f64]) {
        let n_in = self.inputs.len();
        let n_ops = self.ops.len();
        let need = (n_in + n_ops) * LANES;
        if scratch.buf.len() < need {
            scratch.buf.resize(need, 0.0);
        }
        let valid = if columns.len() < n_in {
            0
        } else {
            columns
                .iter()
                .take(n_in)
                .map(|c| c.len())
                .min()
                .unwrap_or(out.len())
                .min(out.len())
        };
        let (good, bad) = out.split_at_mut(valid);
        bad.fill(f64::NAN);
        // Padded copies of the inputs of the last, partial chunk; then one register per
        // instruction. Full chunks read their inputs from the columns in place.
        let (padded, regs) = scratch.buf[..need].split_at_mut(n_in * LANES);
        let out_reg = self.output as usize;
        for (chunk, dst) in good.chunks_mut(LANES).enumerate() {
            let start = chunk * LANES;
            let m = dst.len();
            let full = m == LANES;
            if !full {
                for (k, lanes) in padded.chunks_exact_mut(LANES).enumerate() {
                    match columns.get(k).and_then(|c| c.get(start..start + m)) {
                        Some(col) => {
                            lanes[..m].copy_from_slice(col);
                            // Any value works in the padding: its results are dropped.
                            lanes[m..].fill(0.0);
                        }
                        None => lanes.fill(f64::NAN),
                    }
                }
            }
            let padded: &[f64] = padded;
            let input = |k: usize| -> Option<&Lanes> {
                if full {
                    columns.get(k)?.get(start..)?.first_chunk()
                } else {
                    padded.get(k * LANES..)?.first_chunk()
                }
            };
            // The output instruction (always the last) of a full chunk writes to `out` directly.
            let direct = full && n_ops > 0 && out_reg == n_in + n_ops - 1;
            for (i, op) in self.ops.iter().enumerate() {
                let (prev, rest) = regs.split_at_mut(i * LANES);
                let d = if direct && i + 1 == n_ops {
                    dst.first_chunk_mut::<LANES>()
                } else {
                    rest.first_chunk_mut::<LANES>()
                };
                let Some(d) = d else { return };
                let prev: &[f64] = prev;
                let r = |j: u32| -> &Lanes {
                    let j = j as usize;
                    let lanes = if j < n_in {
                        input(j)
                    } else {
                        prev.get((j - n_in) * LANES..).and_then(|s| s.first_chunk())
                    };
                    lanes.unwrap_or(&NAN_LANES)
                };
                step_lanes(*op, d, r, &self.lists);
            }
            if direct {
                continue;
            }
            let src = if out_reg < n_in {
                input(out_reg)
            } else {
                regs.get((out_reg - n_in) * LANES..)
                    .and_then(|s| s.first_chunk())
            };
            dst.copy_from_slice(&src.unwrap_or(&NAN_LANES)[..m]);
        }
    }

    /// Values at many points for any [`Float`] type, column-major as [`Program::eval_batch`].
    pub fn eval_batch_generic<T: Float>(&self, columns: &[&[T]], out: &mut [T]) {
        let mut point = vec![T::nan(); self.inputs.len()];
        for (p, o) in out.iter_mut().enumerate() {
            for (i, x) in point.iter_mut().enumerate() {
                *x = columns
                    .get(i)
                    .and_then(|c| c.get(p))
                    .copied()
                    .unwrap_or_else(T::nan);
            }
            *o = self.eval(&point);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{eval, parse};
    use crate::testing::expr::{
        VARS, compiled_agrees, edge_value, fusable_expr, well_defined_expr,
    };
    use proptest::prelude::*;

    fn program(src: &str, inputs: &[&str], b: &Bindings) -> Program {
        let e = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src, "")));
        Program::compile(&e, inputs, b).unwrap_or_else(|e| panic!("{}", e.render(src, "")))
    }

    #[test]
    fn constants_fold_and_powers_become_multiplications() {
        let mut b = Bindings::new();
        b.set("a", 2.0);
        let p = program("0.5*a*z^2 + exp(a)", &["z"], &b);
        // Square, scale (by one: dropped), add the folded constant; the input is a register.
        assert_eq!(p.len(), 2);
        let got = p.eval(&[3.0]);
        assert!((got - (9.0 + 2f64.exp())).abs() < 1e-12, "{got}");
    }

    #[test]
    fn batches_match_single_points_including_the_tail() {
        let b = Bindings::new();
        let p = program(
            "(z1^2 + z2^2 - 1)^2 + 0.2*z1 + log(1 + exp(z2))",
            &["z1", "z2"],
            &b,
        );
        let n = 150;
        let z1: Vec<f64> = (0..n).map(|i| f64::from(i) * 0.01 - 0.7).collect();
        let z2: Vec<f64> = (0..n).map(|i| 1.0 - f64::from(i) * 0.013).collect();
        let mut out = vec![0.0; n as usize];
        p.eval_batch(&[&z1, &z2], &mut out);
        for i in 0..n as usize {
            let want = p.eval(&[z1[i], z2[i]]);
            assert!(
                (out[i] - want).abs() <= 1e-15 * want.abs().max(1.0),
                "point {i}"
            );
        }
        let mut short = vec![0.0; 3];
        p.eval_batch(&[&z1[..2], &z2], &mut short);
        assert!(short[2].is_nan() && short[1].is_finite());
    }

    #[test]
    fn lists_sums_and_derivatives_compile() {
        let mut b = Bindings::new();
        b.set_list("c", vec![0.0, 2.0, -1.0]);
        let p = program(
            "c[k]*y + sum[j = 0..2](c[j]) + diff[y](y^3)",
            &["k", "y"],
            &b,
        );
        assert!((p.eval(&[1.0, 2.0]) - (4.0 + 1.0 + 12.0)).abs() < 1e-12);
        assert!(p.eval(&[3.0, 2.0]).is_nan());
        let e = parse("int[z](z)").unwrap_or_else(|e| panic!("{}", e.message));
        assert!(Program::compile(&e, &[], &b).is_err());
    }

    #[test]
    fn polynomials_fuse_into_two_instructions() {
        let p = program(
            "(z1^2 + z2^2 - 1)^2 + 0.2*z1",
            &["z1", "z2"],
            &Bindings::new(),
        );
        // `z1*z1 + z2*z2 - 1`, then its square plus `0.2*z1`.
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.tree.is_some());
    }

    #[test]
    fn only_f64_takes_the_closure_path() {
        assert!(is_f64::<f64>());
        assert!(!is_f64::<f32>());
        assert!(!is_f64::<crate::expr::Dual>());
    }

    #[test]
    fn an_input_alone_is_an_empty_program() {
        let p = program("y", &["x", "y"], &Bindings::new());
        assert!(p.is_empty());
        assert!((p.eval(&[1.0, 2.5]) - 2.5).abs() < 1e-15);
        assert!(p.eval(&[1.0]).is_nan());
        let ys: Vec<f64> = (0..70).map(f64::from).collect();
        let mut out = vec![0.0; 70];
        p.eval_batch(&[&ys, &ys], &mut out);
        assert!(out.iter().zip(&ys).all(|(o, y)| (o - y).abs() < 1e-15));
    }

    proptest! {
        /// Fused instructions, single points and full and partial batches, against the tree
        /// evaluator, at ordinary and edge inputs.
        #[test]
        fn fused_programs_match_the_tree(
            src in fusable_expr(),
            points in proptest::collection::vec((edge_value(), edge_value()), 1..150),
        ) {
            let e = parse(&src).map_err(|e| TestCaseError::fail(e.render(&src, "")))?;
            let p = Program::compile(&e, &VARS, &Bindings::new())
                .map_err(|e| TestCaseError::fail(e.message))?;
            let mut b = Bindings::new();
            let mut want = Vec::with_capacity(points.len());
            for &(x, y) in &points {
                b.set("x", x);
                b.set("y", y);
                let tree = eval(&e, &b).unwrap_or(f64::NAN);
                let single = p.eval(&[x, y]);
                prop_assert!(compiled_agrees(single, tree), "{src} at ({x}, {y}): compiled {single}, tree {tree}");
                let closures = p.eval_f64(&[x, y]);
                prop_assert!(compiled_agrees(closures, tree), "{src} at ({x}, {y}): closures {closures}, tree {tree}");
                let tape = p.eval_tape(&[x, y]);
                prop_assert!(compiled_agrees(tape, tree), "{src} at ({x}, {y}): tape {tape}, tree {tree}");
                want.push(tree);
            }
            let (xs, ys): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
            let mut out = vec![0.0; points.len()];
            p.eval_batch(&[&xs, &ys], &mut out);
            for (i, (&got, &tree)) in out.iter().zip(&want).enumerate() {
                prop_assert!(compiled_agrees(got, tree), "{src} at point {i}: batch {got}, tree {tree}");
            }
        }
    }

    proptest! {
        /// Both one-point paths (closure tree and tape) against the tree evaluator, on the
        /// generated expressions of the property tests and at edge inputs.
        #[test]
        fn closure_tree_and_tape_match_the_tree(
            src in well_defined_expr(),
            (x, y) in (edge_value(), edge_value()),
        ) {
            let e = parse(&src).map_err(|e| TestCaseError::fail(e.render(&src, "")))?;
            let p = Program::compile(&e, &VARS, &Bindings::new())
                .map_err(|e| TestCaseError::fail(e.message))?;
            let mut b = Bindings::new();
            b.set("x", x);
            b.set("y", y);
            let tree = eval(&e, &b).unwrap_or(f64::NAN);
            for (path, got) in [
                ("closures", p.eval_f64(&[x, y])),
                ("generic", p.eval(&[x, y])),
                ("tape", p.eval_tape(&[x, y])),
            ] {
                prop_assert!(compiled_agrees(got, tree), "{src} at ({x}, {y}): {path} {got}, tree {tree}");
            }
            // A missing input is NaN on every path.
            prop_assert!(p.eval_f64(&[x]).is_nan() == p.eval_tape(&[x]).is_nan());
        }
    }

    #[test]
    fn shared_values_keep_the_tape_and_lists_work_in_closures() {
        let p = program("exp(x) + exp(x)^2", &["x"], &Bindings::new());
        assert!(p.tree.is_none(), "{p:?}");
        assert!((p.eval(&[0.5]) - (0.5f64.exp() + 1f64.exp())).abs() < 1e-12);
        // A shared product of inputs is recomputed in place.
        let p = program("exp(x*y) + log(1 + (x*y)^2)", &["x", "y"], &Bindings::new());
        assert!(p.tree.is_some(), "{p:?}");
        let want = 0.75f64.exp() + (1.0 + 0.75f64 * 0.75).ln();
        assert!((p.eval_f64(&[0.5, 1.5]) - want).abs() < 1e-12);
        let mut b = Bindings::new();
        b.set_list("c", vec![0.0, 2.0, -1.0]);
        let p = program("c[k]*y + exp(y)", &["k", "y"], &b);
        assert!(p.tree.is_some(), "{p:?}");
        assert!((p.eval_f64(&[1.0, 3.0]) - (6.0 + 3f64.exp())).abs() < 1e-12);
        assert!(p.eval_f64(&[0.5, 3.0]).is_nan());
    }

    #[test]
    fn program_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Program>();
    }
}

#[cfg(test)]
mod speed {
    use super::*;
    use crate::expr::parse;
    use std::hint::black_box;
    use std::time::Instant;

    /// Minimum over rounds of the time per call, robust to a loaded machine.
    fn min_time(rounds: usize, reps: usize, mut f: impl FnMut()) -> f64 {
        let mut best = f64::INFINITY;
        for _ in 0..rounds {
            let t = Instant::now();
            for _ in 0..reps {
                f();
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        best
    }

    /// Ratios compiled/native for the benchmark's energies (run with `--release --ignored --nocapture`).
    #[test]
    #[ignore = "timing; run in release mode on a quiet machine"]
    fn compiled_vs_native_ratios() {
        const N: usize = 64;
        let u: Vec<f64> = (0..N).map(|i| -2.0 + 4.0 * i as f64 / N as f64).collect();
        let v: Vec<f64> = (0..N)
            .map(|i| 1.5 - 3.1 * ((i * 37) % N) as f64 / N as f64)
            .collect();
        let mut b = Bindings::new();
        b.set("w", 0.8);
        b.set("a", 1.5);
        measure(
            "0.5*(y - w*z)^2 + 0.5*a*z^2 + log(1 + exp(z))",
            &b,
            &u,
            &v,
            |y, z| 0.5 * (y - 0.8 * z).powi(2) + 0.5 * 1.5 * z * z + (1.0 + z.exp()).ln(),
        );
        measure("(y^2 + z^2 - 1)^2 + 0.2*y", &b, &u, &v, |a, b| {
            (a * a + b * b - 1.0).powi(2) + 0.2 * a
        });
    }

    /// Time per 64 points evaluated one at a time as in `benches/eval.rs`, each call opaque to
    /// the optimiser.
    fn one_at_a_time(u: &[f64], v: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
        min_time(200, 200, || {
            let mut s = 0.0;
            for (&y, &z) in black_box(u).iter().zip(black_box(v)) {
                s += f(black_box(y), black_box(z));
            }
            black_box(s);
        })
    }

    fn measure(src: &str, b: &Bindings, u: &[f64], v: &[f64], native: impl Fn(f64, f64) -> f64) {
        const N: usize = 64;
        let inputs = ["y", "z"];
        {
            let e = parse(src).unwrap_or_else(|e| panic!("{}", e.message));
            let p = Program::compile(&e, &inputs, b).unwrap_or_else(|e| panic!("{}", e.message));
            let mut out = vec![0.0; N];
            let mut scratch = BatchScratch::new();
            let t_native = min_time(200, 200, || {
                for ((o, &y), &z) in out.iter_mut().zip(black_box(u)).zip(black_box(v)) {
                    *o = native(y, z);
                }
                black_box(&out);
            });
            let t_batch = min_time(200, 200, || {
                p.eval_batch_with(&mut scratch, &[black_box(u), black_box(v)], &mut out);
                black_box(&out);
            });
            let t_native_single = one_at_a_time(u, v, &native);
            let t_single = one_at_a_time(u, v, |y, z| p.eval(&[y, z]));
            let t_f64 = one_at_a_time(u, v, |y, z| p.eval_f64(&[y, z]));
            let t_tape = one_at_a_time(u, v, |y, z| p.eval_tape(&[y, z]));
            println!(
                "{src}: one point at a time, eval_f64 {:.1} ns/64 ({:.2}x), tape alone {:.1} ns/64 ({:.2}x)",
                t_f64 * 1e9,
                t_f64 / t_native_single,
                t_tape * 1e9,
                t_tape / t_native_single
            );
            println!(
                "{src}: batch of 64: native {:.1} ns, compiled {:.1} ns ({:.2}x); one point at a time: native {:.1} ns/64, compiled {:.1} ns/64 ({:.2}x); {} instructions",
                t_native * 1e9,
                t_batch * 1e9,
                t_batch / t_native,
                t_native_single * 1e9,
                t_single * 1e9,
                t_single / t_native_single,
                p.len()
            );
        }
    }
}
