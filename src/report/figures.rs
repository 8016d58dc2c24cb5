//! SVG figures of check results, drawn with plotters' SVG backend (text as SVG `<text>`, so no
//! system fonts are needed). Black, grey and dashed strokes with distinct markers survive
//! greyscale printing.

use plotters::prelude::*;

use crate::check::{CheckResult, McTrace, PointResult};

use super::plot::{
    FAIL, GREY, LIGHT, PASS, SIZE, err, finite_range, grouped_figure, histogram, integer_label,
    line_key, running_estimate, running_points, tick_formatter,
};

/// The figures of a check, as `(caption, SVG)`: limits (the expression against the moving
/// variable with the target and the claimed rate), gradients (exact, finite difference and
/// symbolic with error bars), Monte-Carlo comparisons (estimate ± 2 standard errors against the
/// exact value at every point; with a kept trace also the running estimate with its ±2 SE band
/// and the histogram of the single-sample estimates), chains (each step's discrepancy relative
/// to its tolerance).
pub fn figures(c: &CheckResult) -> Vec<(String, String)> {
    let caption = format!("{} — {}", c.claim, c.name);
    let main = match c.kind.as_str() {
        "limit" => limit_figure(c),
        "gradient" => gradient_figure(c),
        "chain" => chain_figure(c),
        _ if c.points.iter().any(|p| p.extra.contains_key("p_value")) => monte_carlo_figure(c),
        _ => return Vec::new(),
    };
    let mut out: Vec<(String, String)> = main.ok().map(|svg| (caption, svg)).into_iter().collect();
    if let Some(t) = &c.trace {
        out.extend(trace_figures(t));
    }
    out
}

fn point_text(inputs: &std::collections::BTreeMap<String, f64>) -> String {
    let v: Vec<String> = inputs
        .iter()
        .map(|(k, v)| format!("{k} = {}", crate::expr::format_readable(*v, 4)))
        .collect();
    if v.is_empty() {
        String::new()
    } else {
        format!(" at {}", v.join(", "))
    }
}

/// The running estimate with its ±2 SE band against the exact value, and the histogram of the
/// single-sample estimates (each draw's value of the averaged body) with their mean and the
/// exact value marked.
fn trace_figures(t: &McTrace) -> Vec<(String, String)> {
    let chains: Vec<&[f64]> = t.chains.iter().map(Vec::as_slice).collect();
    let at = point_text(&t.inputs);
    let running: Vec<(f64, f64, f64)> = running_points(&chains, 40)
        .into_iter()
        .map(|(n, m, se)| (n, m + t.offset, se))
        .collect();
    let mut out = Vec::new();
    if let Ok(svg) = running_estimate(
        &format!("running Monte-Carlo estimate{at}"),
        "estimate",
        &running,
        Some(t.reference),
    ) {
        out.push((
            format!(
                "`{}`{at}: the running estimate over {} chains with ±2 standard errors (from the effective sample size of each prefix), and the exact value {}",
                t.expression,
                t.chains.len(),
                crate::expr::format_readable(t.reference, 6)
            ),
            svg,
        ));
    }
    let all: Vec<f64> = t.chains.iter().flatten().map(|v| v + t.offset).collect();
    #[allow(clippy::cast_precision_loss)]
    let mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
    if let Ok(svg) = histogram(
        &format!("single-sample estimates{at}"),
        "value of one single-sample estimate",
        &all,
        60,
        None,
        &[
            ("exact value".to_string(), t.reference),
            ("mean of the draws".to_string(), mean),
        ],
    ) {
        out.push((
            format!(
                "`{}`{at}: the {} single-sample estimates (one per draw); their mean is the Monte-Carlo estimate, the exact value is {}",
                t.expression,
                all.len(),
                crate::expr::format_readable(t.reference, 6)
            ),
            svg,
        ));
    }
    out
}

type Res<T> = Result<T, String>;

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
            .map(|(k, v)| format!("{k} = {}", crate::expr::format_readable(*v, 3)))
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
        .legend(line_key(BLACK, 2));
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
        .legend(line_key(GREY, 2));
    if has_rate {
        let asym: Vec<(f64, f64)> = xs.iter().zip(ladder).map(|(x, p)| (*x, p.rhs)).collect();
        chart
            .draw_series(LineSeries::new(asym.clone(), LIGHT.stroke_width(2)))
            .map_err(err)?
            .label("target + claimed rate")
            .legend(line_key(LIGHT, 2));
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

/// Which side of a statistical comparison is the Monte-Carlo estimate: the one with the larger
/// standard error of its own (`lhs_std_error`/`rhs_std_error`); the left side when the point does
/// not say (older results).
pub(crate) fn mc_on_left(p: &PointResult) -> bool {
    let l = p.extra.get("lhs_std_error").copied().unwrap_or(f64::NAN);
    let r = p.extra.get("rhs_std_error").copied().unwrap_or(f64::NAN);
    r.partial_cmp(&l) != Some(std::cmp::Ordering::Greater)
}

/// Each side of a point as `(value, half-width)`: a Monte-Carlo side gets ±2 of its standard
/// errors (plus its deterministic bound), a deterministic side its error bound.
pub(crate) fn sides(p: &PointResult) -> ((f64, f64), (f64, f64)) {
    let se = p.extra.get("std_error").copied().unwrap_or(0.0);
    let mc_left = mc_on_left(p);
    let half = |own: Option<f64>, bound: f64, is_mc: bool| match own {
        Some(s) if s > 0.0 => 2.0 * s + bound,
        Some(_) => bound,
        // Results without per-side standard errors: the combined one on the Monte-Carlo side.
        None if is_mc => 2.0 * se,
        None => bound,
    };
    (
        (
            p.lhs,
            half(
                p.extra.get("lhs_std_error").copied(),
                p.lhs_error,
                mc_left && se > 0.0,
            ),
        ),
        (
            p.rhs,
            half(
                p.extra.get("rhs_std_error").copied(),
                p.rhs_error,
                !mc_left && se > 0.0,
            ),
        ),
    )
}

fn monte_carlo_figure(c: &CheckResult) -> Res<String> {
    // An estimator check puts the Monte-Carlo estimate on the left and the claimed (exact or
    // predicted, e.g. CD-k) value on the right; an `equal` check may have it on either side.
    let mut mc = Vec::new();
    let mut other = Vec::new();
    for p in &c.points {
        let (l, r) = sides(p);
        if mc_on_left(p) {
            mc.push(l);
            other.push(r);
        } else {
            mc.push(r);
            other.push(l);
        }
    }
    grouped_figure(
        "Monte-Carlo estimate ± 2 standard errors against the exact value",
        "value of both sides",
        &[
            (
                if c.kind == "estimator" {
                    "claimed value (exact or predicted)".into()
                } else {
                    "exact value".into()
                },
                other,
            ),
            ("Monte-Carlo estimate ± 2 SE".into(), mc),
        ],
        c.points.len(),
    )
}

fn chain_figure(c: &CheckResult) -> Res<String> {
    let steps = c.steps.as_ref().ok_or("no steps")?;
    // Exact zeros cannot sit on a log axis: they are drawn at the floor with their own marker.
    const FLOOR: f64 = 1e-6;
    let ratios: Vec<f64> = steps
        .iter()
        .map(|s| {
            let r = s.difference.abs() / s.tolerance.max(f64::MIN_POSITIVE);
            // NaN stays NaN: a line with no value gets an outlined bar of its own below.
            if r.is_finite() || r.is_nan() { r } else { 1e6 }
        })
        .collect();
    let top = ratios
        .iter()
        .copied()
        .filter(|r| !r.is_nan())
        .fold(10.0f64, f64::max)
        * 3.0;
    let bottom = FLOOR / 10.0;
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
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(0.5..xmax, (bottom..top).log_scale())
            .map_err(err)?;
        let n = steps.len();
        chart
            .configure_mesh()
            .x_desc("step k (line k against line k+1)")
            .y_desc("|line k − line k+1| / tolerance")
            .x_labels(n.min(20))
            .x_label_formatter(&|x: &f64| integer_label(*x, n))
            .y_label_formatter(&|y: &f64| format!("{y:.0e}"))
            .draw()
            .map_err(err)?;
        let (mut zero_drawn, mut none_drawn) = (false, false);
        for (i, (s, r)) in steps.iter().zip(&ratios).enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let x = i as f64 + 1.0;
            let passed = s.status == crate::check::Status::Pass;
            let color = if passed { PASS } else { FAIL };
            if r.is_nan() {
                // No value to compare (a line diverges or is undefined): an outlined bar to the
                // top, never a filled one that would read as a measured ratio.
                let series = chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.3, bottom), (x + 0.3, top)],
                        color.stroke_width(2),
                    )))
                    .map_err(err)?;
                if !none_drawn {
                    series
                        .label("no value to compare (a line diverges or is undefined)")
                        .legend(move |(x, y)| {
                            Rectangle::new([(x + 4, y - 5), (x + 16, y + 5)], color.stroke_width(2))
                        });
                    none_drawn = true;
                }
                continue;
            }
            if *r == 0.0 {
                let series = chart
                    .draw_series(std::iter::once(TriangleMarker::new(
                        (x, FLOOR),
                        7,
                        color.filled(),
                    )))
                    .map_err(err)?;
                if !zero_drawn {
                    series
                        .label("difference exactly 0 (drawn at 1e-6)")
                        .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, color.filled()));
                    zero_drawn = true;
                }
                continue;
            }
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, bottom), (x + 0.3, r.max(bottom))],
                    color.filled(),
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
            .map_err(err)?
            .label("tolerance (ratio 1)")
            .legend(line_key(BLACK, 1));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
