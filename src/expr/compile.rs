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
use super::eval::{Bindings, Value, apply1, list_as_number, logsumexp2, max2, min2, pow};
use crate::budgets::{self, Budget};
use crate::domain::IntRange;
use num_traits::Float;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

mod interval;
mod passes;
mod quadratic;
mod scalar;
mod step;

use passes::{eliminate_dead, fuse, lower_inputs, operands};
use step::{Lanes, NAN_LANES, step, step_lanes};

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
    /// Its polynomial registers of degree ≤ 2 whose interval enclosures are refined by
    /// Taylor models ([`quadratic`]), when it has any.
    quad: Option<quadratic::QuadPlan>,
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
                        Some(Value::List(_)) => return Err(list_as_number(e, name)),
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
            quad: None,
        };
        program.tree = scalar::build(&program).map(Tree);
        program.quad = quadratic::plan(&program.ops, inputs.len(), output);
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
mod quadratic_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod speed;
