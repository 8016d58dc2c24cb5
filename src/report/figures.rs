//! SVG figures of check results, drawn with plotters' SVG backend (text as SVG `<text>`, so no
//! system fonts are needed). Black, grey and dashed strokes with distinct markers survive
//! greyscale printing.

use plotters::prelude::*;

use crate::check::{CheckResult, PointResult};

const SIZE: (u32, u32) = (720, 400);
const GREY: RGBColor = RGBColor(110, 110, 110);
const LIGHT: RGBColor = RGBColor(170, 170, 170);

fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo.is_finite() && hi.is_finite() {
        let pad = ((hi - lo).abs() * 0.08).max(1e-12 * lo.abs().max(hi.abs()).max(1.0));
        Some((lo - pad, hi + pad))
    } else {
        None
    }
}

/// Tick labels with enough significant digits to tell ticks apart on a range `lo..hi`.
fn tick_formatter(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let scale = lo.abs().max(hi.abs()).max(f64::MIN_POSITIVE);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let digits = ((scale / span).log10().ceil().max(0.0) as usize + 2).min(15);
    move |v: &f64| {
        if !(1e-3..1e4).contains(&scale) {
            format!("{v:.digits$e}")
        } else {
            let decimals = (digits as f64 - scale.log10().floor() - 1.0).max(0.0);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let d = decimals as usize;
            format!("{v:.d$}")
        }
    }
}

/// The figure of a check, when its kind has one: limits (the expression against the moving
/// variable with the target and the claimed rate), gradients (exact, finite difference and
/// symbolic with error bars), Monte-Carlo comparisons (estimate ± 2 standard errors against the
/// exact value), chains (each step's discrepancy relative to its tolerance).
pub fn figure(c: &CheckResult) -> Option<String> {
    let r = match c.kind.as_str() {
        "limit" => limit_figure(c),
        "gradient" => gradient_figure(c),
        "chain" => chain_figure(c),
        _ if c.points.iter().any(|p| p.extra.contains_key("p_value")) => monte_carlo_figure(c),
        _ => return None,
    };
    r.ok()
}

type Res<T> = Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn limit_figure(c: &CheckResult) -> Res<String> {
    // The first test point's ladder: rungs share every input except the moving variable.
    let var = c.limit_var.clone().ok_or("no ladder")?;
    let first = &c.points[0];
    let same = |p: &PointResult| {
        p.inputs
            .iter()
            .all(|(k, v)| k == &var || (first.inputs.get(k).copied() == Some(*v)))
    };
    let mut ladder: Vec<&PointResult> = c.points.iter().filter(|p| same(p)).collect();
    ladder.sort_by(|a, b| a.inputs[&var].total_cmp(&b.inputs[&var]));
    let xs: Vec<f64> = ladder.iter().map(|p| p.inputs[&var]).collect();
    let has_rate = ladder.iter().any(|p| p.extra.contains_key("rate"));
    let target: Vec<f64> = ladder
        .iter()
        .map(|p| p.rhs - p.extra.get("rate").copied().unwrap_or(0.0))
        .collect();
    let (ylo, yhi) = finite_range(
        ladder
            .iter()
            .flat_map(|p| [p.lhs, p.rhs])
            .chain(target.iter().copied()),
    )
    .ok_or("no finite values")?;
    let log_x = xs.iter().all(|x| *x > 0.0);
    let (xlo, xhi) = (xs[0], xs[xs.len() - 1]);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let others: Vec<String> = first
            .inputs
            .iter()
            .filter(|(k, _)| **k != var)
            .map(|(k, v)| format!("{k} = {v:.3}"))
            .collect();
        let caption = if others.is_empty() {
            format!("approach as {var} moves")
        } else {
            format!("approach as {var} moves ({})", others.join(", "))
        };
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(caption, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(110);
        if log_x {
            let mut chart = builder
                .build_cartesian_2d((xlo..xhi).log_scale(), ylo..yhi)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(format!("{var} (log scale)"))
                .y_desc("value")
                .y_label_formatter(&tick_formatter(ylo, yhi))
                .draw()
                .map_err(err)?;
            draw_limit_series(&mut chart, &xs, &ladder, &target, has_rate)?;
        } else {
            let mut chart = builder
                .build_cartesian_2d(xlo..xhi, ylo..yhi)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(var.clone())
                .y_desc("value")
                .y_label_formatter(&tick_formatter(ylo, yhi))
                .draw()
                .map_err(err)?;
            draw_limit_series(&mut chart, &xs, &ladder, &target, has_rate)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn draw_limit_series<'a, 'b: 'a, X: plotters::coord::ranged1d::Ranged<ValueType = f64>>(
    chart: &mut ChartContext<
        'a,
        SVGBackend<'b>,
        Cartesian2d<X, plotters::coord::types::RangedCoordf64>,
    >,
    xs: &[f64],
    ladder: &[&PointResult],
    target: &[f64],
    has_rate: bool,
) -> Res<()> {
    let expr: Vec<(f64, f64)> = xs.iter().zip(ladder).map(|(x, p)| (*x, p.lhs)).collect();
    chart
        .draw_series(LineSeries::new(expr.clone(), BLACK.stroke_width(2)))
        .map_err(err)?
        .label("expression")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    chart
        .draw_series(
            expr.iter()
                .map(|(x, y)| Circle::new((*x, *y), 4, BLACK.filled())),
        )
        .map_err(err)?;
    let t: Vec<(f64, f64)> = xs.iter().zip(target).map(|(x, y)| (*x, *y)).collect();
    chart
        .draw_series(DashedLineSeries::new(t, 6, 4, GREY.stroke_width(2)))
        .map_err(err)?
        .label("target (limit)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREY.stroke_width(2)));
    if has_rate {
        let asym: Vec<(f64, f64)> = xs.iter().zip(ladder).map(|(x, p)| (*x, p.rhs)).collect();
        chart
            .draw_series(LineSeries::new(asym.clone(), LIGHT.stroke_width(2)))
            .map_err(err)?
            .label("target + claimed rate")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], LIGHT.stroke_width(2)));
        chart
            .draw_series(
                asym.iter()
                    .map(|(x, y)| TriangleMarker::new((*x, *y), 5, LIGHT.filled())),
            )
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Three estimates per test point, side by side, with error bars.
fn grouped_figure(
    title: &str,
    ylabel: &str,
    groups: &[(String, Vec<(f64, f64)>)],
    n: usize,
) -> Res<String> {
    let (ylo, yhi) = finite_range(
        groups
            .iter()
            .flat_map(|(_, v)| v.iter().flat_map(|(m, e)| [m - e, m + e])),
    )
    .ok_or("no finite values")?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        #[allow(clippy::cast_precision_loss)]
        let xmax = n as f64 + 0.5;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(110)
            .build_cartesian_2d(0.5..xmax, ylo..yhi)
            .map_err(err)?;
        let fmt = tick_formatter(ylo, yhi);
        chart
            .configure_mesh()
            .x_desc("test point")
            .y_desc(ylabel)
            .y_label_formatter(&fmt)
            .x_labels(n.min(10))
            .draw()
            .map_err(err)?;
        let styles = [BLACK, GREY, LIGHT];
        for (g, (name, values)) in groups.iter().enumerate() {
            let color = styles[g % styles.len()];
            #[allow(clippy::cast_precision_loss)]
            let offset = (g as f64 - 1.0) * 0.18;
            #[allow(clippy::cast_precision_loss)]
            let pts: Vec<(f64, f64, f64)> = values
                .iter()
                .enumerate()
                .map(|(i, (m, e))| (i as f64 + 1.0 + offset, *m, *e))
                .collect();
            chart
                .draw_series(pts.iter().map(|(x, m, e)| {
                    ErrorBar::new_vertical(*x, m - e, *m, m + e, color.stroke_width(2), 8)
                }))
                .map_err(err)?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            match g {
                0 => chart.draw_series(
                    pts.iter()
                        .map(|(x, m, _)| Circle::new((*x, *m), 4, color.filled())),
                ),
                1 => chart.draw_series(
                    pts.iter()
                        .map(|(x, m, _)| Circle::new((*x, *m), 4, color.stroke_width(2))),
                ),
                _ => chart.draw_series(
                    pts.iter()
                        .map(|(x, m, _)| Circle::new((*x, *m), 3, color.filled())),
                ),
            }
            .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn gradient_figure(c: &CheckResult) -> Res<String> {
    let exact: Vec<(f64, f64)> = c.points.iter().map(|p| (p.lhs, p.lhs_error)).collect();
    let fd: Vec<(f64, f64)> = c.points.iter().map(|p| (p.rhs, p.rhs_error)).collect();
    let sym: Vec<(f64, f64)> = c
        .points
        .iter()
        .map(|p| {
            (
                p.extra.get("symbolic").copied().unwrap_or(f64::NAN),
                p.extra.get("symbolic_error").copied().unwrap_or(0.0),
            )
        })
        .collect();
    grouped_figure(
        "gradient: exact (quadrature), finite difference, symbolic",
        "gradient",
        &[
            ("exact".into(), exact),
            ("finite difference".into(), fd),
            ("symbolic".into(), sym),
        ],
        c.points.len(),
    )
}

fn monte_carlo_figure(c: &CheckResult) -> Res<String> {
    let exact: Vec<(f64, f64)> = c.points.iter().map(|p| (p.lhs, p.lhs_error)).collect();
    let mc: Vec<(f64, f64)> = c
        .points
        .iter()
        .map(|p| {
            (
                p.rhs,
                2.0 * p.extra.get("std_error").copied().unwrap_or(0.0),
            )
        })
        .collect();
    grouped_figure(
        "Monte-Carlo estimate ± 2 standard errors against the exact value",
        "value",
        &[("exact".into(), exact), ("Monte Carlo ± 2 SE".into(), mc)],
        c.points.len(),
    )
}

fn chain_figure(c: &CheckResult) -> Res<String> {
    let steps = c.steps.as_ref().ok_or("no steps")?;
    let ratios: Vec<f64> = steps
        .iter()
        .map(|s| {
            let r = s.difference.abs() / s.tolerance.max(f64::MIN_POSITIVE);
            if r.is_finite() { r.max(1e-6) } else { 1e6 }
        })
        .collect();
    let top = ratios.iter().copied().fold(10.0f64, f64::max) * 3.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        #[allow(clippy::cast_precision_loss)]
        let xmax = steps.len() as f64 + 0.5;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "each step's |difference| / tolerance (fails above 1)",
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(110)
            .build_cartesian_2d(0.5..xmax, (1e-6..top).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("step")
            .y_desc("|difference| / tolerance")
            .x_labels(steps.len())
            .draw()
            .map_err(err)?;
        for (i, (s, r)) in steps.iter().zip(&ratios).enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let x = i as f64 + 1.0;
            let style = if s.status == crate::check::Status::Pass {
                GREY.filled()
            } else {
                BLACK.filled()
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, 1e-6), (x + 0.3, *r)],
                    style,
                )))
                .map_err(err)?;
        }
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.5, 1.0), (xmax, 1.0)],
                6,
                4,
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
