//! The shape of a minimum in 2–4D before it is integrated: divergence along rays, the
//! Hessian, the axis widths, and whether the minimum is quadratic and Gaussian at the weight's
//! scale.

use super::*;

/// Refuses directions along which `exp(-βE)` does not decay (axes with an infinite end and,
/// when every axis is infinite, every direction with components in {−1, 0, 1}: the full
/// diagonals and the partial ones, where a valley such as `(z3 − z4)²` is flat), and
/// logarithmic growth too slow for `d` dimensions: when every probed ray grows like
/// `c·log r` with `c ≤ d` (`exp(-βE) ~ r^-c` along each; `∫ r^(d−1−c) dr` diverges), the
/// integral diverges — `1.4·log(1 + |z|²)` in 3D (`c` = 2.8) is refused with the slowest
/// direction, a Student-t (`c = ν + d`) is integrated, and so is a product of Cauchy
/// factors `Σ log(1 + z_i²)` (2 along the axes, but 2d along the full diagonals).
pub(super) fn probe_rays(
    p: &Problem<'_>,
    beta: f64,
    x0: &[f64],
    e0: f64,
    ls: f64,
) -> Result<(), QuadError> {
    let d = p.dim();
    let mut dirs: Vec<(Vec<f64>, Option<usize>, String)> = Vec::new();
    for i in 0..d {
        for (s, inf) in [
            (1.0, p.bounds[i].1 == f64::INFINITY),
            (-1.0, p.bounds[i].0 == f64::NEG_INFINITY),
        ] {
            if inf {
                let mut v = vec![0.0; d];
                v[i] = s;
                let name = ray_name(&p.cont, &v);
                dirs.push((v, Some(p.cont[i]), name));
            }
        }
    }
    let all_infinite = p
        .bounds
        .iter()
        .all(|b| b.0.is_infinite() && b.1.is_infinite());
    if all_infinite {
        for code in 0..3usize.pow(d as u32) {
            let v = ternary_direction(code, d);
            if v.iter().filter(|x| **x != 0.0).count() >= 2 {
                let name = ray_name(&p.cont, &v);
                dirs.push((v, None, name));
            }
        }
    }
    let s = x0.iter().fold(ls, |a, b| a.max(b.abs()));
    // The slowest and the fastest logarithmic growth over the rays, while every ray is
    // logarithmic: the integral diverges when even the fastest is at most `d`.
    let mut slowest: Option<(f64, String)> = None;
    let mut fastest = f64::NEG_INFINITY;
    let mut all_log = all_infinite;
    for (v, axis, name) in dirs {
        let at = |r: f64| -> Vec<f64> { x0.iter().zip(&v).map(|(x, d)| x + r * d).collect() };
        let (r1, r2) = (crate::quad::PROBE_NEAR * s, crate::quad::PROBE_FAR * s);
        let q1 = beta * (probe_eval(p, &at(r1), s)? - e0);
        let q2 = beta * (probe_eval(p, &at(r2), s)? - e0);
        let mut further = |r: f64| -> Result<f64, QuadError> {
            let z = at(r * s);
            if z.iter().any(|x| !x.is_finite() || x.abs() > 1e300) {
                return Ok(f64::NAN);
            }
            Ok(probe_eval(p, &z, s).map_or(f64::NAN, |e| beta * (e - e0)))
        };
        if crate::quad::ray_decides_divergence(q1, q2, crate::quad::RAY_DIVERGES_AT, &mut further)?
        {
            return Err(QuadError::Diverges {
                axis,
                direction: format!("exp(-βE) does not decay as {name}"),
            });
        }
        match crate::quad::ray_slope(q1, q2) {
            Some(c) if !crate::quad::ray_grows_like_a_power(q1, q2) && c.is_finite() => {
                fastest = fastest.max(c);
                if slowest.as_ref().is_none_or(|(m, _)| c < *m) {
                    slowest = Some((c, name));
                }
            }
            _ => all_log = false,
        }
    }
    match slowest {
        Some((c, name)) if all_log && fastest <= d as f64 * crate::quad::LINE_DIVERGES_AT => {
            Err(QuadError::Diverges {
                axis: None,
                direction: format!(
                    "exp(-βE) decays only like |z|^-{c:.3} as {name}, and no faster than \
                     |z|^-{d} along any probed direction (a {d}-dimensional integral needs \
                     faster than |z|^-{d})"
                ),
            })
        }
        _ => Ok(()),
    }
}

/// `z1 → +inf, z3 → -inf` for a direction (its non-zero components, 1-based variable names).
pub(super) fn ray_name(cont: &[usize], v: &[f64]) -> String {
    v.iter()
        .enumerate()
        .filter(|(_, x)| **x != 0.0)
        .map(|(i, x)| format!("z{} → {}inf", cont[i] + 1, if *x > 0.0 { "+" } else { "-" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The energy at a far probe point. A NaN there may be an artefact of the exact ray, such as
/// `x^2*exp(-v)` at `x = 0, v → -inf` (`0·∞`); the probe then moves off the ray by a small
/// offset in every coordinate (either sign), and only a NaN at all three points is an error.
pub(super) fn probe_eval(p: &Problem<'_>, z: &[f64], s: f64) -> Result<f64, QuadError> {
    match p.eval(z) {
        Err(QuadError::NotANumber { point }) => {
            for sign in [1.0, -1.0] {
                let moved: Vec<f64> = z
                    .iter()
                    .enumerate()
                    .map(|(j, x)| x + sign * 1e-3 * s * (j + 1) as f64)
                    .collect();
                if let Ok(e) = p.eval(&moved) {
                    return Ok(e);
                }
            }
            Err(QuadError::NotANumber { point })
        }
        r => r,
    }
}

/// Whether the energy is quadratic at the weight's scale in the whitened coordinates
/// `z = x0 + M t` (`M Mᵀ = (βH)⁻¹`): along every axis and every diagonal pair of axes, at
/// `|t| = 1, 2, 3`, `β(E − E0)` is within 10% (+0.05) of `|t|²/2`. Curved valleys (the banana,
/// Rosenbrock), funnels and flat powers fail this at once; a Gaussian passes exactly. The axis
/// widths of [`quadratic_at_weight_scale`] are accurate only to about √2, so they cannot tell.
pub(super) fn gaussian_at_weight_scale(
    p: &Problem<'_>,
    beta: f64,
    x0: &[f64],
    e0: f64,
    m: &DMatrix<f64>,
) -> Result<bool, QuadError> {
    let d = x0.len();
    let mut dirs: Vec<Vec<f64>> = Vec::new();
    for i in 0..d {
        let mut v = vec![0.0; d];
        v[i] = 1.0;
        dirs.push(v.clone());
        v[i] = -1.0;
        dirs.push(v);
        for j in i + 1..d {
            for (a, b) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
                let mut v = vec![0.0; d];
                v[i] = a * std::f64::consts::FRAC_1_SQRT_2;
                v[j] = b * std::f64::consts::FRAC_1_SQRT_2;
                dirs.push(v);
            }
        }
    }
    let mut checked = 0;
    for v in &dirs {
        for r in [1.0, 2.0, 3.0] {
            let z: Vec<f64> = (0..d)
                .map(|i| x0[i] + (0..d).map(|j| m[(i, j)] * v[j] * r).sum::<f64>())
                .collect();
            // Outside the domain the energy does not matter (a Gaussian cut by finite bounds
            // is still smooth where it is integrated).
            if z.iter().zip(&p.bounds).any(|(x, b)| *x < b.0 || *x > b.1) {
                continue;
            }
            checked += 1;
            let q = beta * (p.eval(&z)? - e0);
            let want = 0.5 * r * r;
            let close = (q - want).abs() <= 0.1 * want + 0.05;
            if !close {
                return Ok(false);
            }
        }
    }
    Ok(checked > 0)
}

/// Central-difference Hessian at `x`, or at the nearest point a step inside the domain: a
/// minimum on a bound (`z1^2.5 + z2^2` on `z1 ≥ 0`) must not be differenced outside it, where
/// the energy may be undefined (it was refused: "NaN at z1 = -0.0001").
pub(crate) fn hessian(p: &Problem<'_>, x: &[f64], ls: f64) -> Result<DMatrix<f64>, QuadError> {
    let d = x.len();
    let h: Vec<f64> = x.iter().map(|v| 1e-4 * (ls + v.abs())).collect();
    let inside: Vec<f64> = x
        .iter()
        .zip(&h)
        .zip(&p.bounds)
        .map(|((&v, &hi_step), &(lo, hi))| {
            if hi - lo > 2.0 * hi_step {
                v.clamp(lo + hi_step, hi - hi_step)
            } else {
                v
            }
        })
        .collect();
    let x = &inside[..];
    let f0 = p.eval(x)?;
    let mut m = DMatrix::zeros(d, d);
    let mut y = x.to_vec();
    for i in 0..d {
        y[i] = x[i] + h[i];
        let fp = p.eval(&y)?;
        y[i] = x[i] - h[i];
        let fm = p.eval(&y)?;
        y[i] = x[i];
        m[(i, i)] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        for j in 0..i {
            let mut v = 0.0;
            for (si, sj) in [(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0)] {
                y[i] = x[i] + si * h[i];
                y[j] = x[j] + sj * h[j];
                v += si * sj * p.eval(&y)?;
            }
            y[i] = x[i];
            y[j] = x[j];
            let hij = v / (4.0 * h[i] * h[j]);
            m[(i, j)] = hij;
            m[(j, i)] = hij;
        }
    }
    Ok(m)
}

/// The energy along one coordinate axis through a point (for measuring widths).
pub(super) struct AxisRay<'p, 'a> {
    p: &'p Problem<'a>,
    x: Vec<f64>,
    axis: usize,
}

impl Line for AxisRay<'_, '_> {
    fn n_obs(&self) -> usize {
        0
    }
    fn energy(&mut self, z: f64) -> Result<f64, QuadError> {
        self.x[self.axis] = z;
        self.p.eval(&self.x)
    }
    fn eval_many(&mut self, zs: &[f64], e: &mut [f64], _: &mut [f64]) -> Result<(), QuadError> {
        for (z, out) in zs.iter().zip(e.iter_mut()) {
            *out = self.energy(*z)?;
        }
        Ok(())
    }
    fn evals(&self) -> u64 {
        self.p.count()
    }
    fn axis(&self) -> usize {
        self.p.cont[self.axis]
    }
}

/// Per axis, the distances from `x0` down and up where `β(E - E0)` first reaches 1.
pub(super) fn axis_widths(
    p: &Problem<'_>,
    beta: f64,
    x0: &[f64],
    e0: f64,
    ls: f64,
) -> Result<Vec<(f64, f64)>, QuadError> {
    let mut out = Vec::with_capacity(x0.len());
    for i in 0..x0.len() {
        let (lo, hi) = p.bounds[i];
        let mut ray = AxisRay {
            p,
            x: x0.to_vec(),
            axis: i,
        };
        let mut side = |dir: f64, limit: f64| -> Result<f64, QuadError> {
            let w = line::local_width(&mut ray, beta, x0[i], e0, dir, limit, ls)?;
            truncated_width(&mut ray, beta, x0[i], e0, dir, limit, w)
        };
        let down = side(-1.0, x0[i] - lo)?;
        let up = side(1.0, hi - x0[i])?;
        out.push((down, up));
    }
    Ok(out)
}

/// A width that `local_width` returned as the whole distance `limit` to a finite bound (its
/// search steps by 4×, so the bound may lie well past where `β(E − E0)` reaches 1): kept only
/// when `β(E − E0) < 1` at the bound itself, otherwise located between the bound and a
/// quarter of it by six geometric bisections.
pub(super) fn truncated_width(
    ray: &mut dyn Line,
    beta: f64,
    m: f64,
    e0: f64,
    dir: f64,
    limit: f64,
    w: f64,
) -> Result<f64, QuadError> {
    if w < limit || !(limit.is_finite() && limit > 0.0) {
        return Ok(w);
    }
    let mut q = |s: f64| -> Result<f64, QuadError> { Ok(beta * (ray.energy(m + dir * s)? - e0)) };
    if q(limit)? < 1.0 {
        return Ok(limit);
    }
    let (mut below, mut above) = (0.25 * limit, limit);
    if q(below)? >= 1.0 {
        return Ok(below);
    }
    for _ in 0..6 {
        let mid = (below * above).sqrt();
        if q(mid)? < 1.0 {
            below = mid;
        } else {
            above = mid;
        }
    }
    Ok(above)
}

/// Whether the minimum is quadratic at the scale of the weight: on every axis both measured
/// widths within a factor 1.5 of the Hessian's `√(2/(β H_ii))`. A kink or a flat power
/// (`|u|^3.3`) fails this; whitening by its finite-difference Hessian then scaled the space so
/// badly that Genz–Malik reported convergence with three quarters of the mass missing.
/// A side where the domain ends first (`extents`: the distances from the minimiser to the
/// bounds, down and up) says only that `β(E − E0)` stayed below 1 up to the bound, which a
/// quadratic does too when the bound is within 1.5 widths: a Gaussian cut through (or next
/// to) its minimum by a finite bound passes.
pub(super) fn quadratic_at_weight_scale(
    h: &DMatrix<f64>,
    beta: f64,
    widths: &[(f64, f64)],
    extents: &[(f64, f64)],
) -> bool {
    widths
        .iter()
        .zip(extents)
        .enumerate()
        .all(|(i, (&(down, up), &(ext_down, ext_up)))| {
            let hii = h[(i, i)];
            if !(hii > 0.0 && hii.is_finite()) {
                return false;
            }
            let w = (2.0 / (beta * hii)).sqrt();
            [(down, ext_down), (up, ext_up)].iter().all(|&(x, ext)| {
                let truncated = x >= ext && ext < w * 1.5;
                truncated || (x.is_finite() && x > w / 1.5 && x < w * 1.5)
            })
        })
}
