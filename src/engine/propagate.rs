//! Top-level evaluation with first-order error propagation: each bound-operator node is
//! evaluated once per bindings and memoised, then perturbed by its error bound one at a time.

use std::cell::RefCell;
use std::collections::HashMap;

use super::error::{EngineError, EngineErrorKind};
use super::rewrite::mark_log_integrals;
use super::{Engine, Termination, Value};
use crate::expr::{self, Bindings, BoundEvaluator, EvalError, Expr};

impl Engine {
    pub(super) fn eval_bindings(&self, e: &Expr, b: &Bindings) -> Result<Value, EngineError> {
        self.eval_top(e, b, false)
    }

    /// Evaluates with error propagation; `rounding`: bound the rounding error of the whole
    /// expression by a running error analysis ([`expr::rounding_error`], the comparisons'
    /// absolute floor) rather than a few ulps of the result (integrands, evaluated millions of
    /// times, take the cheap bound).
    pub(super) fn eval_top(
        &self,
        e: &Expr,
        b: &Bindings,
        rounding: bool,
    ) -> Result<Value, EngineError> {
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
                let kind = if d.kind == expr::ErrorKind::NoRealValue {
                    EngineErrorKind::NoRealValue
                } else {
                    EngineErrorKind::Expr
                };
                return Err(hook
                    .failure
                    .borrow_mut()
                    .take()
                    .unwrap_or_else(|| EngineError {
                        kind,
                        ..EngineError::from(d)
                    }));
            }
        };
        if !v0.is_finite() {
            return Err(EngineError::no_real_value(format!(
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
            let delta = (vp.map_err(EngineError::from)? - v0).abs();
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
                // The innermost node that failed is the place to show.
                let e = e.at(node.span);
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
pub(super) fn bindings_hash(b: &Bindings) -> u64 {
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
