//! Integrals and Gibbs expectations: the integrand factored as `exp(-U)·g`, its energy
//! compiled or evaluated through the tree, and the errors of hoisted constants and inner
//! integrals carried into the result.

use std::collections::HashMap;
use std::sync::Mutex;

use super::energy::{ProgramEnergy, TreeEnergy};
use super::error::{EngineError, EngineErrorKind, named_quad_error};
use super::rewrite::{
    Hoisted, factor_exp, factor_exp_with, has_foldable_factor, mul, neg_log_abs, sign_of,
};
use super::{Engine, Termination, Value};
use crate::expr::{Binding, Bindings, Expr, ExprKind, Program, Span};
use crate::quad::{self, Energy};

impl Engine {
    /// Builds an energy `sign · body` over the bound variables `names`, compiled when possible.
    pub(super) fn energy(
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

    /// `∫ body d(bindings)`, or with `log_of` its logarithm (computed as `log Z` directly, so it
    /// neither overflows nor underflows).
    pub(super) fn integral(
        &self,
        binds: &[Binding],
        body: &Expr,
        b: &Bindings,
        log_of: bool,
    ) -> Result<Value, EngineError> {
        if has_foldable_factor(body) {
            match self.integral_of(binds, body, b, log_of, factor_exp_with(body, true)) {
                // The unfolded form may decay, or (certified values) be `exp(-U)` alone.
                Err(e)
                    if e.kind == EngineErrorKind::Diverges
                        || e.kind == EngineErrorKind::NotCertified => {}
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
        if self.opts.certify && g.is_some() {
            return Err(EngineError::not_certified(
                "a certified value was asked for, but this integral is not of exp(-U) alone (it has another factor): only log-partition integrals ∫ exp(-U) are certified",
            ));
        }
        let energy = self.energy(&u, &names, b, 1.0)?;
        match g {
            None => {
                let (log_z, log_error, converged) = if self.opts.certify {
                    self.certified_log_z(&energy, &domain, &names)?
                } else if energy.is_tree() {
                    let ex = self.gibbs(&energy, &domain, None, &names)?;
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
                let ex = self
                    .gibbs(&energy, &domain, Some(&obs), &names)
                    .map_err(|e| {
                        if unfactored {
                            e.in_integrand_words()
                        } else {
                            e
                        }
                    })?;
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
                        return Err(EngineError::no_real_value(format!(
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

    /// A certified `log Z` of `energy` over `domain` ([`quad::certify_log_partition`]): the
    /// enclosure's midpoint, its half-width plus the energy's own error bound as the error
    /// (refined towards [`super::CERTIFY_WIDTH_1D`] or [`super::CERTIFY_WIDTH_2D`] within
    /// [`super::CERTIFY_BOXES`] boxes; a wider enclosure is still a bound). A pure sum (no continuous
    /// variable) is exact to its rounding bound. An energy holding other bound operators (no
    /// interval enclosure), more than two continuous variables, no enclosure at all, or an
    /// enclosure with an infinite end (nothing bounds `Z` within the budget) is an
    /// [`EngineErrorKind::NotCertified`] error.
    fn certified_log_z(
        &self,
        energy: &IntegrandEnergy<'_>,
        domain: &quad::Domain,
        names: &[String],
    ) -> Result<(f64, f64, bool), EngineError> {
        let over = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if energy.is_tree() {
            return Err(EngineError::not_certified(format!(
                "a certified value was asked for, but the energy of the integral over {over} holds another bound operator (an inner integral, sum or minimum), which has no interval enclosure"
            )));
        }
        let n_cont = domain
            .vars
            .iter()
            .filter(|v| matches!(v, crate::domain::VarDomain::Continuous { .. }))
            .count();
        let target = match n_cont {
            0 => {
                let lz = quad::log_partition(energy.get(), domain, 1.0, &self.opts.quad)
                    .map_err(|e| energy.quad_error(&e, names, false))?;
                let converged =
                    lz.termination == quad::Termination::Converged && energy.converged();
                return Ok((lz.log_z, lz.abs_error + energy.error(), converged));
            }
            1 => super::CERTIFY_WIDTH_1D,
            2 => super::CERTIFY_WIDTH_2D,
            _ => {
                return Err(EngineError::not_certified(format!(
                    "a certified value was asked for, but the integral over {over} has {n_cont} continuous variables: certified enclosures of log Z are computed over one or two"
                )));
            }
        };
        let (lz, cert) = quad::certify_log_partition(
            energy.get(),
            domain,
            1.0,
            &self.opts.quad,
            target,
            super::CERTIFY_BOXES,
        )
        .map_err(|e| energy.quad_error(&e, names, false))?;
        let Some(c) = cert else {
            return Err(EngineError::not_certified(format!(
                "a certified value was asked for, but the integral over {over} has no certified enclosure: its energy has no interval enclosure, or the estimate of log Z ({:e}) is not finite",
                lz.log_z
            )));
        };
        if !(c.lo.is_finite() && c.hi.is_finite()) {
            return Err(EngineError::not_certified(format!(
                "a certified value was asked for, but the certified enclosure of log Z over {over} is [{:e}, {:e}] after {} boxes: nothing bounds it {} within the budget",
                c.lo,
                c.hi,
                c.boxes,
                if c.hi.is_finite() { "below" } else { "above" }
            )));
        }
        let mid = 0.5 * (c.lo + c.hi);
        // The half-width, rounded up (the ends are outward-rounded already). Wider than the
        // target (the box budget ran out) it is still a bound: the comparison's power says
        // what it can detect.
        let half = (0.5 * c.width()).max(0.0) * (1.0 + 4.0 * f64::EPSILON)
            + 4.0 * f64::EPSILON * mid.abs();
        let converged = energy.converged();
        Ok((mid, half + energy.error(), converged))
    }

    /// Gibbs expectations of `obs` (none for `log Z` alone) under `exp(-U)`, with, for an
    /// energy holding inner bound operators, the nodes' charges `1 + c` and `|g_k|·(1 + c)`
    /// appended (see [`IntegrandEnergy::weighted`]). `names` are the bound variables, which
    /// errors name.
    fn gibbs(
        &self,
        energy: &IntegrandEnergy<'_>,
        domain: &quad::Domain,
        obs: Option<&ObsSet<'_>>,
        names: &[String],
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
                .map_err(|e| energy.quad_error(&e, names, false));
        }
        quad::expectations(energy.get(), domain, 1.0, &f, total, &self.opts.quad)
            .map_err(|e| energy.quad_error(&e, names, false))
    }

    pub(super) fn expectation(
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
        let ex = self.gibbs(&energy, &domain, Some(&obs), &names)?;
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

    pub(super) fn observables(
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

/// Evaluation budget of an outer integral whose integrand or observable holds inner bound
/// operators (each evaluation is a whole inner integration).
const NESTED_MAX_EVALS: u64 = 20_000;

/// The weight an outer rule may give to nodes whose inner steps did not converge and still be
/// trusted (those nodes are charged an error of 1 in the energy).
const UNCONVERGED_MASS: f64 = 1e-6;

enum Observable {
    Compiled(Program),
    Tree(Expr, Bindings),
}

pub(super) struct ObsSet<'a> {
    engine: &'a Engine,
    names: Vec<String>,
    items: Vec<Observable>,
    /// Summed relative errors of the constants hoisted out of the observables.
    rel_error: f64,
    /// Whether every hoisted constant converged.
    converged: bool,
}

/// The energy of an integrand, with what its numeric errors do to the integral: constants
/// hoisted out of it and, for a tree-evaluated energy, the errors of its inner integrals.
pub(super) struct IntegrandEnergy<'a> {
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
    pub(super) fn failure(&self) -> Option<EngineError> {
        match &self.kind {
            IntegrandKind::Tree(t) => t.first_error.lock().ok().and_then(|e| e.clone()),
            IntegrandKind::Compiled(_) => None,
        }
    }

    /// A quadrature error, preferring the energy's own failure.
    /// `names` empty: the tree energy's own variable names, if any.
    pub(super) fn quad_error(
        &self,
        e: &quad::QuadError,
        names: &[String],
        minimising: bool,
    ) -> EngineError {
        let names = match (&self.kind, names.is_empty()) {
            (IntegrandKind::Tree(t), true) => t.names.as_slice(),
            _ => names,
        };
        match (e, self.failure()) {
            // The energy's own failure, where it happened (a budget, `log` of a negative).
            (quad::QuadError::NotANumber { .. }, Some(f)) => EngineError {
                kind: EngineErrorKind::Numeric,
                ..f
            },
            // A divergent integral (or a minimum that does not exist) keeps its own kind.
            (quad::QuadError::Diverges { .. }, _) => {
                let vars: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                let why = if minimising {
                    "the objective must be bounded below"
                } else {
                    "exp(-energy) must decay"
                };
                EngineError::diverges(named_quad_error(e, names, minimising)).with_help(format!(
                    "give {} finite limits (`{} = lo..hi` in the operator's brackets), or check the sign: {why}",
                    if vars.is_empty() { "the variables".to_string() } else { vars.join(", ") },
                    names.first().map_or("z", String::as_str)
                ))
            }
            _ => EngineError::numeric(named_quad_error(e, names, minimising)),
        }
    }

    pub(super) fn get(&self) -> &dyn Energy {
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
    pub(super) fn error(&self) -> f64 {
        self.hoisted_error + self.tree_worst().0
    }

    pub(super) fn converged(&self) -> bool {
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
    pub(super) fn charge_at(&self, z: &[f64]) -> f64 {
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
    pub(super) fn eval(&self, z: &[f64], out: &mut [f64]) {
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
