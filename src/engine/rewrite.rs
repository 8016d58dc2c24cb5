//! Rewrites of expressions before and during evaluation: constants hoisted out of integrands,
//! `log(int[..](..))` marked for log-space evaluation, integrands factored as `exp(-U)·g`.

use super::error::EngineError;
use super::{Engine, Value};
use crate::expr::{self, BinOp, Binding, Bindings, Builtin, Expr, ExprKind, Span};

impl Engine {
    /// Replaces maximal subexpressions that contain a bound operator but not the variables
    /// `names` by precomputed constants (named `__k0`, `__k1`, …). Returns the rewritten
    /// expression, the bindings with the constants, and the constants themselves (their
    /// errors and convergence must be carried into whatever uses them).
    pub(super) fn hoist(
        &self,
        body: &Expr,
        names: &[String],
        b: &Bindings,
    ) -> Result<Hoisted, EngineError> {
        let mut bb = b.clone();
        let mut constants = Vec::new();
        let e = self.hoist_rec(body, names, &mut bb, &mut constants)?;
        Ok(Hoisted {
            expr: e,
            bindings: bb,
            constants,
        })
    }

    fn hoist_rec(
        &self,
        e: &Expr,
        names: &[String],
        bb: &mut Bindings,
        constants: &mut Vec<Value>,
    ) -> Result<Expr, EngineError> {
        if e.has_bound_operator() {
            let free = expr::free_variables(e);
            if names.iter().all(|n| !free.contains(n)) {
                let v = self.eval_bindings(e, bb)?;
                let name = format!("__k{}_{}", names.join("_"), constants.len());
                bb.set(&name, v.value);
                constants.push(v);
                return Ok(Expr::var(&name, e.span));
            }
        }
        let map = |x: &Expr, s: &Self, bb: &mut Bindings, c: &mut Vec<Value>| {
            s.hoist_rec(x, names, bb, c).map(Box::new)
        };
        Ok(match &e.kind {
            ExprKind::Neg(a) => Expr::new(ExprKind::Neg(map(a, self, bb, constants)?), e.span),
            ExprKind::Binary { op, lhs, rhs } => Expr::new(
                ExprKind::Binary {
                    op: *op,
                    lhs: map(lhs, self, bb, constants)?,
                    rhs: map(rhs, self, bb, constants)?,
                },
                e.span,
            ),
            ExprKind::Call { func, args } => {
                let mut out = Vec::new();
                for a in args {
                    out.push(self.hoist_rec(a, names, bb, constants)?);
                }
                Expr::new(
                    ExprKind::Call {
                        func: *func,
                        args: out,
                    },
                    e.span,
                )
            }
            _ => e.clone(),
        })
    }
}

/// The result of [`Engine::hoist`].
pub(super) struct Hoisted {
    pub(super) expr: Expr,
    pub(super) bindings: Bindings,
    pub(super) constants: Vec<Value>,
}

/// The name of the dummy binding that marks `log(int[..](..))` as "return log of the integral".
pub(super) const LOG_MARK: &str = "__log";

/// Rewrites every `log(int[z](body))` in the arithmetic skeleton of `e` into
/// `int[z, __log](body)`, which [`Engine::integral`] evaluates as `log Z` directly.
pub(super) fn mark_log_integrals(e: &Expr) -> Expr {
    let rec = |x: &Expr| Box::new(mark_log_integrals(x));
    match &e.kind {
        ExprKind::Call {
            func: Builtin::Log,
            args,
        } if args.len() == 1 => {
            let marked = |bindings: &[Binding]| {
                let mut bs = bindings.to_vec();
                bs.push(Binding {
                    var: LOG_MARK.to_string(),
                    span: e.span,
                    range: None,
                });
                bs
            };
            match &args[0].kind {
                ExprKind::Integral { bindings, body }
                    if !bindings.iter().any(|x| x.var == LOG_MARK) =>
                {
                    return Expr::new(
                        ExprKind::Integral {
                            bindings: marked(bindings),
                            body: body.clone(),
                        },
                        e.span,
                    );
                }
                ExprKind::Sum { bindings, body } if !bindings.iter().any(|x| x.var == LOG_MARK) => {
                    return Expr::new(
                        ExprKind::Sum {
                            bindings: marked(bindings),
                            body: body.clone(),
                        },
                        e.span,
                    );
                }
                _ => {}
            }
            Expr::new(
                ExprKind::Call {
                    func: Builtin::Log,
                    args: vec![mark_log_integrals(&args[0])],
                },
                e.span,
            )
        }
        ExprKind::Neg(a) => Expr::new(ExprKind::Neg(rec(a)), e.span),
        ExprKind::Binary { op, lhs, rhs } => Expr::new(
            ExprKind::Binary {
                op: *op,
                lhs: rec(lhs),
                rhs: rec(rhs),
            },
            e.span,
        ),
        ExprKind::Call { func, args } => Expr::new(
            ExprKind::Call {
                func: *func,
                args: args.iter().map(mark_log_integrals).collect(),
            },
            e.span,
        ),
        _ => e.clone(),
    }
}

pub(super) fn mul(a: Expr, b: Expr) -> Expr {
    Expr::binary(BinOp::Mul, a, b, Span::default())
}

/// Splits `e` into `exp(-U) · g`: returns `(Some(U), g)` when at least one `exp` factor exists
/// (`g = None` means `g ≡ 1`), else `(None, _)`.
pub(super) fn factor_exp(e: &Expr) -> (Option<Expr>, Option<Expr>) {
    factor_exp_with(e, false)
}

/// As [`factor_exp`]; with `fold`, a factor that is an integral of `exp(-V)` alone (positive) is
/// taken as `exp(log ∫ ..)`, its logarithm computed in log space: in linear space it underflows
/// far out, and `exp(-βE) / ∫ ..` became 0/0 in the tails. Folding a denominator can cancel
/// the decay of `U` (then the caller falls back to the unfolded form).
pub(super) fn factor_exp_with(e: &Expr, fold: bool) -> (Option<Expr>, Option<Expr>) {
    let mut neg_exponents = Vec::new(); // terms u with factor exp(u) (numerator) → U -= u
    let mut rest_num = Vec::new();
    let mut rest_den = Vec::new();
    let mut negate = false;
    collect_factors(
        e,
        false,
        fold,
        &mut neg_exponents,
        &mut rest_num,
        &mut rest_den,
        &mut negate,
    );
    if neg_exponents.is_empty() {
        return (None, None);
    }
    // U = -(sum of numerator exponents) + (sum of denominator exponents)
    let mut u: Option<Expr> = None;
    for (exponent, in_den) in neg_exponents {
        let term = if in_den {
            exponent
        } else {
            Expr::new(ExprKind::Neg(Box::new(exponent)), Span::default())
        };
        u = Some(match u {
            None => term,
            Some(acc) => Expr::binary(BinOp::Add, acc, term, Span::default()),
        });
    }
    let mut g: Option<Expr> = None;
    for f in rest_num {
        g = Some(match g {
            None => f,
            Some(acc) => mul(acc, f),
        });
    }
    if !rest_den.is_empty() {
        let num = g.unwrap_or_else(|| Expr::number(1.0, Span::default()));
        let mut den: Option<Expr> = None;
        for f in rest_den {
            den = Some(match den {
                None => f,
                Some(acc) => mul(acc, f),
            });
        }
        g = den.map(|d| Expr::binary(BinOp::Div, num.clone(), d, Span::default()));
    }
    if negate {
        g = Some(Expr::new(
            ExprKind::Neg(Box::new(
                g.unwrap_or_else(|| Expr::number(1.0, Span::default())),
            )),
            Span::default(),
        ));
    }
    // Exponents holding an integral's logarithm are left as written, so that `log ∫` stays
    // recognisable for log-space evaluation.
    let u = u.map(|u| {
        if u.has_bound_operator() {
            u
        } else {
            expr::simplify(&u)
        }
    });
    (u, g)
}

/// Whether `e` has a factor that [`factor_exp_with`] folds (an integral of `exp(-V)` alone).
pub(super) fn has_foldable_factor(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Binary {
            op: BinOp::Mul | BinOp::Div,
            lhs,
            rhs,
        } => has_foldable_factor(lhs) || has_foldable_factor(rhs),
        ExprKind::Neg(a) => has_foldable_factor(a),
        ExprKind::Integral { body, .. } => matches!(factor_exp(body), (Some(_), None)),
        _ => false,
    }
}

fn collect_factors(
    e: &Expr,
    in_den: bool,
    fold: bool,
    exps: &mut Vec<(Expr, bool)>,
    num: &mut Vec<Expr>,
    den: &mut Vec<Expr>,
    negate: &mut bool,
) {
    match &e.kind {
        ExprKind::Binary {
            op: BinOp::Mul,
            lhs,
            rhs,
        } => {
            collect_factors(lhs, in_den, fold, exps, num, den, negate);
            collect_factors(rhs, in_den, fold, exps, num, den, negate);
        }
        ExprKind::Binary {
            op: BinOp::Div,
            lhs,
            rhs,
        } => {
            collect_factors(lhs, in_den, fold, exps, num, den, negate);
            collect_factors(rhs, !in_den, fold, exps, num, den, negate);
        }
        ExprKind::Neg(a) => {
            *negate = !*negate;
            collect_factors(a, in_den, fold, exps, num, den, negate);
        }
        ExprKind::Call {
            func: Builtin::Exp,
            args,
        } if args.len() == 1 => exps.push((args[0].clone(), in_den)),
        // See `factor_exp_with`.
        ExprKind::Integral { body, .. } if fold && matches!(factor_exp(body), (Some(_), None)) => {
            let log = Expr::call(Builtin::Log, vec![e.clone()], Span::default());
            exps.push((log, in_den));
        }
        _ => {
            if in_den {
                den.push(e.clone());
            } else {
                num.push(e.clone());
            }
        }
    }
}

/// `-log(abs(e))`: the energy of a general integrand.
pub(super) fn neg_log_abs(e: &Expr) -> Expr {
    // In log space where the form allows: `-log|a·b| = -log|a| - log|b|`, and an integral's
    // logarithm is computed as `log Z` directly (an inner integral far out in the tails
    // underflows to 0 in linear space, which made nested 2D latents NaN).
    let sp = Span::default();
    match &e.kind {
        ExprKind::Integral { .. } => {
            let log = Expr::call(Builtin::Log, vec![e.clone()], sp);
            return Expr::new(ExprKind::Neg(Box::new(log)), sp);
        }
        ExprKind::Binary {
            op: op @ (BinOp::Mul | BinOp::Div),
            lhs,
            rhs,
        } => {
            let (a, b) = (neg_log_abs(lhs), neg_log_abs(rhs));
            let op = if *op == BinOp::Mul {
                BinOp::Add
            } else {
                BinOp::Sub
            };
            return Expr::binary(op, a, b, sp);
        }
        _ => {}
    }
    let abs = Expr::call(Builtin::Abs, vec![e.clone()], Span::default());
    let log = Expr::call(Builtin::Log, vec![abs], Span::default());
    Expr::new(ExprKind::Neg(Box::new(log)), Span::default())
}

/// `sign(e)`.
pub(super) fn sign_of(e: &Expr) -> Expr {
    Expr::call(Builtin::Sign, vec![e.clone()], Span::default())
}
