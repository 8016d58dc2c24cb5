//! Monte-Carlo averages `mc[y ~ exp(-U); n = N](body)`: random-walk Metropolis chains from
//! the minimiser, with the multi-chain effective sample size and standard error.

use super::error::EngineError;
use super::propagate::bindings_hash;
use super::rewrite::{factor_exp, mark_log_integrals, neg_log_abs};
use super::{Engine, Point, Value};
use crate::domain::VarDomain;
use crate::expr::{Binding, Bindings, Expr, ExprKind, Span};
use crate::quad;

impl Engine {
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

    /// `mc[y ~ exp(-U); n = N](body)`: the average of `body` over `N` draws from the density by
    /// random-walk Metropolis (four chains from the minimiser, step adapted during warmup), with
    /// the multi-chain effective sample size and standard error.
    pub(super) fn monte_carlo(
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
            return Err(EngineError::no_real_value(
                "the Monte-Carlo average is not a real number",
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
                    return Err(EngineError::unsupported(format!(
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
                    return Err(EngineError::expr(format!(
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
            return Err(EngineError::unsupported(
                "write the density of mc[..] as exp(-U)",
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
            .map_err(|e| EngineError::numeric(e.to_string()))?;
        let chains = draws.clamp(1, MC_CHAINS);
        let per_chain = draws.div_ceil(chains);
        let inits = vec![start; chains];
        let seed = crate::seed::node_seed(self.opts.seed, bindings_hash(b), span.start as u64);
        let set = run_chains(&target, &kernel, &inits, MC_WARMUP, per_chain, seed)
            .map_err(|e| EngineError::numeric(e.to_string()))?;
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
}

/// Draws of an `mc[..]` average without `n = N`.
const MC_DEFAULT_DRAWS: usize = 20_000;
/// Chains of an `mc[..]` average.
const MC_CHAINS: usize = 4;
/// Warmup transitions of each chain (the step size adapts during warmup).
const MC_WARMUP: usize = 2_000;
