//! The compiled evaluator: closed expressions become a flat tape evaluated per point or over batches.
//!
//! The tape is in SSA form (instruction `i` writes slot `i`), with constants folded, common
//! sub-expressions shared, `x^2` a multiplication and small integer powers `powi`. A batch is
//! evaluated in chunks of [`LANES`] points, one instruction at a time over the whole chunk, so the
//! arithmetic loops have fixed length and vectorise. The NaN policy is the numeric engine's:
//! a lane where the expression has no real value gets NaN, never an error.

use super::ast::{BinOp, Binding, Builtin, Expr, ExprKind};
use super::context::substitute;
use super::diagnostic::{CompileError, Diagnostic, ErrorKind};
use super::eval::{Bindings, Value, apply1, logsumexp2, max2, min2, pow};
use num_traits::Float;
use std::collections::HashMap;

/// Points per chunk of the batched evaluator.
pub const LANES: usize = 64;

/// Largest number of terms of a `sum[k = a..b]` that compilation unrolls.
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
        let (lo, hi) = (lo.ceil(), hi.floor());
        if !lo.is_finite() || !hi.is_finite() || hi - lo + 1.0 > MAX_UNROLLED_TERMS as f64 {
            return Err(not_compilable(
                e,
                "a sum with infinitely or very many terms",
            ));
        }
        let inner = Expr::new(
            ExprKind::Sum {
                bindings: rest.to_vec(),
                body: Box::new(body.clone()),
            },
            e.span,
        );
        let mut total = Operand::Const(0.0);
        let mut k = lo;
        while k <= hi {
            let map: HashMap<String, Expr> = [(first.var.clone(), Expr::number(k, e.span))]
                .into_iter()
                .collect();
            let term = substitute(&inner, &map)?;
            let v = self.emit(&term)?;
            total = self.binary(BinOp::Add, total, v);
            k += 1.0;
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
/// batch): `(a + c)^2`, `a + b^2`, `a ± c*b`, `a^2 + b^2`.
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
        // A sum of two squares, after `a + b^2` was formed above.
        let fused = match fused {
            Some(Op::AddSqr(p, x)) => match ops[p as usize] {
                Op::Sqr(y) if uses[p as usize] == 1 => Some(Op::SumSqr(y, x)),
                _ => Some(Op::AddSqr(p, x)),
            },
            f => f,
        };
        if let Some(f) = fused {
            ops[i] = f;
        }
    }
}

#[inline(always)]
fn step<T: Float>(op: Op, slots: &[T], point: &[T], lists: &[Vec<f64>]) -> T {
    // Operands always precede their instruction (SSA order from `compile`) and `slots` has a
    // slot per instruction, so indexing cannot fail; unchecked-by-`get` indexing is measurably faster.
    let s = |i: u32| slots[i as usize];
    let c = |v: f64| T::from(v).unwrap_or_else(T::nan);
    match op {
        Op::Input(i) => point.get(i as usize).copied().unwrap_or_else(T::nan),
        Op::Const(v) => c(v),
        Op::Add(a, b) => s(a) + s(b),
        Op::Sub(a, b) => s(a) - s(b),
        Op::Mul(a, b) => s(a) * s(b),
        Op::Div(a, b) => s(a) / s(b),
        Op::AddC(a, v) => s(a) + c(v),
        Op::MulC(a, v) => s(a) * c(v),
        Op::SubCR(v, a) => c(v) - s(a),
        Op::DivCR(v, a) => c(v) / s(a),
        Op::Neg(a) => -s(a),
        Op::Sqr(a) => s(a) * s(a),
        Op::Powi(a, n) => s(a).powi(n),
        Op::Powf(a, b) => pow(s(a), s(b)),
        Op::F1(f, a) => apply1(f, s(a)),
        Op::Min(a, b) => min2(s(a), s(b)),
        Op::Max(a, b) => max2(s(a), s(b)),
        Op::Lse(a, b) => logsumexp2(s(a), s(b)),
        Op::Index(l, a) => {
            let list = lists.get(l as usize).map_or(&[][..], Vec::as_slice);
            s(a).to_f64()
                .and_then(|k| super::eval::list_index(k, list.len()).ok())
                .map_or_else(T::nan, |i| c(list[i]))
        }
        Op::SqrAddC(a, v) => {
            let x = s(a) + c(v);
            x * x
        }
        Op::AddSqr(a, b) => s(a) + s(b) * s(b),
        Op::AddMulC(a, b, v) => s(a) + c(v) * s(b),
        Op::SumSqr(a, b) => s(a) * s(a) + s(b) * s(b),
    }
}

type Lanes = [f64; LANES];

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
        };
        let out = c.emit(expr)?;
        let out = c.slot(out);
        let mut ops = c.ops;
        // Constants folded into `AddC`-style instructions leave their `Const` slots unused, and
        // fusion leaves the fused producers unused.
        let out = eliminate_dead(&mut ops, out);
        fuse(&mut ops, out);
        let output = eliminate_dead(&mut ops, out);
        Ok(Program {
            ops,
            lists: c.lists,
            inputs: inputs.iter().map(|s| (*s).to_string()).collect(),
            output,
        })
    }

    /// The input variables, in order.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The number of instructions.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the program has no instructions (never true for a compiled expression).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The value at one point (`point[i]` is input `i`; missing inputs are NaN). Generic over
    /// [`Float`], so `Program::eval::<Dual>` gives a forward-mode derivative.
    pub fn eval<T: Float>(&self, point: &[T]) -> T {
        // Stack scratch sized to the program, so small programs do not clear a large buffer.
        let n = self.ops.len();
        if n <= 8 {
            self.run(point, &mut [T::zero(); 8])
        } else if n <= 16 {
            self.run(point, &mut [T::zero(); 16])
        } else if n <= 32 {
            self.run(point, &mut [T::zero(); 32])
        } else if n <= 64 {
            self.run(point, &mut [T::zero(); 64])
        } else {
            let mut slots = vec![T::zero(); self.ops.len()];
            self.run(point, &mut slots)
        }
    }

    fn run<T: Float>(&self, point: &[T], slots: &mut [T]) -> T {
        for (i, op) in self.ops.iter().enumerate() {
            let v = step(*op, slots, point, &self.lists);
            if let Some(d) = slots.get_mut(i) {
                *d = v;
            }
        }
        slots
            .get(self.output as usize)
            .copied()
            .unwrap_or_else(T::nan)
    }

    /// Values at many points, given column-major (`columns[i][p]` is input `i` at point `p`),
    /// written to `out` (one value per point; `out.len()` is the number of points). Points where
    /// a column is too short, or inputs are missing, get NaN.
    pub fn eval_batch(&self, columns: &[&[f64]], out: &mut [f64]) {
        self.eval_batch_with(&mut BatchScratch::new(), columns, out);
    }

    /// As [`Program::eval_batch`], reusing `scratch` so that no call allocates after the first.
    pub fn eval_batch_with(&self, scratch: &mut BatchScratch, columns: &[&[f64]], out: &mut [f64]) {
        let n_ops = self.ops.len();
        if scratch.buf.len() < n_ops * LANES {
            scratch.buf.resize(n_ops * LANES, 0.0);
        }
        let valid = if columns.len() < self.inputs.len() {
            0
        } else {
            columns
                .iter()
                .take(self.inputs.len())
                .map(|c| c.len())
                .min()
                .unwrap_or(out.len())
                .min(out.len())
        };
        let (good, bad) = out.split_at_mut(valid);
        bad.fill(f64::NAN);
        let buf = &mut scratch.buf[..n_ops * LANES];
        for (chunk, dst) in good.chunks_mut(LANES).enumerate() {
            let start = chunk * LANES;
            let m = dst.len();
            // In a full chunk, inputs are read from the columns in place; the last, partial
            // chunk copies them into padded slots.
            let in_place = |j: u32| -> Option<&Lanes> {
                if m != LANES {
                    return None;
                }
                match self.ops.get(j as usize) {
                    Some(&Op::Input(k)) => columns
                        .get(k as usize)?
                        .get(start..)?
                        .first_chunk::<LANES>(),
                    _ => None,
                }
            };
            let last = self.ops.len().saturating_sub(1);
            let mut written = false;
            for (i, op) in self.ops.iter().enumerate() {
                let (prev, rest) = buf.split_at_mut(i * LANES);
                // The output instruction (always the last) of a full chunk writes to `out` directly.
                let direct = i == last && m == LANES && !matches!(op, Op::Input(_));
                let d = if direct {
                    dst.first_chunk_mut::<LANES>()
                } else {
                    rest.first_chunk_mut::<LANES>()
                };
                let Some(d) = d else { return };
                written |= direct;
                let src = |j: u32| -> &Lanes {
                    if let Some(col) = in_place(j) {
                        return col;
                    }
                    prev.get(j as usize * LANES..)
                        .and_then(|s| s.first_chunk::<LANES>())
                        .unwrap_or(&[f64::NAN; LANES])
                };
                match *op {
                    Op::Input(k) => {
                        if in_place(i as u32).is_some() {
                            continue;
                        }
                        match columns
                            .get(k as usize)
                            .and_then(|c| c.get(start..start + m))
                        {
                            Some(col) => d[..m].copy_from_slice(col),
                            None => d[..m].fill(f64::NAN),
                        }
                        // Padding lanes of the last chunk: any value works, their results are dropped.
                        d[m..].fill(0.0);
                    }
                    Op::Const(v) => d.fill(v),
                    Op::Add(a, b) => map2(d, src(a), src(b), |x, y| x + y),
                    Op::Sub(a, b) => map2(d, src(a), src(b), |x, y| x - y),
                    Op::Mul(a, b) => map2(d, src(a), src(b), |x, y| x * y),
                    Op::Div(a, b) => map2(d, src(a), src(b), |x, y| x / y),
                    Op::AddC(a, c) => map1(d, src(a), |x| x + c),
                    Op::MulC(a, c) => map1(d, src(a), |x| x * c),
                    Op::SubCR(c, a) => map1(d, src(a), |x| c - x),
                    Op::DivCR(c, a) => map1(d, src(a), |x| c / x),
                    Op::Neg(a) => map1(d, src(a), |x| -x),
                    Op::Sqr(a) => map1(d, src(a), |x| x * x),
                    Op::Powi(a, n) => map1(d, src(a), |x| x.powi(n)),
                    Op::Powf(a, b) => map2(d, src(a), src(b), pow),
                    Op::F1(f, a) => match f {
                        Builtin::Exp => map1(d, src(a), f64::exp),
                        Builtin::Log => map1(d, src(a), f64::ln),
                        Builtin::Log1p => map1(d, src(a), f64::ln_1p),
                        Builtin::Sqrt => map1(d, src(a), f64::sqrt),
                        Builtin::Abs => map1(d, src(a), f64::abs),
                        Builtin::Softplus => map1(d, src(a), super::eval::softplus),
                        Builtin::Sigmoid => map1(d, src(a), super::eval::sigmoid),
                        f => map1(d, src(a), |x| apply1(f, x)),
                    },
                    Op::Min(a, b) => map2(d, src(a), src(b), min2),
                    Op::Max(a, b) => map2(d, src(a), src(b), max2),
                    Op::Lse(a, b) => map2(d, src(a), src(b), logsumexp2),
                    Op::Index(l, a) => {
                        let list = self.lists.get(l as usize).map_or(&[][..], Vec::as_slice);
                        map1(d, src(a), |k| {
                            super::eval::list_index(k, list.len()).map_or(f64::NAN, |i| list[i])
                        });
                    }
                    Op::SqrAddC(a, c) => map1(d, src(a), |x| (x + c) * (x + c)),
                    Op::AddSqr(a, b) => map2(d, src(a), src(b), |x, y| x + y * y),
                    Op::AddMulC(a, b, c) => map2(d, src(a), src(b), |x, y| x + c * y),
                    Op::SumSqr(a, b) => map2(d, src(a), src(b), |x, y| x * x + y * y),
                }
            }
            if written {
                continue;
            }
            let o = self.output as usize;
            match in_place(self.output) {
                Some(col) => dst.copy_from_slice(&col[..m]),
                _ => dst.copy_from_slice(&buf[o * LANES..o * LANES + m]),
            }
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
    use crate::expr::parse;

    fn program(src: &str, inputs: &[&str], b: &Bindings) -> Program {
        let e = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src, "")));
        Program::compile(&e, inputs, b).unwrap_or_else(|e| panic!("{}", e.render(src, "")))
    }

    #[test]
    fn constants_fold_and_powers_become_multiplications() {
        let mut b = Bindings::new();
        b.set("a", 2.0);
        let p = program("0.5*a*z^2 + exp(a)", &["z"], &b);
        // input, square, scale, add the folded constant (the last two fused).
        assert_eq!(p.len(), 3);
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
            let t_single = min_time(200, 200, || {
                for ((o, &y), &z) in out.iter_mut().zip(black_box(u)).zip(black_box(v)) {
                    *o = p.eval(&[y, z]);
                }
                black_box(&out);
            });
            println!(
                "{src}: native {:.1} ns/64, batch {:.1} ns/64 ({:.2}x), single {:.1} ns/64 ({:.2}x), {} ops",
                t_native * 1e9,
                t_batch * 1e9,
                t_batch / t_native,
                t_single * 1e9,
                t_single / t_native,
                p.len()
            );
        }
    }
}
