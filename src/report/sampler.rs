//! Rendering of `ebmcheck sampler-test`: its JSON ([`json`]), the text table of the battery and
//! the verdict line, and
//! the report page with its sampler figures (histogram over the exact density, contours with the
//! draws, QQ plot, traces).

use super::compare::Cost;
use super::page::{Block, Cell, Mark, Page, Table};
use super::plot::{
    GREY, LIGHT, PlotError, SIZE, draw_legend, err, finite_range, histogram, line_key,
    tick_formatter,
};
use crate::quad::Energy;
use crate::sample::{ReferenceJson, SamplerTestOutcome};
use crate::stats::battery::{InterleavingJson, ReasonJson, TestJson};
use crate::stats::{Draws, Verdict};
use plotters::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

mod figures;
mod files;

use figures::{
    CONTOUR_MASSES, GRID_1D, SCATTER_POINTS, TRACE_PANELS, TRACE_POINTS, WINDOW_SDS, density_1d,
    density_2d, exact_mean_sd, linspace, qq_pairs, qq_svg, scatter_contour_svg, thinned_pairs,
    trace_svg,
};
pub use files::{
    CostJson, SampleFile, SampleJson, SamplerTestComparison, SamplerTestReport, json, sample_json,
    text_all,
};

/// Why the verdict is what it is: empty for `pass`, the failing tests' evidence for `fail`, the
/// reasons (with a hint) for `inconclusive`.
pub fn verdict_reason(outcome: &SamplerTestOutcome) -> String {
    let report = &outcome.report;
    match report.verdict {
        Verdict::Pass => String::new(),
        Verdict::Fail => {
            let failing: Vec<String> = report.failures().iter().map(|t| t.detail.clone()).collect();
            failing.join("; ")
        }
        Verdict::Inconclusive | Verdict::Error => report.reasons.join("; "),
    }
}

/// The verdict in words: `pass`, `fail: <the failing tests' evidence>` or
/// `inconclusive: <why, with a hint>`.
pub fn verdict_line(outcome: &SamplerTestOutcome) -> String {
    let word = match outcome.report.verdict {
        Verdict::Pass => return "pass".to_string(),
        Verdict::Fail => "fail",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Error => "error",
    };
    format!("{word}: {}", verdict_reason(outcome))
}

/// The text output of `ebmcheck sampler-test`: one row per test (statistic, p-value, Holm p,
/// reject, detail), the draws and their effective sample sizes, R̂, the reference's notes and the
/// verdict at α.
pub fn text(outcome: &SamplerTestOutcome) -> String {
    let report = &outcome.report;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<52} {:>11} {:>10} {:>10}  {:<6}  detail",
        "test", "statistic", "p", "Holm p", "reject"
    );
    for t in &report.tests {
        let _ = writeln!(
            s,
            "{:<52} {:>11.4} {:>10.2e} {:>10.2e}  {:<6}  {}",
            t.name,
            t.statistic,
            t.p_value,
            t.adjusted_p,
            if t.reject { "yes" } else { "no" },
            t.detail
        );
    }
    let ess: Vec<String> = report
        .ess
        .iter()
        .map(|(k, v)| format!("{k} = {v:.0}"))
        .collect();
    let _ = writeln!(
        s,
        "draws: {}, effective sample size: {}",
        report.n,
        ess.join(", ")
    );
    for (k, v) in &report.rhat {
        let _ = writeln!(s, "R-hat of {k}: {v:.4}");
    }
    for n in &outcome.exact.notes {
        let _ = writeln!(s, "note: {n}");
    }
    let _ = writeln!(
        s,
        "verdict at alpha = {}: {}",
        outcome.alpha,
        verdict_line(outcome)
    );
    s
}

fn mark(v: Verdict) -> Mark {
    Mark::of(v)
}

fn num(v: f64, fmt: fn(f64) -> String) -> Cell {
    Cell::Num(if v.is_finite() { fmt(v) } else { "–".into() })
}

/// Adds a figure, or a paragraph saying why it could not be drawn.
fn push_figure(page: &mut Page, svg: Result<String, PlotError>, caption: String) {
    match svg {
        Ok(svg) => {
            page.push(Block::Figure {
                svg,
                caption,
                file: None,
            });
        }
        Err(e) => {
            page.push(Block::Paragraph(format!("{caption}: {e}")));
        }
    }
}

/// The report page of `ebmcheck sampler-test` (issue 8): the verdict, the tests table (statistic,
/// p-value, Holm-adjusted p, reject, smallest detectable effect, detail) and the figures:
/// * 1D: the histogram of the draws over the exact density, a QQ plot against the exact
///   quantiles, the trace per chain;
/// * 2D: the histogram of each marginal over its exact marginal density, the exact 50/90/99 %
///   highest-density contours with the (thinned) draws, a QQ plot of E(y) when its exact CDF
///   is known, and the trace of each coordinate;
/// * 3–4D: the histogram of each marginal with its exact mean, and the traces.
///
/// `energy` and `beta` give the exact density of the figures (normalised on the plotting grid);
/// `draws` are those judged in `outcome`. A figure that cannot be drawn is replaced by a sentence.
pub fn page(
    title: &str,
    outcome: &SamplerTestOutcome,
    draws: &Draws,
    energy: &dyn Energy,
    beta: f64,
) -> Page {
    let report = &outcome.report;
    let mut page = Page::new(title);
    // The mark already says pass, fail or inconclusive; the sentence says why.
    let reason = verdict_reason(outcome);
    page.push(Block::Verdict(
        mark(report.verdict),
        if reason.is_empty() {
            format!("at family-wise α = {}", outcome.alpha)
        } else {
            format!("at family-wise α = {}: {reason}", outcome.alpha)
        },
    ));
    let ess: Vec<String> = report
        .ess
        .iter()
        .map(|(k, v)| format!("{k} = {v:.0}"))
        .collect();
    let mut facts = format!(
        "{} draws in {} chain(s) at β = {}; effective sample size {}.",
        report.n,
        draws.chains.len(),
        crate::expr::format_number(beta),
        ess.join(", ")
    );
    if !report.rhat.is_empty() {
        let rhat: Vec<String> = report
            .rhat
            .iter()
            .map(|(k, v)| format!("{k} = {v:.4}"))
            .collect();
        facts.push_str(&format!(" R-hat {}.", rhat.join(", ")));
    }
    page.push(Block::Paragraph(facts));
    for n in &outcome.exact.notes {
        page.push(Block::Paragraph(format!("Note: {n}.")));
    }

    page.push(Block::Heading("Tests".into()));
    let mut table = Table::new([
        "test",
        "statistic",
        "p-value",
        "Holm p",
        "result",
        "smallest detectable effect",
        "detail",
    ]);
    for t in &report.tests {
        let failing = t.reject && t.trusted;
        table.row(
            vec![
                Cell::Text(t.name.clone()),
                num(t.statistic, |v| format!("{v:.4}")),
                num(t.p_value, |v| format!("{v:.2e}")),
                num(t.adjusted_p, |v| format!("{v:.2e}")),
                Cell::Mark(if failing {
                    Mark::Fail
                } else if t.trusted {
                    Mark::Pass
                } else {
                    Mark::Inconclusive
                }),
                t.min_detectable_effect
                    .map_or(Cell::Num("–".into()), |v| num(v, |v| format!("{v:.3e}"))),
                Cell::Text(t.detail.clone()),
            ],
            failing,
        );
    }
    page.push(Block::Table(table));

    let d = draws.dim;
    let names: Vec<&str> = draws.names.iter().map(String::as_str).collect();
    let column = |i: usize| -> Vec<f64> {
        draws
            .chains
            .iter()
            .flat_map(|c| c.chunks_exact(d).map(move |y| y[i]))
            .collect()
    };
    let windows: Vec<Option<(f64, f64)>> = names
        .iter()
        .map(|n| exact_mean_sd(outcome, n).map(|(m, s)| (m - WINDOW_SDS * s, m + WINDOW_SDS * s)))
        .collect();
    page.push(Block::Heading(
        "Draws against the exact distribution".into(),
    ));
    if d == 1 {
        let density =
            windows[0].map(|(lo, hi)| density_1d(energy, beta, &linspace(lo, hi, GRID_1D)));
        push_figure(
            &mut page,
            histogram(
                &format!("draws of {} over the exact density (β = {beta})", names[0]),
                names[0],
                &column(0),
                60,
                density.as_deref(),
                &[],
            ),
            format!(
                "Histogram of the draws of {} over the exact density exp(−βE)/Z.",
                names[0]
            ),
        );
    } else if d == 2 {
        if let (Some(wx), Some(wy)) = (windows[0], windows[1]) {
            let grid = density_2d(energy, beta, [wx, wy]);
            let (xs, ys, p) = &grid;
            let (hx, hy) = (xs[1] - xs[0], ys[1] - ys[0]);
            let marg_x: Vec<(f64, f64)> = xs
                .iter()
                .enumerate()
                .map(|(i, x)| (*x, p[i].iter().sum::<f64>() * hy))
                .collect();
            let marg_y: Vec<(f64, f64)> = ys
                .iter()
                .enumerate()
                .map(|(j, y)| (*y, p.iter().map(|row| row[j]).sum::<f64>() * hx))
                .collect();
            for (i, marg) in [marg_x, marg_y].iter().enumerate() {
                push_figure(
                    &mut page,
                    histogram(
                        &format!("marginal of {} over the exact marginal density", names[i]),
                        names[i],
                        &column(i),
                        60,
                        Some(marg),
                        &[],
                    ),
                    format!(
                        "Histogram of the draws of {} over its exact marginal density.",
                        names[i]
                    ),
                );
            }
            push_figure(
                &mut page,
                scatter_contour_svg(
                    &format!("draws over the exact density (β = {beta})"),
                    [names[0], names[1]],
                    &grid,
                    &thinned_pairs(draws, 0, 1, SCATTER_POINTS),
                ),
                format!(
                    "Thinned draws over the contours of the exact density that enclose {} of its mass.",
                    CONTOUR_MASSES
                        .map(|m| format!("{:.0} %", 100.0 * m))
                        .join(", ")
                ),
            );
        } else {
            page.push(Block::Paragraph(
                "No density figure: the exact moments of the coordinates are unavailable.".into(),
            ));
        }
    } else {
        for (i, name) in names.iter().enumerate() {
            let markers: Vec<(String, f64)> = exact_mean_sd(outcome, name)
                .map(|(m, _)| vec![("exact mean".to_string(), m)])
                .unwrap_or_default();
            push_figure(
                &mut page,
                histogram(
                    &format!("marginal of {}", name),
                    name,
                    &column(i),
                    60,
                    None,
                    &markers,
                ),
                format!(
                    "Histogram of the draws of {} with its exact mean (no marginal density is drawn in {d}D).",
                    name
                ),
            );
        }
    }

    page.push(Block::Heading("Quantiles".into()));
    let mut qq = 0;
    for c in &outcome.exact.reference.cdfs {
        let values: Vec<f64> = draws
            .chains
            .iter()
            .flat_map(|ch| ch.chunks_exact(d).map(|y| (c.f)(y)))
            .collect();
        let pairs = qq_pairs(&values, &*c.cdf);
        push_figure(
            &mut page,
            qq_svg(&format!("QQ plot of {}", c.name), &c.name, &pairs),
            format!(
                "Quantiles of the draws' {} against its exact quantiles: points off the diagonal show where the distributions differ.",
                c.name
            ),
        );
        qq += 1;
    }
    if qq == 0 {
        page.push(Block::Paragraph(
            "No QQ plot: no exact CDF is accurate enough for this target (see the notes).".into(),
        ));
    }

    page.push(Block::Heading("Traces".into()));
    for (i, name) in names.iter().enumerate() {
        let mean = exact_mean_sd(outcome, name).map(|(m, _)| m);
        push_figure(
            &mut page,
            trace_svg(draws, i, mean),
            format!(
                "Trace of {} in each chain (at most {TRACE_POINTS} points per chain, evenly thinned; at most {TRACE_PANELS} chains), with the exact mean dashed.",
                name
            ),
        );
    }
    super::chains::push_chain_diagnostics(&mut page, draws, report);
    page
}

#[cfg(test)]
mod tests;
