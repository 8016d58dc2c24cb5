//! The numeric engine: evaluates expressions with bound operators (∫, Σ, min, argmin, ∂, expect)
//! to a value with a propagated error bound, using the quadrature and the minimiser.
//!
//! The engine sits between the expression language and the numeric modules. It never parses and
//! never prints: callers hand it inlined expressions and points, and it returns [`Value`]s.
//!
//! How a bound operator is evaluated:
//! - `int[z](body)`: the integrand is factored as `exp(-U)·g`; `log ∫ exp(-U)` comes from
//!   [`quad::log_partition`] and `∫ g exp(-U)` from [`quad::expectations`]. Subexpressions that
//!   do not depend on the integration variables are evaluated once, and a closed integrand is
//!   compiled to a batched [`Program`]. `log(int[z](exp(-U)))` is returned as `log Z` directly,
//!   so free energies never overflow.
//! - `sum[k](body)`: summed term by term.
//! - `min/argmin/max[z](body)`: [`quad::minimize`].
//! - `diff[w](body)`: the symbolic derivative (under the integral sign), then evaluated.
//! - `expect[y ~ density](body)`: a Gibbs expectation by quadrature.
//!
//! Errors are propagated to first order: after a top-level evaluation, each bound-operator value
//! is perturbed by its error bound and the change of the result is added up. Inside an integral,
//! the errors of constants hoisted out of the integrand and of inner integrals evaluated at each
//! node are carried too (an error δU of the energy moves `log Z` by at most `max|δU|`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::domain::VarDomain;
use crate::expr::{
    self, BinOp, Binding, Bindings, BoundEvaluator, Builtin, Context, EvalError, Expr, ExprKind,
    Extremum, Interval, Program, Span,
};
use crate::quad::{self, Energy, QuadOptions};

/// Relative accuracy claimed for a minimum value found by [`quad::minimize`].
const MIN_VALUE_REL_ERROR: f64 = 1e-10;
/// Relative accuracy claimed for a minimiser (about the square root of the value's).
const ARGMIN_REL_ERROR: f64 = 1e-6;

/// Beyond this distance an outer integrand whose inner integral fails is given zero weight.
const FAR_OUT: f64 = 1e6;

/// Draws of an `mc[..]` average without `n = N`.
const MC_DEFAULT_DRAWS: usize = 20_000;
/// Chains of an `mc[..]` average.
const MC_CHAINS: usize = 4;
/// Warmup transitions of each chain (the step size adapts during warmup).
const MC_WARMUP: usize = 2_000;

/// Values of free variables at one test point.
pub type Point = BTreeMap<String, f64>;

/// A number with an error bound, a standard error where it is random, and why the numeric
/// steps behind it stopped: the crate's one estimate type.
pub use crate::estimate::{Estimate as Value, Termination};

/// What can go wrong while evaluating.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// An expression error (unknown variable, wrong use of a list, …).
    #[error("{0}")]
    Expr(String),
    /// The expression has no real value at the point (`log` of a negative number, `0/0`, …).
    #[error("{0}")]
    NoRealValue(String),
    /// The quadrature or minimiser refused (a divergent integral, NaN energy, …).
    #[error("{0}")]
    Numeric(String),
    /// A construct the engine cannot evaluate here.
    #[error("{0}")]
    Unsupported(String),
    /// An integral diverges (the direction is in the message).
    #[error("{0}")]
    Diverges(String),
    /// A work budget ran out (its name and how to raise it are in the message).
    #[error("{0}")]
    Budget(String),
}

/// A quadrature error as an engine error: a divergent integral keeps its own variant (a chain
/// line that diverges fails its step rather than stopping the check).
fn quad_error(e: quad::QuadError) -> EngineError {
    match e {
        quad::QuadError::Diverges { .. } => EngineError::Diverges(e.to_string()),
        other => EngineError::Numeric(other.to_string()),
    }
}

impl From<EvalError> for EngineError {
    fn from(e: EvalError) -> Self {
        EngineError::Expr(e.message)
    }
}

/// Options of the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Options handed to every quadrature and minimisation.
    pub quad: QuadOptions,
    /// Seed of Monte-Carlo averages (mixed with the node and the point, so results do not depend
    /// on evaluation order or threads).
    pub seed: u64,
}

/// Evaluates expressions of one derivation file (its definitions, parameters and domains).
pub struct Engine {
    ctx: Context,
    params: Bindings,
    domains: BTreeMap<String, VarDomain>,
    opts: EngineOptions,
}

impl Engine {
    /// An engine for a context (definitions; its parameters and lists are the engine's
    /// parameters) and the domains of the variables that bound operators range over when their
    /// bindings give no limits (a primed or renamed variable uses its base name's domain).
    pub fn new(ctx: Context, domains: BTreeMap<String, VarDomain>) -> Engine {
        let params = ctx.bindings();
        Engine {
            ctx,
            params,
            domains,
            opts: EngineOptions::default(),
        }
    }

    /// The parameters (and lists) every evaluation starts from.
    pub fn params(&self) -> &Bindings {
        &self.params
    }

    /// Inlines user definitions, giving an expression of builtins and bound operators.
    ///
    /// # Errors
    /// An undefined function or a wrong number of arguments.
    pub fn prepare(&self, e: &Expr) -> Result<Expr, EngineError> {
        let inlined = self
            .ctx
            .inline(e)
            .map_err(|d| EngineError::Expr(d.message))?;
        // Logarithms of positive forms in log space, so that `log(exp(-beta*E)/q)` stays finite
        // where both underflow (an identity wherever the literal form has a value).
        expand_closed_derivatives(&expr::expand_logs(&inlined))
    }

    /// Free variables of a prepared expression that are not parameters.
    pub fn free_variables(&self, e: &Expr) -> BTreeSet<String> {
        let mut out = expr::free_variables(e);
        out.retain(|v| !self.params.contains(v));
        out
    }

    /// The symbolic derivative of a prepared expression.
    ///
    /// # Errors
    /// A construct without a symbolic derivative (a limit, a Monte-Carlo average).
    pub fn derivative(&self, e: &Expr, var: &str) -> Result<Expr, EngineError> {
        expr::derivative(e, var, &self.ctx)
            .map(|d| expr::simplify(&d))
            .map_err(|d| EngineError::Expr(d.message))
    }

    /// The same engine with another Monte-Carlo seed.
    #[must_use]
    pub fn with_seed(&self, seed: u64) -> Engine {
        Engine {
            ctx: self.ctx.clone(),
            params: self.params.clone(),
            domains: self.domains.clone(),
            opts: EngineOptions {
                quad: self.opts.quad.clone(),
                seed,
            },
        }
    }

    /// Evaluates a prepared expression at a point, with its error bound.
    ///
    /// # Errors
    /// An expression without a real value, a divergent integral, an unsupported construct.
    pub fn eval(&self, e: &Expr, point: &Point) -> Result<Value, EngineError> {
        let _clock = crate::budgets::start_point_clock();
        let mut b = self.params.clone();
        for (k, v) in point {
            b.set(k, *v);
        }
        self.eval_top(e, &b, true)
    }

    /// The draws behind the first Monte-Carlo average of a prepared expression that is not
    /// nested in another bound operator: the value of its body at each draw, per chain, in draw
    /// order (each is one single-sample estimate). The draws are the ones [`Engine::eval`] averages
    /// at the same point (same seed), so a report can show the running estimate and the spread of
    /// single-sample estimates behind a verdict. `None` when there is no such average.
    ///
    /// # Errors
    /// As [`Engine::eval`].
    pub fn monte_carlo_trace(
        &self,
        e: &Expr,
        point: &Point,
    ) -> Result<Option<Vec<Vec<f64>>>, EngineError> {
        fn first_mc(e: &Expr) -> Option<&Expr> {
            if matches!(e.kind, ExprKind::MonteCarlo { .. }) {
                return Some(e);
            }
            if e.is_bound_operator() {
                return None;
            }
            e.children().into_iter().find_map(first_mc)
        }
        let marked = mark_log_integrals(e);
        let Some(node) = first_mc(&marked) else {
            return Ok(None);
        };
        let ExprKind::MonteCarlo {
            bindings,
            density,
            n,
            body,
        } = &node.kind
        else {
            return Ok(None);
        };
        let mut b = self.params.clone();
        for (k, v) in point {
            b.set(k, *v);
        }
        self.monte_carlo_values(bindings, density, n.as_deref(), body, &b, node.span)
            .map(Some)
    }

    fn eval_bindings(&self, e: &Expr, b: &Bindings) -> Result<Value, EngineError> {
        self.eval_top(e, b, false)
    }

    /// Evaluates with error propagation; `rounding`: bound the rounding error of the whole
    /// expression by a running error analysis ([`expr::rounding_error`], the comparisons'
    /// absolute floor) rather than a few ulps of the result (integrands, evaluated millions of
    /// times, take the cheap bound).
    fn eval_top(&self, e: &Expr, b: &Bindings, rounding: bool) -> Result<Value, EngineError> {
        let marked = mark_log_integrals(e);
        let e = &marked;
        let hook = Hook {
            engine: self,
            cache: RefCell::new(HashMap::new()),
            order: RefCell::new(Vec::new()),
            perturb: RefCell::new(None),
            failure: RefCell::new(None),
        };
        let mut h = &hook;
        let v0 = match expr::eval_with(e, b, &mut h) {
            Ok(v) => v,
            Err(d) => {
                return Err(hook.failure.borrow_mut().take().unwrap_or({
                    if d.kind == expr::ErrorKind::NoRealValue {
                        EngineError::NoRealValue(d.message)
                    } else {
                        EngineError::Expr(d.message)
                    }
                }));
            }
        };
        if !v0.is_finite() {
            return Err(EngineError::NoRealValue(format!(
                "the value is not a real number ({v0})"
            )));
        }
        let order = hook.order.borrow().clone();
        let mut error = 4.0 * f64::EPSILON * v0.abs();
        if rounding {
            // Bound nodes are read back from the hook's cache (no re-evaluation); an expression
            // with a sum evaluated term by term has no bound and keeps the relative floor.
            if let Ok(r) = expr::rounding_error(e, b, &mut h) {
                error = error.max(r);
            }
        }
        let mut converged = true;
        let mut variance = 0.0;
        let mut ess = f64::INFINITY;
        let mut shifted = |key: NodeKey, to: f64| -> Result<f64, EngineError> {
            *hook.perturb.borrow_mut() = Some((key, to));
            let vp = expr::eval_with(e, b, &mut h);
            *hook.perturb.borrow_mut() = None;
            let delta = (vp.map_err(|d| EngineError::Expr(d.message))? - v0).abs();
            Ok(if delta.is_finite() {
                delta
            } else {
                f64::INFINITY
            })
        };
        for key in order {
            let v = hook.cache.borrow()[&key].clone();
            converged &= v.converged();
            ess = ess.min(v.ess);
            if v.error > 0.0 {
                error += shifted(key, v.value + v.error)?;
            }
            if v.std_error > 0.0 {
                // Independent Monte-Carlo estimates: standard errors add in quadrature.
                variance += shifted(key, v.value + v.std_error)?.powi(2);
            }
        }
        Ok(Value::random(
            v0,
            error,
            variance.sqrt(),
            ess,
            Termination::from_converged(converged),
        ))
    }

    /// The value of an integration or summation limit, where `±inf` is allowed (unlike in
    /// [`Engine::eval`], whose results must be finite).
    fn limit_value(&self, e: &Expr, b: &Bindings) -> Result<f64, EngineError> {
        if e.has_bound_operator() {
            return Ok(self.eval_bindings(e, b)?.value);
        }
        let v = expr::eval(e, b).map_err(|d| EngineError::Expr(d.message))?;
        if v.is_nan() {
            return Err(EngineError::NoRealValue(format!(
                "the limit `{e}` is not a number"
            )));
        }
        Ok(v)
    }

    /// The domain of a bound variable: its own range, else the declared domain of its name (or of
    /// its name without primes).
    fn domain_of(&self, bind: &Binding, b: &Bindings) -> Result<VarDomain, EngineError> {
        if let Some((lo, hi)) = &bind.range {
            let lo = self.limit_value(lo, b)?;
            let hi = self.limit_value(hi, b)?;
            if let Some(VarDomain::Integer { .. }) = self.declared(&bind.var) {
                #[allow(clippy::cast_possible_truncation)]
                return Ok(VarDomain::Integer {
                    lo: lo.round() as i64,
                    hi: hi.round() as i64,
                });
            }
            return Ok(VarDomain::Continuous { lo, hi });
        }
        self.declared(&bind.var).ok_or_else(|| {
            EngineError::Expr(format!(
                "`{}` has no declared domain: give it limits ({} = lo..hi) or declare it under [variables]",
                bind.var, bind.var
            ))
        })
    }

    /// The declared domain of a variable, of its name without primes, or of the name it was
    /// renamed from when inlining avoided a capture (`y_1'` comes from `y'`).
    fn declared(&self, var: &str) -> Option<VarDomain> {
        let unprimed = var.trim_end_matches('\'');
        let base = unprimed
            .rsplit_once('_')
            .filter(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .map_or(unprimed, |(b, _)| b);
        [var, unprimed, base]
            .iter()
            .find_map(|k| self.domains.get(*k))
            .copied()
    }

    fn quad_domain(&self, binds: &[Binding], b: &Bindings) -> Result<quad::Domain, EngineError> {
        let mut vars = Vec::new();
        for bind in binds {
            vars.push(self.domain_of(bind, b)?);
        }
        quad::Domain::new(vars).map_err(quad_error)
    }

    /// Evaluates one bound-operator node (not perturbed) at bindings `b`.
    fn bound(&self, node: &Expr, b: &Bindings) -> Result<Value, EngineError> {
        point_clock(node)?;
        let v = self.bound_unclocked(node, b);
        // The clock is read again afterwards: once it has run out, inner evaluations fail and
        // whatever came back from them (a NaN, a truncated integral) is not a result.
        point_clock(node)?;
        v
    }

    fn bound_unclocked(&self, node: &Expr, b: &Bindings) -> Result<Value, EngineError> {
        match &node.kind {
            ExprKind::Integral { bindings, body } => {
                if bindings.last().is_some_and(|x| x.var == LOG_MARK) {
                    self.integral(&bindings[..bindings.len() - 1], body, b, true)
                } else {
                    self.integral(bindings, body, b, false)
                }
            }
            ExprKind::Expect {
                bindings,
                density,
                body,
            } => self.expectation(bindings, density, body, b),
            ExprKind::Sum { bindings, body } => {
                if bindings.last().is_some_and(|x| x.var == LOG_MARK) {
                    self.log_sum(&bindings[..bindings.len() - 1], body, b)
                } else {
                    self.sum(bindings, body, b)
                }
            }
            ExprKind::Extremum {
                kind,
                bindings,
                body,
            } => self.extremum(*kind, bindings, body, b),
            ExprKind::Derivative { var, body, .. } => self.derivative_value(var, body, b),
            ExprKind::Limit { .. } => Err(EngineError::Unsupported(
                "a limit inside an expression cannot be evaluated: write it as a `limit` check"
                    .into(),
            )),
            ExprKind::MonteCarlo {
                bindings,
                density,
                n,
                body,
            } => self.monte_carlo(bindings, density, n.as_deref(), body, b, node.span),
            _ => Err(EngineError::Unsupported("not a bound operator".into())),
        }
    }

    /// `d body / d var` at `b`. When `body` contains bound operators the derivative is computed
    /// by two independent routes — symbolically under the integral sign, and by a
    /// Richardson-extrapolated central difference of the whole body — and they must agree.
    fn derivative_value(&self, var: &str, body: &Expr, b: &Bindings) -> Result<Value, EngineError> {
        let d = self.derivative(body, var)?;
        let sym = self.eval_bindings(&d, b)?;
        if !body.has_bound_operator() {
            return Ok(sym);
        }
        let fd = self.richardson_bindings(body, b, var)?;
        let tol =
            2.0 * (sym.error + fd.error) + 8.0 * f64::EPSILON * sym.value.abs().max(fd.value.abs());
        if (sym.value - fd.value).abs() > tol {
            return Err(EngineError::Numeric(format!(
                "the derivative in `{var}` under the integral sign ({:.12e}) disagrees with finite differences of the whole expression ({:.12e}) by {:.3e} (tolerance {:.3e})",
                sym.value,
                fd.value,
                sym.value - fd.value,
                tol
            )));
        }
        Ok(Value::new(
            sym.value,
            sym.error,
            Termination::from_converged(sym.converged() && fd.converged()),
        ))
    }

    /// Richardson-extrapolated central difference of `e` in `var` at `p`, with an error estimate
    /// from the last two extrapolations and the propagated evaluation error.
    ///
    /// # Errors
    /// An evaluation error at a shifted point.
    pub fn richardson(&self, e: &Expr, p: &Point, var: &str) -> Result<Value, EngineError> {
        let _clock = crate::budgets::start_point_clock();
        let mut b = self.params.clone();
        for (k, v) in p {
            b.set(k, *v);
        }
        self.richardson_bindings(e, &b, var)
    }

    fn richardson_bindings(&self, e: &Expr, b: &Bindings, var: &str) -> Result<Value, EngineError> {
        const LEVELS: usize = 4;
        const STEP: f64 = 1e-2;
        let w = b.number(var).ok_or_else(|| {
            EngineError::Expr(format!("`{var}` has no value to differentiate at"))
        })?;
        let mut h = STEP * w.abs().max(1.0);
        let mut table: Vec<Vec<f64>> = Vec::new();
        let mut eval_err: f64 = 0.0;
        let mut converged = true;
        for _ in 0..LEVELS {
            let mut q = b.clone();
            q.set(var, w + h);
            let plus = self.eval_bindings(e, &q)?;
            q.set(var, w - h);
            let minus = self.eval_bindings(e, &q)?;
            converged &= plus.converged() && minus.converged();
            eval_err = eval_err.max((plus.error + minus.error) / (2.0 * h));
            let mut row = vec![(plus.value - minus.value) / (2.0 * h)];
            if let Some(prev) = table.last() {
                let mut factor = 4.0;
                for k in 0..prev.len() {
                    let next = row[k] + (row[k] - prev[k]) / (factor - 1.0);
                    row.push(next);
                    factor *= 4.0;
                }
            }
            table.push(row);
            h /= 2.0;
        }
        let last = table.last().and_then(|r| r.last().copied()).unwrap_or(0.0);
        let prev = table
            .get(table.len().saturating_sub(2))
            .and_then(|r| r.last().copied())
            .unwrap_or(last);
        // The extrapolation amplifies evaluation errors by about the sum of its coefficients' sizes (< 3).
        let error = (last - prev).abs() + 3.0 * eval_err + 8.0 * f64::EPSILON * last.abs();
        Ok(Value::new(
            last,
            error,
            Termination::from_converged(converged),
        ))
    }

    /// The integer ranges of a sum's bindings.
    fn sum_ranges(
        &self,
        binds: &[Binding],
        b: &Bindings,
    ) -> Result<Vec<(String, i64, i64)>, EngineError> {
        let mut ranges = Vec::new();
        for bind in binds {
            match self.domain_of(bind, b)? {
                VarDomain::Integer { lo, hi } => ranges.push((bind.var.clone(), lo, hi)),
                VarDomain::Continuous { lo, hi } if lo.is_finite() && hi.is_finite() => {
                    let Some((l, h)) = expr::integer_limits(lo.round(), hi.round()) else {
                        return Err(EngineError::Expr(format!(
                            "the sum over `{}` runs from {lo:e} to {hi:e}, beyond ±2^53 where floating-point numbers skip integers",
                            bind.var
                        )));
                    };
                    ranges.push((bind.var.clone(), l, h));
                }
                VarDomain::Continuous { .. } => {
                    return Err(EngineError::Expr(format!(
                        "a sum over `{}` needs a finite integer range",
                        bind.var
                    )));
                }
            }
        }
        // i128: the width of an i64 range overflows i64; the product saturates.
        let total: u128 = ranges
            .iter()
            .map(|(_, lo, hi)| {
                (i128::from(*hi) - i128::from(*lo) + 1)
                    .max(0)
                    .unsigned_abs()
            })
            .fold(1u128, u128::saturating_mul);
        let names: Vec<&str> = ranges.iter().map(|r| r.0.as_str()).collect();
        crate::budgets::charge_sum_terms(total, &format!("the sum over {}", names.join(", ")))
            .map_err(|e| EngineError::Expr(format!("{}; {}", e.message(), e.help())))?;
        Ok(ranges)
    }

    /// Calls `f` with the bindings of every term of a sum, in lexicographic order.
    fn for_each_term(
        &self,
        ranges: &[(String, i64, i64)],
        b: &Bindings,
        f: &mut dyn FnMut(&Bindings) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        if ranges.iter().any(|(_, lo, hi)| lo > hi) {
            return Ok(());
        }
        let mut idx: Vec<i64> = ranges.iter().map(|r| r.1).collect();
        loop {
            let mut bb = b.clone();
            for ((name, _, _), k) in ranges.iter().zip(&idx) {
                #[allow(clippy::cast_precision_loss)]
                bb.set(name, *k as f64);
            }
            f(&bb)?;
            let mut i = ranges.len();
            loop {
                if i == 0 {
                    return Ok(());
                }
                i -= 1;
                if idx[i] < ranges[i].2 {
                    idx[i] += 1;
                    break;
                }
                idx[i] = ranges[i].1;
            }
        }
    }

    fn sum(&self, binds: &[Binding], body: &Expr, b: &Bindings) -> Result<Value, EngineError> {
        let ranges = self.sum_ranges(binds, b)?;
        let mut acc = Value::exact(0.0);
        self.for_each_term(&ranges, b, &mut |bb| {
            let v = self.eval_bindings(body, bb)?;
            acc.value += v.value;
            acc.error += v.error + f64::EPSILON * acc.value.abs();
            acc.depend_on(v.termination());
            Ok(())
        })?;
        Ok(acc)
    }

    /// `log(sum[k](body))`; when `body = exp(u)` this is a log-sum-exp of the exponents, which
    /// neither overflows nor underflows.
    fn log_sum(&self, binds: &[Binding], body: &Expr, b: &Bindings) -> Result<Value, EngineError> {
        let ranges = self.sum_ranges(binds, b)?;
        let exponent = match &body.kind {
            ExprKind::Call {
                func: Builtin::Exp,
                args,
            } if args.len() == 1 => Some(&args[0]),
            _ => None,
        };
        let Some(u) = exponent else {
            let s = self.sum(binds, body, b)?;
            if s.value <= 0.0 {
                return Err(EngineError::NoRealValue(format!(
                    "the logarithm of a sum that is not positive ({:e})",
                    s.value
                )));
            }
            return Ok(Value::new(
                s.value.ln(),
                s.error / s.value,
                Termination::from_converged(s.converged()),
            ));
        };
        let mut terms = Vec::new();
        self.for_each_term(&ranges, b, &mut |bb| {
            terms.push(self.eval_bindings(u, bb)?);
            Ok(())
        })?;
        let values: Vec<f64> = terms.iter().map(|t| t.value).collect();
        let value = expr::logsumexp(&values);
        // d lse / d u_k = softmax weight w_k ≤ 1, so the error is at most Σ w_k err_k ≤ max err.
        let error = terms
            .iter()
            .map(|t| (t.value - value).exp() * t.error)
            .sum::<f64>()
            + 4.0 * f64::EPSILON * value.abs();
        Ok(Value::new(
            value,
            error,
            Termination::from_converged(terms.iter().all(|t| t.converged())),
        ))
    }

    fn extremum(
        &self,
        kind: Extremum,
        binds: &[Binding],
        body: &Expr,
        b: &Bindings,
    ) -> Result<Value, EngineError> {
        let domain = self.quad_domain(binds, b)?;
        let names: Vec<String> = binds.iter().map(|x| x.var.clone()).collect();
        let sign = if kind == Extremum::Max { -1.0 } else { 1.0 };
        let objective = self.energy(body, &names, b, sign)?;
        let m = quad::minimize(objective.get(), &domain, &self.opts.quad)
            .map_err(|e| objective.quad_error(&e, &names, true))?;
        // The minimum moves by at most the energy's own error bound.
        let moved = objective.error();
        let converged = objective.converged();
        match kind {
            Extremum::Min | Extremum::Max => Ok(Value::new(
                sign * m.value,
                MIN_VALUE_REL_ERROR * m.value.abs().max(1.0) + moved,
                Termination::from_converged(converged),
            )),
            Extremum::Argmin => {
                if names.len() != 1 {
                    return Err(EngineError::Unsupported(
                        "argmin over several variables is a vector; use one variable".into(),
                    ));
                }
                Ok(Value::new(
                    m.argmin[0],
                    ARGMIN_REL_ERROR * m.argmin[0].abs().max(1.0),
                    Termination::from_converged(converged),
                ))
            }
        }
    }

    /// Builds an energy `sign · body` over the bound variables `names`, compiled when possible.
    fn energy(
        &self,
        body: &Expr,
        names: &[String],
        b: &Bindings,
        sign: f64,
    ) -> Result<IntegrandEnergy<'_>, EngineError> {
        let Hoisted {
            expr: e,
            bindings: bb,
            constants,
        } = self.hoist(body, names, b)?;
        let hoisted_error: f64 = constants.iter().map(|c| c.error).sum();
        let hoisted_converged = constants.iter().all(|c| c.converged());
        let e = if sign < 0.0 {
            Expr::new(ExprKind::Neg(Box::new(e)), Span::default())
        } else {
            e
        };
        let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
        if !e.has_bound_operator() {
            if let Ok(p) = ProgramEnergy::new(&e, &inputs, &bb) {
                return Ok(IntegrandEnergy {
                    kind: IntegrandKind::Compiled(p),
                    hoisted_error,
                    hoisted_converged,
                });
            }
        }
        Ok(IntegrandEnergy {
            kind: IntegrandKind::Tree(TreeEnergy {
                engine: self,
                expr: e,
                names: names.to_vec(),
                bindings: bb,
                worst: Mutex::new((0.0, true)),
                first_error: Mutex::new(None),
                charges: Mutex::new(HashMap::new()),
            }),
            hoisted_error,
            hoisted_converged,
        })
    }

    /// Replaces maximal subexpressions that contain a bound operator but not the variables
    /// `names` by precomputed constants (named `__k0`, `__k1`, …). Returns the rewritten
    /// expression, the bindings with the constants, and the constants themselves (their
    /// errors and convergence must be carried into whatever uses them).
    fn hoist(&self, body: &Expr, names: &[String], b: &Bindings) -> Result<Hoisted, EngineError> {
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

    /// `mc[y ~ exp(-U); n = N](body)`: the average of `body` over `N` draws from the density by
    /// random-walk Metropolis (four chains from the minimiser, step adapted during warmup), with
    /// the multi-chain effective sample size and standard error.
    fn monte_carlo(
        &self,
        binds: &[Binding],
        density: &Expr,
        n: Option<&Expr>,
        body: &Expr,
        b: &Bindings,
        span: Span,
    ) -> Result<Value, EngineError> {
        let values = self.monte_carlo_values(binds, density, n, body, b, span)?;
        let refs: Vec<&[f64]> = values.iter().map(Vec::as_slice).collect();
        let est = crate::sample::mc_estimate(&refs);
        if !est.estimate.is_finite() {
            return Err(EngineError::NoRealValue(
                "the Monte-Carlo average is not a real number".into(),
            ));
        }
        Ok(est.to_estimate())
    }

    /// The per-chain values of the body at the draws of an `mc[..]` average, in draw order.
    fn monte_carlo_values(
        &self,
        binds: &[Binding],
        density: &Expr,
        n: Option<&Expr>,
        body: &Expr,
        b: &Bindings,
        span: Span,
    ) -> Result<Vec<Vec<f64>>, EngineError> {
        use crate::sample::{FiniteDiffTarget, RandomWalkMetropolis, run_chains};
        let names: Vec<String> = binds.iter().map(|x| x.var.clone()).collect();
        let mut bounds = Vec::new();
        for bind in binds {
            match self.domain_of(bind, b)? {
                VarDomain::Continuous { lo, hi } => bounds.push((lo, hi)),
                VarDomain::Integer { .. } => {
                    return Err(EngineError::Unsupported(format!(
                        "a Monte-Carlo average over the integer variable `{}` is not supported; sum it exactly",
                        bind.var
                    )));
                }
            }
        }
        let draws = match n {
            None => MC_DEFAULT_DRAWS,
            Some(e) => {
                let v = self.eval_bindings(e, b)?.value;
                #[allow(clippy::cast_precision_loss)]
                let most = crate::budgets::limit(crate::budgets::Budget::Draws) as f64;
                if !((1.0..=most).contains(&v) && v.fract() == 0.0) {
                    return Err(EngineError::Expr(format!(
                        "the number of Monte-Carlo draws must be a whole number from 1 to {most:e} (the budget `draws`), not {v:e}; {}",
                        crate::budgets::how_to_raise(crate::budgets::Budget::Draws)
                    )));
                }
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let k = v as usize;
                k
            }
        };
        let (u, g0) = factor_exp(density);
        if g0.is_some() {
            return Err(EngineError::Unsupported(
                "write the density of mc[..] as exp(-U)".into(),
            ));
        }
        let u = u.unwrap_or_else(|| neg_log_abs(density));
        let energy = self.energy(&u, &names, b, 1.0)?;
        let obs = self.observables(std::slice::from_ref(body), &names, b)?;
        let domain = self.quad_domain(binds, b)?;
        let start = quad::minimize(energy.get(), &domain, &self.opts.quad)
            .map_err(|e| energy.quad_error(&e, &names, true))?
            .argmin;
        let inside = |y: &[f64]| {
            y.iter()
                .zip(&bounds)
                .all(|(x, (lo, hi))| x >= lo && x <= hi)
        };
        let target = FiniteDiffTarget::new(
            names.len(),
            |y: &[f64]| {
                if inside(y) {
                    energy.get().eval(y)
                } else {
                    f64::INFINITY
                }
            },
            1e-6,
        );
        let kernel = RandomWalkMetropolis::new(1.0)
            .and_then(|k| k.with_adaptation(0.3))
            .map_err(|e| EngineError::Numeric(e.to_string()))?;
        let chains = draws.clamp(1, MC_CHAINS);
        let per_chain = draws.div_ceil(chains);
        let inits = vec![start; chains];
        let seed = crate::seed::node_seed(self.opts.seed, bindings_hash(b), span.start as u64);
        let set = run_chains(&target, &kernel, &inits, MC_WARMUP, per_chain, seed)
            .map_err(|e| EngineError::Numeric(e.to_string()))?;
        let d = names.len();
        let values: Vec<Vec<f64>> = set
            .draws
            .chains
            .iter()
            .map(|c| {
                c.chunks_exact(d)
                    .map(|y| {
                        let mut out = [0.0];
                        obs.eval(y, &mut out);
                        out[0]
                    })
                    .collect()
            })
            .collect();
        Ok(values)
    }

    /// `∫ body d(bindings)`, or with `log_of` its logarithm (computed as `log Z` directly, so it
    /// neither overflows nor underflows).
    fn integral(
        &self,
        binds: &[Binding],
        body: &Expr,
        b: &Bindings,
        log_of: bool,
    ) -> Result<Value, EngineError> {
        if has_foldable_factor(body) {
            match self.integral_of(binds, body, b, log_of, factor_exp_with(body, true)) {
                Err(EngineError::Diverges(_)) => {}
                r => return r,
            }
        }
        self.integral_of(binds, body, b, log_of, factor_exp(body))
    }

    /// [`Engine::integral`] with the body factored as `exp(-U)·g`.
    fn integral_of(
        &self,
        binds: &[Binding],
        body: &Expr,
        b: &Bindings,
        log_of: bool,
        factored: (Option<Expr>, Option<Expr>),
    ) -> Result<Value, EngineError> {
        let domain = self.quad_domain(binds, b)?;
        let names: Vec<String> = binds.iter().map(|x| x.var.clone()).collect();
        let unfactored = factored.0.is_none();
        let (u, g) = factored;
        let u = u.unwrap_or_else(|| neg_log_abs(body));
        let g = if unfactored { Some(sign_of(body)) } else { g };
        let energy = self.energy(&u, &names, b, 1.0)?;
        match g {
            None => {
                let (log_z, log_error, converged) = if energy.is_tree() {
                    let ex = self.gibbs(&energy, &domain, None)?;
                    let (log_error, _) = energy.weighted(&ex, 0);
                    let converged = ex.log_z.termination == quad::Termination::Converged
                        && energy.inner_converged(&ex, 0);
                    (ex.log_z.log_z, ex.log_z.abs_error + log_error, converged)
                } else {
                    let lz = quad::log_partition(energy.get(), &domain, 1.0, &self.opts.quad)
                        .map_err(|e| energy.quad_error(&e, &names, false))?;
                    let converged =
                        lz.termination == quad::Termination::Converged && energy.converged();
                    // |δ log Z| ≤ max |δU| to first order.
                    (lz.log_z, lz.abs_error + energy.error(), converged)
                };
                let t = Termination::from_converged(converged);
                if log_of {
                    Ok(Value::new(log_z, log_error, t))
                } else {
                    let v = log_z.exp();
                    Ok(Value::new(v, v * log_error.exp_m1(), t))
                }
            }
            Some(g) => {
                let obs = self.observables(&[g], &names, b)?;
                let ex = self.gibbs(&energy, &domain, Some(&obs))?;
                let converged = ex.log_z.termination == quad::Termination::Converged
                    && energy.inner_converged(&ex, 1)
                    && obs.converged;
                let mean = ex.values[0];
                // First order: δU moves log Z by at most ⟨|δU|⟩ and ⟨g⟩ by at most
                // ⟨|g||δU|⟩ + |⟨g⟩|⟨|δU|⟩; hoisted factors of g add their relative errors.
                let (du, extra) = energy.weighted(&ex, 1);
                let log_error = ex.log_z.abs_error + du;
                let mean_error = ex.errors[0] + extra[0] + obs.rel_error * mean.abs();
                let t = Termination::from_converged(converged);
                if log_of {
                    if mean <= 0.0 {
                        return Err(EngineError::NoRealValue(format!(
                            "the logarithm of an integral that is not positive ({mean:e} · Z)"
                        )));
                    }
                    return Ok(Value::new(
                        ex.log_z.log_z + mean.ln(),
                        log_error + mean_error / mean,
                        t,
                    ));
                }
                let z = ex.log_z.log_z.exp();
                let value = z * mean;
                let error = z * mean_error + value.abs() * log_error.exp_m1();
                Ok(Value::new(value, error, t))
            }
        }
    }

    /// Gibbs expectations of `obs` (none for `log Z` alone) under `exp(-U)`, with, for an
    /// energy holding inner bound operators, the nodes' charges `1 + c` and `|g_k|·(1 + c)`
    /// appended (see [`IntegrandEnergy::weighted`]).
    fn gibbs(
        &self,
        energy: &IntegrandEnergy<'_>,
        domain: &quad::Domain,
        obs: Option<&ObsSet<'_>>,
    ) -> Result<quad::Expectations, EngineError> {
        let n = obs.map_or(0, |o| o.items.len());
        let tree = energy.is_tree();
        let total = if tree { 2 * n + 1 } else { n };
        let f = |z: &[f64], out: &mut [f64]| {
            if let Some(o) = obs {
                o.eval(z, &mut out[..n]);
            }
            if tree {
                let c = 1.0 + energy.charge_at(z);
                out[n] = c;
                for k in 0..n {
                    out[n + 1 + k] = out[k].abs() * c;
                }
            }
        };
        let nested =
            tree || obs.is_some_and(|o| o.items.iter().any(|i| matches!(i, Observable::Tree(..))));
        if nested {
            // Every node of the outer rule costs a whole inner integration, and inner values
            // carry rounding noise the outer rule cannot integrate away: a bounded budget turns
            // what was a stall (600 s at one test point) into an honest "not converged".
            let mut opts = self.opts.quad.clone();
            opts.max_evals = opts.max_evals.min(NESTED_MAX_EVALS);
            return quad::expectations(energy.get(), domain, 1.0, &f, total, &opts)
                .map_err(|e| energy.quad_error(&e, &[], false));
        }
        quad::expectations(energy.get(), domain, 1.0, &f, total, &self.opts.quad)
            .map_err(|e| energy.quad_error(&e, &[], false))
    }

    fn expectation(
        &self,
        binds: &[Binding],
        density: &Expr,
        body: &Expr,
        b: &Bindings,
    ) -> Result<Value, EngineError> {
        let domain = self.quad_domain(binds, b)?;
        let names: Vec<String> = binds.iter().map(|x| x.var.clone()).collect();
        let (u, g0) = factor_exp(density);
        let u = u.unwrap_or_else(|| neg_log_abs(density));
        let energy = self.energy(&u, &names, b, 1.0)?;
        let mut obs_exprs = vec![body.clone()];
        if let Some(g0) = &g0 {
            obs_exprs = vec![mul(body.clone(), g0.clone()), g0.clone()];
        }
        let obs = self.observables(&obs_exprs, &names, b)?;
        let n = obs_exprs.len();
        let ex = self.gibbs(&energy, &domain, Some(&obs))?;
        let converged = ex.log_z.termination == quad::Termination::Converged
            && energy.inner_converged(&ex, n)
            && obs.converged;
        // First order: an error δU of the energy moves ⟨g⟩ by at most ⟨|g||δU|⟩ + |⟨g⟩|⟨|δU|⟩;
        // hoisted factors of g add their relative errors.
        let (_, extra) = energy.weighted(&ex, n);
        let errors: Vec<f64> = (0..n)
            .map(|k| ex.errors[k] + extra[k] + obs.rel_error * ex.values[k].abs())
            .collect();
        let t = Termination::from_converged(converged);
        if n == 1 {
            Ok(Value::new(ex.values[0], errors[0], t))
        } else {
            let value = ex.values[0] / ex.values[1];
            let error = (errors[0] + value.abs() * errors[1]) / ex.values[1].abs();
            Ok(Value::new(value, error, t))
        }
    }

    fn observables(
        &self,
        exprs: &[Expr],
        names: &[String],
        b: &Bindings,
    ) -> Result<ObsSet<'_>, EngineError> {
        let mut items = Vec::new();
        let mut rel_error = 0.0;
        let mut converged = true;
        for e in exprs {
            let Hoisted {
                expr: h,
                bindings: bb,
                constants,
            } = self.hoist(e, names, b)?;
            // Hoisted constants are mostly factors (a normaliser): first order, their relative
            // errors add to the observable's.
            for c in &constants {
                converged &= c.converged();
                if c.value != 0.0 {
                    rel_error += c.error / c.value.abs();
                }
            }
            let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
            let compiled = if h.has_bound_operator() {
                None
            } else {
                Program::compile(&h, &inputs, &bb).ok()
            };
            items.push(match compiled {
                Some(p) => Observable::Compiled(p),
                None => Observable::Tree(h, bb),
            });
        }
        Ok(ObsSet {
            engine: self,
            names: names.to_vec(),
            items,
            rel_error,
            converged,
        })
    }
}

enum Observable {
    Compiled(Program),
    Tree(Expr, Bindings),
}

struct ObsSet<'a> {
    engine: &'a Engine,
    names: Vec<String>,
    items: Vec<Observable>,
    /// Summed relative errors of the constants hoisted out of the observables.
    rel_error: f64,
    /// Whether every hoisted constant converged.
    converged: bool,
}

/// The result of [`Engine::hoist`].
struct Hoisted {
    expr: Expr,
    bindings: Bindings,
    constants: Vec<Value>,
}

/// The energy of an integrand, with what its numeric errors do to the integral: constants
/// hoisted out of it and, for a tree-evaluated energy, the errors of its inner integrals.
struct IntegrandEnergy<'a> {
    kind: IntegrandKind<'a>,
    hoisted_error: f64,
    hoisted_converged: bool,
}

/// How an integrand's energy is evaluated.
enum IntegrandKind<'a> {
    /// A closed energy compiled to a batched program.
    Compiled(ProgramEnergy),
    /// An energy holding inner bound operators, evaluated through the engine.
    Tree(TreeEnergy<'a>),
}

impl IntegrandEnergy<'_> {
    /// The first evaluation error of a tree-evaluated energy (reported to the quadrature as
    /// NaN), so that the message says what failed, such as a budget.
    fn failure(&self) -> Option<String> {
        match &self.kind {
            IntegrandKind::Tree(t) => t.first_error.lock().ok().and_then(|e| e.clone()),
            IntegrandKind::Compiled(_) => None,
        }
    }

    /// A quadrature error, preferring the energy's own failure.
    /// `names` empty: the tree energy's own variable names, if any.
    fn quad_error(&self, e: &quad::QuadError, names: &[String], minimising: bool) -> EngineError {
        let names = match (&self.kind, names.is_empty()) {
            (IntegrandKind::Tree(t), true) => t.names.as_slice(),
            _ => names,
        };
        match (e, self.failure()) {
            (quad::QuadError::NotANumber { .. }, Some(f)) => EngineError::Numeric(f),
            // A divergent integral (or a minimum that does not exist) keeps its own variant.
            (quad::QuadError::Diverges { .. }, _) => {
                EngineError::Diverges(named_quad_error(e, names, minimising))
            }
            _ => EngineError::Numeric(named_quad_error(e, names, minimising)),
        }
    }

    fn get(&self) -> &dyn Energy {
        match &self.kind {
            IntegrandKind::Compiled(p) => p,
            IntegrandKind::Tree(t) => t,
        }
    }

    fn tree_worst(&self) -> (f64, bool) {
        match &self.kind {
            IntegrandKind::Tree(t) => t.worst.lock().map_or((f64::INFINITY, false), |w| *w),
            IntegrandKind::Compiled(_) => (0.0, true),
        }
    }

    /// A bound on `|δU|` over the evaluated nodes: `Z = ∫ exp(-U)` then has a relative error of
    /// at most about this much (first order), and `min U` moves by at most this much. Hoisted
    /// constants are counted as additive terms of `U`.
    fn error(&self) -> f64 {
        self.hoisted_error + self.tree_worst().0
    }

    fn converged(&self) -> bool {
        self.hoisted_converged && self.tree_worst().1
    }

    /// Whether the inner steps behind the energy can be trusted: hoisted constants converged,
    /// and either every node's inner steps converged or the nodes where they did not carry at
    /// most [`UNCONVERGED_MASS`] of the weight (each is charged an error of order one).
    fn inner_converged(&self, ex: &quad::Expectations, n_user: usize) -> bool {
        if !self.hoisted_converged {
            return false;
        }
        let (_, all) = self.tree_worst();
        if all || !self.is_tree() {
            return all;
        }
        let c_mean = (ex.values[n_user] - 1.0).max(0.0) + ex.errors[n_user];
        c_mean <= UNCONVERGED_MASS
    }

    /// Whether the energy holds inner bound operators, whose errors vary from node to node.
    fn is_tree(&self) -> bool {
        matches!(self.kind, IntegrandKind::Tree(_))
    }

    /// The charge of node `z` (see [`TreeEnergy::charge`]): looked up when the rule evaluated
    /// the energy there, else computed again.
    fn charge_at(&self, z: &[f64]) -> f64 {
        let IntegrandKind::Tree(t) = &self.kind else {
            return 0.0;
        };
        let key: Vec<u64> = z.iter().map(|x| x.to_bits()).collect();
        if let Some(c) = t.charges.lock().ok().and_then(|m| m.get(&key).copied()) {
            return c;
        }
        let mut bb = t.bindings.clone();
        for (n, x) in t.names.iter().zip(z) {
            bb.set(n, *x);
        }
        match self_eval(t, &bb) {
            Some(v) => TreeEnergy::charge(&v),
            None => 0.0,
        }
    }

    /// First-order errors from the nodes' charges `c(z)`, averaged with the outer rule's
    /// weights: `|δ log Z| ≤ ⟨c⟩` and `|δ⟨g⟩| ≤ ⟨|g|·c⟩ + |⟨g⟩|·⟨c⟩`. The rule integrates
    /// `1 + c` and `|g|·(1 + c)` beside the user's observables (so their tolerance, relative to
    /// `Z` and to `⟨|g|⟩`, does not force `⟨c⟩` to full relative precision); the differences
    /// and the rule's own errors of those components give the averages. Returns the error of
    /// `log Z` and, per user observable, the extra error of its mean, plus whether the weighted
    /// charge stayed finite.
    fn weighted(&self, ex: &quad::Expectations, n_user: usize) -> (f64, Vec<f64>) {
        let hoisted = self.hoisted_error;
        if !self.is_tree() {
            let du = self.error();
            return (
                du,
                (0..n_user).map(|k| 2.0 * du * ex.abs_means[k]).collect(),
            );
        }
        let c_mean = (ex.values[n_user] - 1.0).max(0.0) + ex.errors[n_user];
        let log_err = hoisted + c_mean;
        let extra = (0..n_user)
            .map(|k| {
                let gc = (ex.values[n_user + 1 + k] - ex.abs_means[k]).max(0.0)
                    + ex.errors[n_user + 1 + k]
                    + ex.errors[k];
                2.0 * hoisted * ex.abs_means[k] + gc + ex.values[k].abs() * c_mean
            })
            .collect();
        (log_err, extra)
    }
}

/// Evaluates a tree energy's expression at bindings, `None` on failure.
fn self_eval(t: &TreeEnergy<'_>, bb: &Bindings) -> Option<Value> {
    t.engine.eval_bindings(&t.expr, bb).ok()
}

impl ObsSet<'_> {
    fn eval(&self, z: &[f64], out: &mut [f64]) {
        for (item, o) in self.items.iter().zip(out.iter_mut()) {
            *o = match item {
                Observable::Compiled(p) => p.eval(z),
                Observable::Tree(e, bb) => {
                    let mut bb = bb.clone();
                    for (n, x) in self.names.iter().zip(z) {
                        bb.set(n, *x);
                    }
                    self.engine
                        .eval_bindings(e, &bb)
                        .map_or(f64::NAN, |v| v.value)
                }
            };
        }
    }
}

/// The symbolic derivatives of one energy *shape*, compiled once and shared: the expression with
/// its parameters (every free name that is not an integration variable) left as extra inputs,
/// so that the many energies the engine builds from one integrand at different parameter
/// values (test points, finite differences, outer nodes of nested integrals) differentiate and
/// compile it once.
struct Derivatives {
    expr: Expr,
    /// Integration variables, then parameters: the inputs of the derivative programs.
    names: Vec<String>,
    n_vars: usize,
    gradient: std::sync::OnceLock<Option<Vec<Program>>>,
    hessian: std::sync::OnceLock<Option<Vec<Program>>>,
}

/// Shapes seen, by S-expression and variables (exact: equal keys, equal functions).
static DERIVATIVES: Mutex<Option<HashMap<String, Arc<Derivatives>>>> = Mutex::new(None);

/// Shapes kept before the cache is emptied.
const DERIVATIVE_SHAPES: usize = 1024;

/// Whether `e` contains a node whose derivative the symbolic rules give only almost
/// everywhere: jumps (`sign`, a list indexed by a variable) and, with `kinks`, the kinks of
/// `abs`, `min` and `max` (their first derivative jumps).
fn has_nonsmooth(e: &Expr, kinks: bool) -> bool {
    let mut found = false;
    e.visit(&mut |n| {
        found |= match &n.kind {
            ExprKind::Index { .. } => true,
            ExprKind::Call { func, .. } => {
                *func == Builtin::Sign
                    || (kinks && matches!(func, Builtin::Abs | Builtin::Min | Builtin::Max))
            }
            _ => false,
        };
    });
    found
}

impl Derivatives {
    /// The shared entry for `e` over `inputs`, and the parameters' values from `bindings`
    /// (`None` when a parameter is not a number).
    fn lookup(
        e: &Expr,
        inputs: &[&str],
        bindings: &Bindings,
    ) -> Option<(Arc<Derivatives>, Vec<f64>)> {
        let mut key = e.to_sexpr();
        for v in inputs {
            key.push('\u{1f}');
            key.push_str(v);
        }
        let entry = {
            let mut g = DERIVATIVES
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let m = g.get_or_insert_with(HashMap::new);
            if let Some(d) = m.get(&key) {
                Arc::clone(d)
            } else {
                let mut names: Vec<String> = inputs.iter().map(|s| (*s).to_string()).collect();
                names.extend(
                    expr::free_variables(e)
                        .into_iter()
                        .filter(|v| !inputs.contains(&v.as_str())),
                );
                let d = Arc::new(Derivatives {
                    expr: e.clone(),
                    names,
                    n_vars: inputs.len(),
                    gradient: std::sync::OnceLock::new(),
                    hessian: std::sync::OnceLock::new(),
                });
                if m.len() >= DERIVATIVE_SHAPES {
                    m.clear();
                }
                m.insert(key, Arc::clone(&d));
                d
            }
        };
        let values: Option<Vec<f64>> = entry.names[entry.n_vars..]
            .iter()
            .map(|v| bindings.number(v))
            .collect();
        Some((entry, values?))
    }

    fn compile_all(&self, exprs: &[Expr]) -> Option<Vec<Program>> {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        exprs
            .iter()
            .map(|d| Program::compile(d, &names, &Bindings::new()).ok())
            .collect()
    }

    /// The gradient's programs; `None` across a jump, where the mean-value theorem fails.
    fn gradient(&self) -> Option<&[Program]> {
        self.gradient
            .get_or_init(|| {
                if has_nonsmooth(&self.expr, false) {
                    return None;
                }
                let ctx = Context::new();
                let ds: Option<Vec<Expr>> = self.names[..self.n_vars]
                    .iter()
                    .map(|v| expr::derivative(&self.expr, v, &ctx).ok())
                    .collect();
                self.compile_all(&ds?)
            })
            .as_deref()
    }

    /// The Hessian's upper triangle, row by row; `None` unless every function of the energy
    /// has a continuous first derivative.
    fn hessian(&self) -> Option<&[Program]> {
        self.hessian
            .get_or_init(|| {
                if has_nonsmooth(&self.expr, true) {
                    return None;
                }
                let ctx = Context::new();
                let vars = &self.names[..self.n_vars];
                let mut ds = Vec::new();
                for (i, vi) in vars.iter().enumerate() {
                    let di = expr::derivative(&self.expr, vi, &ctx).ok()?;
                    for vj in &vars[i..] {
                        ds.push(expr::derivative(&di, vj, &ctx).ok()?);
                    }
                }
                self.compile_all(&ds)
            })
            .as_deref()
    }
}

/// An energy (or any function of a point) compiled from a closed expression: the quadrature
/// and the samplers evaluate it through [`Energy::eval_batch`] in batches of columns.
pub struct ProgramEnergy {
    program: Program,
    /// The shared derivative programs and this energy's parameter values, for interval
    /// enclosures of the gradient and Hessian (`None` when a parameter is not a number).
    derivatives: Option<(Arc<Derivatives>, Vec<f64>)>,
}

impl ProgramEnergy {
    /// Compiles a closed, inlined expression over the variables `inputs` (in point order); every
    /// other name takes its value from `bindings`.
    ///
    /// # Errors
    /// A bound operator other than `diff` and finite sums, a variable without a value, a list
    /// misuse: the expression cannot be compiled.
    pub fn new(
        e: &Expr,
        inputs: &[&str],
        bindings: &Bindings,
    ) -> Result<ProgramEnergy, EngineError> {
        let program =
            Program::compile(e, inputs, bindings).map_err(|d| EngineError::Expr(d.message))?;
        Ok(ProgramEnergy {
            program,
            derivatives: Derivatives::lookup(e, inputs, bindings),
        })
    }

    /// Enclosures of `programs` over the box `b` of the variables, the parameters as points.
    fn enclose_each(
        &self,
        which: fn(&Derivatives) -> Option<&[Program]>,
        b: &[Interval],
        out: &mut [Interval],
    ) -> bool {
        let Some((d, values)) = &self.derivatives else {
            return false;
        };
        let Some(programs) = which(d) else {
            return false;
        };
        let mut full: Vec<Interval> = b.to_vec();
        full.extend(values.iter().map(|&v| Interval::point(v)));
        for (p, o) in programs.iter().zip(out.iter_mut()) {
            *o = p.eval_interval(&full);
        }
        true
    }
}

impl Energy for ProgramEnergy {
    fn dim(&self) -> usize {
        self.program.inputs().len()
    }
    fn enclose(&self, b: &[Interval]) -> Option<Interval> {
        Some(self.program.eval_interval(b))
    }
    fn enclose_gradient(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        self.enclose_each(Derivatives::gradient, b, out)
    }
    fn has_enclosure(&self) -> bool {
        true
    }
    fn fingerprint(&self) -> Option<u128> {
        Some(self.program.fingerprint())
    }
    fn enclose_hessian(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        let d = b.len();
        let mut tri = vec![Interval::ENTIRE; d * (d + 1) / 2];
        if !self.enclose_each(Derivatives::hessian, b, &mut tri) {
            return false;
        }
        let mut k = 0;
        for i in 0..d {
            for j in i..d {
                out[i * d + j] = tri[k];
                out[j * d + i] = tri[k];
                k += 1;
            }
        }
        true
    }
    fn eval(&self, z: &[f64]) -> f64 {
        self.program.eval_f64(z)
    }
    fn eval_batch(&self, points: &[f64], out: &mut [f64]) {
        let d = self.dim();
        if d == 0 {
            out.fill(self.program.eval_f64(&[]));
            return;
        }
        if d == 1 {
            // One variable: the points already are the column.
            self.program.eval_batch(&[points], out);
            return;
        }
        // Transpose the row-major points into columns, in chunks that stay in cache.
        const CHUNK: usize = 256;
        let mut cols = vec![0.0; d * CHUNK];
        for (pts, o) in points.chunks(d * CHUNK).zip(out.chunks_mut(CHUNK)) {
            let n = o.len();
            for (i, p) in pts.chunks_exact(d).enumerate() {
                for (j, x) in p.iter().enumerate() {
                    cols[j * CHUNK + i] = *x;
                }
            }
            let columns: Vec<&[f64]> = (0..d).map(|j| &cols[j * CHUNK..j * CHUNK + n]).collect();
            self.program.eval_batch(&columns, o);
        }
    }
}

/// An energy evaluated through the engine (for integrands that contain inner integrals).
struct TreeEnergy<'a> {
    engine: &'a Engine,
    expr: Expr,
    names: Vec<String>,
    bindings: Bindings,
    /// Largest error bound of the energy over the evaluated nodes, and whether every inner
    /// evaluation converged.
    worst: Mutex<(f64, bool)>,
    /// The first evaluation error (the point gets NaN).
    first_error: Mutex<Option<String>>,
    /// The charge of each evaluated node (its energy's error bound, plus 1 when an inner step
    /// did not converge there), keyed by the point's bits: the outer rule averages it with its
    /// own weights ([`IntegrandEnergy::charge_at`]).
    charges: Mutex<HashMap<Vec<u64>, f64>>,
}

/// Evaluation budget of an outer integral whose integrand or observable holds inner bound
/// operators (each evaluation is a whole inner integration).
const NESTED_MAX_EVALS: u64 = 20_000;

/// The weight an outer rule may give to nodes whose inner steps did not converge and still be
/// trusted (those nodes are charged an error of 1 in the energy).
const UNCONVERGED_MASS: f64 = 1e-6;

/// The largest charge recorded for a node: beyond it the observable would overflow the rule.
const MAX_CHARGE: f64 = 1e100;

impl TreeEnergy<'_> {
    /// The charge of node `z`: the energy's error bound there, plus 1 (an error of order one in
    /// the energy) when an inner step did not converge, capped at [`MAX_CHARGE`].
    fn charge(v: &Value) -> f64 {
        let c = v.error + if v.converged() { 0.0 } else { 1.0 };
        if c.is_nan() {
            MAX_CHARGE
        } else {
            c.min(MAX_CHARGE)
        }
    }
}

impl Energy for TreeEnergy<'_> {
    fn dim(&self) -> usize {
        self.names.len()
    }
    fn eval(&self, z: &[f64]) -> f64 {
        let mut bb = self.bindings.clone();
        for (n, x) in self.names.iter().zip(z) {
            bb.set(n, *x);
        }
        match self.engine.eval_bindings(&self.expr, &bb) {
            Ok(v) => {
                if let Ok(mut w) = self.worst.lock() {
                    w.0 = w.0.max(v.error);
                    w.1 &= v.converged();
                }
                if let Ok(mut c) = self.charges.lock() {
                    c.insert(z.iter().map(|x| x.to_bits()).collect(), Self::charge(&v));
                }
                v.value
            }
            // Far out (where the quadrature probes tails) an inner integral can be beyond f64
            // resolution; there its weight exp(-energy) is zero for any energy that grows, so
            // the point contributes nothing. Nearer in, a failure is reported as NaN.
            Err(_) if z.iter().any(|x| x.abs() > FAR_OUT) => f64::INFINITY,
            Err(e) => {
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert_with(|| e.to_string());
                }
                f64::NAN
            }
        }
    }
}

/// `Ok` while the evaluation at this point is within its time budget
/// ([`crate::budgets::check_point_clock`]); the error names `node`.
fn point_clock(node: &Expr) -> Result<(), EngineError> {
    crate::budgets::check_point_clock("").map_err(|e| {
        EngineError::Budget(format!(
            "evaluating `{}` at this point took more than {} s, its time budget `{}`; {}",
            crate::expr::excerpt(&node.to_string(), 60),
            e.limit,
            e.budget.name(),
            e.help()
        ))
    })
}

/// A bound node at given bindings: the node's address in the evaluated tree and a hash of the
/// bindings.
type NodeKey = (usize, u64);

/// The bound-operator hook: evaluates each bound node once per evaluation and remembers it, so
/// errors can be propagated by perturbing one node at a time.
struct Hook<'a> {
    engine: &'a Engine,
    cache: RefCell<HashMap<NodeKey, Value>>,
    order: RefCell<Vec<NodeKey>>,
    perturb: RefCell<Option<(NodeKey, f64)>>,
    failure: RefCell<Option<EngineError>>,
}

impl BoundEvaluator for &Hook<'_> {
    fn eval_bound(&mut self, node: &Expr, bindings: &Bindings) -> Result<f64, EvalError> {
        let key = (std::ptr::from_ref(node) as usize, bindings_hash(bindings));
        if let Some((k, v)) = *self.perturb.borrow() {
            if k == key {
                return Ok(v);
            }
        }
        if let Some(v) = self.cache.borrow().get(&key) {
            return Ok(v.value);
        }
        let v = match self.engine.bound(node, bindings) {
            Ok(v) => v,
            Err(e) => {
                let msg = e.to_string();
                *self.failure.borrow_mut() = Some(e);
                return Err(EvalError::new(
                    expr::ErrorKind::NeedsNumericEngine,
                    node.span,
                    msg,
                ));
            }
        };
        self.cache.borrow_mut().insert(key, v.clone());
        self.order.borrow_mut().push(key);
        Ok(v.value)
    }
}

/// A hash of every binding's name and value bits (a list by its length): bound nodes are cached
/// per node and bindings, and Monte-Carlo seeds mix it in (the crate's one seed mixer,
/// [`crate::seed`]).
fn bindings_hash(b: &Bindings) -> u64 {
    use crate::seed::{hash_bytes, stream};
    let mut h = 0;
    for name in b.names() {
        h = stream(h, hash_bytes(name.as_bytes()));
        match b.get(name) {
            Some(expr::Value::Number(x)) => h = stream(h, x.to_bits()),
            Some(expr::Value::List(xs)) => h = stream(h ^ 1, xs.len() as u64),
            None => {}
        }
    }
    h
}

/// Replaces every `diff[w](f)` whose `f` has no bound operator by its simplified symbolic
/// derivative, so closed integrands stay closed (and compile). Derivatives of expressions with
/// integrals stay, to be evaluated by two routes.
fn expand_closed_derivatives(e: &Expr) -> Result<Expr, EngineError> {
    let mapped = e.try_map_children(&mut |c| expand_closed_derivatives(c))?;
    match &mapped.kind {
        ExprKind::Derivative { var, body, .. } if !body.has_bound_operator() => {
            let d = expr::derivative_of(body, var).map_err(|d| EngineError::Expr(d.message))?;
            Ok(expr::simplify(&d))
        }
        _ => Ok(mapped),
    }
}

/// The name of the dummy binding that marks `log(int[..](..))` as "return log of the integral".
const LOG_MARK: &str = "__log";

/// Rewrites every `log(int[z](body))` in the arithmetic skeleton of `e` into
/// `int[z, __log](body)`, which [`Engine::integral`] evaluates as `log Z` directly.
fn mark_log_integrals(e: &Expr) -> Expr {
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

fn mul(a: Expr, b: Expr) -> Expr {
    Expr::binary(BinOp::Mul, a, b, Span::default())
}

/// Splits `e` into `exp(-U) · g`: returns `(Some(U), g)` when at least one `exp` factor exists
/// (`g = None` means `g ≡ 1`), else `(None, _)`.
fn factor_exp(e: &Expr) -> (Option<Expr>, Option<Expr>) {
    factor_exp_with(e, false)
}

/// As [`factor_exp`]; with `fold`, a factor that is an integral of `exp(-V)` alone (positive) is
/// taken as `exp(log ∫ ..)`, its logarithm computed in log space: in linear space it underflows
/// far out, and `exp(-βE) / ∫ ..` became 0/0 in the tails. Folding a denominator can cancel
/// the decay of `U` (then the caller falls back to the unfolded form).
fn factor_exp_with(e: &Expr, fold: bool) -> (Option<Expr>, Option<Expr>) {
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
fn has_foldable_factor(e: &Expr) -> bool {
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
fn neg_log_abs(e: &Expr) -> Expr {
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
fn sign_of(e: &Expr) -> Expr {
    Expr::call(Builtin::Sign, vec![e.clone()], Span::default())
}

/// A quadrature error in the user's words: variables by name (the quadrature numbers them
/// `z1, z2, …`), and for a minimisation no talk of a partition function.
pub fn named_quad_error(e: &quad::QuadError, names: &[String], minimising: bool) -> String {
    if let quad::QuadError::NotANumber { point } = e {
        let at: Vec<String> = point
            .iter()
            .enumerate()
            .map(|(i, x)| match names.get(i) {
                Some(n) => format!("{n} = {}", expr::format_number(*x)),
                None => expr::format_number(*x),
            })
            .collect();
        return format!("the energy is not a number (NaN) at {}", at.join(", "));
    }
    let mut msg = e.to_string();
    // Highest index first, so that `z1` does not match inside `z12`.
    for (i, n) in names.iter().enumerate().rev() {
        for arrow in [" →", " ->"] {
            msg = msg.replace(&format!("z{}{arrow}", i + 1), &format!("`{n}`{arrow}"));
        }
    }
    if minimising {
        msg = msg.replace(
            "the partition function diverges",
            "the minimum does not exist",
        );
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::engine_for;
    use crate::check::spec::load_str;

    fn engine(defs: &str) -> Engine {
        let text = format!(
            "title = \"t\"\n[variables]\nz = \"-inf..inf\"\n[definitions]\n{defs}\n[[check]]\nname = \"n\"\nclaim = \"C5\"\nkind = \"equal\"\nlhs = \"1\"\nrhs = \"1\"\n"
        );
        let file = load_str("t", &text).unwrap_or_else(|e| panic!("{e:?}"));
        engine_for(&file).expect("engine")
    }

    fn value(e: &Engine, src: &str, point: &[(&str, f64)]) -> Value {
        let parsed = expr::parse(src).expect("parses");
        let prepared = e.prepare(&parsed).expect("prepares");
        let p: Point = point.iter().map(|(k, v)| ((*k).to_string(), *v)).collect();
        e.eval(&prepared, &p)
            .unwrap_or_else(|err| panic!("{src}: {err}"))
    }

    /// The trace of a Monte-Carlo average is the draws `eval` averaged: same seed, same mean,
    /// `n` values over the chains; an expression without a top-level `mc` has none.
    #[test]
    fn monte_carlo_trace_reproduces_the_estimate() {
        let e = engine("\"E(z)\" = \"0.5*(z - 1)^2\"");
        let src = "2 + mc[z ~ exp(-beta*E(z)); n = 4000](z^2)";
        let prepared = e
            .prepare(&expr::parse(src).expect("parses"))
            .expect("prepares");
        let p: Point = [("beta".to_string(), 2.0)].into_iter().collect();
        let v = e.eval(&prepared, &p).expect("evaluates");
        let trace = e
            .monte_carlo_trace(&prepared, &p)
            .expect("evaluates")
            .expect("has an mc average");
        let n: usize = trace.iter().map(Vec::len).sum();
        assert_eq!(n, 4000);
        let mean = trace.iter().flatten().sum::<f64>() / 4000.0;
        assert!(
            (2.0 + mean - v.value).abs() < 1e-12,
            "{mean} vs {}",
            v.value
        );
        // ⟨z²⟩ = 1 + 1/β under the Gaussian at β = 2.
        assert!(
            (mean - 1.5).abs() < 5.0 * v.std_error,
            "{mean} ± {}",
            v.std_error
        );
        let none = e
            .prepare(&expr::parse("int[z](exp(-E(z)))").expect("parses"))
            .expect("prepares");
        assert!(e.monte_carlo_trace(&none, &p).expect("evaluates").is_none());
    }

    /// An engine from a context: parameters come from the context, a primed variable takes its
    /// base name's domain, an integer domain is summed; the ML gradient of a Gibbs family
    /// `exp(-w k)/Z` on k = 0..2 is `k_data - <k>`.
    #[test]
    fn engine_from_context_uses_domains_and_parameters() {
        let mut ctx = Context::new();
        ctx.set_param("w", 0.4);
        ctx.add_definition(expr::parse_definition("E(k) = w*k").expect("parses"))
            .expect("adds");
        let domains: BTreeMap<String, VarDomain> =
            [("k".to_string(), VarDomain::Integer { lo: 0, hi: 2 })]
                .into_iter()
                .collect();
        let e = Engine::new(ctx, domains);
        assert_eq!(e.params().number("w"), Some(0.4));
        let grad = value(&e, "diff[w](E(2)) - expect[k' ~ exp(-E(k'))](k')", &[]);
        let weights: Vec<f64> = (0..3).map(|k| (-0.4 * f64::from(k)).exp()).collect();
        let mean = (weights[1] + 2.0 * weights[2]) / weights.iter().sum::<f64>();
        assert!((grad.value - (2.0 - mean)).abs() <= grad.error.max(1e-14));
        let loss = e
            .prepare(&expr::parse("E(2) + log(sum[k'](exp(-E(k'))))").expect("parses"))
            .expect("prepares");
        let fd = e
            .richardson(&loss, &Point::new(), "w")
            .expect("differences");
        assert!((fd.value - grad.value).abs() <= fd.error + grad.error);
    }

    /// The reported error bound covers the true error of a Gaussian free energy, in log space
    /// at large β where `Z` itself underflows.
    #[test]
    fn log_space_free_energy_is_exact_where_z_underflows() {
        let e = engine("\"E(z)\" = \"(z - 0.3)^2 + 1\"");
        for beta in [0.5, 10.0, 1e3, 1e5] {
            let f = value(
                &e,
                "-1/beta*log(int[z](exp(-beta*E(z))))",
                &[("beta", beta)],
            );
            let exact = 1.0 - 0.5 * (std::f64::consts::PI / beta).ln() / beta;
            assert!(
                (f.value - exact).abs() <= f.error.max(4.0 * f64::EPSILON),
                "β = {beta}: {} vs {exact} ± {}",
                f.value,
                f.error
            );
            assert!(f.converged());
        }
        // Linear space (a factor of unknown sign keeps the logarithm literal) agrees where Z is
        // representable …
        let lin = value(
            &e,
            "-1/beta*log(sign(beta)*int[z](exp(-beta*E(z))))",
            &[("beta", 10.0)],
        );
        let log = value(
            &e,
            "-1/beta*log(int[z](exp(-beta*E(z))))",
            &[("beta", 10.0)],
        );
        assert!((lin.value - log.value).abs() <= lin.error + log.error);
        // … and fails honestly where it is not (Z = e^{-1e5}·… underflows to 0).
        let parsed =
            expr::parse("-1/beta*log(sign(beta)*int[z](exp(-beta*E(z))))").expect("parses");
        let p: Point = [("beta".to_string(), 1e5)].into_iter().collect();
        assert!(e.eval(&e.prepare(&parsed).expect("prepares"), &p).is_err());
        // A positive factor is split off: `log(1*Z)` is `log 1 + log Z`, in log space.
        let split = value(
            &e,
            "-1/beta*log(1*int[z](exp(-beta*E(z))))",
            &[("beta", 1e5)],
        );
        let exact = 1.0 - 0.5 * (std::f64::consts::PI / 1e5).ln() / 1e5;
        assert!((split.value - exact).abs() <= split.error.max(4.0 * f64::EPSILON));
    }

    /// An integrand the compiler cannot take (it holds a bound operator) is evaluated through the
    /// tree and gives the same integral.
    #[test]
    fn compiled_and_tree_integrands_agree() {
        let e = engine("\"E(z)\" = \"(z^2 - 1)^2 + 0.3*z\"");
        let compiled = value(&e, "log(int[z](exp(-beta*E(z))))", &[("beta", 3.0)]);
        let tree = value(
            &e,
            "log(int[z](exp(-beta*E(z) - min[u = 0..1](u^2 + 0*z))))",
            &[("beta", 3.0)],
        );
        assert!(
            (compiled.value - tree.value).abs() <= 2.0 * (compiled.error + tree.error) + 1e-10,
            "{compiled:?} vs {tree:?}"
        );
    }

    /// `d log Z/dβ = -⟨E⟩`: the symbolic route under the integral sign, the finite-difference
    /// route, and the expectation agree.
    #[test]
    fn derivative_routes_agree_with_the_thermodynamic_identity() {
        let e = engine("\"E(z)\" = \"(z^2 - 1)^2 + 0.3*z\"");
        let d = value(
            &e,
            "diff[beta](log(int[z](exp(-beta*E(z)))))",
            &[("beta", 2.0)],
        );
        let mean = value(&e, "-expect[z ~ exp(-beta*E(z))](E(z))", &[("beta", 2.0)]);
        assert!(
            (d.value - mean.value).abs() <= 2.0 * (d.error + mean.error),
            "{d:?} vs {mean:?}"
        );
        let parsed = expr::parse("log(int[z](exp(-beta*E(z))))").expect("parses");
        let prepared = e.prepare(&parsed).expect("prepares");
        let p: Point = [("beta".to_string(), 2.0)].into_iter().collect();
        let fd = e.richardson(&prepared, &p, "beta").expect("fd");
        assert!(
            (fd.value - mean.value).abs() <= 2.0 * (fd.error + mean.error),
            "{fd:?} vs {mean:?}"
        );
    }

    /// A sum with explicit limits over a body holding an integral evaluates each term at its own
    /// value of the index (bound nodes are cached per bindings, not per node).
    #[test]
    fn sums_over_integrals_evaluate_every_term() {
        let e = engine("\"E(z)\" = \"z^2\"");
        // Σ_{k=1..3} log ∫ exp(-k z²) dz = Σ ½ log(π/k)
        let v = value(&e, "sum[k = 1..3](log(int[z](exp(-k*E(z)))))", &[]);
        let exact: f64 = (1..=3)
            .map(|k| 0.5 * (std::f64::consts::PI / f64::from(k)).ln())
            .sum();
        assert!(
            (v.value - exact).abs() <= v.error + 1e-14,
            "{v:?} vs {exact}"
        );
    }

    /// The error of a constant hoisted out of an integrand (here the normaliser) and of inner
    /// integrals in a tree-evaluated energy reaches the outer value's bound.
    #[test]
    fn hoisted_and_inner_errors_are_carried() {
        let e = engine("\"E(z)\" = \"(z^2 - 1)^2\"");
        let normaliser = value(&e, "int[u = -inf..inf](exp(-2*E(u)))", &[]);
        let ratio = value(
            &e,
            "int[z](exp(-2*E(z)) / int[u = -inf..inf](exp(-2*E(u))))",
            &[],
        );
        assert!((ratio.value - 1.0).abs() <= ratio.error, "{ratio:?}");
        assert!(
            ratio.error >= normaliser.error / normaliser.value,
            "{ratio:?} vs {normaliser:?}"
        );
        // An outer integral over a slice free energy carries the inner errors.
        let inner = value(
            &e,
            "log(int[u = -inf..inf](exp(-2*E(u) - 0.5*v^2)))",
            &[("v", 0.0)],
        );
        let outer = value(
            &e,
            "log(int[v = -inf..inf](exp(log(int[u = -inf..inf](exp(-2*E(u) - 0.5*v^2))))))",
            &[],
        );
        assert!(outer.error >= inner.error, "{outer:?} vs {inner:?}");
        let exact = value(
            &e,
            "log(int[u = -inf..inf](exp(-2*E(u)))) + 0.5*log(2*pi)",
            &[],
        );
        assert!(
            (outer.value - exact.value).abs() <= outer.error + exact.error,
            "{outer:?} vs {exact:?}"
        );
    }

    #[test]
    fn log_sum_exp_of_a_sum_does_not_underflow() {
        let e = engine("\"E(k)\" = \"(k - 1)^2 + 5\"");
        let v = value(
            &e,
            "-1/beta*log(sum[k = 0..2](exp(-beta*E(k))))",
            &[("beta", 1e4)],
        );
        assert!((v.value - 5.0).abs() < 1e-12, "{v:?}");
    }
}
