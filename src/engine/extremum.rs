//! `min`, `max` and `argmin` over bound variables, by [`quad::minimize`].

use super::error::EngineError;
use super::{Engine, Termination, Value};
use crate::expr::{Binding, Bindings, Expr, Extremum};
use crate::quad;

/// How many times an argmin is searched again with the slack its energy's bound grew to.
const MAX_RESEARCHES: usize = 2;

impl Engine {
    pub(super) fn extremum(
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
        // The minimum moves by at most the energy's own error bound; its own error is the gap
        // between the value found and the certified lower bound (branch and bound on interval
        // enclosures), and a gap that did not close makes it not converged. The minimiser may
        // be any point whose computed energy is within twice that bound of the minimum
        // (`quad::minimize_within`). An energy with inner integrals learns its bound only as
        // it is evaluated, so the bound is read after the search, and an argmin searched with
        // a smaller slack than that is searched again with it (the bound can only grow).
        let mut slack = objective.error();
        let mut m = quad::minimize_within(objective.get(), &domain, &self.opts.quad, slack)
            .map_err(|e| objective.quad_error(&e, &names, true))?;
        for _ in 0..MAX_RESEARCHES {
            let moved = objective.error();
            if kind != Extremum::Argmin || moved <= slack || moved.is_nan() {
                break;
            }
            slack = moved;
            m = quad::minimize_within(objective.get(), &domain, &self.opts.quad, slack)
                .map_err(|e| objective.quad_error(&e, &names, true))?;
        }
        let moved = objective.error();
        let inner = |t: Termination| {
            if objective.converged() {
                t
            } else {
                Termination::InnerNotConverged
            }
        };
        match kind {
            Extremum::Min | Extremum::Max => Ok(Value::new(
                sign * m.value,
                m.abs_error + moved,
                inner(m.termination()),
            )),
            Extremum::Argmin => {
                let Some(x) = m.argmin_estimate().filter(|_| names.len() == 1) else {
                    return Err(EngineError::unsupported(
                        "argmin over several variables is a vector; use one variable",
                    ));
                };
                // Still growing after the last search: the slack used may be too small.
                let t = if objective.error() > slack {
                    Termination::InnerNotConverged
                } else {
                    inner(x.termination())
                };
                Ok(Value::new(x.value, x.error, t))
            }
        }
    }
}
