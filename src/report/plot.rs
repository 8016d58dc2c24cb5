//! Plot primitives shared by the reports: grouped estimates with error bars, a running Monte-Carlo
//! estimate with its ±2 standard-error band, and a histogram over an exact density. SVG from
//! plotters' SVG backend, text as `<text>`. Colours are from the Okabe–Ito palette (told apart
//! with the common colour-vision deficiencies); markers and dashes keep series apart in
//! greyscale too. [`polish`] raises every font to at least 12 px.

use plotters::prelude::*;

/// Figure size in pixels.
pub(crate) const SIZE: (u32, u32) = (720, 400);
/// Second series colour (Okabe–Ito blue).
pub(crate) const GREY: RGBColor = RGBColor(0, 114, 178);
/// Bands, histogram bars and light series (Okabe–Ito sky blue).
pub(crate) const LIGHT: RGBColor = RGBColor(86, 180, 233);
/// Third series colour (Okabe–Ito vermillion).
pub(crate) const THIRD: RGBColor = RGBColor(213, 94, 0);
/// A passing item (Okabe–Ito bluish green).
pub(crate) const PASS: RGBColor = RGBColor(0, 158, 115);
/// A failing item (Okabe–Ito vermillion).
pub(crate) const FAIL: RGBColor = RGBColor(213, 94, 0);
/// Smallest font size of a figure, in pixels.
pub const MIN_FONT_PX: f64 = 12.0;

/// Raises every `font-size` of an SVG below [`MIN_FONT_PX`] to it (plotters draws tick labels
/// at about 9.7 px).
pub fn polish(svg: &str) -> String {
    const KEY: &str = "font-size=\"";
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(i) = rest.find(KEY) {
        out.push_str(&rest[..i + KEY.len()]);
        rest = &rest[i + KEY.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        let size = &rest[..end];
        match size.trim_end_matches("px").parse::<f64>() {
            Ok(v) if v < MIN_FONT_PX => out.push_str(&format!("{MIN_FONT_PX}")),
            _ => out.push_str(size),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The label of an integer axis position `x` in 1..=n (empty between integers).
pub(crate) fn integer_label(x: f64, n: usize) -> String {
    let i = x.round();
    #[allow(clippy::cast_precision_loss)]
    let inside = i >= 1.0 && i <= n as f64;
    if (x - i).abs() < 1e-9 && inside {
        format!("{i:.0}")
    } else {
        String::new()
    }
}

/// A figure could not be drawn (no finite values, or the backend failed).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot draw the figure: {0}")]
pub struct PlotError(pub String);

impl From<String> for PlotError {
    fn from(s: String) -> Self {
        PlotError(s)
    }
}

impl From<&str> for PlotError {
    fn from(s: &str) -> Self {
        PlotError(s.to_string())
    }
}

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// The legend key of a line series: a 20-pixel stroke.
pub(crate) fn line_key(
    color: RGBColor,
    width: u32,
) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(width))
}

/// Draws the series labels in the upper right on a translucent white box with a black border
/// (every figure leaves headroom there).
pub(crate) fn draw_legend<'a, 'b: 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// The range of the finite values, padded by 8 %.
pub(crate) fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
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
pub(crate) fn tick_formatter(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let span = (hi - lo).abs().max(f64::MIN_POSITIVE);
    let scale = lo.abs().max(hi.abs()).max(f64::MIN_POSITIVE);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let digits = ((scale / span).log10().ceil().max(0.0) as usize + 2).min(15);
    move |v: &f64| {
        // A tick at zero reads "0", never "-0.00".
        let v = &if v.abs() < span * 1e-9 { 0.0 } else { *v };
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

/// Estimates per test point (numbered from 1), side by side, with error bars.
pub(crate) fn grouped_figure(
    title: &str,
    ylabel: &str,
    groups: &[(String, Vec<(f64, f64)>)],
    n: usize,
) -> Result<String, String> {
    let labels: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    grouped(title, ylabel, "test point", &labels, groups)
}

/// Several estimates of each named quantity side by side, each `(value, half-width)` drawn with
/// an error bar: for instance exact, finite-difference and Monte-Carlo gradients per parameter.
/// Groups are told apart by marker (filled, open, small) and grey level.
///
/// # Errors
/// [`PlotError`] when no value is finite or the backend fails.
pub fn grouped_errorbars(
    title: &str,
    ylabel: &str,
    xlabel: &str,
    categories: &[String],
    groups: &[(String, Vec<(f64, f64)>)],
) -> Result<String, PlotError> {
    Ok(grouped(title, ylabel, xlabel, categories, groups)?)
}

fn grouped(
    title: &str,
    ylabel: &str,
    xlabel: &str,
    categories: &[String],
    groups: &[(String, Vec<(f64, f64)>)],
) -> Result<String, String> {
    let n = categories.len();
    let (ylo, yhi) = finite_range(
        groups
            .iter()
            .flat_map(|(_, v)| v.iter().flat_map(|(m, e)| [m - e, m + e])),
    )
    .ok_or("no finite values")?;
    // Headroom above the data for the legend (one row per group).
    #[allow(clippy::cast_precision_loss)]
    let yhi = yhi + (0.12 + 0.07 * groups.len() as f64) * (yhi - ylo);
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
            .x_desc(xlabel)
            .y_desc(ylabel)
            .y_label_formatter(&fmt)
            .x_label_formatter(&|x: &f64| {
                let i = x.round();
                if (x - i).abs() < 1e-9 && i >= 1.0 && i <= n as f64 {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let k = i as usize - 1;
                    categories[k].clone()
                } else {
                    String::new()
                }
            })
            .x_labels(n.min(10))
            .draw()
            .map_err(err)?;
        let styles = [BLACK, GREY, THIRD];
        for (g, (name, values)) in groups.iter().enumerate() {
            let color = styles[g % styles.len()];
            #[allow(clippy::cast_precision_loss)]
            let offset = (g as f64 - (groups.len() as f64 - 1.0) / 2.0) * 0.18;
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
                .map_err(err)?;
            // Each group has its own marker, also in the legend, so groups stay apart in
            // greyscale: filled circle, open circle, filled triangle, open square, cross.
            let line = move |(x, y): (i32, i32)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (20, 0)], color.stroke_width(2))
            };
            let drawn = match g % 5 {
                0 => chart
                    .draw_series(
                        pts.iter()
                            .map(|(x, m, _)| Circle::new((*x, *m), 4, color.filled())),
                    )
                    .map_err(err)?
                    .label(name.clone())
                    .legend(move |p| line(p) + Circle::new((10, 0), 4, color.filled())),
                1 => chart
                    .draw_series(
                        pts.iter()
                            .map(|(x, m, _)| Circle::new((*x, *m), 4, color.stroke_width(2))),
                    )
                    .map_err(err)?
                    .label(name.clone())
                    .legend(move |p| line(p) + Circle::new((10, 0), 4, color.stroke_width(2))),
                2 => chart
                    .draw_series(
                        pts.iter()
                            .map(|(x, m, _)| TriangleMarker::new((*x, *m), 5, color.filled())),
                    )
                    .map_err(err)?
                    .label(name.clone())
                    .legend(move |p| line(p) + TriangleMarker::new((10, 0), 5, color.filled())),
                3 => chart
                    .draw_series(pts.iter().map(|(x, m, _)| {
                        EmptyElement::at((*x, *m))
                            + Rectangle::new([(-4, -4), (4, 4)], color.stroke_width(2))
                    }))
                    .map_err(err)?
                    .label(name.clone())
                    .legend(move |p| {
                        line(p) + Rectangle::new([(6, -4), (14, 4)], color.stroke_width(2))
                    }),
                _ => chart
                    .draw_series(
                        pts.iter()
                            .map(|(x, m, _)| Cross::new((*x, *m), 4, color.stroke_width(2))),
                    )
                    .map_err(err)?
                    .label(name.clone())
                    .legend(move |p| line(p) + Cross::new((10, 0), 4, color.stroke_width(2))),
            };
            let _ = drawn;
        }
        draw_legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The running estimate of a Monte-Carlo average against the number of draws `n` (log axis),
/// with its ±2 standard-error band and, when known, the exact value as a dashed line: the band
/// should narrow like `1/√n` around the line.
///
/// `points` are `(n, estimate, standard error)`; points with a non-finite error are drawn
/// without a band.
///
/// # Errors
/// [`PlotError`] when there are fewer than two points with `n ≥ 1` or no finite estimate.
pub fn running_estimate(
    title: &str,
    ylabel: &str,
    points: &[(f64, f64, f64)],
    exact: Option<f64>,
) -> Result<String, PlotError> {
    let pts: Vec<(f64, f64, f64)> = points
        .iter()
        .copied()
        .filter(|(n, m, _)| *n >= 1.0 && m.is_finite())
        .collect();
    if pts.len() < 2 {
        return Err("fewer than two finite running estimates".into());
    }
    let band = |(_, m, s): &(f64, f64, f64)| {
        if s.is_finite() {
            [m - 2.0 * s, m + 2.0 * s]
        } else {
            [*m, *m]
        }
    };
    // The first few prefixes carry huge bands; the scale follows the later half so the
    // convergence stays visible, and the band is clipped to the frame.
    let half = pts.len() / 2;
    let (ylo, yhi) = finite_range(
        pts[half..]
            .iter()
            .flat_map(band)
            .chain(pts.iter().map(|p| p.1))
            .chain(exact),
    )
    .ok_or("no finite values")?;
    // Headroom above the data for the legend.
    let yhi = yhi + 0.35 * (yhi - ylo);
    let (xlo, xhi) = (pts[0].0, pts[pts.len() - 1].0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(110)
            .build_cartesian_2d((xlo..xhi).log_scale(), ylo..yhi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("number of draws n (log scale)")
            .x_label_formatter(&|n: &f64| format!("{n:.0}"))
            .y_desc(ylabel)
            .y_label_formatter(&tick_formatter(ylo, yhi))
            .draw()
            .map_err(err)?;
        let clip = |v: f64| v.clamp(ylo, yhi);
        let mut outline: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, clip(band(p)[1]))).collect();
        outline.extend(pts.iter().rev().map(|p| (p.0, clip(band(p)[0]))));
        chart
            .draw_series(std::iter::once(Polygon::new(
                outline,
                LIGHT.mix(0.45).filled(),
            )))
            .map_err(err)?
            .label("± 2 standard errors")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], LIGHT.filled()));
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, clip(p.1))),
                BLACK.stroke_width(2),
            ))
            .map_err(err)?
            .label("running estimate")
            .legend(line_key(BLACK, 2));
        if let Some(e) = exact {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xlo, e), (xhi, e)],
                    6,
                    4,
                    GREY.stroke_width(2),
                ))
                .map_err(err)?
                .label("exact (quadrature)")
                .legend(line_key(GREY, 2));
        }
        draw_legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A histogram normalised as a density (area 1), optionally over an exact density curve
/// `(x, p(x))` and with vertical marker lines `(label, x)` such as the exact mean.
///
/// The range is the central 99.8 % of the finite values (so a few far outliers do not squash
/// the plot); the caption says how many values fell outside.
///
/// # Errors
/// [`PlotError`] with fewer than two finite values or a zero-width range.
pub fn histogram(
    title: &str,
    xlabel: &str,
    values: &[f64],
    bins: usize,
    density: Option<&[(f64, f64)]>,
    markers: &[(String, f64)],
) -> Result<String, PlotError> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return Err("fewer than two finite values".into());
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((v.len() - 1) as f64 * p).round() as usize;
        v[i]
    };
    let (mut lo, mut hi) = (q(0.001), q(0.999));
    if let Some(d) = density {
        // Keep the exact curve's visible part inside the frame too.
        let peak = d.iter().map(|p| p.1).fold(0.0f64, f64::max);
        for (x, p) in d {
            if *p > 1e-3 * peak && x.is_finite() {
                lo = lo.min(*x);
                hi = hi.max(*x);
            }
        }
    }
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return Err("all values are equal".into());
    }
    let bins = bins.max(1);
    #[allow(clippy::cast_precision_loss)]
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    let mut outside = 0usize;
    for x in &v {
        if *x < lo || *x > hi {
            outside += 1;
            continue;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let k = (((x - lo) / width) as usize).min(bins - 1);
        counts[k] += 1;
    }
    #[allow(clippy::cast_precision_loss)]
    let scale = 1.0 / (v.len() as f64 * width);
    #[allow(clippy::cast_precision_loss)]
    let heights: Vec<f64> = counts.iter().map(|c| *c as f64 * scale).collect();
    let top = heights
        .iter()
        .copied()
        .chain(density.into_iter().flatten().map(|p| p.1))
        .filter(|h| h.is_finite())
        .fold(0.0f64, f64::max)
        * 1.4;
    if top.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return Err("no mass to draw".into());
    }
    let caption = if outside > 0 {
        format!(
            "{title} ({outside} of {} values outside the frame)",
            v.len()
        )
    } else {
        title.to_string()
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(xlabel)
            .y_desc("density")
            .x_label_formatter(&tick_formatter(lo, hi))
            .y_label_formatter(&tick_formatter(0.0, top))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(heights.iter().enumerate().map(|(k, h)| {
                #[allow(clippy::cast_precision_loss)]
                let x0 = lo + k as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, *h)], LIGHT.filled())
            }))
            .map_err(err)?
            .label(format!("draws (n = {})", v.len()))
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], LIGHT.filled()));
        if let Some(d) = density {
            chart
                .draw_series(LineSeries::new(
                    d.iter()
                        .copied()
                        .filter(|(x, p)| *x >= lo && *x <= hi && p.is_finite()),
                    BLACK.stroke_width(2),
                ))
                .map_err(err)?
                .label("exact density")
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2))
                });
        }
        for (i, (label, x)) in markers.iter().enumerate() {
            if !(x.is_finite() && *x >= lo && *x <= hi) {
                continue;
            }
            let dash = if i % 2 == 0 { (6, 4) } else { (2, 3) };
            let color = [BLACK, THIRD, GREY][i % 3];
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(*x, 0.0), (*x, top)],
                    dash.0,
                    dash.1,
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(label.clone())
                .legend(line_key(color, 2));
        }
        draw_legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Running estimates `(n, mean of the first n draws, standard error)` at about `points`
/// geometrically spaced prefix lengths, for draws from one or several chains (each chain's
/// prefix grows in step, `n` counts draws over all chains). The standard error of each prefix
/// comes from its own effective sample size (split chains, autocorrelation-aware), so the band
/// is honest for MCMC; prefixes too short for an ESS get a non-finite error (drawn without band).
pub fn running_points(chains: &[&[f64]], points: usize) -> Vec<(f64, f64, f64)> {
    let len = chains.iter().map(|c| c.len()).min().unwrap_or(0);
    if len < 2 {
        return Vec::new();
    }
    let mut ends: Vec<usize> = Vec::new();
    #[allow(clippy::cast_precision_loss)]
    let (first, last) = (10f64.min(len as f64).ln(), (len as f64).ln());
    let steps = points.max(2);
    for i in 0..steps {
        #[allow(clippy::cast_precision_loss)]
        let t = first + (last - first) * i as f64 / (steps - 1) as f64;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let m = (t.exp().round() as usize).clamp(2, len);
        if ends.last() != Some(&m) {
            ends.push(m);
        }
    }
    ends.iter()
        .map(|&m| {
            let prefix: Vec<&[f64]> = chains.iter().map(|c| &c[..m]).collect();
            let total = m * prefix.len();
            #[allow(clippy::cast_precision_loss)]
            let mean = prefix.iter().flat_map(|c| c.iter()).sum::<f64>() / total as f64;
            let se = crate::stats::ess::mcse_mean(&prefix);
            #[allow(clippy::cast_precision_loss)]
            (total as f64, mean, se)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_raises_small_fonts_only() {
        let svg = r#"<text font-size="9.67741935483871">a</text><text font-size="16">b</text>"#;
        let p = polish(svg);
        assert!(p.contains(r#"font-size="12">a"#), "{p}");
        assert!(p.contains(r#"font-size="16">b"#), "{p}");
        assert_eq!(integer_label(2.0, 3), "2");
        assert_eq!(integer_label(2.5, 3), "");
        assert_eq!(integer_label(4.0, 3), "");
    }

    fn well_formed(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn running_points_end_at_the_full_mean_with_a_shrinking_error() {
        // A deterministic, mixing sequence: the golden-ratio rotation, uniform on [0, 1).
        let v: Vec<f64> = (0..4000)
            .map(|i| (f64::from(i) * 0.618_033_988_749_895).fract())
            .collect();
        let pts = running_points(&[&v], 20);
        let (n, mean, _) = pts[pts.len() - 1];
        assert!((n - 4000.0).abs() < 0.5);
        assert!((mean - v.iter().sum::<f64>() / 4000.0).abs() < 1e-12);
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0));
        let early = pts
            .iter()
            .find(|p| p.0 >= 100.0 && p.2.is_finite())
            .map(|p| p.2);
        let late = pts[pts.len() - 1].2;
        assert!(early.is_some_and(|e| late < e), "{early:?} vs {late}");
    }

    #[test]
    fn figures_are_svg_and_refuse_empty_input() {
        let v: Vec<f64> = (0..500)
            .map(|i| (f64::from(i) * 0.754_877_666).fract() - 0.5)
            .collect();
        let pts = running_points(&[&v[..250], &v[250..]], 15);
        well_formed(&running_estimate("t", "y", &pts, Some(0.0)).unwrap());
        let curve: Vec<(f64, f64)> = (0..50).map(|i| (-0.5 + f64::from(i) / 49.0, 1.0)).collect();
        let h = histogram("h", "x", &v, 20, Some(&curve), &[("mean".into(), 0.0)]).unwrap();
        well_formed(&h);
        let cats = vec!["w".to_string(), "a".to_string()];
        let g = grouped_errorbars(
            "g",
            "gradient",
            "parameter",
            &cats,
            &[
                ("exact".into(), vec![(1.0, 0.0), (2.0, 0.1)]),
                ("mc".into(), vec![(1.1, 0.2), (1.9, 0.2)]),
            ],
        )
        .unwrap();
        well_formed(&g);
        assert!(
            g.lines().any(|l| l.trim() == "w") && g.lines().any(|l| l.trim() == "a"),
            "category labels missing"
        );
        assert!(histogram("h", "x", &[1.0], 10, None, &[]).is_err());
        assert!(histogram("h", "x", &[1.0, 1.0, 1.0], 10, None, &[]).is_err());
        assert!(running_estimate("t", "y", &[(1.0, f64::NAN, 0.0)], None).is_err());
    }
}
