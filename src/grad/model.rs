//! The problem checked ([`validate`]) and turned into a model: the engine with the energy as a
//! definition, and the energy's call as expression text for the loss and its gradient.

use super::*;

/// A number as expression text (shortest round-trip form, parenthesised for signs).
pub(super) fn lit(x: f64) -> String {
    format!("({x:e})")
}

fn parse_text(text: &str) -> Result<Expr, GradError> {
    parse(text).map_err(|d| {
        GradError::Internal(format!(
            "internal expression `{text}` does not parse: {}",
            d.message
        ))
    })
}

/// Checks the problem: variable counts and names, β, parameters, data.
pub(super) fn validate(p: &GradProblem, opts: &GradOptions) -> Result<(), GradError> {
    if p.predicted.is_empty() {
        return Err(GradError::input_remedy(
            "no predicted variable",
            Remedy::DeclarePredicted,
        ));
    }
    if p.predicted.len() > 3 || p.latent.len() > 3 || p.predicted.len() + p.latent.len() > 4 {
        return Err(GradError::input(
            "too many variables: y and z may have 1–3 dimensions each, at most 4 together",
        ));
    }
    let names: Vec<&str> = p
        .predicted
        .iter()
        .chain(&p.latent)
        .map(|v| v.name.as_str())
        .collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(GradError::input(format!(
                "the variable `{n}` is declared twice"
            )));
        }
        if n.ends_with('\'') {
            return Err(GradError::input_help(
                format!(
                    "the variable `{n}` ends with a prime, which `grad` reserves for the model's samples"
                ),
                "rename it",
            ));
        }
    }
    for (what, b) in [("beta", Some(p.beta)), ("sample beta", opts.sample_beta)] {
        if let Some(b) = b
            && !(b.is_finite() && b > 0.0)
        {
            return Err(GradError::input(format!(
                "{what} = {b}: the inverse temperature must be positive and finite"
            )));
        }
    }
    let bindings = p.context.bindings();
    for (i, w) in p.wrt.iter().enumerate() {
        if w.is_empty() {
            return Err(GradError::input("an empty parameter name in wrt"));
        }
        if names.contains(&w.as_str()) {
            return Err(GradError::input(format!(
                "`{w}` is a variable, not a parameter to differentiate in"
            )));
        }
        if bindings.number(w).is_none() {
            return Err(GradError::input_remedy(
                format!("the parameter `{w}` has no value"),
                Remedy::SetNumber(w.clone()),
            ));
        }
        if p.wrt[..i].contains(w) {
            return Err(GradError::input(format!(
                "`{w}` is listed twice among the parameters"
            )));
        }
    }
    if p.wrt.is_empty() {
        return Err(GradError::input("no parameter to differentiate in"));
    }
    if p.data.len() != p.predicted.len() {
        return Err(GradError::input(format!(
            "{} data columns for {} predicted variables",
            p.data.len(),
            p.predicted.len()
        )));
    }
    for (v, col) in p.predicted.iter().zip(&p.data) {
        if col.is_empty() {
            return Err(GradError::input_remedy(
                format!("the predicted variable `{}` has no data", v.name),
                Remedy::AddData(v.name.clone()),
            ));
        }
        if let Some(x) = col.iter().find(|x| !x.is_finite() || !v.contains(**x)) {
            return Err(GradError::input(format!(
                "the data value {x} is outside the domain of `{}`",
                v.name
            )));
        }
    }
    if p.data.iter().any(|c| c.len() != p.data[0].len()) {
        let counts: Vec<String> = p
            .predicted
            .iter()
            .zip(&p.data)
            .map(|(v, c)| format!("{} has {}", v.name, c.len()))
            .collect();
        return Err(GradError::input(format!(
            "the data counts differ ({}): the i-th values of all variables form the i-th data point",
            counts.join(", ")
        )));
    }
    if opts.mc == Some(0) {
        return Err(GradError::input(
            "the number of Monte-Carlo draws must be positive",
        ));
    }
    if opts.cd == Some(0) {
        return Err(GradError::input(
            "contrastive divergence needs at least one kernel step",
        ));
    }
    // Work budgets, checked before anything is allocated for the draws.
    let draws = opts.mc.map_or(0, |n| n as u128);
    let steps = opts.cd.map_or(0, |k| k as u128);
    for (b, wanted, what) in [
        (Budget::Draws, draws, "`mc`"),
        (
            Budget::Draws,
            steps.saturating_mul(draws.max(1)),
            "`cd` steps times the `mc` draws",
        ),
    ] {
        if let Err(e) = budgets::check(b, wanted, what) {
            return Err(GradError::input_help(e.message(), e.help()));
        }
    }
    if let Some(h) = opts.step
        && !(h.is_finite() && h > 0.0)
    {
        return Err(GradError::input(format!(
            "the kernel step {h} must be positive and finite"
        )));
    }
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(GradError::input(format!(
            "the false-alarm rate {} must be in (0, 1)",
            opts.alpha
        )));
    }
    Ok(())
}

/// The model built from a problem: the engine and the energy's call as text.
pub(super) struct Model {
    pub(super) engine: Engine,
    /// The energy with the context's definitions inlined.
    pub(super) inlined: Expr,
    pub(super) vars: Vec<Variable>,
    pub(super) zlist: Vec<String>,
    pub(super) yprimes: Vec<String>,
    pub(super) b: String,
    pub(super) n_data: usize,
}

impl Model {
    pub(super) fn new(p: &GradProblem) -> Result<Model, GradError> {
        let mut ctx = p.context.clone();
        let inlined = ctx
            .inline(&p.energy)
            .map_err(|d| GradError::input(d.message))?;
        let vars: Vec<Variable> = p.predicted.iter().chain(&p.latent).cloned().collect();
        let names: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
        let bindings = ctx.bindings();
        let unknown: Vec<String> = crate::expr::free_variables(&inlined)
            .into_iter()
            .filter(|v| {
                !names.contains(v)
                    && !matches!(
                        bindings.get(v),
                        Some(crate::expr::Value::Number(_) | crate::expr::Value::List(_))
                    )
            })
            .collect();
        if !unknown.is_empty() {
            return Err(GradError::UnknownNames(unknown));
        }
        if ctx.definition(ENERGY_NAME).is_some() {
            return Err(GradError::input(format!(
                "`{ENERGY_NAME}` is reserved by `grad`"
            )));
        }
        ctx.add_definition(Definition {
            name: ENERGY_NAME.to_string(),
            name_span: Span::default(),
            params: names,
            body: p.energy.clone(),
        })
        .map_err(|d| GradError::input(d.message))?;
        ctx.keep_spans_of(ENERGY_NAME);
        let domains: BTreeMap<String, VarDomain> =
            vars.iter().map(|v| (v.name.clone(), v.domain)).collect();
        Ok(Model {
            engine: Engine::new(ctx, domains),
            inlined,
            zlist: p.latent.iter().map(|v| v.name.clone()).collect(),
            yprimes: p.predicted.iter().map(|v| format!("{}'", v.name)).collect(),
            vars,
            b: lit(p.beta),
            n_data: p.data.first().map_or(0, Vec::len),
        })
    }

    pub(super) fn call(&self, yargs: &[String]) -> String {
        let mut a = yargs.to_vec();
        a.extend(self.zlist.iter().cloned());
        format!("{ENERGY_NAME}({})", a.join(", "))
    }

    pub(super) fn model_binds(&self) -> String {
        let mut v = self.yprimes.clone();
        v.extend(self.zlist.iter().cloned());
        v.join(", ")
    }

    /// Parses generated text around calls of the energy; its own nodes get the empty span, so
    /// an error's span, when it has one, is in the energy's text.
    pub(super) fn prepare(&self, text: &str) -> Result<Expr, GradError> {
        let generated = crate::expr::with_span(&parse_text(text)?, Span::default());
        self.engine
            .prepare(&generated)
            .map_err(|e| engine_error_at(&e, "the loss cannot be built"))
    }
}
