//! The `ebmcheck grad` result: its JSON ([`json`]), its text report ([`text`]) and the
//! `--report` page: the gradient table, exact / finite-difference /
//! Monte-Carlo (and CD-k) estimates side by side with error bars, and per parameter the running
//! Monte-Carlo estimate with its ±2 SE band and the histogram of the single-sample estimator.

use serde::Serialize;

use super::json::Ordered;
use super::page::{Block, Cell, Mark, Page, Table};
use super::plot::{grouped_errorbars, histogram, running_estimate, running_points};
use crate::estimate::Verdict;
use crate::expr::format_number;
use crate::grad::{GradResult, ParamResult};

/// Points of each running-estimate curve.
const RUNNING_POINTS: usize = 40;
/// Bins of the single-sample histogram.
const BINS: usize = 50;

fn num(x: f64) -> Cell {
    Cell::Num(if x.is_finite() {
        format!("{x:.10e}")
    } else {
        "—".into()
    })
}

fn short(x: f64) -> Cell {
    Cell::Num(if x.is_finite() {
        format!("{x:.3e}")
    } else {
        "—".into()
    })
}

/// The report page of a gradient check. `command` is shown under the title (the command line or
/// a description of the problem). Figures need [`crate::grad::GradOptions::keep_draws`] for the
/// running estimate and the histogram; without it the page has the table and the side-by-side
/// figure only. A figure that cannot be drawn (e.g. no finite value) is replaced by a note.
pub fn page(r: &GradResult, command: &str) -> Page {
    let mut page = Page::new("ebmcheck: maximum-likelihood gradient");
    page.push(Block::Pre(command.to_string()));
    page.push(Block::Verdict(
        Mark::of(r.status),
        format!(
            "loss = {:.12e} ± {:.1e} ({} data point{}, β = {})",
            r.loss.value,
            r.loss.error,
            r.n_data,
            if r.n_data == 1 { "" } else { "s" },
            format_number(r.beta)
        ),
    ));
    page.push(Block::Heading("Gradient".into()));
    let mut table = Table::new([
        "parameter",
        "exact",
        "± error",
        "finite difference",
        "± error",
        "power",
        "agree",
    ]);
    for p in &r.params {
        table.row(
            vec![
                Cell::Text(p.name.clone()),
                num(p.exact.value),
                short(p.exact.error),
                num(p.finite_difference.value),
                short(p.finite_difference.error),
                short(p.power),
                // The comparison's verdict, not the bare agreement: a comparison that could not
                // fail (no finite power) is inconclusive, never a pass.
                Cell::Mark(Mark::of(p.agreement)),
            ],
            p.agreement != crate::estimate::Verdict::Pass,
        );
    }
    page.push(Block::Table(table));
    if r.monte_carlo.is_some() {
        let mut mc = Table::new([
            "parameter",
            "Monte Carlo",
            "MCSE",
            "ESS",
            "z-score",
            "power",
        ]);
        for p in &r.params {
            if let Some(m) = &p.monte_carlo {
                mc.row(
                    vec![
                        Cell::Text(p.name.clone()),
                        num(m.estimate.estimate),
                        short(m.estimate.mcse),
                        Cell::Num(format!("{:.0}", m.estimate.ess)),
                        Cell::Num(format!("{:.2}", m.z)),
                        short(m.power),
                    ],
                    !m.z.is_finite(),
                );
            }
        }
        page.push(Block::Table(mc));
    }
    if r.contrastive_divergence.is_some() {
        let mut cd = Table::new([
            "parameter",
            "CD-k",
            "MCSE",
            "bias",
            "relative bias",
            "z vs exact",
            "predicted shrink",
        ]);
        for p in &r.params {
            if let Some(c) = &p.contrastive_divergence {
                cd.row(
                    vec![
                        Cell::Text(p.name.clone()),
                        num(c.estimate.estimate),
                        short(c.estimate.mcse),
                        short(c.bias),
                        Cell::Num(format!("{:.3}", c.relative_bias)),
                        Cell::Num(format!("{:.1}", c.z)),
                        Cell::Num(
                            c.shrink_factor
                                .map_or_else(|| "—".into(), |f| format!("{f:.4}")),
                        ),
                    ],
                    false,
                );
            }
        }
        page.push(Block::Table(cd));
    }
    if let Some(mc) = &r.monte_carlo {
        let acc: Vec<String> = mc.acceptance.iter().map(|a| format!("{a:.2}")).collect();
        page.push(Block::Paragraph(format!(
            "Monte Carlo: sampler {}, {} draws, acceptance {}. {}",
            mc.sampler.name(),
            mc.draws,
            acc.join(" "),
            mc.summary
        )));
    }
    if let Some(cd) = &r.contrastive_divergence {
        page.push(Block::Paragraph(format!(
            "Contrastive divergence CD-{}: {} chains started at the data, {} kernel with step {:.3e}, acceptance {:.2}. Its bias is a finding: it does not change the status.",
            cd.k,
            cd.chains,
            cd.sampler.name(),
            cd.step,
            cd.acceptance
        )));
    }
    for reason in &r.reasons {
        page.push(Block::Paragraph(format!("note: {reason}")));
    }
    side_by_side(&mut page, r);
    for p in &r.params {
        let Some(m) = &p.monte_carlo else { continue };
        let Some(draws) = &m.draws else { continue };
        page.push(Block::Heading(format!("Monte Carlo for ∂L/∂{}", p.name)));
        let chains: Vec<&[f64]> = draws.iter().map(Vec::as_slice).collect();
        let pts = running_points(&chains, RUNNING_POINTS);
        figure(
            &mut page,
            running_estimate(
                &format!(
                    "running estimate of ∂L/∂{} (β = {})",
                    p.name,
                    format_number(r.beta)
                ),
                &format!("∂L/∂{}", p.name),
                &pts,
                Some(p.exact.value),
            ),
            format!(
                "The Monte-Carlo estimate of ∂L/∂{} after n draws with a ±2 standard-error band (standard error from the effective sample size of each prefix); the dashed line is the exact value.",
                p.name
            ),
        );
        let all: Vec<f64> = draws.concat();
        figure(
            &mut page,
            histogram(
                &format!("single-sample estimator of ∂L/∂{}", p.name),
                &format!("∂F(y_data)/∂{0} − ∂E(ŷ)/∂{0}", p.name),
                &all,
                BINS,
                None,
                &[
                    ("exact".into(), p.exact.value),
                    ("mean".into(), m.estimate.estimate),
                ],
            ),
            format!(
                "Histogram of the lecture's single-sample estimator over {} draws; its mean is the Monte-Carlo estimate and should sit on the exact gradient.",
                all.len()
            ),
        );
    }
    page
}

/// Exact, finite difference, Monte Carlo and CD-k per parameter with ±2σ bars (numeric error
/// bounds for the deterministic values, 2 MCSE for the estimates).
fn side_by_side(page: &mut Page, r: &GradResult) {
    let names: Vec<String> = r.params.iter().map(|p| p.name.clone()).collect();
    let mut groups: Vec<(String, Vec<(f64, f64)>)> = vec![
        (
            "exact".into(),
            r.params
                .iter()
                .map(|p| (p.exact.value, 2.0 * p.exact.error))
                .collect(),
        ),
        (
            "finite difference".into(),
            r.params
                .iter()
                .map(|p| (p.finite_difference.value, 2.0 * p.finite_difference.error))
                .collect(),
        ),
    ];
    if r.monte_carlo.is_some() {
        groups.push((
            "Monte Carlo ± 2 SE".into(),
            r.params
                .iter()
                .map(|p| {
                    p.monte_carlo.as_ref().map_or((f64::NAN, 0.0), |m| {
                        (m.estimate.estimate, 2.0 * m.estimate.mcse)
                    })
                })
                .collect(),
        ));
    }
    if let Some(cd) = &r.contrastive_divergence {
        groups.push((
            format!("CD-{} ± 2 SE", cd.k),
            r.params
                .iter()
                .map(|p| {
                    p.contrastive_divergence
                        .as_ref()
                        .map_or((f64::NAN, 0.0), |c| {
                            (c.estimate.estimate, 2.0 * c.estimate.mcse)
                        })
                })
                .collect(),
        ));
    }
    page.push(Block::Heading("Estimates side by side".into()));
    figure(
        page,
        grouped_errorbars(
            &format!(
                "the gradient per parameter at β = {}",
                format_number(r.beta)
            ),
            "gradient",
            "parameter",
            &names,
            &groups,
        ),
        "Exact gradient (quadrature), Richardson finite difference of the loss, and the Monte-Carlo estimates, with error bars of twice their error bound or standard error.".into(),
    );
}

fn figure(page: &mut Page, svg: Result<String, super::plot::PlotError>, caption: String) {
    match svg {
        Ok(svg) => {
            page.push(Block::Figure {
                svg,
                caption,
                file: None,
            });
        }
        Err(e) => {
            page.push(Block::Paragraph(format!("note: {e}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grad::{GradOptions, run};
    use crate::testing::grad::double_well;

    #[test]
    fn the_page_has_one_side_by_side_figure_and_two_per_parameter() {
        let opts = GradOptions {
            mc: Some(4000),
            cd: Some(1),
            keep_draws: true,
            ..GradOptions::default()
        };
        let r = run(&double_well(), &opts).expect("runs");
        let p = page(&r, "grad test");
        assert_eq!(p.figure_count(), 1 + 2 * r.params.len());
        let html = p.to_html();
        assert!(
            html.contains("Monte Carlo for ∂L/∂w") && html.contains("CD-1"),
            "{html}"
        );
        // Without kept draws: only the side-by-side figure.
        let r = run(&double_well(), &GradOptions::default()).expect("runs");
        assert_eq!(page(&r, "grad").figure_count(), 1);
    }
}

/// The JSON of `grad --format json` (schema 1), keys in this order and parameters in `wrt`
/// order: `{"schema": 1, "loss", "exact": {w: ..}, "finite_difference": {w: ..},
/// "monte_carlo": {w: {"estimate", "mcse", "ess", "z", "power"}}` (only with Monte Carlo)`,
/// "status", "power": {w: ..}, "agreement": {w: ..}, "reasons": [..]}`, and with CD-k a
/// `"contrastive_divergence"` object last: `{"k", "sampler", "step", "chains", "acceptance",
/// w: {"estimate", "mcse", "bias", "relative_bias", "z", "biased", "shrink_factor",
/// "z_predicted"}}`. Non-finite numbers are `null`. Printed with
/// [`Spacing::Objects`](super::Spacing::Objects) (see `docs/grad.md`).
#[derive(Debug, Clone, Serialize)]
pub struct GradReport<'a> {
    /// Always 1.
    pub schema: u32,
    /// The loss `L(w)`.
    pub loss: f64,
    /// The exact gradient, by parameter.
    pub exact: Ordered<'a, f64>,
    /// The finite difference, by parameter.
    pub finite_difference: Ordered<'a, f64>,
    /// The Monte-Carlo estimates, by parameter (with `--mc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monte_carlo: Option<Ordered<'a, Option<McJson>>>,
    /// `pass`, `fail` or `inconclusive`.
    pub status: &'static str,
    /// The smallest exact-vs-finite-difference discrepancy each comparison could detect.
    pub power: Ordered<'a, f64>,
    /// Each comparison's verdict.
    pub agreement: Ordered<'a, &'static str>,
    /// Why the status is not `pass`, or notes.
    pub reasons: &'a [String],
    /// Contrastive divergence (with `--cd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contrastive_divergence: Option<CdJson<'a>>,
}

/// One parameter's Monte-Carlo estimate.
#[derive(Debug, Clone, Serialize)]
pub struct McJson {
    /// The estimate.
    pub estimate: f64,
    /// Its Monte-Carlo standard error.
    pub mcse: f64,
    /// Its effective sample size.
    pub ess: f64,
    /// `(estimate − exact)/mcse`.
    pub z: f64,
    /// The smallest |estimate − exact| the z-test could detect.
    pub power: f64,
}

/// The CD-k block: how the chains ran, then one entry per parameter.
#[derive(Debug, Clone, Serialize)]
pub struct CdJson<'a> {
    /// Kernel steps per chain.
    pub k: usize,
    /// The kernel.
    pub sampler: &'static str,
    /// Its step.
    pub step: f64,
    /// Number of chains.
    pub chains: usize,
    /// Acceptance rate over all steps.
    pub acceptance: f64,
    /// Each parameter's CD-k estimate, keyed by its name.
    #[serde(flatten)]
    pub params: Ordered<'a, Option<CdParamJson>>,
}

/// One parameter's CD-k estimate and bias.
#[derive(Debug, Clone, Serialize)]
pub struct CdParamJson {
    /// The CD-k estimate.
    pub estimate: f64,
    /// Its Monte-Carlo standard error.
    pub mcse: f64,
    /// `estimate − exact`.
    pub bias: f64,
    /// `bias / |exact|`.
    pub relative_bias: f64,
    /// `(estimate − exact)/mcse`.
    pub z: f64,
    /// Whether the z-test rejects CD-k = exact.
    pub biased: bool,
    /// The predicted `CD-k / exact` (Gaussian energy under ULA), else `null`.
    pub shrink_factor: Option<f64>,
    /// `(estimate − shrink·exact)/mcse`, else `null`.
    pub z_predicted: Option<f64>,
}

/// The JSON result of a gradient check.
pub fn json(r: &GradResult) -> GradReport<'_> {
    let per = |f: &dyn Fn(&ParamResult) -> f64| -> Ordered<'_, f64> {
        Ordered(r.params.iter().map(|p| (p.name.as_str(), f(p))).collect())
    };
    GradReport {
        schema: 1,
        loss: r.loss.value,
        exact: per(&|p| p.exact.value),
        finite_difference: per(&|p| p.finite_difference.value),
        monte_carlo: r.monte_carlo.as_ref().map(|_| {
            Ordered(
                r.params
                    .iter()
                    .map(|p| {
                        let m = p.monte_carlo.as_ref().map(|m| McJson {
                            estimate: m.estimate.estimate,
                            mcse: m.estimate.mcse,
                            ess: m.estimate.ess,
                            z: m.z,
                            power: m.power,
                        });
                        (p.name.as_str(), m)
                    })
                    .collect(),
            )
        }),
        status: r.status.as_str(),
        power: per(&|p| p.power),
        agreement: Ordered(
            r.params
                .iter()
                .map(|p| (p.name.as_str(), p.agreement.as_str()))
                .collect(),
        ),
        reasons: &r.reasons,
        contrastive_divergence: r.contrastive_divergence.as_ref().map(|cd| CdJson {
            k: cd.k,
            sampler: cd.sampler.name(),
            step: cd.step,
            chains: cd.chains,
            acceptance: cd.acceptance,
            params: Ordered(
                r.params
                    .iter()
                    .map(|p| {
                        let c = p.contrastive_divergence.as_ref().map(|c| CdParamJson {
                            estimate: c.estimate.estimate,
                            mcse: c.estimate.mcse,
                            bias: c.bias,
                            relative_bias: c.relative_bias,
                            z: c.z,
                            biased: c.biased,
                            shrink_factor: c.shrink_factor,
                            z_predicted: c.z_predicted,
                        });
                        (p.name.as_str(), c)
                    })
                    .collect(),
            ),
        }),
    }
}

/// The text report: the loss, a table of exact and finite-difference values, the Monte-Carlo
/// and CD-k tables, notes and the status.
pub fn text(r: &GradResult) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "loss = {} ± {:.1e}  ({} data point{}, beta = {})",
        show(r.loss.value),
        r.loss.error,
        r.n_data,
        if r.n_data == 1 { "" } else { "s" },
        format_number(r.beta)
    );
    let _ = writeln!(
        out,
        "{:<10}  {:>22}  {:>9}  {:>22}  {:>9}  {:>9}  agree",
        "parameter", "exact gradient", "± error", "finite difference", "± error", "power"
    );
    for p in &r.params {
        let _ = writeln!(
            out,
            "{:<10}  {:>22}  {:>9.1e}  {:>22}  {:>9.1e}  {:>9.1e}  {}",
            p.name,
            show(p.exact.value),
            p.exact.error,
            show(p.finite_difference.value),
            p.finite_difference.error,
            p.power,
            match p.agreement {
                Verdict::Pass => "yes",
                Verdict::Fail => "NO",
                _ => "cannot tell",
            }
        );
    }
    if let Some(mc) = &r.monte_carlo {
        let acc: Vec<String> = mc.acceptance.iter().map(|a| format!("{a:.2}")).collect();
        let _ = writeln!(
            out,
            "Monte Carlo: sampler {}, {} draws, acceptance {}",
            mc.sampler.name(),
            mc.draws,
            acc.join(" ")
        );
        let _ = writeln!(
            out,
            "{:<10}  {:>22}  {:>9}  {:>9}  {:>8}  {:>9}",
            "parameter", "estimate", "mcse", "ess", "z-score", "power"
        );
        for p in &r.params {
            if let Some(m) = &p.monte_carlo {
                let _ = writeln!(
                    out,
                    "{:<10}  {:>22}  {:>9.2e}  {:>9.0}  {:>8.2}  {:>9.2e}",
                    p.name,
                    show(m.estimate.estimate),
                    m.estimate.mcse,
                    m.estimate.ess,
                    m.z,
                    m.power
                );
            }
        }
        let _ = writeln!(out, "{}", mc.summary);
    }
    if let Some(cd) = &r.contrastive_divergence {
        let _ = writeln!(
            out,
            "Contrastive divergence CD-{}: kernel {} (step {:.3e}), {} chains started at the data, acceptance {:.2}",
            cd.k,
            cd.sampler.name(),
            cd.step,
            cd.chains,
            cd.acceptance
        );
        let _ = writeln!(
            out,
            "{:<10}  {:>22}  {:>9}  {:>12}  {:>9}  {:>8}  {:>9}",
            "parameter", "CD estimate", "mcse", "bias", "rel. bias", "z-score", "shrink"
        );
        for p in &r.params {
            if let Some(c) = &p.contrastive_divergence {
                let _ = writeln!(
                    out,
                    "{:<10}  {:>22}  {:>9.2e}  {:>12.4e}  {:>9.3}  {:>8.2}  {:>9}{}",
                    p.name,
                    show(c.estimate.estimate),
                    c.estimate.mcse,
                    c.bias,
                    c.relative_bias,
                    c.z,
                    c.shrink_factor
                        .map_or_else(|| "-".to_string(), |f| format!("{f:.4}")),
                    if c.biased { "  biased" } else { "" }
                );
            }
        }
    }
    let said = r.monte_carlo.as_ref().map_or("", |m| m.summary.as_str());
    for reason in r.reasons.iter().filter(|x| !said.contains(x.as_str())) {
        let _ = writeln!(out, "note: {reason}");
    }
    let _ = writeln!(out, "status: {}", r.status.as_str());
    out
}

/// A number for the text table: 13 significant digits, decimal for moderate sizes.
fn show(x: f64) -> String {
    if x == 0.0 || (1e-3..1e5).contains(&x.abs()) {
        let digits = 12 - x.abs().log10().floor().clamp(-3.0, 4.0) as i32;
        format!("{x:.0$}", usize::try_from(digits).unwrap_or(12))
    } else {
        format!("{x:.12e}")
    }
}
