//! The nested 1D rule in 2D: the outer integrand is each slice's free energy, integrated by
//! the 1D rule, with the slices' errors carried as an observable.

use super::*;

/// The energy along the second continuous variable at a fixed first one.
pub(super) struct SliceLine<'p, 'a> {
    p: &'p Problem<'a>,
    z1: f64,
    obs: Option<Observables<'p>>,
    n_obs: usize,
}

impl Line for SliceLine<'_, '_> {
    fn n_obs(&self) -> usize {
        self.n_obs
    }
    /// The energy on the slice. A NaN there may be the artefact `0·∞` of the exact line (the
    /// funnel `z1²·exp(-z2)/2` at `z1 = 0`, `z2 < -709`, where the energy is `z2²/18` and the
    /// weight 0 in f64); the energy a hair off the line (`z1` moved by 1e-9 relative, either
    /// way) stands in, and only a NaN on all three is an error (as for the ray probes'
    /// `probe_eval`).
    fn energy(&mut self, z: f64) -> Result<f64, QuadError> {
        match self.p.eval(&[self.z1, z]) {
            Err(QuadError::NotANumber { point }) => {
                let h = 1e-9 * (1.0 + self.z1.abs());
                for moved in [self.z1 + h, self.z1 - h] {
                    if let Ok(e) = self.p.eval(&[moved, z]) {
                        return Ok(e);
                    }
                }
                Err(QuadError::NotANumber { point })
            }
            r => r,
        }
    }
    fn eval_many(&mut self, zs: &[f64], e: &mut [f64], obs: &mut [f64]) -> Result<(), QuadError> {
        // The rules call with at most 21 points: build them on the stack.
        let mut buf = [0.0; 64];
        let batch = if zs.len() * 2 <= buf.len() {
            for (i, &z) in zs.iter().enumerate() {
                buf[2 * i] = self.z1;
                buf[2 * i + 1] = z;
            }
            self.p.eval_batch(&buf[..2 * zs.len()], e)
        } else {
            let pts: Vec<f64> = zs.iter().flat_map(|&z| [self.z1, z]).collect();
            self.p.eval_batch(&pts, e)
        };
        if let Err(QuadError::NotANumber { .. }) = batch {
            // Point by point, off the line where the line has no value (see `energy`).
            for (ei, &z) in e.iter_mut().zip(zs) {
                *ei = self.energy(z)?;
            }
        } else {
            batch?;
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
    fn probe_scale(&self) -> f64 {
        self.z1.abs()
    }
    fn far_nan_is_artefact(&self) -> bool {
        true
    }
}

/// The slice free energy `F(z1) = -(1/β) log ∫ exp(-βE(z1, z2)) dz2` as an outer line.
///
/// Observables: the slice's error of `log g`, then per user observable its slice mean,
/// slice error and slice mean of `|g|`.
pub(super) struct NestedLine<'p, 'a> {
    pub(super) p: &'p Problem<'a>,
    pub(super) beta: f64,
    pub(super) tol_inner: f64,
    pub(super) obs: Option<Observables<'p>>,
    pub(super) n_user: usize,
    pub(super) ls: f64,
    /// The located 2D minima that seed each slice's search, as the lines their slices'
    /// minima follow (`Ridge`).
    pub(super) ridges: Vec<Ridge>,
    /// Ridges through points that are no minima (`Ridge::seed`): features of the slices only.
    pub(super) seeds: Vec<Ridge>,
    pub(super) best: (f64, f64, f64),
    pub(super) inner_failure: Option<String>,
    /// The modes of every slice integrated so far, sorted by outer coordinate: the nearest one
    /// warm starts the next slice (the full minimum search per slice was most of its cost).
    pub(super) shapes: Vec<(f64, Vec<line::Mode>)>,
    pub(super) warm_enabled: bool,
}

/// The line a 2D minimum's slices have their minima on, to first order: at `z1` the slice's
/// minimum of the quadratic model about `x` is at `x2 + slope·(z1 − x1)` with
/// `slope = −H12/H22` (the conditional mean of a Gaussian). A correlated narrow mode's slices
/// have their minima far from its own inner coordinate a few widths out (a needle at
/// `(33.9, 19.4)` with `slope = 4.7`: two outer widths out the slice's mode is 9 away, where
/// the energy at `x2` is 5000 higher), and a search seeded at `x2` lost it there.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ridge {
    pub(super) x: [f64; 2],
    pub(super) slope: f64,
    /// The slices' width about the ridge, `1/√(βH22)` (NaN when `H22` is not positive).
    pub(super) width: f64,
    /// The minimum's energy and the curvature of its model along the ridge, the Schur
    /// complement `H11 − H12²/H22`: the model's energy on the ridge at `z1` is
    /// `e + ½·schur·(z1 − x1)²`.
    pub(super) e: f64,
    pub(super) schur: f64,
    /// The slope of the model's energy along the ridge at `x` (0 at a minimum; a seed's,
    /// [`Ridge::seed`], on a broad flank is not).
    pub(super) grad: f64,
}

impl Ridge {
    /// The ridge of the minimum `x` from the energy's Hessian there; a Hessian that is not
    /// usable along the inner axis gives the constant line `x2`.
    pub(super) fn at(p: &Problem<'_>, (e, x): (f64, &[f64]), beta: f64, ls: f64) -> Ridge {
        let h = hessian(p, x, ls).ok();
        let slope = h
            .as_ref()
            .map(|h| -h[(0, 1)] / h[(1, 1)])
            .filter(|s| s.abs() < MAX_RIDGE_SLOPE)
            .unwrap_or(0.0);
        let width = h
            .as_ref()
            .map_or(f64::NAN, |h| 1.0 / (beta * h[(1, 1)]).sqrt());
        let schur = h.map_or(f64::NAN, |h| h[(0, 0)] - h[(0, 1)] * h[(0, 1)] / h[(1, 1)]);
        Ridge {
            x: [x[0], x[1]],
            slope,
            width,
            e,
            schur,
            grad: 0.0,
        }
    }

    /// The ridge through a point `c` that is no minimum (a critical sub-box a minimum explains,
    /// `audit::complete_minima_2d`): the same model with the energy's slope along it (its
    /// gradient, `Energy::grad`). `None` where the energy has no value or the curvature across
    /// is not positive.
    pub(super) fn seed(p: &Problem<'_>, c: &[f64], beta: f64, ls: f64) -> Option<Ridge> {
        // Onto the ridge first: the slice's local minimum downhill of `c` (a sub-box's centre
        // may sit on the flank of a needle 0.01 wide, where the curvature across is negative).
        let mut sl = SliceLine {
            p,
            z1: c[0],
            obs: None,
            n_obs: 0,
        };
        let (lo, hi) = p.bounds[1];
        let e0 = p.eval(c).ok()?;
        let (z2, e) = line::descend_from(&mut sl, c[1], e0, lo, hi, ls)
            .ok()
            .flatten()
            .unwrap_or((c[1], e0));
        let c = [c[0], z2];
        let r = Ridge::at(p, (e, &c), beta, ls);
        if !(r.width.is_finite() && r.width > 0.0 && e.is_finite()) {
            return None;
        }
        let g = p.gradient(&c);
        let grad = g[0] + r.slope * g[1];
        grad.is_finite().then_some(Ridge { grad, ..r })
    }

    /// The ridge's mode as a narrow feature of the outer line (its free energy over the outer
    /// coordinate): centred at `x1`, `1/√(β·schur)` wide (the marginal's width), of the model's
    /// slice free energy `e − ln(√(2π)·width)/β` there. `None` when the model is not positive
    /// definite (a ring's tangent).
    pub(super) fn outer_feature(&self, beta: f64) -> Option<line::Feature> {
        let width = 1.0 / (beta * self.schur).sqrt();
        let energy = self.e - ((2.0 * std::f64::consts::PI).sqrt() * self.width).ln() / beta;
        (width.is_finite() && width > 0.0 && energy.is_finite()).then_some(line::Feature {
            centre: self.x[0],
            width,
            energy,
        })
    }

    /// The model's energy on the ridge at the outer coordinate `z1`.
    pub(super) fn energy_at(&self, z1: f64) -> f64 {
        let d = z1 - self.x[0];
        self.e + self.grad * d + 0.5 * self.schur.max(0.0) * d * d
    }
    /// The ridge's inner coordinate at the outer coordinate `z1`.
    pub(super) fn at_outer(&self, z1: f64) -> f64 {
        self.x[1] + self.slope * (z1 - self.x[0])
    }
}

/// A ridge steeper than this (or not finite) is taken as constant: a rounding step of the
/// outer coordinate would move its hint by more than the slice's width.
const MAX_RIDGE_SLOPE: f64 = 1e8;

impl NestedLine<'_, '_> {
    /// The inner hints of the slice at `z1`: each ridge's point there and its minimum's own
    /// inner coordinate (a ridge is a tangent: where a ring's slices cross the ring far from a
    /// minimum its tangent is off the ring, and a narrow ring at β = 5e4 lost 1.7 % of Z with the
    /// tangents alone), inside the domain.
    pub(super) fn hints_at(&self, z1: f64) -> Vec<f64> {
        let (lo, hi) = self.p.bounds[1];
        let mut out: Vec<f64> = Vec::with_capacity(2 * self.ridges.len());
        for r in &self.ridges {
            for h in [r.at_outer(z1), r.x[1]] {
                let h = h.clamp(lo.max(-1e300), hi.min(1e300));
                if h.is_finite() && !out.iter().any(|o| o.total_cmp(&h).is_eq()) {
                    out.push(h);
                }
            }
        }
        out
    }

    /// The narrow features of the slice at `z1` (`line::LineSpec::features`): each ridge's
    /// point there with its width and its model's energy.
    fn features_at(&self, z1: f64) -> Vec<line::Feature> {
        self.ridges
            .iter()
            .chain(&self.seeds)
            .map(|r| line::Feature {
                centre: r.at_outer(z1),
                width: r.width,
                energy: r.energy_at(z1),
            })
            .filter(|f| f.centre.is_finite() && f.width.is_finite() && f.width > 0.0)
            .filter(|f| f.energy.is_finite())
            .collect()
    }

    pub(super) fn slice(&mut self, z1: f64, with_obs: bool) -> Result<line::LineResult, QuadError> {
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
        let hints = self.hints_at(z1);
        let warm = match warm {
            Some(w) if !self.warm_misses_a_mode(&mut sl, lo, hi, &w, &hints)? => Some(w),
            _ => None,
        };
        let spec = line::LineSpec {
            lo,
            hi,
            beta: self.beta,
            tol: self.tol_inner,
            rel_tol: 0.0,
            budget: SLICE_BUDGET,
            hints: &hints,
            grid_minima_beside_hints: false,
            ls: self.ls,
            warm: warm.as_deref(),
            features: &self.features_at(z1),
        };
        let r = line::integrate_line(&mut sl, &spec);
        // A hint may sit exactly where the energy is NaN far out (`x^2*exp(-v)` at x = 0,
        // v → -inf: 0·∞), where the search's grid does not: search that slice without them.
        let r = match r {
            Err(QuadError::NotANumber { .. }) if !hints.is_empty() => {
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
        // A slice with no mass is one whose energy is +inf (outside a support); one whose
        // search found no minimum of a finite energy failed (far out in a heavy tail the slice
        // is flat in f64 beyond the search's reach: `1.1·log(1 + z1² + z2²)` at z1 = 1e34 was
        // given no weight, and 5e-6 of Z went with such slices while "converged").
        let massless = r.log_z == f64::NEG_INFINITY && self.weightless(&mut sl, &hints);
        let mut r = r;
        let nil = (!r.converged && !massless)
            .then(|| self.certified_nil(z1, &r))
            .flatten();
        if let Some(bound) = nil {
            // Its estimate is not trusted beyond the certified bound.
            r.log_z = r.log_z.min(bound);
        }
        if !r.converged
            && self.inner_failure.is_none()
            && !massless
            && nil.is_none()
            && !self.far_below(z1, &r)
        {
            self.inner_failure = r
                .reason
                .clone()
                .map(|s| format!("a slice at z{} = {z1}: {s}", self.p.cont[0] + 1));
        }
        Ok(r)
    }
}

impl NestedLine<'_, '_> {
    /// Whether a neighbouring slice's modes `warm` may miss a mode of this slice: the point of
    /// a located 2D minimum's ridge (`hints`) that lies outside every warm mode's basin (more
    /// than five widths from the nearest, and the descent from it ending at none of them) and
    /// is not negligible against them (`β(E − E_m)` below [`SIGNIFICANT`]).
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
        hints: &[f64],
    ) -> Result<bool, QuadError> {
        let em = warm.iter().map(|m| m.em).fold(f64::INFINITY, f64::min);
        for &h in hints {
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
            // Still in a warm mode's basin when the descent from `h` ends at it. (A step of
            // half the nearest mode's width towards it, taken as the test before, jumped out
            // of a needle's basin 0.01 wide: its slices lost up to 3e-7 of their mass.)
            let Some((xm, fm)) = line::descend_from(sl, h, eh, lo, hi, self.ls)? else {
                continue;
            };
            if self.beta * (fm - em) >= SIGNIFICANT
                || warm
                    .iter()
                    .any(|m| (m.m - xm).abs() <= 1e-3 * width(m) + 1e-9 * m.m.abs())
            {
                continue;
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// Whether a slice whose search found no minimum (`log g = -inf`) holds no weight: its
    /// energy is +inf (or undefined) at its first hint, or, over the outer rule's stretch
    /// there ([`Self::stretch`]), its certified mass is negligible ([`Self::negligible_mass`])
    /// or its energy at the hint is more than [`NEGLIGIBLE_EXPONENT`] above the best point's
    /// (the test that decides without enclosures, whose bound is then +inf: the far slices of
    /// `0.1·y⁴`, flat in f64 at 1e31, are weightless by it).
    fn weightless(&self, sl: &mut SliceLine<'_, '_>, hints: &[f64]) -> bool {
        let (lo, hi) = self.p.bounds[1];
        let z2 = hints.first().copied().unwrap_or(0.0).clamp(lo, hi);
        let Ok(e) = sl.energy(z2) else {
            return true;
        };
        if !e.is_finite() {
            return true;
        }
        let z1 = sl.z1;
        let reach = self.stretch(z1);
        self.negligible_mass(z1, z2)
            .is_some_and(|m| m + reach < -NEGLIGIBLE_SLICE_MASS)
            || self.beta * (e - self.best.0) - reach > NEGLIGIBLE_EXPONENT
    }

    /// `ln` of the stretch of the outer line a node at `z1` stands for: `|z1|` in units of the
    /// length scale, at least one (the tail maps' nodes spread like `|z1|`).
    fn stretch(&self, z1: f64) -> f64 {
        (z1.abs() / self.ls).max(1.0).ln()
    }

    /// The log of a certified upper bound on the slice's mass at `z1` relative to the best
    /// point's weight (interval enclosures along the slice through `(z1, z2)`), when the best
    /// point is known.
    fn negligible_mass(&self, z1: f64, z2: f64) -> Option<f64> {
        self.best.0.is_finite().then(|| {
            crate::quad::bounds::line_mass_upper(self.p, &[z1, z2], 1, self.beta, self.best.0)
        })
    }

    /// Whether interval enclosures bound the whole mass of the slice at `z1` (about its lowest
    /// point, else its first hint) below `e^-60` of the best point's weight over the outer
    /// rule's stretch there ([`NEGLIGIBLE_SLICE_MASS`]): whether it converged cannot matter.
    /// The outer tail map's last nodes sit far out (`z1 = 1e8` for a banana), where the
    /// slice's energy is about 1e14 and its rounding alone kept the inner rule from
    /// converging: the result was "not converged" though accurate to 1e-15
    /// (`a_failed_slice_of_certified_nil_mass_does_not_matter`).
    /// Returns the bound on the slice's `log ∫ exp(-βE) dz2` when it is negligible so.
    fn certified_nil(&self, z1: f64, r: &line::LineResult) -> Option<f64> {
        let centre = if r.argmin.is_finite() {
            r.argmin
        } else {
            self.hints_at(z1).first().copied().unwrap_or(0.0)
        };
        self.negligible_mass(z1, centre)
            .filter(|m| m + self.stretch(z1) < -NEGLIGIBLE_SLICE_MASS)
            .map(|m| m - self.beta * self.best.0)
    }

    /// Whether the slice's own estimate, raised by its error, lies more than
    /// [`NEGLIGIBLE_EXPONENT`] below the best point's weight over the outer rule's stretch
    /// there: its weight underflows in the outer sum whatever the rest of its error. Only the
    /// inner rule's accuracy is taken on trust; mass it missed altogether is the 2D audit's to
    /// find. The far nodes of a correlated Gaussian mixture's outer tail map (`z1 = 4632`, the
    /// slice 8.5e5 below the best point's weight) could not be converged in f64 across its
    /// near-singular ridge, whose enclosures overflow far out, and every such result, accurate
    /// to 1e-12, was "not converged" (`a_failed_slice_far_below_the_best_does_not_matter`).
    ///
    /// A slice whose estimate has no error bound (its weights jump by `e^±2048` between the
    /// nodes where its energy is 1e19, `z1 = 1.7e8` of such a mixture) is far below all the
    /// same when its lowest located point is: `β(E − E*)` there above [`NEGLIGIBLE_EXPONENT`]
    /// and [`MAX_LOG_LENGTH`] (no slice is longer than f64's range) besides the stretch. That
    /// trusts the slice's search for its minimum as far as a converged slice is trusted.
    fn far_below(&self, z1: f64, r: &line::LineResult) -> bool {
        if !self.best.0.is_finite() {
            return false;
        }
        let upper = r.log_z + r.rule_error.ln_1p();
        let stretch = self.stretch(z1);
        (upper.is_finite() && upper + stretch + self.beta * self.best.0 < -NEGLIGIBLE_EXPONENT)
            || (r.e_star.is_finite()
                && self.beta * (r.e_star - self.best.0) - stretch
                    > NEGLIGIBLE_EXPONENT + MAX_LOG_LENGTH)
    }

    /// Whether a slice the inner rule refused as divergent is only beyond f64 resolution: far
    /// out (where the outer tail probes go) the slice's energy is so much higher than the lowest
    /// slice found that its weight `exp(-β(E - E*))` is exactly zero, and its inner variation
    /// is below the rounding of `E` itself, or interval enclosures bound the slice's whole mass
    /// below `e^-60` (a funnel `x^2*exp(-v)` far out, where the slice is wider than any probe
    /// or `exp(-v)` underflows and the slice looks flat). A genuinely divergent slice is caught near the minimum,
    /// where this does not apply.
    fn negligible(&mut self, z1: f64, err: &QuadError) -> bool {
        if !matches!(err, QuadError::Diverges { .. }) || !self.best.0.is_finite() {
            return false;
        }
        let (lo, hi) = self.p.bounds[1];
        // Bounded by enclosures: the slice's whole mass is below e^-60 of the best point's
        // weight, over a stretch of the outer line as long as `|z1|` (a tail map's nodes near
        // `z1` stand for that much of it). Per unit length alone it was not: the far slices of
        // `1.1·log(1 + z1² + z2²)`, flat in f64 out to 1e35 and beyond, hold 1e-42 per unit
        // length each and 5e-6 of Z together, and were dropped.
        let hint = self.hints_at(z1).first().copied().unwrap_or(0.0);
        let Some(log_mass) = self.negligible_mass(z1, hint) else {
            return false;
        };
        if log_mass + self.stretch(z1) < -NEGLIGIBLE_SLICE_MASS {
            return true;
        }
        if log_mass < -NEGLIGIBLE_SLICE_MASS {
            // Given no weight, but the result is not converged.
            if self.inner_failure.is_none() {
                self.inner_failure = Some(format!(
                    "the slice at z{} = {z1:e} could not be integrated, and its mass (below \
                     e^{log_mass:.0} of the minimum's weight per unit length) is not negligible \
                     over the outer rule's stretch there",
                    self.p.cont[0] + 1
                ));
            }
            return true;
        }
        let z2 = hint.clamp(lo.max(-1e300), hi.min(1e300));
        self.p.eval(&[z1, z2]).is_ok_and(|e| {
            self.beta * (e - self.best.0) > NEGLIGIBLE_EXPONENT
                && e.abs() * f64::EPSILON * self.beta > 1.0
        })
    }
}

/// `exp(-x)` underflows to zero in f64 beyond about 745; a slice this far above the best one
/// carries no weight.
pub(super) const NEGLIGIBLE_EXPONENT: f64 = 1000.0;

/// `ln` of the longest slice: f64's range.
const MAX_LOG_LENGTH: f64 = 710.0;

/// A slice whose certified mass is below `e^-60` of the best point's weight carries nothing.
pub(super) const NEGLIGIBLE_SLICE_MASS: f64 = 60.0;

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

/// Whether the minimum `x` is narrow against its distance from `x0`: farther than five of the
/// widest widths of its quadratic model (`1/√(β·λ_min)` of the Hessian).
fn narrow(p: &Problem<'_>, x: &[f64], x0: &[f64], beta: f64, ls: f64) -> bool {
    let Ok(h) = hessian(p, x, ls) else {
        return false;
    };
    let (a, b, c) = (h[(0, 0)], h[(0, 1)], h[(1, 1)]);
    let lambda_min = 0.5 * (a + c) - (0.25 * (a - c) * (a - c) + b * b).sqrt();
    let width = 1.0 / (beta * lambda_min).sqrt();
    let dist = x
        .iter()
        .zip(x0)
        .map(|(u, v)| (u - v) * (u - v))
        .sum::<f64>()
        .sqrt();
    width.is_finite() && width > 0.0 && dist > 5.0 * width
}

pub(super) fn nested(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    mins: &[(f64, Vec<f64>)],
    seeds: &super::Seeds,
) -> Result<PartResult, QuadError> {
    let (beta, n_obs, tol, budget) = (spec.beta, spec.n_obs, spec.tol, spec.budget);
    let ls = spec.opts.length_scale.unwrap_or(1.0);
    let outer_hints: Vec<f64> = mins.iter().map(|m| m.1[0]).collect();
    let (mut nl, outer_features) = nested_line(p, spec, mins, seeds);
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
            grid_minima_beside_hints: false,
            ls,
            warm: None,
            features: &outer_features,
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

/// The nested rule's outer line over `p` (its slices along the second coordinate), with the
/// narrow features it must resolve (every significant minimum but the lowest, and the
/// shoulders of `seeds`).
pub(super) fn nested_line<'p, 'a>(
    p: &'p Problem<'a>,
    spec: &PartSpec<'p>,
    mins: &[(f64, Vec<f64>)],
    seeds: &super::Seeds,
) -> (NestedLine<'p, 'a>, Vec<line::Feature>) {
    let (beta, n_obs, tol) = (spec.beta, spec.n_obs, spec.tol);
    let ls = spec.opts.length_scale.unwrap_or(1.0);
    // Every located 2D minimum's inner coordinate seeds each slice's search, and a warm start
    // that would miss one is not taken (`warm_misses_a_mode`).
    // A chain of warm starts can only lose a mode when there are several: minima separated
    // from the lowest by a barrier at the midpoint, at least 1/β above the lower of the two
    // (not near-duplicates on a flat plateau). Measured from the higher one, a needle on the
    // flank of a broad mode (barrier 3 above the needle, 0.7 above the broad one) was not
    // separate, and its slices lost 2.5e-4 of Z.
    // A narrow minimum (farther from the lowest than five of its widest model widths) is
    // separate whatever lies between: a needle 0.03 wide on a broad mode's flank, 0.15 deep at
    // β = 1 and lower than nothing on the segment, held 2.1e-6 of Z and was lost without its
    // ridge.
    let separate = |m: &(f64, Vec<f64>)| -> bool {
        let (e0, x0) = &mins[0];
        let mid: Vec<f64> = m.1.iter().zip(x0).map(|(a, b)| 0.5 * (a + b)).collect();
        let barrier = p
            .eval(&mid)
            .is_ok_and(|em| em > m.0.max(*e0) && beta * (em - m.0.min(*e0)) >= 1.0);
        barrier || narrow(p, &m.1, x0, beta, ls)
    };
    let others: Vec<&(f64, Vec<f64>)> = mins
        .iter()
        .skip(1)
        .filter(|m| beta * (m.0 - mins[0].0) <= SIGNIFICANT && separate(m))
        .collect();
    let ridges: Vec<Ridge> = if others.is_empty() {
        Vec::new()
    } else {
        std::iter::once(&mins[0])
            .chain(others)
            .map(|(e, x)| Ridge::at(p, (*e, x), beta, ls))
            .collect()
    };
    let shoulders: Vec<Ridge> = seeds
        .shoulders
        .iter()
        .filter_map(|c| Ridge::seed(p, c, beta, ls))
        .collect();
    // Every significant minimum and shoulder is a narrow feature of the outer line too: a
    // needle holding 1e-5 of Z beside a broad mode forms no minimum of the slices' free
    // energy, only a bump 0.06 wide that the outer rule's nodes, set for the broad mode,
    // passed over.
    // The lowest minimum is the outer line's own mode (its coordinate is a hint there), with
    // breakpoints of its own: as a feature too, a kink's (whose differenced Hessian makes it
    // look 1e-4 wide) tripled the evaluations of `|z1 − a| + |z2 − b|` on the square.
    let mut outer_features: Vec<line::Feature> = Vec::new();
    for f in mins
        .iter()
        .skip(1)
        .filter(|m| beta * (m.0 - mins[0].0) <= SIGNIFICANT)
        .map(|(e, x)| Ridge::at(p, (*e, x), beta, ls))
        .chain(shoulders.iter().copied())
        .filter_map(|r| r.outer_feature(beta))
    {
        if !outer_features
            .iter()
            .any(|g| (g.centre - f.centre).abs() <= g.width.min(f.width))
        {
            outer_features.push(f);
        }
    }
    let seeds: Vec<Ridge> = seeds
        .boxes
        .iter()
        .filter_map(|c| Ridge::seed(p, c, beta, ls))
        .chain(shoulders)
        .collect();
    let nl = NestedLine {
        p,
        beta,
        // With observables the slice means are integrated again by the outer rule, whose error
        // estimate cannot fall below their noise: slices are integrated ten times tighter so
        // that noise stays well under the outer target.
        tol_inner: if n_obs > 0 { 0.05 * tol } else { 0.5 * tol },
        obs: spec.obs,
        n_user: n_obs,
        ls,
        ridges,
        seeds,
        // The lowest located minimum is the best point until a slice finds a lower one.
        best: mins
            .first()
            .map_or((f64::INFINITY, f64::NAN, f64::NAN), |(e, x)| {
                (*e, x[0], x[1])
            }),
        inner_failure: None,
        shapes: Vec::new(),
        warm_enabled: false,
    };
    (nl, outer_features)
}
