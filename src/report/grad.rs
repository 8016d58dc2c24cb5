//! The `ebmcheck grad --report` page: the gradient table, exact / finite-difference /
//! Monte-Carlo (and CD-k) estimates side by side with error bars, and per parameter the running
//! Monte-Carlo estimate with its ±2 SE band and the histogram of the single-sample estimator.

use super::page::{Block, Cell, Mark, Page, Table};
use super::plot::{grouped_errorbars, histogram, running_estimate, running_points};
use crate::expr::format_number;
use crate::grad::GradResult;

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
            page.push(Block::Figure { svg, caption });
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
