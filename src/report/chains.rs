//! Per-chain diagnostics for the sampler page: bulk and tail ESS and the rank-normalised split R̂
//! of every coordinate (the one above its limit marked), rank plots (the histogram of each
//! chain's pooled ranks: flat when the chains mix) and each chain's autocorrelation.

use plotters::prelude::*;

use crate::stats::battery::RHAT_MAX;
use crate::stats::ess::{ess_bulk, ess_tail, split_rhat};
use crate::stats::{BatteryReport, Draws};

use super::page::{Block, Cell, Mark, Page, Table};
use super::plot::{PlotError, SIZE, err, integer_label};

/// Chain colours: the Okabe–Ito palette without yellow (too light on white), then repeated.
const CHAIN_COLORS: [RGBColor; 6] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
];
/// Bins of a rank plot.
const RANK_BINS: usize = 20;
/// Largest lag of the autocorrelation figure.
const MAX_LAG: usize = 50;
/// At most this many chains are drawn (the table covers all).
const MAX_CHAINS: usize = 8;

/// Coordinate `i` of each chain.
fn coordinate(draws: &Draws, i: usize) -> Vec<Vec<f64>> {
    let d = draws.dim.max(1);
    draws
        .chains
        .iter()
        .map(|c| c.chunks_exact(d).map(|x| x[i]).collect())
        .collect()
}

/// The fraction of each chain's draws in each of `bins` equal bins of the pooled ranks.
fn rank_histograms(chains: &[Vec<f64>], bins: usize) -> Vec<Vec<f64>> {
    let mut all: Vec<(f64, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, v)| v.iter().map(move |&x| (x, c)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = all.len().max(1);
    let mut h = vec![vec![0.0; bins]; chains.len()];
    for (rank, &(_, c)) in all.iter().enumerate() {
        let b = (rank * bins / n).min(bins - 1);
        h[c][b] += 1.0;
    }
    for (c, row) in h.iter_mut().enumerate() {
        let len = chains[c].len().max(1);
        #[allow(clippy::cast_precision_loss)]
        row.iter_mut().for_each(|v| *v /= len as f64);
    }
    h
}

/// Autocorrelation of one chain at lags 0..=max_lag (fewer for a short chain).
fn autocorrelation(x: &[f64], max_lag: usize) -> Vec<f64> {
    let n = x.len();
    if n < 3 {
        return Vec::new();
    }
    #[allow(clippy::cast_precision_loss)]
    let mean = x.iter().sum::<f64>() / n as f64;
    let var: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    if var <= 0.0 || !var.is_finite() {
        return Vec::new();
    }
    (0..=max_lag.min(n - 2))
        .map(|k| {
            (0..n - k)
                .map(|t| (x[t] - mean) * (x[t + k] - mean))
                .sum::<f64>()
                / var
        })
        .collect()
}

/// One line per chain over integer x positions `1..=n` (or lags `0..`), with a reference line.
fn lines_figure(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Vec<(f64, f64)>],
    reference: Option<(f64, &str)>,
    (ylo, yhi): (f64, f64),
) -> Result<String, PlotError> {
    let xmax = series.iter().flatten().map(|p| p.0).fold(1.0f64, f64::max);
    let xmin = series
        .iter()
        .flatten()
        .map(|p| p.0)
        .fold(f64::INFINITY, f64::min)
        .min(xmax - 1.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(xmin - 0.5..xmax + 0.5, ylo..yhi)
            .map_err(err)?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = xmax.max(0.0) as usize;
        chart
            .configure_mesh()
            .x_desc(xlabel)
            .y_desc(ylabel)
            .x_label_formatter(&|x: &f64| {
                if *x == 0.0 {
                    "0".into()
                } else {
                    integer_label(*x, n)
                }
            })
            .y_label_formatter(&|y: &f64| format!("{y:.2}"))
            .draw()
            .map_err(err)?;
        if let Some((r, label)) = reference {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xmin - 0.5, r), (xmax + 0.5, r)],
                    6,
                    4,
                    BLACK.stroke_width(1),
                ))
                .map_err(err)?
                .label(label)
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1))
                });
        }
        for (c, s) in series.iter().enumerate().take(MAX_CHAINS) {
            let color = CHAIN_COLORS[c % CHAIN_COLORS.len()];
            chart
                .draw_series(LineSeries::new(s.iter().copied(), color.stroke_width(2)))
                .map_err(err)?
                .label(format!("chain {}", c + 1))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Appends the "Chains" section: the convergence table (the battery's R̂ and its threshold for
/// each coordinate, the one that failed marked) and, per coordinate, a rank plot and the
/// autocorrelation of each chain.
pub fn push_chain_diagnostics(page: &mut Page, draws: &Draws, report: &BatteryReport) {
    page.push(Block::Heading("Chains: mixing and autocorrelation".into()));
    let mut t = Table::new([
        "coordinate",
        "bulk ESS",
        "tail ESS",
        "split R̂",
        "R̂ limit",
        "R̂ verdict",
    ]);
    let several = draws.chains.len() >= 2;
    for (i, name) in draws.names.iter().enumerate() {
        let chains = coordinate(draws, i);
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        // The battery's R̂ (after any de-interleaving of walkers) and its threshold.
        let judged = report.rhat.iter().find(|(n, _)| n == name).map(|p| p.1);
        let limit = report
            .rhat_threshold
            .iter()
            .find(|(n, _)| n == name)
            .map_or(RHAT_MAX, |p| p.1);
        let rhat = judged.unwrap_or(if several { split_rhat(&refs) } else { f64::NAN });
        let shown = judged.is_some() || several;
        let bad = shown && (rhat.is_nan() || rhat > limit);
        t.row(
            vec![
                name.clone().into(),
                Cell::Num(format!("{:.0}", ess_bulk(&refs))),
                Cell::Num(format!("{:.0}", ess_tail(&refs))),
                Cell::Num(if shown {
                    format!("{rhat:.4}")
                } else {
                    "(one chain)".into()
                }),
                Cell::Num(if shown {
                    format!("{limit:.4}")
                } else {
                    String::new()
                }),
                if !shown {
                    Mark::Note.into()
                } else if bad {
                    Mark::Inconclusive.into()
                } else {
                    Mark::Pass.into()
                },
            ],
            bad,
        );
    }
    page.push(Block::Table(t));
    page.push(Block::Paragraph(format!(
        "Bulk ESS: of the rank-normalised split chains; tail ESS: the smaller of the ESS of the 5 % and 95 % quantile indicators; split R̂: rank-normalised, the larger of the bulk and folded R̂, as the test judged it; its limit is max({RHAT_MAX}, √(1 − 1/N′ + q·M′/ESS)) for M′ split chains of N′ draws (q the 99.9 % point of χ²(M′−1)/(M′−1): the spread of chain means the measured ESS allows), and above it the verdict cannot be pass."
    )));
    if draws.chains.is_empty() {
        return;
    }
    for (i, name) in draws.names.iter().enumerate() {
        let chains = coordinate(draws, i);
        if several {
            let hist = rank_histograms(&chains, RANK_BINS);
            #[allow(clippy::cast_precision_loss)]
            let series: Vec<Vec<(f64, f64)>> = hist
                .iter()
                .map(|h| {
                    h.iter()
                        .enumerate()
                        .map(|(b, v)| (b as f64 + 1.0, v * RANK_BINS as f64))
                        .collect()
                })
                .collect();
            let top = series.iter().flatten().map(|p| p.1).fold(2.0f64, f64::max) * 1.25;
            let svg = lines_figure(
                &format!("rank plot of {name}"),
                &format!("bin of the pooled ranks of {name} ({RANK_BINS} bins)"),
                "share of the chain's draws × bins",
                &series,
                Some((1.0, "uniform (chains agree)")),
                (0.0, top),
            );
            if let Ok(svg) = svg {
                page.push(Block::Figure {
                    svg,
                    caption: format!(
                        "Rank plot of {name}: all draws are ranked together and each chain's share of every rank bin is drawn; chains that sample the same distribution stay near 1, a chain stuck in one region rises in some bins and vanishes in others."
                    ),
                    file: None,
                });
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let series: Vec<Vec<(f64, f64)>> = chains
            .iter()
            .map(|c| {
                autocorrelation(c, MAX_LAG)
                    .into_iter()
                    .enumerate()
                    .map(|(k, r)| (k as f64, r))
                    .collect()
            })
            .collect();
        if series.iter().all(Vec::is_empty) {
            continue;
        }
        let lo = series.iter().flatten().map(|p| p.1).fold(-0.1f64, f64::min);
        if let Ok(svg) = lines_figure(
            &format!("autocorrelation of {name} per chain"),
            "lag (iterations)",
            &format!("autocorrelation of {name}"),
            &series,
            Some((0.0, "no correlation")),
            (lo - 0.05, 1.25),
        ) {
            page.push(Block::Figure {
                svg,
                caption: format!(
                    "Autocorrelation of {name} per chain, up to lag {MAX_LAG}: the slower it falls, the fewer effective draws."
                ),
                file: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_histograms_are_flat_for_interleaved_chains_and_not_for_separated_ones() {
        let a: Vec<f64> = (0..1000).map(|i| f64::from(2 * i)).collect();
        let b: Vec<f64> = (0..1000).map(|i| f64::from(2 * i + 1)).collect();
        let h = rank_histograms(&[a.clone(), b], 10);
        assert!(h.iter().flatten().all(|v| (v - 0.1).abs() < 0.01), "{h:?}");
        let c: Vec<f64> = a.iter().map(|v| v + 1e6).collect();
        let h = rank_histograms(&[a, c], 10);
        assert!((h[0][0] - 0.2).abs() < 1e-12 && h[0][9] == 0.0, "{h:?}");
    }

    #[test]
    fn autocorrelation_of_an_alternating_chain() {
        let x: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let r = autocorrelation(&x, 3);
        assert!((r[0] - 1.0).abs() < 1e-12);
        assert!((r[1] + 0.99).abs() < 1e-12, "{r:?}");
    }
}
