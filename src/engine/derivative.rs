//! Derivatives of expressions holding bound operators: symbolically under the integral sign
//! and by a Richardson-extrapolated central difference, which must agree; closed derivatives
//! are expanded symbolically before evaluation.

use super::error::EngineError;
use super::{Engine, Point, Termination, Value};
use crate::expr::{self, Bindings, Expr, ExprKind};

impl Engine {
    /// `d body / d var` at `b`. When `body` contains bound operators the derivative is computed
    /// by two independent routes — symbolically under the integral sign, and by a
    /// Richardson-extrapolated central difference of the whole body — and they must agree.
    pub(super) fn derivative_value(
        &self,
        var: &str,
        body: &Expr,
        b: &Bindings,
    ) -> Result<Value, EngineError> {
        let d = self.derivative(body, var)?;
        let sym = self.eval_bindings(&d, b)?;
        if !body.has_bound_operator() {
            return Ok(sym);
        }
        let fd = self.richardson_bindings(body, b, var)?;
        let tol =
            2.0 * (sym.error + fd.error) + 8.0 * f64::EPSILON * sym.value.abs().max(fd.value.abs());
        if (sym.value - fd.value).abs() > tol {
            return Err(EngineError::numeric(format!(
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
            EngineError::expr(format!("`{var}` has no value to differentiate at"))
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
}

/// Replaces every `diff[w](f)` whose `f` has no bound operator by its simplified symbolic
/// derivative, so closed integrands stay closed (and compile). Derivatives of expressions with
/// integrals stay, to be evaluated by two routes.
pub(super) fn expand_closed_derivatives(e: &Expr) -> Result<Expr, EngineError> {
    let mapped = e.try_map_children(&mut |c| expand_closed_derivatives(c))?;
    match &mapped.kind {
        ExprKind::Derivative { var, body, .. } if !body.has_bound_operator() => {
            let d = expr::derivative_of(body, var).map_err(EngineError::from)?;
            Ok(expr::simplify(&d))
        }
        _ => Ok(mapped),
    }
}
