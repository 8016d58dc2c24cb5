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
//!   compiled to a batched [`Program`](crate::expr::Program). `log(int[z](exp(-U)))` is returned as `log Z` directly,
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

mod derivative;
mod energy;
mod error;
mod extremum;
mod integral;
mod monte_carlo;
mod propagate;
mod rewrite;
mod sum;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{IntRange, VarDomain};
use crate::expr::{self, Binding, Bindings, Context, Expr, ExprKind};
use crate::quad::{self, QuadOptions};

use derivative::expand_closed_derivatives;
pub use energy::ProgramEnergy;
pub use error::{EngineError, EngineErrorKind, named_quad_error};
use error::{point_clock, quad_error};
use rewrite::LOG_MARK;

/// Values of free variables at one test point.
pub type Point = BTreeMap<String, f64>;

/// A number with an error bound, a standard error where it is random, and why the numeric
/// steps behind it stopped: the crate's one estimate type.
pub use crate::estimate::{Estimate as Value, Termination};

/// Options of the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Options handed to every quadrature and minimisation.
    pub quad: QuadOptions,
    /// Seed of Monte-Carlo averages (mixed with the node and the point, so results do not depend
    /// on evaluation order or threads).
    pub seed: u64,
    /// Certified values only: every integral is computed as a certified enclosure of its
    /// `log Z` ([`quad::certify_log_partition`]), its value the enclosure's midpoint and its
    /// error the half-width; a bound operator without a certified value (an expectation, an
    /// integral of `g·exp(-U)`, an energy holding other bound operators, more than two
    /// continuous variables, a Monte-Carlo average) is an [`EngineErrorKind::NotCertified`]
    /// error. Minima keep their certified gap ([`quad::Minimum::abs_error`]), which is not
    /// converged when it does not close.
    pub certify: bool,
}

/// Target width of a certified `log Z` over one continuous variable (about 5 000 boxes for a
/// Gaussian, a few milliseconds).
pub const CERTIFY_WIDTH_1D: f64 = 1e-6;
/// Target width over two continuous variables (a correlated Gaussian: 64 000 boxes, ≈1 s).
pub const CERTIFY_WIDTH_2D: f64 = 1e-3;
/// Most boxes of one certified enclosure (per integer combination).
pub const CERTIFY_BOXES: usize = 200_000;

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
        let inlined = self.ctx.inline(e).map_err(EngineError::from)?;
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
            .map_err(EngineError::from)
    }

    /// The same engine with another Monte-Carlo seed.
    #[must_use]
    pub fn with_seed(&self, seed: u64) -> Engine {
        Engine {
            ctx: self.ctx.clone(),
            params: self.params.clone(),
            domains: self.domains.clone(),
            opts: EngineOptions {
                seed,
                ..self.opts.clone()
            },
        }
    }

    /// The same engine computing certified values only (`on`) or as usual: see
    /// [`EngineOptions::certify`].
    #[must_use]
    pub fn certified(&self, on: bool) -> Engine {
        Engine {
            ctx: self.ctx.clone(),
            params: self.params.clone(),
            domains: self.domains.clone(),
            opts: EngineOptions {
                certify: on,
                ..self.opts.clone()
            },
        }
    }

    /// Whether the engine computes certified values only.
    pub fn certifies(&self) -> bool {
        self.opts.certify
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

    /// The value of an integration or summation limit, where `±inf` is allowed (unlike in
    /// [`Engine::eval`], whose results must be finite).
    fn limit_value(&self, e: &Expr, b: &Bindings) -> Result<f64, EngineError> {
        if e.has_bound_operator() {
            return Ok(self.eval_bindings(e, b)?.value);
        }
        let v = expr::eval(e, b).map_err(EngineError::from)?;
        if v.is_nan() {
            return Err(EngineError::no_real_value(format!(
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
                // The integers in [lo, hi], as every sum takes them.
                let r = IntRange::from_limits(lo, hi).ok_or_else(|| {
                    EngineError::expr(format!(
                        "the integer variable `{}` runs from {lo:e} to {hi:e}: its limits must be finite and within ±2^53",
                        bind.var
                    ))
                })?;
                return Ok(VarDomain::Integer { lo: r.lo, hi: r.hi });
            }
            return Ok(VarDomain::Continuous { lo, hi });
        }
        self.declared(&bind.var).ok_or_else(|| {
            EngineError::expr(format!(
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
        if self.opts.certify {
            let what = match &node.kind {
                ExprKind::Expect { .. } => Some("an expectation `expect[..]`"),
                ExprKind::MonteCarlo { .. } => Some("a Monte-Carlo average `mc[..]`"),
                _ => None,
            };
            if let Some(what) = what {
                return Err(EngineError::not_certified(format!(
                    "a certified value was asked for, but {what} has none: only sums, minima (their certified gap) and integrals of exp(-U) over one or two continuous variables are certified"
                )));
            }
        }
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
            ExprKind::Limit { .. } => Err(EngineError::unsupported(
                "a limit inside an expression cannot be evaluated: write it as a `limit` check",
            )),
            ExprKind::MonteCarlo {
                bindings,
                density,
                n,
                body,
            } => self.monte_carlo(bindings, density, n.as_deref(), body, b, node.span),
            _ => Err(EngineError::unsupported("not a bound operator")),
        }
    }
}
