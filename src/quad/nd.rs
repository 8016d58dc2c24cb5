//! Quadrature in 2–4 continuous dimensions: whitened Genz–Malik cubature, or nested 1D in 2D.

use super::cubature::{self, Field, Region};
use super::gk::AxisMap;
use super::line::{self, Line};
use super::minimize::minimize_nd_for_weight;
use super::{Observables, PartResult, PartSpec, Problem, QuadError};
use nalgebra::DMatrix;

/// A minimum more than this many `1/β` above the global one is not a separate mode.
const SIGNIFICANT: f64 = 50.0;
/// Points of the outer minimum search's grid in the nested 2D rule (the 1D default is 32).
const OUTER_GRID: usize = 24;
/// Evaluations allowed for one slice of the nested 2D rule.
const SLICE_BUDGET: u64 = 100_000;

/// Refuses directions along which `exp(-βE)` does not decay (axes with an infinite end and,
/// when every axis is infinite, every direction with components in {−1, 0, 1}: the full
/// diagonals and the partial ones, where a valley such as `(z3 − z4)²` is flat), and
/// logarithmic growth too slow for `d` dimensions: when every probed ray grows like
/// `c·log r` with `c ≤ d` (`exp(-βE) ~ r^-c` along each; `∫ r^(d−1−c) dr` diverges), the
/// integral diverges — `1.4·log(1 + |z|²)` in 3D (`c` = 2.8) is refused with the slowest
/// direction, a Student-t (`c = ν + d`) is integrated, and so is a product of Cauchy
/// factors `Σ log(1 + z_i²)` (2 along the axes, but 2d along the full diagonals).
fn probe_rays(p: &Problem<'_>, beta: f64, x0: &[f64], e0: f64, ls: f64) -> Result<(), QuadError> {
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
        let (r1, r2) = (super::PROBE_NEAR * s, super::PROBE_FAR * s);
        let q1 = beta * (probe_eval(p, &at(r1), s)? - e0);
        let q2 = beta * (probe_eval(p, &at(r2), s)? - e0);
        let mut further = |r: f64| -> Result<f64, QuadError> {
            let z = at(r * s);
            if z.iter().any(|x| !x.is_finite() || x.abs() > 1e300) {
                return Ok(f64::NAN);
            }
            Ok(probe_eval(p, &z, s).map_or(f64::NAN, |e| beta * (e - e0)))
        };
        if super::ray_decides_divergence(q1, q2, super::RAY_DIVERGES_AT, &mut further)? {
            return Err(QuadError::Diverges {
                axis,
                direction: format!("exp(-βE) does not decay as {name}"),
            });
        }
        match super::ray_slope(q1, q2) {
            Some(c) if !super::ray_grows_like_a_power(q1, q2) && c.is_finite() => {
                fastest = fastest.max(c);
                if slowest.as_ref().is_none_or(|(m, _)| c < *m) {
                    slowest = Some((c, name));
                }
            }
            _ => all_log = false,
        }
    }
    match slowest {
        Some((c, name)) if all_log && fastest <= d as f64 * super::LINE_DIVERGES_AT => {
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
fn ray_name(cont: &[usize], v: &[f64]) -> String {
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
fn probe_eval(p: &Problem<'_>, z: &[f64], s: f64) -> Result<f64, QuadError> {
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
fn gaussian_at_weight_scale(
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

/// Central-difference Hessian at `x`.
fn hessian(p: &Problem<'_>, x: &[f64], ls: f64) -> Result<DMatrix<f64>, QuadError> {
    let d = x.len();
    let h: Vec<f64> = x.iter().map(|v| 1e-4 * (ls + v.abs())).collect();
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
struct AxisRay<'p, 'a> {
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
fn axis_widths(
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
fn truncated_width(
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
fn quadratic_at_weight_scale(
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

/// The shifted weight `exp(-β(E(x0 + M t) - E*))` with observables, as a cubature field.
struct NdField<'p, 'a> {
    p: &'p Problem<'a>,
    x0: Vec<f64>,
    m: DMatrix<f64>,
    beta: f64,
    e_star: f64,
    argmin: Vec<f64>,
    obs: Option<Observables<'p>>,
    n_obs: usize,
    rescale: f64,
    e_scale: f64,
}

impl Field for NdField<'_, '_> {
    fn n_comp(&self) -> usize {
        1 + self.n_obs
    }
    fn values(&mut self, ts: &[f64], jac: &[f64], out: &mut [f64]) -> Result<(), QuadError> {
        let d = self.x0.len();
        let n = jac.len();
        let mut zs = vec![0.0; n * d];
        for k in 0..n {
            for i in 0..d {
                let mut v = self.x0[i];
                for j in 0..d {
                    v += self.m[(i, j)] * ts[k * d + j];
                }
                zs[k * d + i] = v;
            }
        }
        let mut es = vec![0.0; n];
        self.p.eval_batch(&zs, &mut es)?;
        for k in 0..n {
            if es[k] < self.e_star {
                // Applied however small (see the 1D rule): βΔ is not negligible at large β.
                self.rescale *= (-self.beta * (self.e_star - es[k])).exp();
                self.e_star = es[k];
                self.argmin = zs[k * d..(k + 1) * d].to_vec();
            }
        }
        let nc = self.n_comp();
        let mut g = vec![0.0; self.n_obs];
        for k in 0..n {
            let w = if es[k] == f64::INFINITY || jac[k] == 0.0 {
                0.0
            } else {
                (-self.beta * (es[k] - self.e_star)).exp() * jac[k]
            };
            if w > 1e-3 * jac[k] {
                self.e_scale = self.e_scale.max(es[k].abs());
            }
            out[k * nc] = if w.is_finite() { w } else { f64::MAX };
            if let Some(f) = self.obs {
                if w > 0.0 {
                    f(&self.p.full_point(&zs[k * d..(k + 1) * d]), &mut g);
                    for c in 0..self.n_obs {
                        out[k * nc + 1 + c] = w * g[c];
                    }
                } else {
                    for c in 0..self.n_obs {
                        out[k * nc + 1 + c] = 0.0;
                    }
                }
            }
        }
        Ok(())
    }
    fn evals(&self) -> u64 {
        self.p.count()
    }
    fn take_rescale(&mut self) -> f64 {
        std::mem::replace(&mut self.rescale, 1.0)
    }
}

/// Breakpoints of the first whitened partition (module docs): 0 and ±3.
const CUTS: [f64; 3] = [-3.0, 0.0, 3.0];
/// Breakpoints of the cross-check's partition: none on the minimiser or on the first
/// partition's cuts or their dyadic refinements, so that a feature between the first rule's
/// nodes (a funnel's neck along an axis through the minimiser) lies on the second's.
const CROSS_CUTS: [f64; 4] = [-4.5, -1.5, 1.5, 4.5];
/// The cross-check's breakpoints when a bound is finite: [`CROSS_CUTS`] and the minimiser.
const FINITE_CROSS_CUTS: [f64; 5] = [-4.5, -1.5, 0.0, 1.5, 4.5];
/// On a domain with a finite bound, a first estimate on fewer than this many boxes times
/// `2^d` is cross-checked (`integrate_problem`).
const PREASYMPTOTIC_BOXES: usize = 64;

/// Pieces of one whitened axis `t ∈ [tlo, thi]`: breakpoints at `cuts` (those inside), tails
/// mapped. A finite axis that no cut divides is cut at a third of its length when `third`
/// (the cross-check's partition, whose boxes must differ from the first's).
fn axis_pieces(tlo: f64, thi: f64, cuts: &[f64], third: bool) -> Vec<(f64, f64, AxisMap)> {
    let mut bps: Vec<f64> = cuts
        .iter()
        .copied()
        .filter(|&b| b > tlo && b < thi)
        .collect();
    // The third also when the only cut is the minimiser's (the first partition has it too).
    if third && bps.iter().all(|&b| b == 0.0) && tlo.is_finite() && thi.is_finite() {
        let t = tlo + (thi - tlo) / 3.0;
        if t != 0.0 {
            bps.push(t);
            bps.sort_by(f64::total_cmp);
        }
    }
    if tlo.is_finite() {
        bps.insert(0, tlo);
    }
    if thi.is_finite() {
        bps.push(thi);
    }
    let mut out = Vec::new();
    if tlo == f64::NEG_INFINITY {
        let o = bps[0];
        out.push((
            0.0,
            1.0,
            AxisMap::Left {
                origin: o,
                scale: 3.0,
            },
        ));
    }
    for w in bps.windows(2) {
        out.push((w[0], w[1], AxisMap::Linear));
    }
    if thi == f64::INFINITY {
        let o = bps[bps.len() - 1];
        out.push((
            0.0,
            1.0,
            AxisMap::Right {
                origin: o,
                scale: 3.0,
            },
        ));
    }
    out
}

/// The energy along the second continuous variable at a fixed first one.
struct SliceLine<'p, 'a> {
    p: &'p Problem<'a>,
    z1: f64,
    obs: Option<Observables<'p>>,
    n_obs: usize,
}

impl Line for SliceLine<'_, '_> {
    fn n_obs(&self) -> usize {
        self.n_obs
    }
    fn energy(&mut self, z: f64) -> Result<f64, QuadError> {
        self.p.eval(&[self.z1, z])
    }
    fn eval_many(&mut self, zs: &[f64], e: &mut [f64], obs: &mut [f64]) -> Result<(), QuadError> {
        // The rules call with at most 21 points: build them on the stack.
        let mut buf = [0.0; 64];
        if zs.len() * 2 <= buf.len() {
            for (i, &z) in zs.iter().enumerate() {
                buf[2 * i] = self.z1;
                buf[2 * i + 1] = z;
            }
            self.p.eval_batch(&buf[..2 * zs.len()], e)?;
        } else {
            let pts: Vec<f64> = zs.iter().flat_map(|&z| [self.z1, z]).collect();
            self.p.eval_batch(&pts, e)?;
        }
        if let Some(g) = self.obs {
            for (i, &z) in zs.iter().enumerate() {
                if e[i] < f64::INFINITY {
                    g(
                        &self.p.full_point(&[self.z1, z]),
                        &mut obs[i * self.n_obs..(i + 1) * self.n_obs],
                    );
                }
            }
        }
        Ok(())
    }
    fn evals(&self) -> u64 {
        self.p.count()
    }
    fn axis(&self) -> usize {
        self.p.cont[1]
    }
}

/// The slice free energy `F(z1) = -(1/β) log ∫ exp(-βE(z1, z2)) dz2` as an outer line.
///
/// Observables: the slice's error of `log g`, then per user observable its slice mean,
/// slice error and slice mean of `|g|`.
struct NestedLine<'p, 'a> {
    p: &'p Problem<'a>,
    beta: f64,
    tol_inner: f64,
    obs: Option<Observables<'p>>,
    n_user: usize,
    ls: f64,
    hints: Vec<f64>,
    best: (f64, f64, f64),
    inner_failure: Option<String>,
    /// The modes of every slice integrated so far, sorted by outer coordinate: the nearest one
    /// warm starts the next slice (the full minimum search per slice was most of its cost).
    shapes: Vec<(f64, Vec<line::Mode>)>,
    warm_enabled: bool,
}

impl NestedLine<'_, '_> {
    fn slice(&mut self, z1: f64, with_obs: bool) -> Result<line::LineResult, QuadError> {
        let (lo, hi) = self.p.bounds[1];
        let mut sl = SliceLine {
            p: self.p,
            z1,
            obs: if with_obs { self.obs } else { None },
            n_obs: if with_obs { self.n_user } else { 0 },
        };
        // `shapes` is sorted by outer coordinate: the nearest is one of the two around `z1`
        // (a linear scan would make a long nested integral quadratic in its slices).
        let at = self.shapes.partition_point(|s| s.0 < z1);
        let warm = [at.checked_sub(1), Some(at)]
            .into_iter()
            .flatten()
            .filter_map(|i| self.shapes.get(i))
            .filter(|_| self.warm_enabled)
            .min_by(|a, b| (a.0 - z1).abs().total_cmp(&(b.0 - z1).abs()))
            .map(|s| s.1.clone());
        let warm = match warm {
            Some(w) if !self.warm_misses_a_mode(&mut sl, lo, hi, &w)? => Some(w),
            _ => None,
        };
        let spec = line::LineSpec {
            lo,
            hi,
            beta: self.beta,
            tol: self.tol_inner,
            rel_tol: 0.0,
            budget: SLICE_BUDGET,
            hints: &self.hints,
            ls: self.ls,
            warm: warm.as_deref(),
        };
        let r = line::integrate_line(&mut sl, &spec);
        // A hint may sit exactly where the energy is NaN far out (`x^2*exp(-v)` at x = 0,
        // v → -inf: 0·∞), where the search's grid does not: search that slice without them.
        let r = match r {
            Err(QuadError::NotANumber { .. }) if !self.hints.is_empty() => {
                line::integrate_line(&mut sl, &line::LineSpec { hints: &[], ..spec })?
            }
            r => r?,
        };
        if !r.modes.is_empty() {
            self.shapes.insert(at, (z1, r.modes.clone()));
        }
        if r.e_star < self.best.0 {
            self.best = (r.e_star, z1, r.argmin);
        }
        if !r.converged && self.inner_failure.is_none() && r.log_z > f64::NEG_INFINITY {
            self.inner_failure = r
                .reason
                .clone()
                .map(|s| format!("a slice at z{} = {z1}: {s}", self.p.cont[0] + 1));
        }
        Ok(r)
    }
}

impl NestedLine<'_, '_> {
    /// Whether a neighbouring slice's modes `warm` may miss a mode of this slice: the inner
    /// coordinate of a located 2D minimum (`hints`) that lies outside every warm mode's basin
    /// (more than five widths away, and the energy not falling from it towards the nearest
    /// warm mode) and is not negligible against them (`β(E − E_m)` below [`SIGNIFICANT`]).
    /// A chain of warm starts only follows the modes it began with; a mode that becomes
    /// significant further along (the second component of a mixture, 27 widths away in the
    /// inner coordinate) was lost with 5e-6 of Z, so the slice is then searched afresh with
    /// the minima as hints.
    fn warm_misses_a_mode(
        &self,
        sl: &mut SliceLine<'_, '_>,
        lo: f64,
        hi: f64,
        warm: &[line::Mode],
    ) -> Result<bool, QuadError> {
        let em = warm.iter().map(|m| m.em).fold(f64::INFINITY, f64::min);
        for &h in &self.hints {
            if !(h > lo && h < hi && em.is_finite()) {
                continue;
            }
            let width = |m: &line::Mode| {
                let w = m.w_left.max(m.w_right);
                if w.is_finite() && w > 0.0 { w } else { self.ls }
            };
            let Some(near) = warm
                .iter()
                .min_by(|a, b| (a.m - h).abs().total_cmp(&(b.m - h).abs()))
            else {
                return Ok(true);
            };
            let w = width(near);
            if (near.m - h).abs() <= 5.0 * w {
                continue;
            }
            // A point where the energy is undefined (0·∞ far out) holds no mode to miss.
            let Ok(eh) = sl.energy(h) else {
                continue;
            };
            if self.beta * (eh - em) >= SIGNIFICANT {
                continue;
            }
            // Still in the nearest mode's basin when the energy falls from `h` towards it.
            let step = h + (near.m - h).signum() * 0.5 * w.min((near.m - h).abs());
            if sl.energy(step).is_ok_and(|e| e < eh) {
                continue;
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// Whether a slice the inner rule refused as divergent is only beyond f64 resolution: far
    /// out (where the outer tail probes go) the slice's energy is so much higher than the lowest
    /// slice found that its weight `exp(-β(E - E*))` is exactly zero, and its inner variation
    /// is below the rounding of `E` itself, or interval enclosures bound the slice's whole mass
    /// below `e^-60` (a funnel `x^2*exp(-v)` far out, where the slice is wider than any probe
    /// or `exp(-v)` underflows and the slice looks flat). A genuinely divergent slice is caught near the minimum,
    /// where this does not apply.
    fn negligible(&self, z1: f64, err: &QuadError) -> bool {
        if !matches!(err, QuadError::Diverges { .. }) || !self.best.0.is_finite() {
            return false;
        }
        let (lo, hi) = self.p.bounds[1];
        // Bounded by enclosures: the slice's whole mass is below e^-60 of the best point's
        // weight (far below any tolerance, summed over every slice the outer rule can take).
        let hint = self.hints.first().copied().unwrap_or(0.0);
        if super::bounds::line_mass_upper(self.p, &[z1, hint], 1, self.beta, self.best.0)
            < -NEGLIGIBLE_SLICE_MASS
        {
            return true;
        }
        let z2 = self.hints.first().copied().unwrap_or(0.0);
        let z2 = z2.clamp(lo.max(-1e300), hi.min(1e300));
        let mut x = vec![0.0; 2];
        x[0] = z1;
        x[1] = z2;
        match self.p.eval(&x) {
            Ok(e) => {
                self.beta * (e - self.best.0) > NEGLIGIBLE_EXPONENT
                    && e.abs() * f64::EPSILON * self.beta > 1.0
            }
            Err(_) => false,
        }
    }
}

/// `exp(-x)` underflows to zero in f64 beyond about 745; a slice this far above the best one
/// carries no weight.
const NEGLIGIBLE_EXPONENT: f64 = 1000.0;

/// A slice whose certified mass is below `e^-60` of the best point's weight carries nothing.
const NEGLIGIBLE_SLICE_MASS: f64 = 60.0;

impl Line for NestedLine<'_, '_> {
    fn n_obs(&self) -> usize {
        1 + 3 * self.n_user
    }
    fn energy(&mut self, z: f64) -> Result<f64, QuadError> {
        match self.slice(z, false) {
            Ok(r) => Ok(-r.log_z / self.beta),
            Err(e) if self.negligible(z, &e) => Ok(f64::INFINITY),
            Err(e) => Err(e),
        }
    }
    fn eval_many(&mut self, zs: &[f64], e: &mut [f64], obs: &mut [f64]) -> Result<(), QuadError> {
        let no = self.n_obs();
        let nu = self.n_user;
        for (i, &z) in zs.iter().enumerate() {
            let r = match self.slice(z, nu > 0) {
                Ok(r) => r,
                Err(err) if self.negligible(z, &err) => {
                    e[i] = f64::INFINITY;
                    obs[i * no..(i + 1) * no].fill(0.0);
                    continue;
                }
                Err(err) => return Err(err),
            };
            e[i] = -r.log_z / self.beta;
            let o = &mut obs[i * no..(i + 1) * no];
            o[0] = if r.rule_error.is_finite() {
                r.rule_error + r.rounding_floor
            } else {
                0.0
            };
            for k in 0..nu {
                o[1 + k] = r.obs_mean[k];
                o[1 + nu + k] = r.obs_err[k];
                o[1 + 2 * nu + k] = r.obs_abs[k];
            }
            if r.log_z == f64::NEG_INFINITY {
                for v in o.iter_mut() {
                    *v = 0.0;
                }
            }
        }
        Ok(())
    }
    fn evals(&self) -> u64 {
        self.p.count()
    }
    fn axis(&self) -> usize {
        self.p.cont[0]
    }
    fn noise(&self, e: f64) -> f64 {
        // A slice's log g is converged to `tol_inner`, so F = -log g / β to `tol_inner / β`.
        4.0 * f64::EPSILON * e.abs() + 2.0 * self.tol_inner / self.beta
    }
    fn search_done(&mut self) {
        // Slices warm-started from a neighbour differ from cold ones in the last digits; the
        // outer Brent search, which compares F at points 1e-8 apart, needs them deterministic.
        self.warm_enabled = true;
    }
    fn grid_points(&self) -> usize {
        // Every slice of the outer search is a full 1D integral; the 2D minima are passed as
        // hints, so the outer grid only has to catch broad modes of the slice free energy.
        OUTER_GRID
    }
    fn drives(&self, k: usize) -> bool {
        // Only the slice means of the user's observables; errors are diagnostics.
        k >= 1 && k <= self.n_user
    }
    fn scale_of(&self, k: usize) -> Option<usize> {
        // The slice means of |g| follow the means and the slice errors.
        (k >= 1 && k <= self.n_user).then_some(k + 2 * self.n_user)
    }
}

fn nested(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    mins: &[(f64, Vec<f64>)],
) -> Result<PartResult, QuadError> {
    let (beta, n_obs, tol, budget) = (spec.beta, spec.n_obs, spec.tol, spec.budget);
    let opts = spec.opts;
    let ls = opts.length_scale.unwrap_or(1.0);
    let outer_hints: Vec<f64> = mins.iter().map(|m| m.1[0]).collect();
    // Every located 2D minimum's inner coordinate seeds each slice's search, and a warm start
    // that would miss one is not taken (`warm_misses_a_mode`).
    // A chain of warm starts can only lose a mode when there are several: minima separated
    // from the lowest by a barrier of at least 1/β at the midpoint (not near-duplicates on a
    // flat plateau).
    let separate = |m: &(f64, Vec<f64>)| -> bool {
        let (e0, x0) = &mins[0];
        let mid: Vec<f64> = m.1.iter().zip(x0).map(|(a, b)| 0.5 * (a + b)).collect();
        p.eval(&mid)
            .is_ok_and(|em| beta * (em - m.0.max(*e0)) >= 1.0)
    };
    let others: Vec<f64> = mins
        .iter()
        .skip(1)
        .filter(|m| beta * (m.0 - mins[0].0) <= SIGNIFICANT && separate(m))
        .map(|m| m.1[1])
        .collect();
    let inner_hints: Vec<f64> = if others.is_empty() {
        Vec::new()
    } else {
        std::iter::once(mins[0].1[1]).chain(others).collect()
    };
    let mut nl = NestedLine {
        p,
        beta,
        // With observables the slice means are integrated again by the outer rule, whose error
        // estimate cannot fall below their noise: slices are integrated ten times tighter so
        // that noise stays well under the outer target.
        tol_inner: if n_obs > 0 { 0.05 * tol } else { 0.5 * tol },
        obs: spec.obs,
        n_user: n_obs,
        ls,
        hints: inner_hints,
        best: (f64::INFINITY, f64::NAN, f64::NAN),
        inner_failure: None,
        shapes: Vec::new(),
        warm_enabled: false,
    };
    let (lo, hi) = p.bounds[0];
    let r = line::integrate_line(
        &mut nl,
        &line::LineSpec {
            lo,
            hi,
            beta,
            tol: 0.5 * tol,
            rel_tol: 0.0,
            budget,
            hints: &outer_hints,
            ls,
            warm: None,
        },
    )?;
    let inner_err = r.obs_mean.first().copied().unwrap_or(0.0);
    let nu = n_obs;
    let mut values = vec![0.0; nu];
    let mut errors = vec![0.0; nu];
    let mut abs_means = vec![0.0; nu];
    for k in 0..nu {
        values[k] = r.obs_mean[1 + k];
        abs_means[k] = r.obs_mean[1 + 2 * nu + k];
        errors[k] = r.obs_err[1 + k] + r.obs_mean[1 + nu + k] + 2.0 * inner_err * abs_means[k];
    }
    let mut converged = r.converged;
    let mut reason = r.reason.clone();
    if let Some(f) = nl.inner_failure.take() {
        converged = false;
        reason = reason.or(Some(f));
    }
    let (e_best, z1, z2) = nl.best;
    let (min_energy, argmin) = match mins.first() {
        Some((e, x)) if *e <= e_best => (*e, p.full_point(x)),
        _ => (e_best, p.full_point(&[z1, z2])),
    };
    Ok(PartResult {
        minima: Vec::new(),
        log_z: r.log_z,
        abs_error: r.rule_error + r.rounding_floor + inner_err,
        min_energy,
        argmin,
        converged,
        reason,
        rounding_floor: r.rounding_floor,
        laplace: None,
        obs: values,
        obs_err: errors,
        obs_abs: abs_means,
    })
}

/// `log Z` (and observables) of a problem with 2–4 continuous variables.
pub(crate) fn integrate_problem(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
) -> Result<PartResult, QuadError> {
    let (beta, n_obs, tol, budget, opts) =
        (spec.beta, spec.n_obs, spec.tol, spec.budget, spec.opts);
    let d = p.dim();
    let ls = opts.length_scale.unwrap_or(1.0);
    let mins = minimize_nd_for_weight(p, opts, beta)?;
    let Some((e0, x0)) = mins.first().cloned() else {
        return Ok(PartResult {
            minima: Vec::new(),
            log_z: f64::NEG_INFINITY,
            abs_error: f64::INFINITY,
            min_energy: f64::INFINITY,
            argmin: p.full_point(&vec![f64::NAN; d]),
            converged: false,
            reason: Some("no point of finite energy was found".into()),
            rounding_floor: 0.0,
            laplace: None,
            obs: vec![f64::NAN; n_obs],
            obs_err: vec![f64::INFINITY; n_obs],
            obs_abs: vec![f64::NAN; n_obs],
        });
    };
    probe_rays(p, beta, &x0, e0, ls)?;
    let n_sig = mins
        .iter()
        .filter(|(e, _)| beta * (e - e0) <= SIGNIFICANT)
        .count();
    let all_infinite = p
        .bounds
        .iter()
        .all(|b| b.0.is_infinite() && b.1.is_infinite());
    let h = hessian(p, &x0, ls)?;
    let chol = nalgebra::Cholesky::new(h.clone());
    let well_conditioned = chol.as_ref().is_some_and(|c| {
        let l = c.l();
        let diag: Vec<f64> = (0..d).map(|i| l[(i, i)]).collect();
        let mx = diag.iter().fold(0.0f64, |a, &b| a.max(b));
        let mn = diag.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        mn > 1e-6 * mx && mn > 0.0
    });
    let widths = axis_widths(p, beta, &x0, e0, ls)?;
    if all_infinite {
        // Curved valleys, which no ray follows, from the weight's scale outward.
        let scale = widths.iter().fold(ls, |a, (lo, hi)| a.max(*lo).max(*hi));
        super::valley::follow(p, beta, &x0, e0, scale)?;
    }
    let extents: Vec<(f64, f64)> = p
        .bounds
        .iter()
        .zip(&x0)
        .map(|(b, x)| (x - b.0, b.1 - x))
        .collect();
    let quadratic = quadratic_at_weight_scale(&h, beta, &widths, &extents);
    let well_conditioned = well_conditioned && quadratic;
    // The whitened rule's error estimate is trusted alone only on a minimum that is Gaussian
    // at the weight's scale (within the domain: a Gaussian cut by finite bounds passes);
    // otherwise 2D goes to the nested rule and 3–4D are cross-checked. In 3–4D the check
    // decides only whether one estimate is trusted, which expectations always are (below):
    // not spent there.
    let gaussian = match (&chol, well_conditioned && (d == 2 || n_obs == 0)) {
        (Some(c), true) => {
            let m = c
                .l()
                .transpose()
                .try_inverse()
                .unwrap_or_else(|| DMatrix::identity(d, d))
                / beta.sqrt();
            gaussian_at_weight_scale(p, beta, &x0, e0, &m)?
        }
        _ => false,
    };
    if d == 2 && !(well_conditioned && gaussian && n_sig == 1 && all_infinite) {
        return nested(p, spec, &mins);
    }
    // Whitening z = x0 + M t with M Mᵀ = (βH)⁻¹, or per-axis scales when H is unusable.
    let (m, log_det_m, laplace) = match (&chol, well_conditioned && all_infinite) {
        (Some(c), true) => {
            let l = c.l();
            let lt_inv = l
                .transpose()
                .try_inverse()
                .unwrap_or_else(|| DMatrix::identity(d, d));
            let m = lt_inv / beta.sqrt();
            let log_det_l: f64 = (0..d).map(|i| l[(i, i)].ln()).sum();
            let log_det_m = -0.5 * d as f64 * beta.ln() - log_det_l;
            let laplace =
                -beta * e0 + 0.5 * d as f64 * (2.0 * std::f64::consts::PI / beta).ln() - log_det_l;
            (m, log_det_m, Some(laplace))
        }
        _ => {
            // Per-axis scales from the measured widths (the Hessian's when the minimum is
            // quadratic): `σ = w/√2`, so that ±3 pieces span what they span for a Gaussian.
            let sig: Vec<f64> = (0..d)
                .map(|i| {
                    let (down, up) = widths[i];
                    let w = down.max(up);
                    let hii = h[(i, i)];
                    if !quadratic && w.is_finite() && w > 0.0 {
                        w / std::f64::consts::SQRT_2
                    } else if hii > 0.0 && hii.is_finite() {
                        1.0 / (beta * hii).sqrt()
                    } else {
                        ls
                    }
                })
                .collect();
            let log_det: f64 = sig.iter().map(|s| s.ln()).sum();
            (
                DMatrix::from_diagonal(&nalgebra::DVector::from_vec(sig)),
                log_det,
                None,
            )
        }
    };
    // On a Gaussian minimum over the whole space, product Gauss–Hermite rules in the whitened
    // frame converge far faster than the cubature (`hermite`); when they do not converge
    // within their budget, the cubature below takes over.
    if well_conditioned && gaussian && all_infinite && n_sig == 1 && n_obs == 0 {
        let frame = super::hermite::Frame {
            x0: &x0,
            e0,
            m: &m,
            log_det_m,
        };
        if let Some(mut r) = super::hermite::log_partition(p, spec, &frame)? {
            r.laplace = laplace;
            return Ok(r);
        }
    }
    // In 3–4D one embedded-rule estimate is trusted alone only on a minimum that is Gaussian
    // at the weight's scale (within the domain). Otherwise (a funnel's neck between the rule's
    // nodes read 3.5e-6 of Z as nothing; Genz's corner peak on the unit cube, whose minimum
    // is a corner, was 7.0e-6 off with 3.4e-6 claimed) the integral is taken twice, at half
    // the tolerance, the second time on a partition with no cut in common (`CROSS_CUTS`, a
    // finite axis without a cut divided at a third); the result is the midpoint, its error
    // covering both claimed intervals. Expectations (observables) keep one estimate: the
    // sampler references' moments do not afford two within their budgets.
    let trusted = (well_conditioned && gaussian) || n_sig > 1 || n_obs > 0;
    // Where the second estimate is conditional (a finite bound), the first is taken at the
    // full tolerance and retaken at half only when the cross-check is due (few boxes: cheap).
    let full_first = trusted || !all_infinite;
    let tol_run = if full_first { tol } else { 0.5 * tol };
    let whitening = Whitening {
        x0: &x0,
        e0,
        m: &m,
        log_det_m,
        all_infinite,
        laplace,
        n_sig,
    };
    let half_tol = PartSpec {
        tol: 0.5 * tol,
        ..*spec
    };
    let (r1, boxes) = whitened_run(
        p,
        &PartSpec {
            tol: tol_run,
            ..*spec
        },
        &whitening,
        false,
    )?;
    // On a finite domain the second estimate is taken only while the first rests on few
    // boxes (fewer than `PREASYMPTOTIC_BOXES`·2^d), where the embedded rule is least
    // reliable: Genz's corner peak in 4D stopped on 2 boxes claiming 3.4e-6 with 7.0e-6 true.
    // Beyond, one estimate, as before: a product peak on 9 412 boxes would cost 2.6× and the
    // sampler references' slabs would run out of their budgets.
    let few_boxes = all_infinite || boxes < PREASYMPTOTIC_BOXES << d;
    if trusted || !few_boxes || !r1.converged || !r1.log_z.is_finite() {
        return Ok(r1);
    }
    // The retake at half the tolerance is needed only when the first estimate's own error is
    // above it: one already within half the tolerance is what the retake would demand.
    let r1 = if full_first && r1.abs_error > 0.5 * tol {
        let (r, _) = whitened_run(p, &half_tol, &whitening, false)?;
        r
    } else {
        r1
    };
    let budget2 = budget.saturating_sub(p.count());
    let (r2, _) = whitened_run(
        p,
        &PartSpec {
            budget: budget2,
            ..half_tol
        },
        &whitening,
        true,
    )?;
    Ok(cross_checked(r1, r2, tol))
}

/// Two estimates of one integral on different partitions, combined: the midpoint, with an
/// error `|L1 − L2|/2 + max(e1, e2)`, so that the result's interval contains both claimed
/// intervals. Converged only when both were, they agree within their errors
/// (`|L1 − L2| ≤ e1 + e2`: the claimed intervals overlap) and that error is within `tol`.
fn cross_checked(r1: PartResult, r2: PartResult, tol: f64) -> PartResult {
    let mut r = r1;
    if !r2.log_z.is_finite() {
        r.converged = false;
        r.reason = Some(format!(
            "the cross-check on a second partition did not give a finite estimate ({})",
            r2.reason.as_deref().unwrap_or("no reason")
        ));
        return r;
    }
    let (l1, e1) = (r.log_z, r.abs_error);
    let spread = (l1 - r2.log_z).abs();
    let floor = r.rounding_floor.max(r2.rounding_floor);
    let rule = (e1 - r.rounding_floor).max(r2.abs_error - r2.rounding_floor);
    r.log_z = 0.5 * (l1 + r2.log_z);
    r.abs_error = 0.5 * spread + rule + floor;
    r.rounding_floor = floor;
    for k in 0..r.obs.len() {
        let dv = (r.obs[k] - r2.obs[k]).abs();
        r.obs[k] = 0.5 * (r.obs[k] + r2.obs[k]);
        r.obs_err[k] = 0.5 * dv + r.obs_err[k].max(r2.obs_err[k]);
        r.obs_abs[k] = r.obs_abs[k].max(r2.obs_abs[k]);
    }
    if !r2.converged {
        r.converged = false;
        r.reason = Some(format!(
            "the cross-check on a second partition did not converge: {}",
            r2.reason.as_deref().unwrap_or("no reason")
        ));
    } else if spread > e1 + r2.abs_error {
        r.converged = false;
        r.reason = Some(format!(
            "two partitions disagree: log Z {l1:.10} ± {e1:.2e} and {:.10} ± {:.2e} \
             (the embedded rule's error is not a bound on this non-Gaussian minimum)",
            r2.log_z, r2.abs_error
        ));
    } else if r.abs_error - floor > tol {
        r.converged = false;
        r.reason = Some(format!(
            "two partitions agree only to {:.2e} in log Z (tolerance {tol:.1e})",
            r.abs_error
        ));
    }
    r
}

/// The whitening of one minimum for [`whitened_run`]: `z = x0 + M t`.
#[derive(Clone, Copy)]
struct Whitening<'a> {
    /// The minimiser.
    x0: &'a [f64],
    /// The energy there.
    e0: f64,
    /// `M`, with `M Mᵀ = (βH)⁻¹`, or per-axis scales.
    m: &'a DMatrix<f64>,
    /// `log |det M|`.
    log_det_m: f64,
    /// Whether every axis is infinite both ways.
    all_infinite: bool,
    /// The Laplace approximation of `log Z`, when `M` is the Hessian's.
    laplace: Option<f64>,
    /// Number of significant minima (more than one is not converged).
    n_sig: usize,
}

/// The whitened Genz–Malik rule on `z = x0 + M t`, each axis cut at `t = 0, ±3` with mapped
/// tails, or with `cross` on the cross-check's partition (`CROSS_CUTS`; on a domain with a
/// finite bound also `t = 0`, where a kink or a face of the minimum lies: with the cut there
/// a Laplace-like `exp(-Σ a|z − u|)` stays cheap and exact, without it the second estimate
/// was itself 1.8e-5 off on its boxes with 5e-8 claimed). Also returns the number of boxes.
fn whitened_run(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    w: &Whitening<'_>,
    cross: bool,
) -> Result<(PartResult, usize), QuadError> {
    let (beta, n_obs, tol, budget) = (spec.beta, spec.n_obs, spec.tol, spec.budget);
    let Whitening {
        x0,
        e0,
        m,
        log_det_m,
        all_infinite,
        laplace,
        n_sig,
    } = *w;
    let d = x0.len();
    let per_axis: Vec<Vec<(f64, f64, AxisMap)>> = (0..d)
        .map(|i| {
            let (lo, hi) = p.bounds[i];
            let (cuts, third): (&[f64], bool) = match (cross, all_infinite) {
                (true, true) => (&CROSS_CUTS, true),
                (true, false) => (&FINITE_CROSS_CUTS, true),
                _ => (&CUTS, false),
            };
            if all_infinite {
                axis_pieces(f64::NEG_INFINITY, f64::INFINITY, cuts, third)
            } else {
                let s = m[(i, i)];
                axis_pieces((lo - x0[i]) / s, (hi - x0[i]) / s, cuts, third)
            }
        })
        .collect();
    let mut regions = vec![Region {
        centre: Vec::new(),
        half: Vec::new(),
        maps: Vec::new(),
    }];
    for pieces in &per_axis {
        let mut next = Vec::new();
        for r in &regions {
            for &(a, b, map) in pieces {
                let mut q = r.clone();
                q.centre.push(0.5 * (a + b));
                q.half.push(0.5 * (b - a));
                q.maps.push(map);
                next.push(q);
            }
        }
        regions = next;
    }
    let mut field = NdField {
        p,
        x0: x0.to_vec(),
        m: m.clone(),
        beta,
        e_star: e0,
        argmin: x0.to_vec(),
        obs: spec.obs,
        n_obs,
        rescale: 1.0,
        e_scale: e0.abs(),
    };
    let start = p.count();
    let tol_fn = |_: f64| tol;
    let r = cubature::integrate(&mut field, regions, &tol_fn, budget.saturating_sub(start))?;
    let i_tot = r.est[0];
    let log_z = -beta * field.e_star + i_tot.ln() + log_det_m;
    let rel = r.err[0] / i_tot;
    let rule_error = if rel < 0.5 {
        -(1.0 - rel).ln()
    } else {
        f64::INFINITY
    };
    let floor = 4.0 * f64::EPSILON * beta * field.e_scale.max(field.e_star.abs())
        + 2.0 * f64::EPSILON * log_z.abs();
    let mut values = vec![0.0; n_obs];
    let mut errors = vec![0.0; n_obs];
    let mut abs_means = vec![0.0; n_obs];
    for k in 0..n_obs {
        values[k] = r.est[1 + k] / i_tot;
        abs_means[k] = r.abs[1 + k] / i_tot;
        errors[k] = r.err[1 + k] / i_tot + values[k].abs() * rel;
    }
    let mut converged = r.converged;
    let mut reason = r.reason;
    if n_sig > 1 && converged {
        // Modes far from the lowest one may be missed by the subdivision without a warning
        // from the rule: refuse to call that converged.
        converged = false;
        reason = Some(format!(
            "{n_sig} separate minima in {d}D: integrated around the lowest by adaptive subdivision, \
             other modes may be under-resolved"
        ));
    }
    if !(i_tot > 0.0 && i_tot.is_finite()) {
        converged = false;
        reason = Some("the integral of exp(-β(E - E*)) is not positive and finite".into());
    }
    Ok((
        PartResult {
            minima: Vec::new(),
            log_z,
            abs_error: rule_error + floor,
            min_energy: field.e_star,
            argmin: p.full_point(&field.argmin),
            converged,
            reason,
            rounding_floor: floor,
            laplace,
            obs: values,
            obs_err: errors,
            obs_abs: abs_means,
        },
        r.regions,
    ))
}

/// Direction number `code` (base 3, digit `i` for axis `i`: 0, +1, −1) among the `3^d`
/// directions with components in {−1, 0, 1} (`code = 0` is the zero vector).
pub(crate) fn ternary_direction(code: usize, d: usize) -> Vec<f64> {
    (0..d)
        .map(|i| match code / 3usize.pow(i as u32) % 3 {
            0 => 0.0,
            1 => 1.0,
            _ => -1.0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::{Domain, FnEnergy, problems};

    /// Slices warm-started from a neighbour agree with cold ones within their error estimates,
    /// also across the ring's |z1| = 1, where the two minima of a slice merge into one (the
    /// warm start no longer fits and the full search takes over).
    #[test]
    fn warm_started_slices_match_cold_ones() {
        type Slice2 = FnEnergy<fn(&[f64]) -> f64>;
        let cases: Vec<(&str, Slice2)> = vec![
            (
                "ring",
                FnEnergy::new(2, |z: &[f64]| (z[0] * z[0] + z[1] * z[1] - 1.0).powi(2)),
            ),
            (
                "tilted wells",
                FnEnergy::new(2, |z: &[f64]| {
                    (z[1] * z[1] - 1.0).powi(2) + 0.3 * z[0] * z[1] + 0.5 * z[0] * z[0]
                }),
            ),
            (
                "kink",
                FnEnergy::new(2, |z: &[f64]| (z[1] - 0.4 * z[0]).abs() + 0.5 * z[0] * z[0]),
            ),
        ];
        let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY); 2]).expect("domain");
        for (name, e) in &cases {
            let probs = problems(e, &dom);
            for beta in [1.0, 100.0, 1e4] {
                let mut nl = NestedLine {
                    p: &probs[0],
                    beta,
                    tol_inner: 5e-9,
                    obs: None,
                    n_user: 0,
                    ls: 1.0,
                    hints: Vec::new(),
                    best: (f64::INFINITY, f64::NAN, f64::NAN),
                    inner_failure: None,
                    shapes: Vec::new(),
                    warm_enabled: false,
                };
                let zs: Vec<f64> = (0..30).map(|i| -1.4 + 0.0973 * f64::from(i)).collect();
                let cold: Vec<line::LineResult> = zs
                    .iter()
                    .map(|&z| nl.slice(z, false).expect("cold slice"))
                    .collect();
                nl.shapes.clear();
                nl.warm_enabled = true;
                let before = nl.p.count();
                for (k, &z) in zs.iter().enumerate() {
                    let w = nl.slice(z, false).expect("warm slice");
                    let c = &cold[k];
                    let d = (w.log_z - c.log_z).abs();
                    let bound = w.rule_error + w.rounding_floor + c.rule_error + c.rounding_floor;
                    assert!(
                        d <= bound,
                        "{name} β={beta} z1={z}: warm {} vs cold {} differ by {d:e} > {bound:e}",
                        w.log_z,
                        c.log_z
                    );
                    assert!(w.converged, "{name} β={beta} z1={z}: {:?}", w.reason);
                }
                // Warm slices are cheaper than cold ones on the whole.
                let cold_evals = before;
                let warm_evals = nl.p.count() - before;
                assert!(
                    warm_evals < cold_evals,
                    "{name} β={beta}: warm {warm_evals} evaluations, cold {cold_evals}"
                );
            }
        }
    }
}
