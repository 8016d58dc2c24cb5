//! Global minimisation in 2–4 dimensions: stretched Halton multistart, then Nelder–Mead.

use super::{Problem, QuadError, QuadOptions};

const PRIMES: [f64; 4] = [2.0, 3.0, 5.0, 7.0];

fn halton(i: usize, base: f64) -> f64 {
    let mut f = 1.0;
    let mut r = 0.0;
    let mut n = i as f64;
    while n > 0.0 {
        f /= base;
        r += f * (n % base);
        n = (n / base).floor();
    }
    r
}

/// Maps `t ∈ (0, 1)` onto `[lo, hi]`, stretching infinite ends (as the 1D grid does).
fn stretch(lo: f64, hi: f64, ls: f64, t: f64) -> f64 {
    match (lo.is_finite(), hi.is_finite()) {
        (true, true) => lo + (hi - lo) * t,
        (true, false) => lo + ls * t / (1.0 - t),
        (false, true) => hi - ls * (1.0 - t) / t,
        (false, false) => {
            let s = 2.0 * t - 1.0;
            ls * s / (1.0 - s * s)
        }
    }
}

fn clamp(p: &Problem<'_>, x: &mut [f64]) {
    for (i, v) in x.iter_mut().enumerate() {
        let (lo, hi) = p.bounds[i];
        *v = v.clamp(lo, hi);
    }
}

/// Nelder–Mead from `x0` with initial step `step`, inside the box (points are clamped).
pub(crate) fn nelder_mead(
    p: &Problem<'_>,
    x0: &[f64],
    step: f64,
    max_iter: usize,
) -> Result<(Vec<f64>, f64), QuadError> {
    let d = x0.len();
    let mut simplex: Vec<Vec<f64>> = vec![x0.to_vec()];
    for i in 0..d {
        let mut x = x0.to_vec();
        let h = step * (1.0 + x0[i].abs()).min(10.0);
        x[i] += h;
        if x[i] > p.bounds[i].1 {
            x[i] = x0[i] - h;
        }
        clamp(p, &mut x);
        simplex.push(x);
    }
    let mut fs: Vec<f64> = simplex
        .iter()
        .map(|x| p.eval(x))
        .collect::<Result<_, _>>()?;
    let nd = d as f64;
    let (alpha, gamma, rho, sigma) = (1.0, 1.0 + 2.0 / nd, 0.75 - 1.0 / (2.0 * nd), 1.0 - 1.0 / nd);
    let mut c = vec![0.0; d];
    for _ in 0..max_iter {
        // The vertices in order of energy, stably and in place (at most five: an insertion
        // sort; sorting indices and cloning the vertices took the ring at β = 10 from 30× to
        // 19.7× SciPy's time in `scripts/peers.sh`).
        for k in 1..=d {
            let mut j = k;
            while j > 0 && fs[j].total_cmp(&fs[j - 1]).is_lt() {
                fs.swap(j, j - 1);
                simplex.swap(j, j - 1);
                j -= 1;
            }
        }
        let spread = (fs[d] - fs[0]).abs();
        let diam = simplex
            .iter()
            .skip(1)
            .map(|x| {
                x.iter()
                    .zip(&simplex[0])
                    .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
        if diam < 1e-11 && spread <= 1e-14 * (1.0 + fs[0].abs()) {
            break;
        }
        if fs[0] == f64::NEG_INFINITY {
            break;
        }
        c.fill(0.0);
        for x in &simplex[..d] {
            for i in 0..d {
                c[i] += x[i] / nd;
            }
        }
        let along = |t: f64| -> Vec<f64> {
            let mut y: Vec<f64> = (0..d).map(|i| c[i] + t * (simplex[d][i] - c[i])).collect();
            clamp(p, &mut y);
            y
        };
        let xr = along(-alpha);
        let fr = p.eval(&xr)?;
        if fr < fs[0] {
            let xe = along(-alpha * gamma);
            let fe = p.eval(&xe)?;
            if fe < fr {
                simplex[d] = xe;
                fs[d] = fe;
            } else {
                simplex[d] = xr;
                fs[d] = fr;
            }
        } else if fr < fs[d - 1] {
            simplex[d] = xr;
            fs[d] = fr;
        } else {
            let (xc, fc) = if fr < fs[d] {
                let x = along(-alpha * rho);
                let f = p.eval(&x)?;
                (x, f)
            } else {
                let x = along(rho);
                let f = p.eval(&x)?;
                (x, f)
            };
            if fc < fs[d].min(fr) {
                simplex[d] = xc;
                fs[d] = fc;
            } else {
                for k in 1..=d {
                    for i in 0..d {
                        simplex[k][i] = simplex[0][i] + sigma * (simplex[k][i] - simplex[0][i]);
                    }
                    fs[k] = p.eval(&simplex[k])?;
                }
            }
        }
    }
    let best = (0..=d)
        .min_by(|&a, &b| fs[a].total_cmp(&fs[b]))
        .unwrap_or(0);
    Ok((simplex[best].clone(), fs[best]))
}

/// Local minima `(E, x)`, lowest first.
type Minima = Vec<(f64, Vec<f64>)>;

/// Local minima and a mixture's components' minimisers ([`component_minima`]).
type Found = (Minima, Vec<Vec<f64>>);

/// Local minima of a 2–4 variable problem, `(E, x)`, sorted by energy (lowest first).
///
/// # Errors
/// NaN energies, or [`QuadError::Diverges`] when the search runs off to `-inf` energy.
pub(crate) fn minimize_nd(
    p: &Problem<'_>,
    opts: &QuadOptions,
) -> Result<Vec<(f64, Vec<f64>)>, QuadError> {
    minima_or_pole(p, opts)?
        .map(|(m, _)| m)
        .map_err(|x| QuadError::Diverges {
            axis: None,
            direction: format!(
                "the energy is unbounded below (it reaches -inf at {:?})",
                p.full_point(&x)
            ),
        })
}

/// [`minimize_nd`] for `∫ exp(-βE)`: where the energy reaches `-inf` at a point, the weight's
/// growth there decides. It is measured along rays from the point (the fall of `βE` per decade of
/// radius, from 1e-2 to 1e-8 of the length scale): when it grows at least like `r^-d` in every
/// direction (`d` the number of continuous variables) the integral diverges for certain
/// ([`QuadError::Diverges`]); otherwise it may be finite (`log(z1^2 + z2^2)` at β = 1/2 in 2D),
/// and the result is [`QuadError::Singular`] — never the false claim that it diverges.
///
/// # Errors
/// As [`minimize_nd`], with [`QuadError::Singular`] for a weaker singularity.
pub(crate) fn minimize_nd_for_weight(
    p: &Problem<'_>,
    opts: &QuadOptions,
    beta: f64,
) -> Result<Found, QuadError> {
    let x = match minima_or_pole(p, opts)? {
        Ok(found) => return Ok(found),
        Err(x) => x,
    };
    let d = p.dim();
    // Rays of length up to 1e-2 of the scale: at most the box's narrowest width, so that on
    // every axis at least one direction stays inside the domain and the weakest growth is
    // measured, never assumed (no measured ray must not read as "diverges").
    let ls = p
        .bounds
        .iter()
        .map(|(lo, hi)| hi - lo)
        .filter(|w| w.is_finite())
        .fold(opts.length_scale.unwrap_or(1.0), f64::min);
    // The weakest growth over the rays: along the axes, both ways, and the main diagonals.
    let mut dirs: Vec<Vec<f64>> = Vec::new();
    for i in 0..d {
        for s in [-1.0, 1.0] {
            let mut u = vec![0.0; d];
            u[i] = s;
            dirs.push(u);
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let norm = 1.0 / (d as f64).sqrt();
    for s in [-1.0, 1.0] {
        dirs.push(vec![s * norm; d]);
    }
    let mut weakest = f64::INFINITY;
    for u in &dirs {
        if let Some(a) = ray_exponent(p, &x, u, ls, beta)? {
            weakest = weakest.min(a);
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let dim = d as f64;
    let point = p.full_point(&x);
    // (The exponent is a difference of logarithms: `r^-d` itself measures d to ~1e-15.)
    if weakest >= dim * (1.0 - 1e-9) {
        return Err(QuadError::Diverges {
            axis: None,
            direction: format!(
                "exp(-βE) grows at least like r^-{} near {point:?} (the energy falls to -inf there), and r^-{d} is not integrable in {d} dimensions",
                if weakest.is_finite() {
                    format!("{weakest:.2}")
                } else {
                    "∞".into()
                }
            ),
        });
    }
    Err(QuadError::Singular {
        point,
        exponent: weakest,
        dim: d,
    })
}

/// The exponent `a` of the weight's growth `exp(-βE) ~ r^-a` along the ray `x + r·u`, from the
/// fall of `βE` over six decades of `r` (the smallest fall of one decade, in units of `ln 10`);
/// `∞` when the energy is `-inf` along the ray; `None` when the ray leaves the domain.
fn ray_exponent(
    p: &Problem<'_>,
    x: &[f64],
    u: &[f64],
    ls: f64,
    beta: f64,
) -> Result<Option<f64>, QuadError> {
    let at = |r: f64| -> Option<Vec<f64>> {
        let y: Vec<f64> = x.iter().zip(u).map(|(a, b)| a + r * ls * b).collect();
        y.iter()
            .zip(&p.bounds)
            .all(|(v, (lo, hi))| (*lo..=*hi).contains(v))
            .then_some(y)
    };
    let mut prev: Option<f64> = None;
    let mut slowest = f64::INFINITY;
    for k in 2..=8 {
        let Some(y) = at(10f64.powi(-k)) else {
            return Ok(None);
        };
        let q = beta * p.eval(&y)?;
        if let Some(pq) = prev {
            let fall = if q == f64::NEG_INFINITY {
                f64::INFINITY
            } else {
                (pq - q) / std::f64::consts::LN_10
            };
            slowest = slowest.min(fall);
        }
        prev = Some(q);
    }
    Ok(Some(slowest.max(0.0)))
}

/// The minimisers of a mixture's components ([`Energy::components`](crate::quad::Energy)) in the
/// problem's domain: Nelder–Mead on each from the best of `starts`, its evaluations counted as
/// the problem's. A component whose search fails (a NaN) gives none: they only seed the search
/// for the energy's own minima, which finds a needle holding 2e-6 of Z inside a broad mode's
/// basin from its component's minimum, and from nowhere else.
pub(crate) fn component_minima(p: &Problem<'_>, starts: &[Vec<f64>], ls: f64) -> Vec<Vec<f64>> {
    let d = p.dim();
    let mut out = Vec::new();
    for c in p.energy.components() {
        let q = p.with_energy(c);
        let best = starts
            .iter()
            .filter_map(|x| q.eval(x).ok().filter(|e| e.is_finite()).map(|e| (e, x)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let found = best.and_then(|(_, x0)| {
            let (x, _) = nelder_mead(&q, x0, 0.1 * ls, 400 * d).ok()?;
            let (x, f) = nelder_mead(&q, &x, 1e-3 * ls, 400 * d).ok()?;
            f.is_finite().then_some(x)
        });
        out.extend(found);
        p.add_evals(q.count());
    }
    out
}

/// The local minima and a mixture's components' minimisers ([`component_minima`]), or
/// `Err(x)` with a point where the energy is `-inf`.
fn minima_or_pole(
    p: &Problem<'_>,
    opts: &QuadOptions,
) -> Result<Result<Found, Vec<f64>>, QuadError> {
    let d = p.dim();
    let ls = opts.length_scale.unwrap_or(1.0);
    let mut starts: Vec<Vec<f64>> = opts
        .hints
        .iter()
        .map(|h| p.cont.iter().map(|&i| h[i]).collect())
        .collect();
    let centre: Vec<f64> = (0..d)
        .map(|i| stretch(p.bounds[i].0, p.bounds[i].1, ls, 0.5))
        .collect();
    starts.push(centre);
    let n = 40 * d;
    for k in 1..=n {
        starts.push(
            (0..d)
                .map(|i| {
                    let t = halton(k, PRIMES[i]).clamp(1e-3, 1.0 - 1e-3);
                    stretch(p.bounds[i].0, p.bounds[i].1, ls, t)
                })
                .collect(),
        );
    }
    // A mixture's components' minima are searched from as hints are.
    let components = component_minima(p, &starts[opts.hints.len()..], ls);
    let n_hints = opts.hints.len() + components.len();
    starts.splice(
        opts.hints.len()..opts.hints.len(),
        components.iter().cloned(),
    );
    let mut vals: Vec<(f64, usize)> = Vec::with_capacity(starts.len());
    for (k, x) in starts.iter().enumerate() {
        vals.push((p.eval(x)?, k));
    }
    vals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut chosen: Vec<usize> = (0..n_hints).collect();
    for &(_, k) in &vals {
        if chosen.len() >= n_hints + 6 {
            break;
        }
        if !chosen.contains(&k) {
            chosen.push(k);
        }
    }
    let mut mins: Vec<(f64, Vec<f64>)> = Vec::new();
    for k in chosen {
        // From a hint (a known minimiser, or a component's) the first simplex stays inside a
        // narrow well: one a tenth of the scale wide stepped out of a needle 0.02 wide on a
        // broad mode's flank, and slid down to the broad mode.
        let step = if k < n_hints { 1e-3 } else { 0.1 };
        let (x, _) = nelder_mead(p, &starts[k], step * ls, 400 * d)?;
        // A restart from the result polishes a simplex that collapsed early.
        let (x, f) = nelder_mead(p, &x, 1e-3 * ls, 400 * d)?;
        if f == f64::NEG_INFINITY {
            return Ok(Err(x));
        }
        let dup = mins.iter().any(|(_, y)| {
            y.iter()
                .zip(&x)
                .all(|(a, b)| (a - b).abs() <= 1e-5 * (ls + a.abs()))
        });
        if !dup {
            mins.push((f, x));
        }
    }
    mins.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(Ok((mins, components)))
}
