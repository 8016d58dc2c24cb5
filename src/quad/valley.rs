//! The divergence decision along curved valleys, which no ray follows: on spheres of growing
//! radius around the minimum, the lowest `β(E − E*)` is followed outward (each sphere's
//! minimum warm-started from the last one's direction), and the mass of each shell is
//! estimated from it and from the widths of its well across the sphere. The unconfined banana
//! `(z2 − z1²)²` is flat along `z2 = z1²` for ever: every ray grows like a power, yet the
//! shells' minima stay at 0 and their widths shrink only like `r^-1/2`, so each shell's mass
//! decays like `r^-1/2` and the integral diverges.
//!
//! The decision is one-sided: a minimum on the spheres that grows like a power of `r` (the
//! banana `0.5·z1² + 2(z2 − z1²)²`: linearly) decays faster than any power and ends the search;
//! only a shell mass that keeps decaying slower than `r^-0.9` over the last four steps, out to
//! at least `4^8` weight scales, is refused. A slope is a ratio of logarithms over a factor of
//! 256 in radius, so constant errors of the width estimate (a well that is not Gaussian across
//! the sphere) cancel.

use super::{Problem, QuadError};

/// Radii of the follow: the weight's scale times `STEP^k`.
const STEP: f64 = 4.0;
/// The follow ends beyond this many weight scales.
const REACH: f64 = 1e8;
/// Steps of the decision window (a factor of `STEP^WINDOW` = 256 in radius).
const WINDOW: usize = 4;
/// The window must end at least this many weight scales out (`4^8`).
const FROM: f64 = 65_536.0;
/// Each window step's shell mass must decay no faster than `r^-DIVERGES_AT`: `∫ r^-c dr`
/// diverges for `c ≤ 1`; 0.9 leaves room for the estimate's noise.
const DIVERGES_AT: f64 = 0.9;
/// A minimum that doubles at every step (a power `r^a`, `a ≥ 0.5`) above this level is
/// growing, not noise.
const GROWING_ABOVE: f64 = 1e-6;
/// Widths across the sphere below this angle are at the resolution of the coordinates (a
/// point of radius `r` is known to `r·ε`): the follow stops there.
const RESOLVED: f64 = 1e4 * f64::EPSILON;
/// Largest angle from the current direction searched (a quarter turn).
const QUARTER: f64 = std::f64::consts::FRAC_PI_2;

/// `β(E − E*)` on the sphere of radius `r` around `x0`, in direction `u` (unit); an energy
/// that is NaN or fails is `+inf` there (never evidence of mass).
fn level(p: &Problem<'_>, beta: f64, x0: &[f64], e0: f64, r: f64, u: &[f64]) -> f64 {
    let z: Vec<f64> = x0.iter().zip(u).map(|(x, d)| x + r * d).collect();
    match p.eval(&z) {
        Ok(e) if !e.is_nan() => beta * (e - e0),
        _ => f64::INFINITY,
    }
}

/// `u` turned by `phi` towards the unit vector `e` orthogonal to it (normalised again, so
/// rounding never drifts off the sphere).
fn turned(u: &[f64], e: &[f64], phi: f64) -> Vec<f64> {
    let (s, c) = phi.sin_cos();
    let v: Vec<f64> = u.iter().zip(e).map(|(a, b)| c * a + s * b).collect();
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter().map(|x| x / n).collect()
}

/// An orthonormal basis of the plane orthogonal to the unit vector `u` (Gram–Schmidt on the
/// coordinate axes, the axis most aligned with `u` left out).
fn tangents(u: &[f64]) -> Vec<Vec<f64>> {
    let d = u.len();
    let skip = (0..d)
        .max_by(|&a, &b| u[a].abs().total_cmp(&u[b].abs()))
        .unwrap_or(0);
    let mut basis: Vec<Vec<f64>> = vec![u.to_vec()];
    for i in (0..d).filter(|&i| i != skip) {
        let mut v = vec![0.0; d];
        v[i] = 1.0;
        for b in &basis {
            let dot: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            for (x, y) in v.iter_mut().zip(b) {
                *x -= dot * y;
            }
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n > 1e-8 {
            v.iter_mut().for_each(|x| *x /= n);
            basis.push(v);
        }
    }
    basis.remove(0);
    basis
}

/// Minimises `g` over `phi ∈ [-QUARTER, QUARTER]` from `phi = 0` (value `g0`): steps of `h`
/// doubling downhill until the value rises, then golden sections until the bracket's values
/// agree to `1e-12` relative or the bracket reaches the angles' resolution. Returns the
/// minimiser and its value.
fn descend(g: &mut dyn FnMut(f64) -> f64, g0: f64, h: f64) -> (f64, f64) {
    let (fp, fm) = (g(h), g(-h));
    let (mut a, mut b, mut c, mut fa, mut fb, mut fc);
    if fp >= g0 && fm >= g0 {
        (a, b, c, fa, fb, fc) = (-h, 0.0, h, fm, g0, fp);
    } else {
        let dir = if fp < fm { 1.0 } else { -1.0 };
        (a, fa) = (0.0, g0);
        (b, fb) = (dir * h, fp.min(fm));
        let mut step = h;
        loop {
            step *= 2.0;
            let x = (b + dir * step).clamp(-QUARTER, QUARTER);
            let fx = g(x);
            if fx >= fb {
                (c, fc) = (x, fx);
                break;
            }
            (a, fa) = (b, fb);
            (b, fb) = (x, fx);
            if x.abs() >= QUARTER {
                return (b, fb);
            }
        }
    }
    // Golden sections on [a, c] around b.
    const R: f64 = 0.381_966_011_250_105_1;
    for _ in 0..200 {
        let spread = fa.max(fc) - fb;
        if spread <= 1e-12 * (1.0 + fb.abs()) || (c - a).abs() <= 8.0 * f64::EPSILON * b.abs() {
            break;
        }
        let (left, right) = if (b - a).abs() > (c - b).abs() {
            (true, b - R * (b - a))
        } else {
            (false, b + R * (c - b))
        };
        let fx = g(right);
        if fx < fb {
            if left {
                (c, fc) = (b, fb);
            } else {
                (a, fa) = (b, fb);
            }
            (b, fb) = (right, fx);
        } else if left {
            (a, fa) = (right, fx);
        } else {
            (c, fc) = (right, fx);
        }
    }
    (b, fb)
}

/// The angle from `0` towards `dir` at which `g` first exceeds `m + 1` (the well's half-width
/// across the sphere), from the guess `h`, to about 6 %; `QUARTER` when it never does.
fn edge(g: &mut dyn FnMut(f64) -> f64, m: f64, dir: f64, h: f64) -> f64 {
    let above = |v: f64| v.is_nan() || v - m >= 1.0;
    let mut h = h.clamp(1e-300, QUARTER);
    let (mut lo, mut hi);
    if above(g(dir * h)) {
        hi = h;
        loop {
            h *= 0.25;
            if h < 1e-300 {
                return h;
            }
            if !above(g(dir * h)) {
                lo = h;
                break;
            }
            hi = h;
        }
    } else {
        lo = h;
        loop {
            if lo >= QUARTER {
                return QUARTER;
            }
            h = (lo * 4.0).min(QUARTER);
            if above(g(dir * h)) {
                hi = h;
                break;
            }
            lo = h;
        }
    }
    for _ in 0..5 {
        let mid = (lo * hi).sqrt();
        if above(g(dir * mid)) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (lo * hi).sqrt()
}

/// Follows the lowest `β(E − E*)` on spheres of radius `r0·4^k` around the minimiser `x0`
/// (`e0` its energy) out to `1e8·r0`, on a domain infinite in every direction, and refuses
/// the integral when the shells' estimated mass `exp(-m(r))·Π r·w_i(r)` (`m` the sphere's
/// minimum, `w_i` the angular widths of its well along the sphere's tangent axes) decays no
/// faster than `r^-0.9` on every step of the last four resolved ones, out to at least
/// `65 536·r0`. A minimum growing like a power ends the search with no decision; so does a
/// minimum below `E*` (a mode the search missed, not a direction).
pub(crate) fn follow(
    p: &Problem<'_>,
    beta: f64,
    x0: &[f64],
    e0: f64,
    r0: f64,
) -> Result<(), QuadError> {
    let d = x0.len();
    if d < 2 || !(r0.is_finite() && r0 > 0.0) {
        return Ok(());
    }
    // The best start among the directions with components in {−1, 0, 1}.
    let mut best: Option<(f64, Vec<f64>)> = None;
    for code in 1..3usize.pow(d as u32) {
        let v = super::nd::ternary_direction(code, d);
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let u: Vec<f64> = v.iter().map(|x| x / n).collect();
        let f = level(p, beta, x0, e0, r0, &u);
        if best.as_ref().is_none_or(|(b, _)| f < *b) {
            best = Some((f, u));
        }
    }
    let Some((_, mut u)) = best else {
        return Ok(());
    };
    let sweeps = if d == 2 { 1 } else { 2 };
    let mut h: Vec<f64> = vec![0.1; d - 1];
    let mut widths: Vec<f64> = vec![0.1; d - 1];
    let mut minima: Vec<f64> = Vec::new();
    // (radius, log of the shell mass estimate, the sphere's minimum, its point)
    let mut shells: Vec<(f64, f64, f64, Vec<f64>)> = Vec::new();
    let mut r = r0;
    while r <= REACH * r0 {
        let mut m = level(p, beta, x0, e0, r, &u);
        for _ in 0..sweeps {
            for k in 0..d - 1 {
                // The tangent axes of the current direction (it moves within a sweep).
                let Some(e) = tangents(&u).get(k).cloned() else {
                    continue;
                };
                let mut g = |phi: f64| level(p, beta, x0, e0, r, &turned(&u, &e, phi));
                let (phi, v) = descend(&mut g, m, h[k].clamp(1e-12, 0.5));
                if v < m {
                    u = turned(&u, &e, phi);
                    m = v;
                }
                h[k] = phi.abs().max(widths[k] * 0.25);
            }
        }
        if !m.is_finite() || m < -GROWING_ABOVE {
            return Ok(());
        }
        minima.push(m);
        let k = minima.len();
        if k >= 3 {
            let (a, b, c) = (minima[k - 3], minima[k - 2], minima[k - 1]);
            if b > GROWING_ABOVE && a > 0.0 && b >= 2.0 * a && c >= 2.0 * b {
                return Ok(());
            }
        }
        if k >= 3 {
            // The well's widths across the sphere, each tangent axis both ways.
            let mut log_mass = -m;
            let mut resolved = true;
            for (i, e) in tangents(&u).iter().enumerate() {
                let mut g = |phi: f64| level(p, beta, x0, e0, r, &turned(&u, e, phi));
                let guess = widths[i].max(1e-300);
                let w = edge(&mut g, m, 1.0, guess) + edge(&mut g, m, -1.0, guess);
                widths[i] = 0.5 * w;
                resolved &= w >= RESOLVED;
                log_mass += (r * w).ln();
            }
            if !resolved {
                break;
            }
            let point: Vec<f64> = x0.iter().zip(&u).map(|(x, d)| x + r * d).collect();
            shells.push((r, log_mass, m, point));
        }
        r *= STEP;
    }
    let n = shells.len();
    if n < WINDOW + 1 || shells[n - 1].0 < FROM * r0 {
        return Ok(());
    }
    let window = &shells[n - 1 - WINDOW..];
    let slopes: Vec<f64> = window
        .windows(2)
        .map(|w| -(w[1].1 - w[0].1) / (w[1].0 / w[0].0).ln())
        .collect();
    if slopes.iter().all(|c| *c <= DIVERGES_AT) {
        let (radius, _, m, point) = &window[WINDOW];
        let slowest = slopes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let at = point
            .iter()
            .zip(&p.cont)
            .map(|(x, i)| format!("z{} = {x:.3e}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(QuadError::Diverges {
            axis: None,
            direction: format!(
                "exp(-βE) does not decay along a curved valley: on the sphere of radius \
                 {radius:.2e} around the minimum, β(E − E*) is only {m:.3e} (at {at}), and the \
                 mass of each shell decays no faster than r^-{slowest:.2} (a valley needs \
                 faster than r^-1)"
            ),
        });
    }
    Ok(())
}
