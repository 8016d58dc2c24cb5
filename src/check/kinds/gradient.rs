//! The `gradient` check kind: a claimed exact gradient of the loss against its Richardson finite
//! difference and its symbolic derivative.

use std::ops::Range;

use crate::check::raw::RawCheck;
use crate::check::result::CheckResult;
use crate::check::run::{
    CheckFailure, at_point, finish, free_vars, judge, point_result, prepare, test_points, tolerance,
};
use crate::check::spec::{CheckKind, CheckSpec, Relation, SourceExpr};
use crate::check::validate::Loader;
use crate::engine::Engine;

/// The fields of a `gradient` check (beyond name, claim, kind and test points).
pub(crate) const FIELDS: &[&str] = &["loss", "wrt", "exact"];

/// The exact ML gradient against finite differences of the loss and its symbolic derivative
/// (`kind = "gradient"`).
#[derive(Debug, Clone)]
pub struct Gradient {
    loss: SourceExpr,
    wrt: String,
    exact: SourceExpr,
}

impl Gradient {
    /// The loss.
    pub fn loss(&self) -> &SourceExpr {
        &self.loss
    }
    /// The parameter.
    pub fn wrt(&self) -> &str {
        &self.wrt
    }
    /// The claimed exact gradient.
    pub fn exact(&self) -> &SourceExpr {
        &self.exact
    }

    pub(crate) fn expressions(&self) -> Vec<&SourceExpr> {
        vec![&self.loss, &self.exact]
    }

    pub(crate) fn formulas(&self) -> Vec<(String, String)> {
        vec![
            ("loss".to_string(), self.loss.text.clone()),
            ("exact gradient".to_string(), self.exact.text.clone()),
        ]
    }

    pub(crate) fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
    ) -> Result<CheckResult, CheckFailure> {
        gradient(engine, c, seed, &self.loss, &self.wrt, &self.exact)
    }

    /// The same check with the claimed gradient replaced (test only: the mutation study).
    #[cfg(test)]
    pub(crate) fn with_exact(&self, exact: SourceExpr) -> Self {
        Gradient {
            exact,
            ..self.clone()
        }
    }
}

/// Validates a `gradient` check.
pub(crate) fn validate(l: &mut Loader<'_>, c: &RawCheck, span: &Range<usize>) -> Option<CheckKind> {
    let kind = "gradient";
    l.reject_foreign(c, kind, FIELDS);
    let loss = l.required(c.text("loss"), "loss", kind, span);
    let wrt = l.variable_name(c.text("wrt"), "wrt", kind, span);
    let exact = l.required(c.text("exact"), "exact", kind, span);
    Some(CheckKind::Gradient(Gradient {
        loss: loss?,
        wrt: wrt?,
        exact: exact?,
    }))
}

fn gradient(
    engine: &Engine,
    c: &CheckSpec,
    seed: u64,
    loss: &SourceExpr,
    wrt: &str,
    exact: &SourceExpr,
) -> Result<CheckResult, CheckFailure> {
    let l = prepare(engine, loss)?;
    let ex = prepare(engine, exact)?;
    let sym = engine
        .derivative(&l, wrt)
        .map_err(|e| CheckFailure::Error(format!("symbolic derivative of the loss: {e}")))?;
    let vars = free_vars(engine, &[&l, &ex], &[]);
    if !vars.contains(wrt) {
        return Err(CheckFailure::Error(format!(
            "the loss does not depend on `{wrt}`"
        )));
    }
    let pts = test_points(c, &vars, seed)?;
    let mut results = Vec::new();
    for p in &pts {
        let exact_v = engine.eval(&ex, p).map_err(|e| at_point(e, p, exact))?;
        let sym_v = engine.eval(&sym, p).map_err(|e| at_point(e, p, loss))?;
        let fd = engine
            .richardson(&l, p, wrt)
            .map_err(|e| at_point(e, p, loss))?;
        let t_fd = tolerance(&exact_v, &fd, 0.0);
        let t_sym = tolerance(&exact_v, &sym_v, 0.0);
        let s_fd = judge(Relation::Equal, &exact_v, &fd, t_fd);
        let s_sym = judge(Relation::Equal, &exact_v, &sym_v, t_sym);
        let mut pr = point_result(p, &exact_v, &fd, t_fd, s_fd.max(s_sym));
        pr.extra.insert("symbolic".into(), sym_v.value);
        pr.extra.insert("symbolic_error".into(), sym_v.error);
        pr.extra
            .insert("symbolic_difference".into(), exact_v.value - sym_v.value);
        pr.extra.insert("symbolic_tolerance".into(), t_sym);
        results.push(pr);
    }
    let msg = format!(
        "exact gradient = finite difference = symbolic derivative at {} test points",
        results.len()
    );
    Ok(finish(c, results, msg, "exact vs finite difference"))
}
