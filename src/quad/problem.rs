//! One continuous problem: the energy at fixed integer values, evaluated with counting and NaN
//! checks, and the splitting of a domain into such problems.

use super::*;

/// The energy restricted to fixed integer values, evaluated with counting and NaN checks.
pub(crate) struct Problem<'a> {
    pub(super) energy: &'a dyn Energy,
    /// Full point template (integer coordinates set).
    pub(super) template: Vec<f64>,
    /// Indices of the continuous coordinates in the full point.
    pub(super) cont: Vec<usize>,
    /// Continuous bounds in the same order.
    pub(super) bounds: Vec<(f64, f64)>,
    pub(super) evals: AtomicU64,
}

impl<'a> Problem<'a> {
    pub(super) fn dim(&self) -> usize {
        self.cont.len()
    }

    pub(super) fn full_point(&self, x: &[f64]) -> Vec<f64> {
        let mut p = self.template.clone();
        for (k, &i) in self.cont.iter().enumerate() {
            p[i] = x[k];
        }
        p
    }

    pub(super) fn full_box(&self, b: &[Interval]) -> Vec<Interval> {
        let mut full: Vec<Interval> = self.template.iter().map(|&v| Interval::point(v)).collect();
        for (k, &i) in self.cont.iter().enumerate() {
            full[i] = b[k];
        }
        full
    }

    /// The energy's enclosure over the continuous box `b`.
    pub(crate) fn enclose(&self, b: &[Interval]) -> Option<Interval> {
        self.energy.enclose(&self.full_box(b))
    }

    /// The continuous coordinates' gradient enclosures over `b`, into `out`.
    pub(crate) fn enclose_gradient(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        let mut g = vec![Interval::ENTIRE; self.template.len()];
        if !self.energy.enclose_gradient(&self.full_box(b), &mut g) {
            return false;
        }
        for (k, &i) in self.cont.iter().enumerate() {
            out[k] = g[i];
        }
        true
    }

    /// The continuous coordinates' Hessian enclosures over `b`, row-major into `out`.
    pub(crate) fn enclose_hessian(&self, b: &[Interval], out: &mut [Interval]) -> bool {
        let n = self.template.len();
        let mut h = vec![Interval::ENTIRE; n * n];
        if !self.energy.enclose_hessian(&self.full_box(b), &mut h) {
            return false;
        }
        let d = self.dim();
        for (k, &i) in self.cont.iter().enumerate() {
            for (l, &j) in self.cont.iter().enumerate() {
                out[k * d + l] = h[i * n + j];
            }
        }
        true
    }

    /// The same problem (integer values, coordinates, bounds) with another energy, its
    /// evaluations counted apart (a mixture's component, `Energy::components`).
    pub(crate) fn with_energy<'b>(&self, energy: &'b dyn Energy) -> Problem<'b> {
        Problem {
            energy,
            template: self.template.clone(),
            cont: self.cont.clone(),
            bounds: self.bounds.clone(),
            evals: AtomicU64::new(0),
        }
    }

    /// Adds `n` evaluations made on this problem's behalf (by [`Problem::with_energy`]'s).
    pub(crate) fn add_evals(&self, n: u64) {
        self.evals.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn has_enclosure(&self) -> bool {
        self.energy.has_enclosure()
    }

    /// The energy's fingerprint with the integer coordinates, ranges and layout of this
    /// problem: equal keys, equal problems ([`Energy::fingerprint`]).
    pub(crate) fn key(&self) -> Option<Vec<u64>> {
        let fp = self.energy.fingerprint()?;
        let mut key = vec![(fp >> 64) as u64, fp as u64, self.template.len() as u64];
        key.extend(self.template.iter().map(|x| x.to_bits()));
        key.extend(self.cont.iter().map(|&i| i as u64));
        key.extend(
            self.bounds
                .iter()
                .flat_map(|(a, b)| [a.to_bits(), b.to_bits()]),
        );
        Some(key)
    }

    pub(crate) fn has_gradient_enclosure(&self) -> bool {
        let b = vec![Interval::point(0.0); self.dim()];
        let mut g = vec![Interval::ENTIRE; self.dim()];
        self.enclose_gradient(&b, &mut g)
    }

    /// The energy's gradient at the continuous point `x` (`Energy::grad`: symbolic for a
    /// compiled program, central differences otherwise), one entry per continuous coordinate.
    pub(super) fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let mut g = vec![0.0; self.template.len()];
        self.energy.grad(&self.full_point(x), &mut g);
        self.cont.iter().map(|&i| g[i]).collect()
    }

    pub(super) fn count(&self) -> u64 {
        self.evals.load(Ordering::Relaxed)
    }

    /// Energy at continuous coordinates `x`.
    pub(super) fn eval(&self, x: &[f64]) -> Result<f64, QuadError> {
        self.evals.fetch_add(1, Ordering::Relaxed);
        let full_d = self.template.len();
        // Points are small: build them on the stack (this is the hot path in 1D); without
        // integer coordinates the continuous point is the full point.
        let mut buf = [0.0; 16];
        let e = if x.len() == full_d {
            self.energy.eval(x)
        } else if full_d <= buf.len() {
            let p = &mut buf[..full_d];
            p.copy_from_slice(&self.template);
            for (k, &i) in self.cont.iter().enumerate() {
                p[i] = x[k];
            }
            self.energy.eval(p)
        } else {
            self.energy.eval(&self.full_point(x))
        };
        if e.is_nan() {
            return Err(QuadError::NotANumber {
                point: self.full_point(x),
            });
        }
        Ok(e)
    }

    /// [`Problem::eval_batch`] with `+inf` (zero weight) at points outside the bounds, which
    /// are not evaluated: a frame over the whole space on a domain whose bounds lie far out
    /// integrates the weight times the domain's indicator.
    pub(super) fn eval_batch_within(&self, xs: &[f64], out: &mut [f64]) -> Result<(), QuadError> {
        let d = self.dim();
        let inside = |x: &[f64]| {
            x.iter()
                .zip(&self.bounds)
                .all(|(v, b)| *v >= b.0 && *v <= b.1)
        };
        // Over the whole space every point is inside: no per-point test on the hot path.
        let unbounded = self
            .bounds
            .iter()
            .all(|b| b.0 == f64::NEG_INFINITY && b.1 == f64::INFINITY);
        if d == 0 || unbounded || xs.chunks_exact(d).take(out.len()).all(inside) {
            return self.eval_batch(xs, out);
        }
        let mut idx = Vec::with_capacity(out.len());
        let mut pts = Vec::with_capacity(xs.len());
        for (k, x) in xs.chunks_exact(d).take(out.len()).enumerate() {
            if inside(x) {
                idx.push(k);
                pts.extend_from_slice(x);
            } else {
                out[k] = f64::INFINITY;
            }
        }
        let mut es = vec![0.0; idx.len()];
        self.eval_batch(&pts, &mut es)?;
        for (j, &k) in idx.iter().enumerate() {
            out[k] = es[j];
        }
        Ok(())
    }

    /// Energies at `out.len()` continuous points stored row-major in `xs`.
    pub(super) fn eval_batch(&self, xs: &[f64], out: &mut [f64]) -> Result<(), QuadError> {
        let d = self.dim();
        let full_d = self.template.len();
        let n = out.len();
        if d == full_d && d > 0 {
            // No integer coordinates: the continuous point is the full point, pass it through
            // without copying (this is the hot path of every rule).
            self.evals.fetch_add(n as u64, Ordering::Relaxed);
            self.energy.eval_batch(&xs[..n * d], out);
            for (j, e) in out.iter().enumerate() {
                if e.is_nan() {
                    return Err(QuadError::NotANumber {
                        point: xs[j * d..(j + 1) * d].to_vec(),
                    });
                }
            }
            return Ok(());
        }
        let mut pts = Vec::with_capacity(n * full_d);
        for x in xs.chunks_exact(d.max(1)).take(n) {
            pts.extend_from_slice(&self.template);
            let base = pts.len() - full_d;
            for (k, &i) in self.cont.iter().enumerate() {
                pts[base + i] = x[k];
            }
        }
        self.evals.fetch_add(n as u64, Ordering::Relaxed);
        self.energy.eval_batch(&pts, out);
        for (j, e) in out.iter().enumerate() {
            if e.is_nan() {
                return Err(QuadError::NotANumber {
                    point: pts[j * full_d..(j + 1) * full_d].to_vec(),
                });
            }
        }
        Ok(())
    }
}

pub(super) fn check_inputs(
    energy: &dyn Energy,
    domain: &Domain,
    beta: Option<f64>,
    opts: &QuadOptions,
) -> Result<(), QuadError> {
    if energy.dim() != domain.dim() {
        return Err(QuadError::DimensionMismatch {
            energy: energy.dim(),
            domain: domain.dim(),
        });
    }
    // Re-validate: the fields are public, so the domain may not come from `Domain::new`.
    Domain::new(domain.vars.clone())?;
    if let Some(b) = beta
        && !(b > 0.0 && b.is_finite())
    {
        return Err(QuadError::InvalidBeta(b));
    }
    if let Some(t) = opts.abs_tol
        && !(t > 0.0 && t.is_finite())
    {
        return Err(QuadError::InvalidOption(format!(
            "the tolerance must be positive, got {t}"
        )));
    }
    if let Some(s) = opts.length_scale
        && !(s > 0.0 && s.is_finite())
    {
        return Err(QuadError::InvalidOption(format!(
            "the length scale must be positive, got {s}"
        )));
    }
    for h in &opts.hints {
        if h.len() != domain.dim() || h.iter().any(|v| !v.is_finite()) {
            return Err(QuadError::InvalidOption(format!(
                "hint {h:?} must have {} finite coordinates",
                domain.dim()
            )));
        }
    }
    Ok(())
}

pub(crate) fn problems<'a>(energy: &'a dyn Energy, domain: &Domain) -> Vec<Problem<'a>> {
    let cont = domain.continuous_indices();
    let bounds: Vec<(f64, f64)> = cont
        .iter()
        .map(|&i| match domain.vars[i] {
            VarDomain::Continuous { lo, hi } => (lo, hi),
            VarDomain::Integer { .. } => (0.0, 0.0),
        })
        .collect();
    domain
        .discrete_combinations()
        .into_iter()
        .map(|combo| {
            let mut template = vec![0.0; domain.dim()];
            for (i, v) in combo {
                template[i] = v;
            }
            Problem {
                energy,
                template,
                cont: cont.clone(),
                bounds: bounds.clone(),
                evals: AtomicU64::new(0),
            }
        })
        .collect()
}
