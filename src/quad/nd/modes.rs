//! Several separate minima in 3–4D: the weight split into shares by a partition of unity
//! built from the minima's Laplace components, each share integrated in its own minimum's
//! whitened frame and cross-checked, the shares summed.
//!
//! With `g_j(z) = exp(-β(E_j - E_0) - ½ β (z - x_j)ᵀ H_j (z - x_j))` (the Laplace component
//! of minimum `j`, its height the weight's there), the shares `ψ_k = g_k / Σ_j g_j` sum to 1
//! at every point, so `Σ_k ∫ ψ_k exp(-βE) = Z` exactly, however well the components fit. Where
//! they do fit, `ψ_k exp(-βE)` is the `k`-th mode alone: a single peak in its frame, which the
//! whitened rule resolves, where one frame for all the modes leaves the far ones to its
//! subdivision (the 24 random 3–4D mixtures of the stress set run with that rule, modes up to
//! 60 apart, were all not converged; summed from shares all 24 are accurate).

use super::*;
use crate::quad::{SIGNIFICANT, sum_parts};

/// Minima at most that get a share; with more, the lowest one's frame alone (not converged).
const MAX_MODES: usize = 8;

/// One Laplace component: minimiser, `β(E - E_0)` there, and `R = √β Lᵀ` with `L Lᵀ = H`.
struct Component {
    x: Vec<f64>,
    height: f64,
    r: DMatrix<f64>,
}

/// The partition of unity of the minima's Laplace components (module docs).
pub(super) struct Partition {
    comps: Vec<Component>,
}

impl Partition {
    /// `log ψ_c(z)`. Where every component underflows (a point beyond `1e150` widths), the
    /// shares are equal: still a partition of unity.
    pub(super) fn log_share(&self, c: usize, z: &[f64]) -> f64 {
        let mut lg = [0.0; MAX_MODES];
        let n = self.comps.len();
        for (j, comp) in self.comps.iter().enumerate() {
            let d = comp.x.len();
            let mut q = 0.0;
            for i in 0..d {
                let mut t = 0.0;
                for k in i..d {
                    t += comp.r[(i, k)] * (z[k] - comp.x[k]);
                }
                q += t * t;
            }
            lg[j] = -comp.height - 0.5 * q;
        }
        let max = lg[..n].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if max == f64::NEG_INFINITY || max.is_nan() {
            return -(n as f64).ln();
        }
        let sum: f64 = lg[..n].iter().map(|v| (v - max).exp()).sum();
        lg[c] - max - sum.ln()
    }
}

/// `log Z` of a problem in 3–4D with several significant minima `mins` (lowest first), as
/// the sum of its shares (module docs), each share integrated twice on different partitions
/// of its frame and converged only when the two agree. `None` when a minimum has no usable
/// Hessian (not positive definite, or condition beyond 1e12), or its Laplace component does
/// not hold at the weight's scale (a shell or valley of minima, which the caller reports as not
/// converged), or there are more than [`MAX_MODES`].
pub(super) fn integrate_modes(
    p: &Problem<'_>,
    spec: &PartSpec<'_>,
    mins: &[(f64, Vec<f64>)],
    ls: f64,
    all_infinite: bool,
) -> Result<Option<PartResult>, QuadError> {
    let (beta, tol) = (spec.beta, spec.tol);
    let n = mins.len();
    if !(2..=MAX_MODES).contains(&n) {
        return Ok(None);
    }
    let d = p.dim();
    let e0 = mins[0].0;
    debug_assert!(mins.iter().all(|(e, _)| beta * (e - e0) <= SIGNIFICANT));
    let mut comps = Vec::with_capacity(n);
    // Per minimum: the frame `M` and `log |det M|`, and the Laplace `log Z` of its component.
    let mut frames = Vec::with_capacity(n);
    for (e, x) in mins {
        let h = hessian(p, x, ls)?;
        let Some(chol) = nalgebra::Cholesky::new(h.clone()) else {
            return Ok(None);
        };
        let l = chol.l();
        if !well_conditioned(&l) {
            return Ok(None);
        }
        let Some((whitened, whitened_log_det, laplace)) = hessian_whitening(&l, beta, *e) else {
            return Ok(None);
        };
        let (m, log_det_m) = if all_infinite {
            (whitened, whitened_log_det)
        } else {
            // A finite bound cuts the frame's axes: per-axis scales keep them the domain's.
            let sig: Vec<f64> = (0..d).map(|i| 1.0 / (beta * h[(i, i)]).sqrt()).collect();
            let log_det = sig.iter().map(|s| s.ln()).sum();
            (
                DMatrix::from_diagonal(&nalgebra::DVector::from_vec(sig)),
                log_det,
            )
        };
        // The frame must not be far wider than the mode: one whitened unit along each of its
        // axes, where a Laplace component has `β(E - E_k) = 1/2`, at most 32 (a width 8×
        // the mode's). On a shell or a valley of minima the flat direction's frame is wider by
        // orders of magnitude, and its shares ran through the whole budget to `log Z = -inf`.
        // A weight wider than its frame (a shallow well beside a barrier below `1/β`) is left
        // to the subdivision: its shares stay exact and were accurate on the battery's wells.
        for j in 0..d {
            for sign in [-1.0, 1.0] {
                let z: Vec<f64> = (0..d).map(|i| x[i] + sign * m[(i, j)]).collect();
                if z.iter().zip(&p.bounds).any(|(v, b)| *v < b.0 || *v > b.1) {
                    continue;
                }
                let q = beta * (p.eval(&z)? - e);
                if q.is_nan() || q > 32.0 {
                    return Ok(None);
                }
            }
        }
        comps.push(Component {
            x: x.clone(),
            height: beta * (e - e0),
            r: l.transpose() * beta.sqrt(),
        });
        frames.push((m, log_det_m, laplace));
    }
    let part = Partition { comps };
    let lap_max = frames.iter().map(|f| f.2).fold(f64::NEG_INFINITY, f64::max);
    let lap_sum: f64 = frames.iter().map(|f| (f.2 - lap_max).exp()).sum();
    // Each share's tolerance `tol_k = tol / (√w_k Σ_j √w_j)` with `w_k` its Laplace part of Z:
    // the weighted errors `Σ w_k tol_k` sum to `tol` where the Laplace parts are right (and the
    // sum's own error decides in any case), the heaviest share gets the tightest.
    let w: Vec<f64> = frames
        .iter()
        .map(|f| ((f.2 - lap_max).exp() / lap_sum).max(f64::MIN_POSITIVE))
        .collect();
    let root_sum: f64 = w.iter().map(|v| v.sqrt()).sum();
    let share_tol = |k: usize| (tol / (w[k].sqrt() * root_sum)).clamp(tol / n as f64, 1e-2);
    let mut shares = Vec::with_capacity(n);
    for (k, (e, x)) in mins.iter().enumerate() {
        let (m, log_det_m, _) = &frames[k];
        let whitening = Whitening {
            x0: x,
            e0: *e,
            m,
            log_det_m: *log_det_m,
            all_infinite,
            laplace: None,
            n_sig: 1,
            part: Some((&part, k)),
        };
        let tol_k = share_tol(k);
        // A run may spend `2/(r + 1)` of what remains with `r` runs to come (two a share):
        // the first takes more than an even split (the heaviest share is the costliest), the
        // last what is left.
        let run = |runs_left: usize, cross: bool| {
            let left = spec.budget.saturating_sub(p.count());
            let budget = p.count() + left / (runs_left as u64 + 1) * 2;
            let run_spec = PartSpec {
                tol: 0.5 * tol_k,
                budget,
                ..*spec
            };
            whitened_run(p, &run_spec, &whitening, cross).map(|r| r.0)
        };
        let r1 = run(2 * (n - k), false)?;
        let r2 = run(2 * (n - k) - 1, true)?;
        let mut r = cross_checked(r1, r2, tol_k);
        if let Some(why) = r.reason.take() {
            r.reason = Some(format!(
                "the share of minimum {} of {n} (at {:?}): {why}",
                k + 1,
                p.full_point(x)
            ));
        }
        shares.push(r);
    }
    let mut r = sum_parts(&shares, spec.n_obs);
    if r.converged && r.abs_error - r.rounding_floor > tol {
        r.converged = false;
        r.reason = Some(format!(
            "the shares of {n} minima sum to log Z = {:.10} with an error of {:.2e} (tolerance \
             {tol:.1e})",
            r.log_z, r.abs_error
        ));
    }
    if all_infinite {
        r.laplace = Some(lap_max + lap_sum.ln());
    }
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shares sum to 1 wherever they are taken: beside each minimum, between them, far
    /// out in every direction and where every component underflows; each share is largest at
    /// its own minimum.
    #[test]
    fn the_shares_are_a_partition_of_unity() {
        let l = |v: [f64; 9]| DMatrix::from_row_slice(3, 3, &v);
        let part = Partition {
            comps: vec![
                Component {
                    x: vec![0.0, 0.0, 0.0],
                    height: 0.0,
                    r: l([1.0, 0.3, -0.2, 0.0, 2.0, 0.5, 0.0, 0.0, 0.7]),
                },
                Component {
                    x: vec![30.0, -5.0, 2.0],
                    height: -3.0,
                    r: l([40.0, 5.0, 0.0, 0.0, 25.0, -3.0, 0.0, 0.0, 60.0]),
                },
                Component {
                    x: vec![-4.0, 8.0, 1.0],
                    height: 12.0,
                    r: l([0.5, 0.0, 0.0, 0.0, 0.2, 0.1, 0.0, 0.0, 0.3]),
                },
            ],
        };
        let mut u = crate::testing::quad::seeded_uniforms(7);
        let mut points: Vec<Vec<f64>> = part.comps.iter().map(|c| c.x.clone()).collect();
        for scale in [1.0, 30.0, 1e3, 1e8, 1e160, 1e300] {
            for _ in 0..50 {
                points.push((0..3).map(|_| scale * (2.0 * u() - 1.0)).collect());
            }
        }
        for z in &points {
            let shares: Vec<f64> = (0..3).map(|c| part.log_share(c, z)).collect();
            let sum: f64 = shares.iter().map(|s| s.exp()).sum();
            assert!(
                (sum - 1.0).abs() <= 1e-14,
                "at {z:?}: shares {shares:?} sum to {sum}"
            );
            assert!(shares.iter().all(|s| *s <= 1e-15), "at {z:?}: {shares:?}");
        }
        for (c, comp) in part.comps.iter().enumerate() {
            let own = part.log_share(c, &comp.x);
            for other in 0..3 {
                assert!(own >= part.log_share(other, &comp.x), "minimum {c}");
            }
        }
    }
}
