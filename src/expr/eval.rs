//! The reference tree-walking evaluator, the shared numerics of the builtins, and the bound-operator hook.

use super::ast::{BinOp, Builtin, Expr, ExprKind};
use super::diagnostic::{Diagnostic, ErrorKind, EvalError, excerpt, suggest};
use crate::budgets;
use crate::domain::IntRange;
use crate::remedy::Remedy;
use num_traits::Float;
use std::collections::BTreeMap;

/// A value given to a variable: a number or a list (indexed `c[k]`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Number(f64),
    /// A list of numbers.
    List(Vec<f64>),
}

/// Values of variables and parameters for evaluation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bindings {
    values: BTreeMap<String, Value>,
}

impl Bindings {
    /// No bindings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to a number.
    pub fn set(&mut self, name: &str, value: f64) {
        self.values.insert(name.to_string(), Value::Number(value));
    }

    /// Sets `name` to a list.
    pub fn set_list(&mut self, name: &str, values: Vec<f64>) {
        self.values.insert(name.to_string(), Value::List(values));
    }

    /// Sets `name` to `value`.
    pub fn insert(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }

    /// A copy with `name` set to a number.
    #[must_use]
    pub fn with(&self, name: &str, value: f64) -> Self {
        let mut b = self.clone();
        b.set(name, value);
        b
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// The number `name` is set to, if it is a number.
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.values.get(name) {
            Some(Value::Number(v)) => Some(*v),
            _ => None,
        }
    }

    /// The list `name` is set to, if it is a list.
    pub fn list(&self, name: &str) -> Option<&[f64]> {
        match self.values.get(name) {
            Some(Value::List(v)) => Some(v),
            _ => None,
        }
    }

    /// Whether `name` has a value.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// The names with values, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Adds every binding of `other`, overriding those of `self`.
    pub fn extend(&mut self, other: &Bindings) {
        for (k, v) in &other.values {
            self.values.insert(k.clone(), v.clone());
        }
    }
}

/// Evaluates bound-operator nodes (integrals, minima, expectations, ...) for the tree evaluator;
/// the numeric engine implements it.
pub trait BoundEvaluator {
    /// The value of the bound-operator node `node` with its free variables given by `bindings`.
    ///
    /// # Errors
    /// Whatever prevents evaluation; an [`EvalError`] located at `node`.
    fn eval_bound(&mut self, node: &Expr, bindings: &Bindings) -> Result<f64, EvalError>;
}

/// The default hook: every bound operator is an error saying it needs the numeric engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBoundEvaluator;

impl BoundEvaluator for NoBoundEvaluator {
    fn eval_bound(&mut self, node: &Expr, _bindings: &Bindings) -> Result<f64, EvalError> {
        let what = match &node.kind {
            ExprKind::Integral { .. } => "an integral",
            ExprKind::Sum { .. } => "a sum over a declared domain",
            ExprKind::Extremum { .. } => "a minimisation",
            ExprKind::Limit { .. } => "a limit",
            ExprKind::Expect { .. } => "an expectation",
            ExprKind::MonteCarlo { .. } => "a Monte-Carlo average",
            _ => "this operator",
        };
        Err(Diagnostic::new(
            ErrorKind::NeedsNumericEngine,
            node.span,
            format!("{what} needs the numeric engine"),
        )
        .with_help("plain evaluation does not integrate, minimise or sample; use a command that does, such as `ebmcheck check`"))
    }
}

/// Largest number of terms a `sum[k = a..b]` with explicit limits is evaluated term by term.
pub const MAX_SUM_TERMS: f64 = 1e7;

/// Evaluates a closed, inlined expression with the default hook (bound operators other than
/// `diff[..]` and finite `sum[..]` are errors).
///
/// # Errors
/// An unknown variable, a list misuse, an index out of range, a value that is not a real number
/// (NaN) located at the sub-expression where it first arose, a user call (inline first), or a
/// bound operator.
pub fn eval(expr: &Expr, bindings: &Bindings) -> Result<f64, EvalError> {
    eval_with(expr, bindings, &mut NoBoundEvaluator)
}

/// Evaluates a closed, inlined expression; bound operators go to `hook`, except `diff[w](f)`
/// (differentiated symbolically, then evaluated) and `sum[k = a..b](f)` with explicit finite
/// limits (summed term by term).
///
/// # Errors
/// As [`eval`], plus the hook's errors.
pub fn eval_with(
    expr: &Expr,
    bindings: &Bindings,
    hook: &mut dyn BoundEvaluator,
) -> Result<f64, EvalError> {
    let v = eval_node(expr, bindings, hook)?;
    Ok(v)
}

/// A list used where a number is wanted (`name` alone, not indexed), at `e`: the same words from
/// the tree-walking evaluator and from the compiler.
pub(super) fn list_as_number(e: &Expr, name: &str) -> Diagnostic {
    Diagnostic::new(
        ErrorKind::TypeMismatch,
        e.span,
        format!("`{name}` is a list, not a number"),
    )
    .with_help(format!("index it as `{name}[k]`"))
}

fn no_real_value(e: &Expr, help: &str) -> Diagnostic {
    Diagnostic::new(
        ErrorKind::NoRealValue,
        e.span,
        format!("`{e}` has no real value"),
    )
    .with_help(help)
}

fn eval_node(e: &Expr, b: &Bindings, hook: &mut dyn BoundEvaluator) -> Result<f64, EvalError> {
    use ExprKind as K;
    let v = match &e.kind {
        K::Number(v) => *v,
        K::Const(c) => c.value(),
        K::Var(name) => match b.get(name) {
            Some(Value::Number(v)) => *v,
            Some(Value::List(_)) => return Err(list_as_number(e, name)),
            None => {
                let d = Diagnostic::new(
                    ErrorKind::UnknownVariable,
                    e.span,
                    format!("unknown variable `{name}`"),
                );
                return Err(match suggest(name, b.names()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_remedy(Remedy::SetNumber(name.clone())),
                });
            }
        },
        K::Index { list, index } => {
            let k = eval_node(index, b, hook)?;
            let values = match b.get(list) {
                Some(Value::List(v)) => v,
                Some(Value::Number(_)) => {
                    return Err(Diagnostic::new(
                        ErrorKind::TypeMismatch,
                        e.span,
                        format!("`{list}` is a number, not a list"),
                    )
                    .with_remedy(Remedy::MakeList(list.clone())));
                }
                None => {
                    return Err(Diagnostic::new(
                        ErrorKind::UnknownVariable,
                        e.span,
                        format!("unknown list `{list}`"),
                    )
                    .with_remedy(Remedy::SetList(list.clone())));
                }
            };
            let i = list_index(k, values.len()).map_err(|kind| match kind {
                ErrorKind::NonIntegerIndex => Diagnostic::new(
                    kind,
                    index.span,
                    format!("list index `{index}` = {k} is not an integer"),
                )
                .with_help("index lists with an integer variable"),
                _ => Diagnostic::new(
                    kind,
                    index.span,
                    format!(
                        "index {k} is outside `{list}`, which has {} elements",
                        values.len()
                    ),
                )
                .with_help(format!(
                    "indices run from 0 to {}",
                    values.len().saturating_sub(1)
                )),
            })?;
            values[i]
        }
        K::List(_) => {
            return Err(
                Diagnostic::new(ErrorKind::TypeMismatch, e.span, "a list is not a number")
                    .with_help("lists may only be defined as parameters: `c = [1, 2]`"),
            );
        }
        K::Neg(a) => -eval_node(a, b, hook)?,
        K::Binary { op, lhs, rhs } => {
            let l = eval_node(lhs, b, hook)?;
            let r = eval_node(rhs, b, hook)?;
            let v = binary(*op, l, r);
            if v.is_nan() {
                let help = match op {
                    BinOp::Div => "0/0 and inf/inf are undefined",
                    BinOp::Pow => "a negative number has no real non-integer power",
                    BinOp::Mul => "0*inf is undefined",
                    BinOp::Add | BinOp::Sub => "inf - inf is undefined",
                };
                return Err(no_real_value(e, help));
            }
            v
        }
        K::Call { func, args } => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval_node(a, b, hook)?);
            }
            let v = apply(*func, &vals);
            if v.is_nan() {
                let help = match func {
                    Builtin::Log => "`log` needs a positive argument",
                    Builtin::Log1p => "`log1p` needs an argument above -1",
                    Builtin::Sqrt => "`sqrt` needs a non-negative argument",
                    _ => "the function is undefined there",
                };
                return Err(no_real_value(e, help));
            }
            v
        }
        K::UserCall { name, .. } => {
            return Err(Diagnostic::new(
                ErrorKind::UnknownFunction,
                e.span,
                format!("`{name}` is not inlined"),
            )
            .with_help("inline user definitions with `Context::inline` before evaluating"));
        }
        // A derivative or sum over bound operators goes to the hook, which evaluates each bound
        // node at its own bindings (and can cross-check a derivative by finite differences).
        K::Derivative { body, .. } | K::Sum { body, .. } if body.has_bound_operator() => {
            hook.eval_bound(e, b)?
        }
        K::Derivative { var, body, .. } => {
            let d = super::diff::derivative_of(body, var)?;
            eval_node(&super::simplify::simplify(&d), b, hook)?
        }
        K::Sum { bindings: bs, body } if bs.iter().all(|x| x.range.is_some()) => {
            let mut ranges = Vec::with_capacity(bs.len());
            let mut terms: u128 = 1;
            for x in bs {
                let Some((lo, hi)) = &x.range else { continue };
                let (lo_v, hi_v) = (eval_node(lo, b, hook)?, eval_node(hi, b, hook)?);
                if !lo_v.is_finite() || !hi_v.is_finite() {
                    return hook.eval_bound(e, b);
                }
                let Some(range) = IntRange::from_limits(lo_v, hi_v) else {
                    return Err(Diagnostic::new(
                        ErrorKind::TooLarge,
                        x.span,
                        format!(
                            "the sum over `{}` runs from {} to {}, beyond ±2^53 where floating-point numbers skip integers",
                            x.var,
                            super::print::format_number(lo_v),
                            super::print::format_number(hi_v)
                        ),
                    )
                    .with_help("keep sum limits within ±9007199254740992"));
                };
                terms = terms.saturating_mul(range.len());
                ranges.push((x.var.as_str(), range));
            }
            if terms as f64 > MAX_SUM_TERMS {
                return hook.eval_bound(e, b);
            }
            budgets::charge_sum_terms(terms, &format!("the sum `{}`", excerpt(&e.to_string(), 60)))
                .map_err(|err| {
                    Diagnostic::new(ErrorKind::TooLarge, e.span, err.message())
                        .with_help(err.help())
                })?;
            sum_terms(&ranges, body, b, hook)?
        }
        _ if e.is_bound_operator() => hook.eval_bound(e, b)?,
        _ => {
            return Err(Diagnostic::new(
                ErrorKind::NeedsNumericEngine,
                e.span,
                "cannot evaluate this node",
            ));
        }
    };
    if v.is_nan() {
        return Err(no_real_value(
            e,
            "the expression is undefined at this point",
        ));
    }
    Ok(v)
}

fn sum_terms(
    ranges: &[(&str, IntRange)],
    body: &Expr,
    b: &Bindings,
    hook: &mut dyn BoundEvaluator,
) -> Result<f64, EvalError> {
    let Some(&(var, range)) = ranges.first() else {
        return eval_node(body, b, hook);
    };
    let mut total = 0.0;
    // An integer counter: exact at every magnitude the limits allow.
    for kf in range.values() {
        total += sum_terms(&ranges[1..], body, &b.with(var, kf), hook)?;
    }
    Ok(total)
}

/// Converts a list index value to a position, or says why it is not one.
pub(crate) fn list_index(k: f64, len: usize) -> Result<usize, ErrorKind> {
    let r = k.round();
    if (k - r).abs() > 0.0 || !k.is_finite() {
        return Err(ErrorKind::NonIntegerIndex);
    }
    if r < 0.0 || r >= len as f64 {
        return Err(ErrorKind::IndexOutOfRange);
    }
    // The bounds were checked above, so the cast is exact.
    Ok(r as usize)
}

/// `l op r` with the language's semantics.
pub fn binary<T: Float>(op: BinOp, l: T, r: T) -> T {
    match op {
        BinOp::Add => l + r,
        BinOp::Sub => l - r,
        BinOp::Mul => l * r,
        BinOp::Div => l / r,
        BinOp::Pow => pow(l, r),
    }
}

/// `x^y`, with integer exponents done by repeated multiplication (exact for negative bases).
/// A NaN operand gives NaN: IEEE's `1^NaN = 1` and `NaN^0 = 1` would let a compiled program
/// answer 1 where the tree evaluator reports that a sub-expression has no value.
pub fn pow<T: Float>(x: T, y: T) -> T {
    if x.is_nan() || y.is_nan() {
        return T::nan();
    }
    match y.to_f64() {
        Some(e) if e.fract().abs() <= 0.0 && e.abs() <= 64.0 => x.powi(e as i32),
        _ => x.powf(y),
    }
}

/// `sign(x)`: -1, 0 or 1 (NaN stays NaN).
pub fn sign<T: Float>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else if x.is_nan() {
        x
    } else {
        T::zero()
    }
}

/// The logistic function, without overflow for large `|x|`.
pub fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `log(1 + exp(x))` as `max(x, 0) + log1p(exp(-|x|))`: exact for large `|x|`.
pub fn softplus<T: Float>(x: T) -> T {
    if x.is_nan() {
        return x;
    }
    max2(x, T::zero()) + (-x.abs()).exp().ln_1p()
}

/// The smaller of two numbers; NaN if either is NaN.
pub fn min2<T: Float>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if b < a {
        b
    } else {
        a
    }
}

/// The larger of two numbers; NaN if either is NaN.
pub fn max2<T: Float>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if b > a {
        b
    } else {
        a
    }
}

/// `log(exp(a) + exp(b))`, shifted by the maximum; `logsumexp(-inf, -inf) = -inf`.
pub fn logsumexp2<T: Float>(a: T, b: T) -> T {
    let m = max2(a, b);
    if m.is_nan() || m == T::neg_infinity() || m == T::infinity() {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// `log Σ exp(x_i)`, shifted by the maximum.
pub fn logsumexp<T: Float>(xs: &[T]) -> T {
    let mut m = T::neg_infinity();
    for &x in xs {
        m = max2(m, x);
    }
    if m.is_nan() || m == T::neg_infinity() || m == T::infinity() {
        return m;
    }
    let mut s = T::zero();
    for &x in xs {
        s = s + (x - m).exp();
    }
    m + s.ln()
}

/// A one-argument builtin applied to `x`.
pub fn apply1<T: Float>(f: Builtin, x: T) -> T {
    match f {
        Builtin::Exp => x.exp(),
        Builtin::Log => x.ln(),
        Builtin::Log1p => x.ln_1p(),
        Builtin::Expm1 => x.exp_m1(),
        Builtin::Sqrt => x.sqrt(),
        Builtin::Abs => x.abs(),
        Builtin::Sign => sign(x),
        Builtin::Sin => x.sin(),
        Builtin::Cos => x.cos(),
        Builtin::Tan => x.tan(),
        Builtin::Sinh => x.sinh(),
        Builtin::Cosh => x.cosh(),
        Builtin::Tanh => x.tanh(),
        Builtin::Sigmoid => sigmoid(x),
        Builtin::Softplus => softplus(x),
        Builtin::Min | Builtin::Max | Builtin::LogSumExp => x,
    }
}

/// A builtin applied to its arguments (the arity is checked by the parser; an empty argument
/// list gives NaN).
pub fn apply<T: Float>(f: Builtin, args: &[T]) -> T {
    match f {
        Builtin::Min => args.iter().copied().reduce(min2).unwrap_or_else(T::nan),
        Builtin::Max => args.iter().copied().reduce(max2).unwrap_or_else(T::nan),
        Builtin::LogSumExp => {
            if args.is_empty() {
                T::nan()
            } else {
                logsumexp(args)
            }
        }
        _ => args.first().map_or_else(T::nan, |&x| apply1(f, x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    fn value(src: &str, b: &Bindings) -> Result<f64, String> {
        let e = parse(src).map_err(|e| e.render(src, ""))?;
        eval(&e, b).map_err(|e| e.render(src, ""))
    }

    #[test]
    fn arithmetic_and_builtins() {
        let b = Bindings::new();
        let cases: &[(&str, f64)] = &[
            ("-2^2", -4.0),
            ("2^3^2", 512.0),
            ("1 - 2 - 3", -4.0),
            ("softplus(800)", 800.0),
            ("softplus(-800)", 0.0),
            ("sigmoid(-800)", 0.0),
            ("logsumexp(1000, 1000)", 1000.0 + std::f64::consts::LN_2),
            ("logsumexp(-inf, -inf)", f64::NEG_INFINITY),
            ("sign(-3) + sign(0) + sign(2)", 0.0),
            ("min(3, 1, 2) + max(3, 1, 2)", 4.0),
            ("(-8)^(1/3)^0", -8.0),
            ("sum[k = 1..4](k)", 10.0),
            ("diff[x](x^3)", 0.0),
        ];
        for (src, want) in cases {
            let b = if *src == "diff[x](x^3)" {
                b.with("x", 0.0)
            } else {
                b.clone()
            };
            let got = value(src, &b).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0)
                    || got.to_bits() == want.to_bits(),
                "{src}: got {got}, want {want}"
            );
        }
    }

    #[test]
    fn not_a_real_number_names_the_sub_expression() {
        let b = Bindings::new().with("x", 1.0);
        let e = value("x + log(-1)", &b).err().unwrap_or_default();
        assert!(
            e.contains("`log(-1)` has no real value") && e.contains("1:5"),
            "{e}"
        );
        let e = value("0/0", &b).err().unwrap_or_default();
        assert!(e.contains("no real value"), "{e}");
    }

    #[test]
    fn variables_and_lists() {
        let mut b = Bindings::new();
        b.set_list("c", vec![0.0, 2.0, -1.0]);
        b.set("k", 1.0);
        b.set("beta", 2.0);
        assert_eq!(value("c[k] + c[k + 1]", &b).ok(), Some(1.0));
        assert!(
            value("c[3]", &b)
                .err()
                .unwrap_or_default()
                .contains("outside")
        );
        assert!(
            value("c[0.5]", &b)
                .err()
                .unwrap_or_default()
                .contains("not an integer")
        );
        assert!(
            value("betta", &b)
                .err()
                .unwrap_or_default()
                .contains("did you mean `beta`?")
        );
        assert!(
            value("int[z](z)", &b)
                .err()
                .unwrap_or_default()
                .contains("numeric engine")
        );
    }
}
