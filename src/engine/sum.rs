//! Sums over integer ranges: `sum[k](body)` term by term, and `log(sum[k](exp(u)))` as a
//! log-sum-exp.

use super::error::EngineError;
use super::{Engine, Termination, Value};
use crate::domain::{IntRange, VarDomain};
use crate::expr::{self, Binding, Bindings, Builtin, Expr, ExprKind};

impl Engine {
    /// The integer ranges of a sum's bindings.
    fn sum_ranges(
        &self,
        binds: &[Binding],
        b: &Bindings,
    ) -> Result<Vec<(String, IntRange)>, EngineError> {
        let mut ranges = Vec::new();
        for bind in binds {
            let range = match self.domain_of(bind, b)? {
                VarDomain::Integer { lo, hi } => IntRange { lo, hi },
                VarDomain::Continuous { lo, hi } if lo.is_finite() && hi.is_finite() => {
                    IntRange::from_limits(lo, hi).ok_or_else(|| {
                        EngineError::expr(format!(
                            "the sum over `{}` runs from {lo:e} to {hi:e}, beyond ±2^53 where floating-point numbers skip integers",
                            bind.var
                        ))
                    })?
                }
                VarDomain::Continuous { .. } => {
                    return Err(EngineError::expr(format!(
                        "a sum over `{}` needs a finite integer range",
                        bind.var
                    )));
                }
            };
            ranges.push((bind.var.clone(), range));
        }
        let all: Vec<IntRange> = ranges.iter().map(|r| r.1).collect();
        let names: Vec<&str> = ranges.iter().map(|r| r.0.as_str()).collect();
        crate::budgets::charge_sum_terms(
            IntRange::product_len(&all),
            &format!("the sum over {}", names.join(", ")),
        )
        .map_err(|e| EngineError::expr(format!("{}; {}", e.message(), e.help())))?;
        Ok(ranges)
    }

    /// Calls `f` with the bindings of every term of a sum, in lexicographic order.
    fn for_each_term(
        &self,
        ranges: &[(String, IntRange)],
        b: &Bindings,
        f: &mut dyn FnMut(&Bindings) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        if ranges.iter().any(|(_, r)| r.is_empty()) {
            return Ok(());
        }
        let mut idx: Vec<i64> = ranges.iter().map(|(_, r)| r.lo).collect();
        loop {
            let mut bb = b.clone();
            for ((name, _), k) in ranges.iter().zip(&idx) {
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
                if idx[i] < ranges[i].1.hi {
                    idx[i] += 1;
                    break;
                }
                idx[i] = ranges[i].1.lo;
            }
        }
    }

    pub(super) fn sum(
        &self,
        binds: &[Binding],
        body: &Expr,
        b: &Bindings,
    ) -> Result<Value, EngineError> {
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
    pub(super) fn log_sum(
        &self,
        binds: &[Binding],
        body: &Expr,
        b: &Bindings,
    ) -> Result<Value, EngineError> {
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
                return Err(EngineError::no_real_value(format!(
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
}
