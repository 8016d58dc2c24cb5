//! Global minimisation of an energy over a domain ([`minimize`], [`minimize_within`]): the
//! multistart search, the certified lower bound by branch and bound on interval enclosures, and
//! the certified error of the minimiser.

use super::*;

/// Result of [`minimize`].
#[derive(Debug, Clone)]
pub struct Minimum {
    /// Lowest energy found.
    pub value: f64,
    /// Where it is (full point).
    pub argmin: Vec<f64>,
    /// Energy evaluations used.
    pub evaluations: u64,
    /// Other local minima found, `(value, location)`, sorted by value.
    pub local_minima: Vec<(f64, Vec<f64>)>,
    /// Certified lower bound of the energy over the domain, by branch and bound on interval
    /// enclosures (`-inf` when the energy has none or nothing bounds it).
    pub lower_bound: f64,
    /// `value − lower_bound`: the error of `value` as the global minimum (`+inf` when there
    /// is no certified lower bound).
    pub abs_error: f64,
    /// Converged when the gap closed to [`MIN_GAP_REL`]`·max(1, |value|)` within
    /// [`MIN_BOXES`] boxes.
    pub status: Status,
    /// Why not converged.
    pub reason: Option<String>,
    /// Certified bound on `|argmin − z*|` (largest over coordinates) for every global
    /// minimiser `z*`: the hull of the boxes that may hold one ([`MIN_ARGMIN_BOXES`]). `+inf`
    /// when not certified (more than one continuous coordinate, several problems, no
    /// enclosure, or a tie between distinct points).
    pub argmin_error: f64,
}

impl Minimum {
    /// Why the search stopped, as the crate's one termination type: converged when the
    /// certified gap closed; the error not finite when nothing bounds the energy from below;
    /// else the tolerance (the gap target) not reached.
    pub fn termination(&self) -> Termination {
        if self.status == Status::Converged {
            Termination::Converged
        } else if !self.abs_error.is_finite() {
            Termination::ErrorNotFinite
        } else {
            Termination::ToleranceNotReached
        }
    }
    /// The minimum value as the crate's one estimate type (error: the certified gap).
    pub fn estimate(&self) -> Estimate {
        Estimate::new(self.value, self.abs_error, self.termination())
    }
    /// The minimiser of a one-coordinate problem as an estimate (error: the certified hull
    /// of the minimisers, [`Minimum::argmin_error`]); `None` with several coordinates.
    pub fn argmin_estimate(&self) -> Option<Estimate> {
        let [x] = self.argmin[..] else {
            return None;
        };
        let t = if self.argmin_error.is_finite() {
            self.termination()
        } else {
            Termination::ErrorNotFinite
        };
        Some(Estimate::new(x, self.argmin_error, t))
    }
}

/// Boxes the certified hull of the minimisers may examine (one continuous coordinate).
pub const MIN_ARGMIN_BOXES: usize = 5_000;
/// Width, relative to `max(1, |argmin|)`, to which the minimiser's boxes are refined.
pub const MIN_ARGMIN_REL: f64 = 1e-10;

/// Target of the certified gap of [`minimize`], relative to `max(1, |value|)`.
pub const MIN_GAP_REL: f64 = 1e-9;
/// Boxes the branch and bound of [`minimize`] may examine per problem.
pub const MIN_BOXES: usize = 20_000;

/// Every minimum the search of [`minimize`] finds, `(energy, point)` lowest first, made
/// consistent with the results of [`log_partition`] at several β (`results`): the one with the
/// lowest `min_energy` replaces the search's entry for the same basin (see
/// `consistent_minima`), so the list's first entry is that result's minimum. A search that
/// fails gives no minima besides the result's.
pub fn minima_found(
    energy: &dyn Energy,
    domain: &Domain,
    opts: &QuadOptions,
    results: &[&LogZ],
) -> Vec<(f64, Vec<f64>)> {
    let minima: Vec<(f64, Vec<f64>)> = match minimize(energy, domain, opts) {
        Ok(m) => std::iter::once((m.value, m.argmin))
            .chain(m.local_minima)
            .collect(),
        Err(_) => Vec::new(),
    };
    match results
        .iter()
        .min_by(|a, b| a.min_energy.total_cmp(&b.min_energy))
    {
        Some(lz) => consistent_minima(energy, minima, lz.min_energy, &lz.argmin),
        None => minima,
    }
}

/// The search's minima made consistent with the result: the integrator polishes its global
/// minimiser further (and may find a lower point while integrating), so the search's entry for
/// the same basin — the nearest one, when the energy at the midpoint does not rise above both
/// ends (no barrier between them) — is replaced by the result's `(min_energy, argmin)`, which
/// is otherwise added; the list is sorted lowest first, so its first entry is the result's.
pub(super) fn consistent_minima(
    energy: &dyn Energy,
    mut minima: Vec<(f64, Vec<f64>)>,
    e0: f64,
    x0: &[f64],
) -> Vec<(f64, Vec<f64>)> {
    if !e0.is_finite() || x0.iter().any(|x| !x.is_finite()) {
        return minima;
    }
    let dist = |x: &[f64]| -> f64 {
        x.iter()
            .zip(x0)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt()
    };
    let same_basin = |e: f64, x: &[f64]| -> bool {
        if x.len() != x0.len() || !e.is_finite() {
            return false;
        }
        let mid: Vec<f64> = x.iter().zip(x0).map(|(a, b)| 0.5 * (a + b)).collect();
        let em = energy.eval(&mid);
        em <= e.max(e0) + 1e-12 * (1.0 + e.abs().max(e0.abs()))
    };
    let nearest = minima
        .iter()
        .enumerate()
        .min_by(|a, b| dist(&a.1.1).total_cmp(&dist(&b.1.1)))
        .map(|(i, _)| i);
    if let Some(i) = nearest {
        if minima[i].0 >= e0 && same_basin(minima[i].0, &minima[i].1) {
            minima.remove(i);
        }
    }
    // First, and sorted stably: the result's entry stays first among equal energies (a
    // mixture's two modes at exactly -0.0).
    minima.insert(0, (e0, x0.to_vec()));
    minima.sort_by(|a, b| a.0.total_cmp(&b.0));
    minima
}

/// Global minimum of the energy over the domain (integer variables enumerated).
///
/// # Errors
/// [`QuadError::NotANumber`] if the energy is NaN at a searched point, [`QuadError::Diverges`]
/// if the search runs off to `-inf` energy, and the input errors.
pub fn minimize(
    energy: &dyn Energy,
    domain: &Domain,
    opts: &QuadOptions,
) -> Result<Minimum, QuadError> {
    minimize_within(energy, domain, opts, 0.0)
}

/// [`minimize`] for an energy known only to within `±slack` at every point (an objective with
/// an inner integral's error): its [`Minimum::argmin_error`] then covers every point whose
/// computed energy is within `2·slack` of the minimum, where the true minimiser may lie
/// (`E_true(z) ≤ E_true(x)` gives `E(z) ≤ E(x) + 2·slack`). The value and its certified gap are
/// those of the computed energy; the caller adds the slack to the value's error.
///
/// # Errors
/// As [`minimize`].
pub fn minimize_within(
    energy: &dyn Energy,
    domain: &Domain,
    opts: &QuadOptions,
    slack: f64,
) -> Result<Minimum, QuadError> {
    check_inputs(energy, domain, None, opts)?;
    let probs = problems(energy, domain);
    let mut all: Vec<(f64, Vec<f64>)> = Vec::new();
    let mut found: Vec<(f64, Vec<f64>)> = Vec::with_capacity(probs.len());
    for p in &probs {
        let mins = match p.dim() {
            0 => vec![(p.eval(&[])?, Vec::new())],
            1 => line::minima_of_problem(p, opts)?,
            _ => minimize::minimize_nd(p, opts)?,
        };
        found.push(
            mins.first()
                .cloned()
                .unwrap_or((f64::INFINITY, vec![0.0; p.dim()])),
        );
        for (v, x) in mins {
            all.push((v, p.full_point(&x)));
        }
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut value, mut argmin) = all
        .first()
        .cloned()
        .unwrap_or((f64::INFINITY, vec![f64::NAN; domain.dim()]));
    // The certified lower bound: each problem's branch and bound, to the gap target of the
    // lowest value (a lower point met on the way becomes the minimum).
    let target = MIN_GAP_REL * value.abs().max(1.0);
    let mut lower_bound = f64::INFINITY;
    let mut reason = None;
    for (p, (v, x)) in probs.iter().zip(&found) {
        if p.dim() == 0 {
            lower_bound = lower_bound.min(*v);
            continue;
        }
        let centre: Vec<f64> = if x.iter().all(|c| c.is_finite()) {
            x.clone()
        } else {
            vec![0.0; p.dim()]
        };
        match bounds::certified_min_lower(p, *v, &centre, target, MIN_BOXES) {
            Some(mb) => {
                lower_bound = lower_bound.min(mb.lower);
                if mb.best < value {
                    value = mb.best;
                    argmin = p.full_point(&mb.best_point);
                }
                if !mb.closed && reason.is_none() {
                    reason = Some(format!(
                        "branch and bound on interval enclosures left a gap of {:.3e} \
                         between the minimum found and its certified lower bound after {} \
                         boxes (target {target:.1e})",
                        mb.best - mb.lower,
                        mb.boxes
                    ));
                }
            }
            None => {
                lower_bound = f64::NEG_INFINITY;
                reason = Some("the energy has no interval enclosure to bound its minimum".into());
            }
        }
    }
    let argmin_error = argmin_error(&probs, &found, &argmin, value, 2.0 * slack.max(0.0));
    let evaluations = probs.iter().map(Problem::count).sum();
    let abs_error = value - lower_bound;
    let closed = abs_error.is_finite() && abs_error <= target;
    let status = if closed && reason.is_none() {
        Status::Converged
    } else {
        Status::NotConverged
    };
    if status == Status::NotConverged && reason.is_none() {
        reason = Some(format!(
            "the minimum found is {abs_error:.3e} above its certified lower bound (target {target:.1e})"
        ));
    }
    Ok(Minimum {
        value,
        argmin,
        evaluations,
        local_minima: all.into_iter().skip(1).collect(),
        lower_bound,
        abs_error,
        status,
        reason: if status == Status::Converged {
            None
        } else {
            reason
        },
        argmin_error,
    })
}

/// Certified error of the minimiser `argmin` (full coordinates) of the lowest `value`, over every
/// point whose energy is within `slack` of it (0 for an exact energy): one problem with one
/// continuous coordinate refines the boxes that may hold such a point
/// ([`bounds::certified_argmin_hull`]); problems without continuous coordinates (each one
/// integer point) give the largest distance to a point within `slack` of the lowest, so a tie
/// is an error of the distance between the tied points. `+inf` otherwise.
pub(super) fn argmin_error(
    probs: &[Problem<'_>],
    found: &[(f64, Vec<f64>)],
    argmin: &[f64],
    value: f64,
    slack: f64,
) -> f64 {
    if probs.iter().all(|p| p.dim() == 0) {
        // Each problem's value was found already (`found`, one per problem).
        if !value.is_finite() || !argmin.iter().all(|x| x.is_finite()) {
            return f64::INFINITY;
        }
        return probs
            .iter()
            .zip(found)
            .filter(|(_, (v, _))| *v <= value + slack)
            .map(|(p, _)| {
                p.full_point(&[])
                    .iter()
                    .zip(argmin)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
    }
    let [p] = probs else {
        return f64::INFINITY;
    };
    if !argmin.iter().all(|x| x.is_finite()) {
        return f64::INFINITY;
    }
    let xs: Vec<f64> = p.cont.iter().map(|&i| argmin[i]).collect();
    let convex = bounds::strongly_convex_certificate(p, &xs, slack).map_or(f64::INFINITY, |c| c.1);
    if p.dim() != 1 {
        return convex;
    }
    let x = xs[0];
    let point = [Interval::point(x)];
    let Some(best_hi) = p.enclose(&point).map(|e| e.hi) else {
        return f64::INFINITY;
    };
    let width = MIN_ARGMIN_REL * x.abs().max(1.0);
    match bounds::certified_argmin_hull(p, best_hi + slack, &[x], width, MIN_ARGMIN_BOXES) {
        Some((lo, hi)) if lo[0] <= hi[0] => (x - lo[0]).max(hi[0] - x).max(0.0).min(convex),
        _ => convex,
    }
}
