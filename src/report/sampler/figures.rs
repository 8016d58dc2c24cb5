//! The sampler page's figures: the exact density in 1D and 2D, its highest-density contours with
//! thinned draws over them, QQ plots against the exact CDFs, and per-chain traces.

use super::*;

/// Draws kept per chain in a trace, and points in a scatter over the density: enough to see
/// mixing and shape, small enough for an SVG of a few hundred kilobytes.
pub(super) const TRACE_POINTS: usize = 1500;
/// Chains drawn in a trace figure (one panel each); more would make the figure a wall.
pub(super) const TRACE_PANELS: usize = 8;
pub(super) const SCATTER_POINTS: usize = 2000;
/// Probability levels of the QQ plot.
const QQ_POINTS: usize = 199;
/// Cells per axis of the grid of the exact density in the figures (1D: points).
pub(super) const GRID_1D: usize = 2001;
const GRID_2D: usize = 161;
/// Half-width of the figures' window in exact standard deviations.
pub(super) const WINDOW_SDS: f64 = 5.0;
/// Masses of the exact highest-density regions drawn as contours in 2D.
pub(super) const CONTOUR_MASSES: [f64; 3] = [0.5, 0.9, 0.99];

/// The exact mean and standard deviation of coordinate `i` from the reference's moments.
pub(super) fn exact_mean_sd(outcome: &SamplerTestOutcome, name: &str) -> Option<(f64, f64)> {
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
pub(super) fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| lo + (hi - lo) * k as f64 / (n - 1) as f64)
        .collect()
}

/// The exact density exp(−βE)/Z of a 1D target on `xs`, normalised on the grid (trapezoid);
/// the window spans ±[`WINDOW_SDS`] sd, so the mass outside is negligible for a figure.
pub(super) fn density_1d(energy: &dyn Energy, beta: f64, xs: &[f64]) -> Vec<(f64, f64)> {
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

pub(super) fn density_2d(energy: &dyn Energy, beta: f64, window: [(f64, f64); 2]) -> Grid2 {
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
pub(super) fn hpd_levels(p: &[Vec<f64>]) -> Vec<f64> {
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
pub(super) fn contour(xs: &[f64], ys: &[f64], p: &[Vec<f64>], level: f64) -> Vec<[(f64, f64); 2]> {
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
pub(super) fn thinned_pairs(draws: &Draws, a: usize, b: usize, n: usize) -> Vec<(f64, f64)> {
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

pub(super) fn scatter_contour_svg(
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
pub(super) fn quantile(cdf: &(dyn Fn(f64) -> f64 + Send + Sync), u: f64, lo: f64, hi: f64) -> f64 {
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
pub(super) fn qq_svg(title: &str, what: &str, pairs: &[(f64, f64)]) -> Result<String, PlotError> {
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
pub(super) fn qq_pairs(
    values: &[f64],
    cdf: &(dyn Fn(f64) -> f64 + Send + Sync),
) -> Vec<(f64, f64)> {
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
pub(super) fn trace_svg(
    draws: &Draws,
    i: usize,
    exact_mean: Option<f64>,
) -> Result<String, PlotError> {
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
