//! The pipeline of [`run`](super::run): the loss, the exact gradient and its finite-difference
//! cross-check, then the Monte-Carlo and CD-k estimates, judged.

use super::*;

/// Computes the loss, the exact gradient, its finite-difference cross-check, and with
/// [`GradOptions::mc`] / [`GradOptions::cd`] the Monte-Carlo and CD-k estimates, judged.
///
/// # Errors
/// [`GradError`] for an ill-posed problem (see its variants), a divergent or non-integrable
/// energy, or an energy that cannot be compiled for sampling. Non-convergence and statistical
/// outcomes are not errors: they are in [`GradResult::status`] and [`GradResult::reasons`].
#[allow(
    clippy::too_many_lines,
    reason = "one pipeline, in the order of the module docs"
)]
pub fn run(p: &GradProblem, opts: &GradOptions) -> Result<GradResult, GradError> {
    validate(p, opts)?;
    let m = Model::new(p)?;
    let b = &m.b;
    let data_args = |i: usize| -> Vec<String> { p.data.iter().map(|col| lit(col[i])).collect() };
    #[allow(clippy::cast_precision_loss, reason = "data counts are small")]
    let n = lit(m.n_data as f64);
    let data_free: Vec<String> = (0..m.n_data)
        .map(|i| {
            let e = m.call(&data_args(i));
            if m.zlist.is_empty() {
                e
            } else {
                format!("(-1/{b}*log(int[{}](exp(-{b}*{e}))))", m.zlist.join(", "))
            }
        })
        .collect();
    let loss_text = format!(
        "({})/{n} + 1/{b}*log(int[{}](exp(-{b}*{})))",
        data_free.join(" + "),
        m.model_binds(),
        m.call(&m.yprimes)
    );
    let loss_expr = m.prepare(&loss_text)?;
    let origin = Point::new();
    let loss = m
        .engine
        .eval(&loss_expr, &origin)
        .map_err(|e| engine_error_at(&e, "the loss cannot be evaluated"))?;

    let mut params = Vec::new();
    let mut power_reasons = Vec::new();
    for w in &p.wrt {
        let (exact, mv) = exact_gradient(&m, p, w)?;
        let fd = m.engine.richardson(&loss_expr, &origin, w).map_err(|e| {
            engine_error_at(
                &e,
                &format!(
                    "the finite difference of the loss in `{w}` (steps up to ±1e-2·max(1, |{w}|))"
                ),
            )
        })?;
        let (tol, agreement, why) = agreement(&exact, &fd, mv.value.abs());
        let agree = agreement == Status::Pass;
        if let Some(why) = why {
            power_reasons.push(format!("`{w}`: exact against finite difference: {why}"));
        }
        params.push(ParamResult {
            name: w.clone(),
            exact,
            model_term: mv,
            finite_difference: fd,
            agree,
            power: tol,
            agreement,
            monte_carlo: None,
            contrastive_divergence: None,
        });
    }

    let mut reasons: Vec<String> = power_reasons;
    if !loss.converged()
        || params
            .iter()
            .any(|r| !r.exact.converged() || !r.finite_difference.converged())
    {
        reasons.push(
            "a quadrature did not reach its tolerance: the exact values are not certified".into(),
        );
    }
    let sample_beta = opts.sample_beta.unwrap_or(p.beta);
    let mut mc_run = None;
    let mut mc_verdict = Verdict::Pass;
    let needs_draws = opts.mc.is_some() || opts.cd.is_some();
    let compiled = if needs_draws {
        Some(sampler::Compiled::new(
            &m.engine, &m.vars, &p.wrt, &m.inlined,
        )?)
    } else {
        None
    };
    let sampled = compiled.as_ref().map(|c| sampler::Sampled {
        engine: &m.engine,
        compiled: c,
        vars: &m.vars,
        energy: &m.inlined,
        beta: sample_beta,
    });
    if let (Some(total), Some(model)) = (opts.mc, &sampled) {
        let kind = opts
            .sampler
            .unwrap_or_else(|| sampler::default_sampler(&m.vars));
        let run = sampler::sample(model, kind, opts.step, total, opts.seed)?;
        let inputs: Vec<McInput> = params
            .iter()
            .zip(&run.values)
            .map(|(row, values)| {
                let refs: Vec<&[f64]> = values.iter().map(Vec::as_slice).collect();
                let est = if kind.is_markov() {
                    mc_estimate(&refs)
                } else {
                    iid_estimate(&values.concat())
                };
                let rhat = (kind.is_markov() && refs.len() > 1).then(|| ess::split_rhat(&refs));
                gradient_input(format!("d loss / d {}", row.name), row, est, rhat)
            })
            .collect();
        let j = judge(&inputs, opts.alpha);
        #[allow(clippy::cast_precision_loss)]
        let critical =
            crate::stats::special::quantile(1.0 - opts.alpha / (2.0 * inputs.len().max(1) as f64));
        for (((row, input), z), values) in params.iter_mut().zip(inputs).zip(&j.z).zip(run.values) {
            let data_term = row.exact.value + row.model_term.value;
            let first = values.iter().find_map(|c| c.first()).copied();
            row.monte_carlo = Some(McEstimate {
                power: critical * input.estimate.mcse + 2.0 * input.exact.error,
                estimate: input.estimate,
                z: *z,
                single_sample: McAverage {
                    mcse: input.estimate.sd,
                    sd: input.estimate.sd,
                    ..single_sample(first.map_or(f64::NAN, |g| data_term - g))
                },
                draws: opts.keep_draws.then(|| {
                    values
                        .iter()
                        .map(|c| c.iter().map(|g| data_term - g).collect())
                        .collect()
                }),
            });
        }
        mc_verdict = j.verdict;
        reasons.extend(j.reasons);
        mc_run = Some(McRun {
            sampler: kind,
            draws: total,
            acceptance: run.acceptance,
            summary: j.summary,
        });
    }
    let mut cd_run = None;
    if let (Some(k), Some(model)) = (opts.cd, &sampled) {
        let kind = opts
            .sampler
            .filter(|s| s.is_markov())
            .unwrap_or(SamplerKind::Mala);
        let step = opts.step.unwrap_or_else(|| kind.default_step(sample_beta));
        let chains = opts.mc.unwrap_or(DEFAULT_DRAWS);
        let cd = sampler::CdChains {
            kind,
            step,
            k,
            chains,
            seed: opts.seed,
        };
        let (values, acceptance) = sampler::contrastive(model, m.zlist.len(), &p.data, &cd)?;
        let shrink = gaussian_shrink(&m, p, sample_beta, kind, step, k);
        let inputs: Vec<McInput> = params
            .iter()
            .zip(&values)
            .map(|(row, v)| {
                gradient_input(
                    format!("CD-{k} d loss / d {}", row.name),
                    row,
                    iid_estimate(v),
                    None,
                )
            })
            .collect();
        let j = judge(&inputs, opts.alpha);
        for (i, (row, input)) in params.iter_mut().zip(inputs).enumerate() {
            let e = input.estimate;
            let bias = e.estimate - row.exact.value;
            let factor = shrink.get(i).copied().flatten();
            row.contrastive_divergence = Some(CdEstimate {
                estimate: e,
                bias,
                relative_bias: if row.exact.value.abs() > 0.0 {
                    bias / row.exact.value.abs()
                } else {
                    f64::NAN
                },
                z: j.z[i],
                biased: j.reject[i],
                shrink_factor: factor,
                z_predicted: factor.map(|f| (e.estimate - f * row.exact.value) / e.mcse),
            });
        }
        cd_run = Some(CdRun {
            k,
            sampler: kind,
            step,
            chains,
            acceptance,
        });
    }

    let status =
        if params.iter().any(|r| r.agreement == Status::Fail) || mc_verdict == Verdict::Fail {
            Status::Fail
        } else if !reasons.is_empty() || mc_verdict == Verdict::Inconclusive {
            Status::Inconclusive
        } else {
            Status::Pass
        };
    Ok(GradResult {
        beta: p.beta,
        n_data: m.n_data,
        loss,
        params,
        monte_carlo: mc_run,
        contrastive_divergence: cd_run,
        status,
        reasons,
    })
}

/// The input that judges one parameter's gradient estimate against its exact value: the data
/// term is exact, so the estimate is data − ⟨∂E/∂w⟩_draws, `model_term` the draws' average.
fn gradient_input(
    name: String,
    row: &ParamResult,
    model_term: McAverage,
    rhat: Option<f64>,
) -> McInput {
    let data_term = row.exact.value + row.model_term.value;
    McInput {
        name,
        estimate: McAverage {
            estimate: data_term - model_term.estimate,
            ..model_term
        },
        exact: row.exact.clone(),
        rhat,
    }
}

/// Exact against finite difference: the comparison's power (its tolerance: twice the summed
/// error bounds plus a 1e-10 relative floor), its verdict, and why it cannot fail when the power
/// rule says so. The gradient is the difference of the data term and the model term
/// `⟨∂E/∂w⟩` (of size `terms`): a power below that size detects an error in either, even where
/// they cancel to a gradient of 0.
pub(super) fn agreement(exact: &Value, fd: &Value, terms: f64) -> (f64, Status, Option<String>) {
    let tol =
        2.0 * (exact.error + fd.error) + 1e-10 * exact.value.abs().max(fd.value.abs()).max(1.0);
    let differ = tol.is_finite() && (exact.value - fd.value).abs() > tol;
    let scale = exact.value.abs().max(fd.value.abs()).max(terms);
    if differ {
        (tol, Status::Fail, None)
    } else if let Some(why) = crate::estimate::power_rule(tol, scale, POWER_FLOOR) {
        (tol, Status::Inconclusive, Some(why))
    } else {
        (tol, Status::Pass, None)
    }
}

/// The exact gradient in `w` and the exact contrastive term: `mean_i ⟨∂E/∂w⟩_{p(z|y_i)} −
/// ⟨∂E/∂w⟩_{p(y', z)}`, each integral by quadrature.
pub(super) fn exact_gradient(
    m: &Model,
    p: &GradProblem,
    w: &str,
) -> Result<(Value, Value), GradError> {
    let b = &m.b;
    #[allow(clippy::cast_precision_loss, reason = "data counts are small")]
    let n = lit(m.n_data as f64);
    let data_terms: Vec<String> = (0..m.n_data)
        .map(|i| {
            let args: Vec<String> = p.data.iter().map(|col| lit(col[i])).collect();
            let e = m.call(&args);
            if m.zlist.is_empty() {
                format!("diff[{w}]({e})")
            } else {
                format!(
                    "expect[{} ~ exp(-{b}*{e})](diff[{w}]({e}))",
                    m.zlist.join(", ")
                )
            }
        })
        .collect();
    let data_expr = m.prepare(&format!("({})/{n}", data_terms.join(" + ")))?;
    let e = m.call(&m.yprimes);
    let model_expr = m.prepare(&format!(
        "expect[{} ~ exp(-{b}*{e})](diff[{w}]({e}))",
        m.model_binds()
    ))?;
    let what = format!("the gradient in `{w}`");
    let origin = Point::new();
    let dv = m
        .engine
        .eval(&data_expr, &origin)
        .map_err(|e| engine_error_at(&e, &what))?;
    let mv = m
        .engine
        .eval(&model_expr, &origin)
        .map_err(|e| engine_error_at(&e, &what))?;
    let exact = Value::new(
        dv.value - mv.value,
        dv.error + mv.error,
        Termination::from_converged(dv.converged() && mv.converged()),
    );
    Ok((exact, mv))
}

/// For a Gaussian energy in one predicted variable on the real line (no latents) under ULA, the
/// chain's mean moves exactly as `m ← μ + ρ(m − μ)` with `ρ = 1 − hβA`, `A = ∂²E/∂y²`, so for
/// an observable linear in `y` CD-k equals `(1 − ρᵏ)` times the exact gradient. `None` for each
/// parameter where that does not hold.
fn gaussian_shrink(
    m: &Model,
    p: &GradProblem,
    beta: f64,
    kind: SamplerKind,
    step: f64,
    k: usize,
) -> Vec<Option<f64>> {
    let none = vec![None; p.wrt.len()];
    let [y] = p.predicted.as_slice() else {
        return none;
    };
    let full_line = matches!(y.domain, VarDomain::Continuous { lo, hi } if lo == f64::NEG_INFINITY && hi == f64::INFINITY);
    if kind != SamplerKind::Ula || !p.latent.is_empty() || !full_line {
        return none;
    }
    let second = |e: &Expr| -> Option<Expr> {
        let d = m.engine.derivative(e, &y.name).ok()?;
        m.engine.derivative(&d, &y.name).ok()
    };
    let Some(a_expr) = second(&m.inlined) else {
        return none;
    };
    if m.engine.free_variables(&a_expr).contains(&y.name) {
        return none;
    }
    let Ok(a) = m.engine.eval(&a_expr, &Point::new()) else {
        return none;
    };
    let rho = 1.0 - step * beta * a.value;
    let Ok(k) = i32::try_from(k) else {
        return none;
    };
    p.wrt
        .iter()
        .map(|w| {
            let g = m.engine.derivative(&m.inlined, w).ok()?;
            let g2 = second(&g)?;
            let zero = m.engine.eval(&g2, &Point::new()).ok()?;
            (!m.engine.free_variables(&g2).contains(&y.name) && zero.value.abs() < 1e-12)
                .then(|| 1.0 - rho.powi(k))
        })
        .collect()
}
