//! One-point evaluation of tree-shaped programs as nested closures, the fastest safe way found.
//!
//! A tape interpreter pays a dispatch and a trip through the register file per instruction;
//! nested closures pass values in machine registers, read inputs straight from the point and
//! have one indirect call per instruction (none for arithmetic on inputs alone). Measured on the
//! benchmark's energies, that is what brings one-point evaluation within the 4× of
//! native code. Only trees qualify: a value shared by several instructions would be recomputed
//! by each, so programs that share anything but arithmetic on inputs keep the tape.

use super::{Op, Program};
use crate::expr::ast::Builtin;
use crate::expr::eval::{apply1, list_index, logsumexp2, max2, min2, pow, sigmoid, softplus};

/// A compiled sub-expression: its value at a point.
pub(super) type Node = Box<dyn Fn(&[f64]) -> f64 + Send + Sync>;

/// The root of a closure tree, shared by clones of the program.
pub(super) type Root = std::sync::Arc<dyn Fn(&[f64]) -> f64 + Send + Sync>;

/// Most instructions a closure tree is built for: bounds the depth of the nested calls.
pub(super) const MAX_TREE_OPS: usize = 48;

/// Most inputs of a closure tree: the point is copied into a stack array of this size.
pub(super) const MAX_TREE_INPUTS: usize = 8;

/// An operand: an input read from the point, an instruction on inputs alone (evaluated in place
/// by a jump rather than a call), or a sub-expression.
enum Arg {
    In(usize),
    Leaf(Op),
    Node(Node),
}

/// An operand whose kind is known when the closure reading it is built, so that reading it is
/// a load, a jump or a call without a test of the kind.
trait Get: Send + Sync + 'static {
    fn get(&self, p: &[f64]) -> f64;
}

struct In(usize);

impl Get for In {
    #[inline(always)]
    fn get(&self, p: &[f64]) -> f64 {
        input(p, self.0)
    }
}

struct Leaf(Op);

impl Get for Leaf {
    #[inline(always)]
    fn get(&self, p: &[f64]) -> f64 {
        leaf(self.0, p)
    }
}

impl Get for Node {
    #[inline(always)]
    fn get(&self, p: &[f64]) -> f64 {
        self(p)
    }
}

/// An arithmetic instruction whose operands are inputs. Only arithmetic, so that the jump
/// table stays small and the closures that inline it need no stack frame.
#[inline(always)]
fn leaf(op: Op, p: &[f64]) -> f64 {
    let r = |j: u32| input(p, j as usize);
    match op {
        Op::Const(v) => v,
        Op::Add(a, b) => r(a) + r(b),
        Op::Sub(a, b) => r(a) - r(b),
        Op::Mul(a, b) => r(a) * r(b),
        Op::Div(a, b) => r(a) / r(b),
        Op::AddC(a, v) => r(a) + v,
        Op::MulC(a, v) => r(a) * v,
        Op::SubCR(v, a) => v - r(a),
        Op::DivCR(v, a) => v / r(a),
        Op::Neg(a) => -r(a),
        Op::Sqr(a) => r(a) * r(a),
        Op::SqrAddC(a, v) => (r(a) + v) * (r(a) + v),
        Op::AddSqr(a, b) => r(a) + r(b) * r(b),
        Op::AddMulC(a, b, v) => r(a) + v * r(b),
        Op::SumSqr(a, b) => r(a) * r(a) + r(b) * r(b),
        Op::SumSqrC(a, b, v) => r(a) * r(a) + r(b) * r(b) + v,
        Op::SqrAddMulC(a, b, v) => r(a) * r(a) + v * r(b),
        // Not leaves (see `is_leaf`).
        _ => f64::NAN,
    }
}

/// Whether `leaf` evaluates `op`.
fn is_leaf(op: &Op) -> bool {
    !matches!(
        op,
        Op::Input(_)
            | Op::Powi(..)
            | Op::Powf(..)
            | Op::F1(..)
            | Op::Min(..)
            | Op::Max(..)
            | Op::Lse(..)
            | Op::Index(..)
    )
}

/// Whether `op` is evaluated in place by [`leaf`]: arithmetic whose operands are inputs.
fn is_leaf_on_inputs(op: &Op, n_in: usize) -> bool {
    is_leaf(op)
        && super::operands(op)
            .into_iter()
            .flatten()
            .all(|r| (r as usize) < n_in)
}

#[inline(always)]
fn input(p: &[f64], k: usize) -> f64 {
    p.get(k).copied().unwrap_or(f64::NAN)
}

fn un<F: Fn(f64) -> f64 + Send + Sync + 'static>(a: Arg, f: F) -> Node {
    fn mk<A: Get, F: Fn(f64) -> f64 + Send + Sync + 'static>(a: A, f: F) -> Node {
        Box::new(move |p| f(a.get(p)))
    }
    match a {
        Arg::In(k) => mk(In(k), f),
        Arg::Leaf(op) => mk(Leaf(op), f),
        Arg::Node(n) => mk(n, f),
    }
}

fn bin<F: Fn(f64, f64) -> f64 + Send + Sync + 'static>(a: Arg, b: Arg, f: F) -> Node {
    fn mk<A: Get, B: Get, F: Fn(f64, f64) -> f64 + Send + Sync + 'static>(
        a: A,
        b: B,
        f: F,
    ) -> Node {
        Box::new(move |p| {
            let x = a.get(p);
            f(x, b.get(p))
        })
    }
    match (a, b) {
        (Arg::In(i), Arg::In(j)) => mk(In(i), In(j), f),
        (Arg::In(i), Arg::Leaf(m)) => mk(In(i), Leaf(m), f),
        (Arg::In(i), Arg::Node(m)) => mk(In(i), m, f),
        (Arg::Leaf(n), Arg::In(j)) => mk(Leaf(n), In(j), f),
        (Arg::Leaf(n), Arg::Leaf(m)) => mk(Leaf(n), Leaf(m), f),
        (Arg::Leaf(n), Arg::Node(m)) => mk(Leaf(n), m, f),
        (Arg::Node(n), Arg::In(j)) => mk(n, In(j), f),
        (Arg::Node(n), Arg::Leaf(m)) => mk(n, Leaf(m), f),
        (Arg::Node(n), Arg::Node(m)) => mk(n, m, f),
    }
}

/// The closure tree of `program`, or `None` when it is not a small tree.
pub(super) fn build(program: &Program) -> Option<Root> {
    let n_in = program.inputs.len();
    let ops = &program.ops;
    if ops.is_empty() || ops.len() > MAX_TREE_OPS || n_in > MAX_TREE_INPUTS {
        return None;
    }
    let mut uses = vec![0u32; ops.len()];
    for op in ops {
        for r in super::operands(op).into_iter().flatten() {
            if let Some(u) = (r as usize).checked_sub(n_in).and_then(|i| uses.get_mut(i)) {
                *u += 1;
            }
        }
    }
    // The output is the last instruction, used by the caller alone. A shared value is
    // recomputed by each user, which is cheaper than the tape only for arithmetic on inputs
    // (evaluated in place, a few flops); any other shared value keeps the tape.
    let last = ops.len() - 1;
    let shape_ok = ops
        .iter()
        .zip(&uses)
        .enumerate()
        .all(|(i, (op, &u))| match u {
            0 => i == last,
            1 => i != last,
            _ => i != last && is_leaf_on_inputs(op, n_in),
        });
    if !shape_ok {
        return None;
    }
    match arg(program, program.output)? {
        Arg::Node(n) => Some(n.into()),
        Arg::Leaf(op) => Some(std::sync::Arc::new(move |p: &[f64]| leaf(op, p))),
        Arg::In(_) => None,
    }
}

fn arg(program: &Program, reg: u32) -> Option<Arg> {
    let n_in = program.inputs.len();
    let Some(i) = (reg as usize).checked_sub(n_in) else {
        return Some(Arg::In(reg as usize));
    };
    let a = |r: u32| arg(program, r);
    let op = *program.ops.get(i)?;
    if is_leaf_on_inputs(&op, n_in) {
        return Some(Arg::Leaf(op));
    }
    Some(Arg::Node(match op {
        Op::Input(_) => return None,
        Op::Const(v) => Box::new(move |_| v),
        Op::Add(x, y) => bin(a(x)?, a(y)?, |x, y| x + y),
        Op::Sub(x, y) => bin(a(x)?, a(y)?, |x, y| x - y),
        Op::Mul(x, y) => bin(a(x)?, a(y)?, |x, y| x * y),
        Op::Div(x, y) => bin(a(x)?, a(y)?, |x, y| x / y),
        Op::AddC(x, c) => un(a(x)?, move |x| x + c),
        Op::MulC(x, c) => un(a(x)?, move |x| x * c),
        Op::SubCR(c, x) => un(a(x)?, move |x| c - x),
        Op::DivCR(c, x) => un(a(x)?, move |x| c / x),
        Op::Neg(x) => un(a(x)?, |x| -x),
        Op::Sqr(x) => un(a(x)?, |x| x * x),
        Op::Powi(x, n) => un(a(x)?, move |x| x.powi(n)),
        Op::Powf(x, y) => bin(a(x)?, a(y)?, pow),
        Op::F1(f, x) => match f {
            Builtin::Exp => un(a(x)?, f64::exp),
            Builtin::Log => un(a(x)?, f64::ln),
            Builtin::Log1p => un(a(x)?, f64::ln_1p),
            Builtin::Sqrt => un(a(x)?, f64::sqrt),
            Builtin::Abs => un(a(x)?, f64::abs),
            Builtin::Softplus => un(a(x)?, softplus),
            Builtin::Sigmoid => un(a(x)?, sigmoid),
            f => un(a(x)?, move |x| apply1(f, x)),
        },
        Op::Min(x, y) => bin(a(x)?, a(y)?, min2),
        Op::Max(x, y) => bin(a(x)?, a(y)?, max2),
        Op::Lse(x, y) => bin(a(x)?, a(y)?, logsumexp2),
        Op::Index(l, x) => {
            let list = program.lists.get(l as usize)?.clone();
            un(a(x)?, move |k| {
                list_index(k, list.len()).map_or(f64::NAN, |i| list[i])
            })
        }
        Op::SqrAddC(x, c) => un(a(x)?, move |x| (x + c) * (x + c)),
        Op::AddSqr(x, y) => bin(a(x)?, a(y)?, |x, y| x + y * y),
        Op::AddMulC(x, y, c) => bin(a(x)?, a(y)?, move |x, y| x + c * y),
        Op::SumSqr(x, y) => bin(a(x)?, a(y)?, |x, y| x * x + y * y),
        Op::SumSqrC(x, y, c) => bin(a(x)?, a(y)?, move |x, y| x * x + y * y + c),
        Op::SqrAddMulC(x, y, c) => bin(a(x)?, a(y)?, move |x, y| x * x + c * y),
    }))
}
