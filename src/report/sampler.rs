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

/// Draws kept per chain in a trace, and points in a scatter over the density: enough to see
/// mixing and shape, small enough for an SVG of a few hundred kilobytes.
const TRACE_POINTS: usize = 1500;
/// Chains drawn in a trace figure (one panel each); more would make the figure a wall.
const TRACE_PANELS: usize = 8;
const SCATTER_POINTS: usize = 2000;
/// Probability levels of the QQ plot.
const QQ_POINTS: usize = 199;
/// Cells per axis of the grid of the exact density in the figures (1D: points).
const GRID_1D: usize = 2001;
const GRID_2D: usize = 161;
/// Half-width of the figures' window in exact standard deviations.
const WINDOW_SDS: f64 = 5.0;
/// Masses of the exact highest-density regions drawn as contours in 2D.
const CONTOUR_MASSES: [f64; 3] = [0.5, 0.9, 0.99];

/// The exact mean and standard deviation of coordinate `i` from the reference's moments.
fn exact_mean_sd(outcome: &SamplerTestOutcome, name: &str) -> Option<(f64, f64)> {
    let find = |n: String| {
        outcome
            .exact
            .reference
            .moments
            .iter()
            .find(|m| m.name == n)
            .map(|m| m.exact)
    };
    let m1 = find(format!("mean of {name}"))?;
    let m2 = find(format!("mean of {name}^2"))?;
    let sd = (m2 - m1 * m1).max(0.0).sqrt();
    (m1.is_finite() && sd > 0.0).then_some((m1, sd))
}

/// Evenly spaced points `lo..=hi`.
fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| lo + (hi - lo) * k as f64 / (n - 1) as f64)
        .collect()
}

/// The exact density exp(−βE)/Z of a 1D target on `xs`, normalised on the grid (trapezoid);
/// the window spans ±[`WINDOW_SDS`] sd, so the mass outside is negligible for a figure.
fn density_1d(energy: &dyn Energy, beta: f64, xs: &[f64]) -> Vec<(f64, f64)> {
    let es: Vec<f64> = xs.iter().map(|x| energy.eval(&[*x])).collect();
    let emin = es
        .iter()
        .copied()
        .filter(|e| e.is_finite())
        .fold(f64::INFINITY, f64::min);
    let w: Vec<f64> = es
        .iter()
        .map(|e| {
            let v = (-beta * (e - emin)).exp();
            if v.is_finite() { v } else { 0.0 }
        })
        .collect();
    let h = (xs[xs.len() - 1] - xs[0]) / (xs.len() - 1) as f64;
    let z = h * (w.iter().sum::<f64>() - 0.5 * (w[0] + w[w.len() - 1]));
    xs.iter().zip(&w).map(|(x, v)| (*x, v / z)).collect()
}

/// The exact density of a 2D target on a `GRID_2D`² grid of cell centres, normalised on it:
/// `(xs, ys, p[i][j] at (xs[i], ys[j]))`.
type Grid2 = (Vec<f64>, Vec<f64>, Vec<Vec<f64>>);

fn density_2d(energy: &dyn Energy, beta: f64, window: [(f64, f64); 2]) -> Grid2 {
    let xs = linspace(window[0].0, window[0].1, GRID_2D);
    let ys = linspace(window[1].0, window[1].1, GRID_2D);
    let mut e = vec![vec![f64::INFINITY; GRID_2D]; GRID_2D];
    let mut emin = f64::INFINITY;
    for (i, x) in xs.iter().enumerate() {
        for (j, y) in ys.iter().enumerate() {
            let v = energy.eval(&[*x, *y]);
            if v.is_finite() {
                e[i][j] = v;
                emin = emin.min(v);
            }
        }
    }
    let (hx, hy) = (xs[1] - xs[0], ys[1] - ys[0]);
    let mut total = 0.0;
    let mut p: Vec<Vec<f64>> = e
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| {
                    let w = (-beta * (v - emin)).exp();
                    let w = if w.is_finite() { w } else { 0.0 };
                    total += w;
                    w
                })
                .collect()
        })
        .collect();
    let norm = total * hx * hy;
    for row in &mut p {
        for v in row.iter_mut() {
            *v /= norm;
        }
    }
    (xs, ys, p)
}

/// The density levels whose upper sets hold each of [`CONTOUR_MASSES`] (highest-density regions).
fn hpd_levels(p: &[Vec<f64>]) -> Vec<f64> {
    let mut v: Vec<f64> = p.iter().flatten().copied().collect();
    v.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = v.iter().sum();
    let mut out = Vec::new();
    let mut acc = 0.0;
    let mut k = 0;
    for &m in &CONTOUR_MASSES {
        while k < v.len() && acc < m * total {
            acc += v[k];
            k += 1;
        }
        out.push(v[k.saturating_sub(1)]);
    }
    out
}

/// Segments of the contour `p = level` by marching squares (saddles split the same way always,
/// which is fine for a picture).
fn contour(xs: &[f64], ys: &[f64], p: &[Vec<f64>], level: f64) -> Vec<[(f64, f64); 2]> {
    let mut segs = Vec::new();
    let cross = |a: (f64, f64, f64), b: (f64, f64, f64)| {
        let t = (level - a.2) / (b.2 - a.2);
        (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
    };
    for i in 0..xs.len() - 1 {
        for j in 0..ys.len() - 1 {
            // Corners counter-clockwise from the lower left.
            let c = [
                (xs[i], ys[j], p[i][j]),
                (xs[i + 1], ys[j], p[i + 1][j]),
                (xs[i + 1], ys[j + 1], p[i + 1][j + 1]),
                (xs[i], ys[j + 1], p[i][j + 1]),
            ];
            let pts: Vec<(f64, f64)> = (0..4)
                .filter_map(|k| {
                    let (a, b) = (c[k], c[(k + 1) % 4]);
                    ((a.2 >= level) != (b.2 >= level)).then(|| cross(a, b))
                })
                .collect();
            for pair in pts.chunks_exact(2) {
                segs.push([pair[0], pair[1]]);
            }
        }
    }
    segs
}

/// Every `k`-th draw of the pooled chains, about `n` points, as `(x, y)` of coordinates `a`, `b`.
fn thinned_pairs(draws: &Draws, a: usize, b: usize, n: usize) -> Vec<(f64, f64)> {
    let d = draws.dim;
    let step = (draws.n() / n.max(1)).max(1);
    draws
        .chains
        .iter()
        .flat_map(|c| c.chunks_exact(d))
        .step_by(step)
        .map(|y| (y[a], y[b]))
        .collect()
}

fn scatter_contour_svg(
    title: &str,
    names: [&str; 2],
    grid: &Grid2,
    points: &[(f64, f64)],
) -> Result<String, PlotError> {
    let (xs, ys, p) = grid;
    let (xlo, xhi) = (xs[0], xs[xs.len() - 1]);
    let (ylo, yhi) = (ys[0], ys[ys.len() - 1]);
    let levels = hpd_levels(p);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(xlo..xhi, ylo..yhi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(names[0])
            .y_desc(names[1])
            .x_label_formatter(&tick_formatter(xlo, xhi))
            .y_label_formatter(&tick_formatter(ylo, yhi))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|(x, y)| (xlo..=xhi).contains(x) && (ylo..=yhi).contains(y))
                    .map(|&(x, y)| Circle::new((x, y), 1, LIGHT.filled())),
            )
            .map_err(err)?
            .label(format!("draws ({} shown)", points.len()))
            .legend(|(x, y)| Circle::new((x + 10, y), 3, LIGHT.filled()));
        // Thick black, thin black, grey: the three regions stay apart in greyscale (dashes would
        // restart on every short contour segment and look solid).
        let styles = [
            BLACK.stroke_width(3),
            BLACK.stroke_width(1),
            GREY.stroke_width(2),
        ];
        for ((level, mass), style) in levels.iter().zip(CONTOUR_MASSES).zip(styles) {
            chart
                .draw_series(
                    contour(xs, ys, p, *level)
                        .into_iter()
                        .map(move |s| PathElement::new(s.to_vec(), style)),
                )
                .map_err(err)?
                .label(format!("exact {:.0} % region", 100.0 * mass))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        draw_legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The exact quantile of a CDF by bisection on `[lo, hi]` widened until it brackets `u`.
fn quantile(cdf: &(dyn Fn(f64) -> f64 + Send + Sync), u: f64, lo: f64, hi: f64) -> f64 {
    let (mut a, mut b) = (lo, hi);
    let width = (hi - lo).abs().max(1e-12);
    for _ in 0..60 {
        if cdf(a) <= u {
            break;
        }
        a -= width;
    }
    for _ in 0..60 {
        if cdf(b) >= u {
            break;
        }
        b += width;
    }
    for _ in 0..100 {
        let m = 0.5 * (a + b);
        if cdf(m) < u {
            a = m;
        } else {
            b = m;
        }
    }
    0.5 * (a + b)
}

/// QQ plot: the draws' quantiles against the exact ones, with the diagonal.
fn qq_svg(title: &str, what: &str, pairs: &[(f64, f64)]) -> Result<String, PlotError> {
    let (lo, hi) =
        finite_range(pairs.iter().flat_map(|p| [p.0, p.1])).ok_or("no finite quantiles")?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("exact quantile of {what}"))
            .y_desc(format!("quantile of the draws' {what}"))
            .x_label_formatter(&tick_formatter(lo, hi))
            .y_label_formatter(&tick_formatter(lo, hi))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(lo, lo), (hi, hi)],
                6,
                4,
                GREY.stroke_width(2),
            ))
            .map_err(err)?
            .label("y = x (exact agreement)")
            .legend(line_key(GREY, 2));
        chart
            .draw_series(
                pairs
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 3, BLACK.filled())),
            )
            .map_err(err)?
            .label(format!("{} probability levels", pairs.len()))
            .legend(|(x, y)| Circle::new((x + 10, y), 3, BLACK.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The quantile pairs of a QQ plot of `values` against an exact CDF.
fn qq_pairs(values: &[f64], cdf: &(dyn Fn(f64) -> f64 + Send + Sync)) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let (lo, hi) = (v[0], v[v.len() - 1]);
    (1..=QQ_POINTS)
        .map(|k| {
            let u = k as f64 / (QQ_POINTS + 1) as f64;
            let i = ((v.len() - 1) as f64 * u).round() as usize;
            (quantile(cdf, u, lo, hi), v[i])
        })
        .collect()
}

/// Trace of coordinate `i`: one panel per chain (thinned to [`TRACE_POINTS`]) on a shared
/// vertical scale, with the exact mean as a light dashed line drawn over the trace.
fn trace_svg(draws: &Draws, i: usize, exact_mean: Option<f64>) -> Result<String, PlotError> {
    let d = draws.dim;
    let name = &draws.names[i];
    let per_chain: Vec<Vec<(f64, f64)>> = draws
        .chains
        .iter()
        .map(|c| {
            let n = c.len() / d;
            let step = (n / TRACE_POINTS).max(1);
            (0..n)
                .step_by(step)
                .map(|t| (t as f64, c[t * d + i]))
                .collect()
        })
        .collect();
    let (ylo, yhi) = finite_range(per_chain.iter().flatten().map(|p| p.1).chain(exact_mean))
        .ok_or("no finite draws")?;
    let xhi = per_chain
        .iter()
        .flatten()
        .map(|p| p.0)
        .fold(1.0f64, f64::max);
    let panels = per_chain.len().clamp(1, TRACE_PANELS);
    let height = 60 + 140 * panels as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(&format!("trace of {name} per chain"), ("sans-serif", 16))
            .map_err(err)?;
        let areas = root.split_evenly((panels, 1));
        for (c, (pts, area)) in per_chain.iter().zip(&areas).enumerate() {
            let last = c + 1 == panels;
            let mut chart = ChartBuilder::on(area)
                .margin(6)
                .x_label_area_size(if last { 36 } else { 8 })
                .y_label_area_size(80)
                .build_cartesian_2d(0.0..xhi, ylo..yhi)
                .map_err(err)?;
            let yfmt = tick_formatter(ylo, yhi);
            let mut mesh = chart.configure_mesh();
            mesh.y_desc(format!("{name}, chain {}", c + 1))
                .y_labels(6)
                .y_label_formatter(&yfmt);
            if last {
                mesh.x_desc("iteration (after warmup)")
                    .x_label_formatter(&|n: &f64| format!("{n:.0}"));
            } else {
                mesh.x_labels(0);
            }
            mesh.draw().map_err(err)?;
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), BLACK.stroke_width(1)))
                .map_err(err)?;
            if let Some(m) = exact_mean {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(0.0, m), (xhi, m)],
                        8,
                        4,
                        LIGHT.stroke_width(2),
                    ))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
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
mod tests {
    use super::*;
    use crate::quad::FnEnergy;
    use crate::stats::special;

    /// Tolerance of the figures' geometry: a grid cell of the ±5 sd window is 0.0625 sd wide.
    const FIGURE_TOL: f64 = 0.02;

    #[test]
    fn contours_of_the_standard_normal_enclose_their_mass() {
        // For N(0, I₂), the highest-density region of mass m is the disc of radius √(−2 ln(1 − m)).
        let e = FnEnergy::new(2, |y: &[f64]| 0.5 * (y[0] * y[0] + y[1] * y[1]));
        let grid = density_2d(&e, 1.0, [(-5.0, 5.0), (-5.0, 5.0)]);
        let levels = hpd_levels(&grid.2);
        for (level, m) in levels.iter().zip(CONTOUR_MASSES) {
            let want = (-2.0 * (1.0 - m).ln()).sqrt();
            let segs = contour(&grid.0, &grid.1, &grid.2, *level);
            assert!(segs.len() > 50, "{m}: {} segments", segs.len());
            let worst = segs
                .iter()
                .flatten()
                .map(|(x, y)| ((x * x + y * y).sqrt() - want).abs())
                .fold(0.0, f64::max);
            assert!(worst < FIGURE_TOL, "{m}: radius off by {worst}");
        }
    }

    #[test]
    fn quantiles_invert_the_cdf_and_the_1d_density_is_normalised() {
        for u in [0.001, 0.1, 0.5, 0.9, 0.999] {
            let q = quantile(&special::cdf, u, -0.5, 0.5);
            assert!((special::cdf(q) - u).abs() < 1e-12, "u = {u}: q = {q}");
        }
        let e = FnEnergy::new(1, |y: &[f64]| 0.5 * y[0] * y[0]);
        let d = density_1d(&e, 1.0, &linspace(-5.0, 5.0, GRID_1D));
        let peak = d.iter().map(|p| p.1).fold(0.0, f64::max);
        let want = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        assert!((peak - want).abs() < FIGURE_TOL * want, "{peak} vs {want}");
    }
}

/// One judged sample file of a `sampler-test` run, as the command read it.
#[derive(Debug, Clone, Copy)]
pub struct SampleFile<'a> {
    /// The file's label (its stem or `--label NAME`).
    pub label: &'a str,
    /// The path as given.
    pub file: &'a str,
    /// The battery's outcome against the exact reference.
    pub outcome: &'a SamplerTestOutcome,
    /// The columns (CSV) or arrays (.npz) the reader ignored.
    pub ignored: &'a [String],
    /// What the sample cost, when known.
    pub cost: Cost,
}

/// The JSON of `sampler-test --format json`: one file's object ([`SampleJson`], with
/// `"schema": 1`), or for several files `{"schema": 1, "verdict", "alpha", "samples": [..]}`
/// (each entry a [`SampleJson`] without `schema`, with `label`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum SamplerTestReport<'a> {
    /// One file.
    One(Box<SampleJson<'a>>),
    /// Several files against one reference.
    Many(SamplerTestComparison<'a>),
}

/// Several files: the worst verdict, α and each file's object.
#[derive(Debug, Clone, Serialize)]
pub struct SamplerTestComparison<'a> {
    /// Always 1.
    pub schema: u32,
    /// The worst verdict of the files.
    pub verdict: Verdict,
    /// The family-wise false-alarm rate.
    pub alpha: f64,
    /// One object per file, in order.
    pub samples: Vec<SampleJson<'a>>,
}

/// One file's result: the battery's fields, `alpha`, `reference`, and the command's `file`,
/// `ignored_columns`, `cost` (when known) and `label` (with several files), keys in alphabetical
/// order after `schema` (the contract since the object was a sorted JSON map).
#[derive(Debug, Clone, Serialize)]
pub struct SampleJson<'a> {
    /// 1 when the object stands alone; absent inside `samples`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<u32>,
    /// The family-wise false-alarm rate.
    pub alpha: f64,
    /// Chains judged.
    pub chains: usize,
    /// What the sample cost (when a flag or a column says so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostJson>,
    /// ESS by variable.
    pub ess: BTreeMap<&'a str, f64>,
    /// The file.
    pub file: &'a str,
    /// Columns or arrays the reader ignored.
    pub ignored_columns: &'a [String],
    /// The walker stride found, if any.
    pub interleaving: Option<InterleavingJson>,
    /// The file's label (several files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'a str>,
    /// Draws that would make an inconclusive verdict conclusive.
    pub more_draws: Option<u64>,
    /// Number of draws.
    pub n: usize,
    /// Notes on how the draws were read.
    pub notes: &'a [String],
    /// Machine-readable reasons.
    pub reasons: Vec<ReasonJson<'a>>,
    /// The exact reference's errors, status and notes.
    pub reference: ReferenceJson<'a>,
    /// R̂ by variable.
    pub rhat: BTreeMap<&'a str, f64>,
    /// R̂ threshold by variable.
    pub rhat_threshold: BTreeMap<&'a str, f64>,
    /// The summary sentence.
    pub summary: &'a str,
    /// Every test.
    pub tests: Vec<TestJson<'a>>,
    /// The verdict.
    pub verdict: Verdict,
}

/// A sample's cost and the slowest variable's ESS per unit of it, keys in alphabetical order.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CostJson {
    /// ESS per gradient evaluation.
    pub ess_per_grad_eval: Option<f64>,
    /// ESS per second.
    pub ess_per_second: Option<f64>,
    /// Gradient evaluations.
    pub grad_evals: Option<f64>,
    /// Wall-clock seconds.
    pub seconds: Option<f64>,
}

/// One file's JSON object: with `"schema": 1` when it stands alone (`schema`), with its label
/// when several files are judged (`labelled`).
pub fn sample_json<'a>(f: &SampleFile<'a>, schema: bool, labelled: bool) -> SampleJson<'a> {
    let o = f.outcome;
    let b = o.report.json();
    let c = f.cost;
    SampleJson {
        schema: schema.then_some(1),
        alpha: o.alpha,
        chains: b.chains,
        cost: (c.seconds.is_some() || c.grad_evals.is_some()).then(|| CostJson {
            ess_per_grad_eval: c.ess_per_grad(o),
            ess_per_second: c.ess_per_second(o),
            grad_evals: c.grad_evals,
            seconds: c.seconds,
        }),
        ess: b.ess,
        file: f.file,
        ignored_columns: f.ignored,
        interleaving: b.interleaving,
        label: labelled.then_some(f.label),
        more_draws: b.more_draws,
        n: b.n,
        notes: b.notes,
        reasons: b.reasons,
        reference: o.exact.json(),
        rhat: b.rhat,
        rhat_threshold: b.rhat_threshold,
        summary: b.summary,
        tests: b.tests,
        verdict: b.verdict,
    }
}

/// The JSON of a run over `files` (at least one) at family-wise `alpha`.
pub fn json<'a>(files: &[SampleFile<'a>], alpha: f64) -> SamplerTestReport<'a> {
    if let [one] = files {
        return SamplerTestReport::One(Box::new(sample_json(one, true, false)));
    }
    SamplerTestReport::Many(SamplerTestComparison {
        schema: 1,
        verdict: files
            .iter()
            .map(|f| f.outcome.report.verdict)
            .max()
            .unwrap_or(Verdict::Inconclusive),
        alpha,
        samples: files.iter().map(|f| sample_json(f, false, true)).collect(),
    })
}

/// The text output of a run: each file's table ([`text`]), headed by its label and path when
/// there are several, after the columns its reader ignored.
pub fn text_all(files: &[SampleFile<'_>]) -> String {
    let single = files.len() == 1;
    let mut s = String::new();
    for f in files {
        if !single {
            let _ = writeln!(s, "== {} ({})", f.label, f.file);
        }
        if !f.ignored.is_empty() {
            let _ = writeln!(s, "ignored columns: {}", f.ignored.join(", "));
        }
        s.push_str(&text(f.outcome));
        if !single {
            s.push('\n');
        }
    }
    s
}
