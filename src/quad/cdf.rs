//! Exact 1D Gibbs CDF and quantiles from the adaptive partition (for exact sampling and KS tests).

use super::gk::{self, AxisMap};
use super::line::{self, ProblemLine};
use super::{Domain, Energy, LogZ, QuadError, QuadOptions, Status, VarDomain};

/// One piece of the partition, oriented so that `z` increases from `lo` to `hi`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Parameter interval `[a, b]` of the map.
    a: f64,
    b: f64,
    map: AxisMap,
    lo: f64,
    hi: f64,
}

impl Piece {
    /// The map's parameter at coordinate `x` (inverse of [`AxisMap::apply`]).
    fn param(&self, x: f64) -> f64 {
        match self.map {
            AxisMap::Linear => x,
            AxisMap::Right { origin, scale } => (x - origin) / (scale + x - origin),
            AxisMap::Left { origin, scale } => (origin - x) / (scale + origin - x),
        }
    }
    /// Parameter range covering `[lo, x]`, in increasing order.
    fn params_left_of(&self, x: f64) -> (f64, f64) {
        let u = self.param(x).clamp(self.a, self.b);
        match self.map {
            AxisMap::Left { .. } => (u, self.b),
            _ => (self.a, u),
        }
    }
}

/// The Gibbs distribution `p(z) ∝ exp(-βE(z))` of a one-variable energy: CDF and quantiles.
///
/// Built from the adaptive partition of [`super::log_partition`]: per-piece masses are summed,
/// and the partial piece is integrated by a G7–K15 rule on the sub-interval, so `cdf` is
/// accurate to about the integration tolerance (1e-10 by default here).
pub struct Cdf1d<'a> {
    energy: &'a dyn Energy,
    beta: f64,
    e_star: f64,
    pieces: Vec<Piece>,
    /// `cum[i]` = mass of the pieces before piece `i` (unnormalised, in the shift of `e_star`).
    cum: Vec<f64>,
    total: f64,
    log_z: LogZ,
}

impl<'a> Cdf1d<'a> {
    /// Integrates `exp(-βE)` over a one-variable continuous domain and keeps the partition.
    ///
    /// `opts.abs_tol` defaults to 1e-11 here (the CDF error is about this tolerance).
    ///
    /// # Errors
    /// [`QuadError::InvalidDomain`] unless the domain is one continuous variable, and the
    /// errors of [`super::log_partition`].
    pub fn new(
        energy: &'a dyn Energy,
        domain: &Domain,
        beta: f64,
        opts: &QuadOptions,
    ) -> Result<Self, QuadError> {
        super::check_inputs(energy, domain, Some(beta), opts)?;
        if domain.vars.len() != 1 || !matches!(domain.vars[0], VarDomain::Continuous { .. }) {
            return Err(QuadError::InvalidDomain(
                "a CDF needs exactly one continuous variable".into(),
            ));
        }
        let probs = super::problems(energy, domain);
        let p = &probs[0];
        let mut ln = ProblemLine {
            p,
            obs: None,
            n_obs: 0,
        };
        let (lo, hi) = p.bounds[0];
        let ls = opts.length_scale.unwrap_or(1.0);
        let hints: Vec<f64> = opts.hints.iter().map(|h| h[0]).collect();
        let tol = opts.abs_tol.unwrap_or(1e-11);
        let r = line::integrate_line(&mut ln, lo, hi, beta, tol, 0.0, opts.max_evals, &hints, ls)?;
        let mut pieces: Vec<(Piece, f64)> = r
            .segments
            .iter()
            .map(|&(a, b, map, m)| {
                let (za, zb) = (
                    map.apply(a).0,
                    if b >= 1.0 && !matches!(map, AxisMap::Linear) {
                        match map {
                            AxisMap::Right { .. } => f64::INFINITY,
                            _ => f64::NEG_INFINITY,
                        }
                    } else {
                        map.apply(b).0
                    },
                );
                (
                    Piece {
                        a,
                        b,
                        map,
                        lo: za.min(zb),
                        hi: za.max(zb),
                    },
                    m,
                )
            })
            .collect();
        pieces.sort_by(|x, y| x.0.lo.total_cmp(&y.0.lo));
        let mut cum = Vec::with_capacity(pieces.len());
        let mut acc = 0.0;
        for (_, m) in &pieces {
            cum.push(acc);
            acc += m;
        }
        let log_z = LogZ {
            log_z: r.log_z,
            abs_error: r.rule_error + r.rounding_floor,
            min_energy: r.e_star,
            argmin: vec![r.argmin],
            evaluations: p.count(),
            status: if r.converged {
                Status::Converged
            } else {
                Status::NotConverged
            },
            reason: r.reason,
            rounding_floor: r.rounding_floor,
            laplace_log_z: None,
            beta,
        };
        Ok(Self {
            energy,
            beta,
            e_star: r.e_star,
            pieces: pieces.into_iter().map(|x| x.0).collect(),
            cum,
            total: acc,
            log_z,
        })
    }

    /// `log Z` and diagnostics of the integration behind the CDF.
    pub fn log_z(&self) -> &LogZ {
        &self.log_z
    }

    /// Unnormalised mass of piece `i` to the left of `x`.
    fn partial(&self, i: usize, x: f64) -> f64 {
        let pc = self.pieces[i];
        let (ua, ub) = pc.params_left_of(x);
        if ub <= ua {
            return 0.0;
        }
        let us = gk::nodes(ua, ub);
        let mut f = [0.0; 15];
        for (k, &u) in us.iter().enumerate() {
            let (z, j) = pc.map.apply(u);
            let e = self.energy.eval(&[z]);
            f[k] = if e.is_nan() || e == f64::INFINITY {
                0.0
            } else {
                (-self.beta * (e - self.e_star)).exp() * j
            };
        }
        gk::rule(&f, 0.5 * (ub - ua)).0
    }

    fn piece_of(&self, x: f64) -> usize {
        self.pieces.partition_point(|p| p.lo <= x).saturating_sub(1)
    }

    /// `P(Z ≤ x)`.
    pub fn cdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        if self.pieces.is_empty() || self.total <= 0.0 {
            return f64::NAN;
        }
        if x <= self.pieces[0].lo {
            return 0.0;
        }
        let i = self.piece_of(x);
        let m = self.cum[i] + self.partial(i, x.min(self.pieces[i].hi));
        (m / self.total).clamp(0.0, 1.0)
    }

    /// Density `exp(-βE(x)) / Z`.
    pub fn pdf(&self, x: f64) -> f64 {
        let e = self.energy.eval(&[x]);
        if e.is_nan() {
            return f64::NAN;
        }
        (-self.beta * e - self.log_z.log_z).exp()
    }

    /// The `p`-quantile (`0 < p < 1`): `x` with `cdf(x) = p`, by bisection inside the piece
    /// that holds it (in the piece's own parameter, so half-lines are handled).
    pub fn quantile(&self, p: f64) -> f64 {
        if !(p > 0.0 && p < 1.0) || self.pieces.is_empty() {
            return f64::NAN;
        }
        let t = p * self.total;
        let i = self.cum.partition_point(|&c| c <= t).saturating_sub(1);
        let pc = self.pieces[i];
        let need = t - self.cum[i];
        // Bisection in the parameter: the mass left of z(u) is monotone in u.
        let (mut ua, mut ub) = (pc.a, pc.b);
        let left_mass = |u: f64| -> f64 {
            let z = pc.map.apply(u).0;
            self.partial(i, z)
        };
        let increasing = !matches!(pc.map, AxisMap::Left { .. });
        for _ in 0..200 {
            let um = 0.5 * (ua + ub);
            if um <= ua || um >= ub {
                break;
            }
            let m = left_mass(um);
            if (m < need) == increasing {
                ua = um;
            } else {
                ub = um;
            }
        }
        pc.map.apply(0.5 * (ua + ub)).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::FnEnergy;

    #[test]
    fn gaussian_cdf_and_quantiles_are_exact() {
        let (m, s2) = (0.7, 0.25);
        let e = FnEnergy::new(1, move |z: &[f64]| 0.5 * (z[0] - m).powi(2) / s2);
        let dom = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY)]).expect("domain");
        for beta in [1.0, 1e4] {
            let c = Cdf1d::new(&e, &dom, beta, &QuadOptions::default()).expect("builds");
            let sd = (s2 / beta).sqrt();
            for k in -6..=6 {
                let x = m + 0.5 * k as f64 * sd;
                let exact = 0.5 * (1.0 + crate::testing::quad::erf((x - m) / (sd * 2f64.sqrt())));
                let got = c.cdf(x);
                assert!(
                    (got - exact).abs() < 1e-10,
                    "β={beta} x={x}: {got} vs {exact}"
                );
                if exact > 1e-6 && exact < 1.0 - 1e-6 {
                    let q = c.quantile(exact);
                    assert!(
                        (q - x).abs() < 1e-8 * sd.max(1.0),
                        "β={beta}: quantile {q} vs {x}"
                    );
                }
            }
        }
    }

    #[test]
    fn half_line_exponential_cdf() {
        let e = FnEnergy::new(1, |z: &[f64]| z[0]);
        let dom = Domain::continuous(&[(0.0, f64::INFINITY)]).expect("domain");
        let c = Cdf1d::new(&e, &dom, 2.0, &QuadOptions::default()).expect("builds");
        for x in [0.01f64, 0.3, 1.0, 5.0, 12.0] {
            let exact = 1.0 - (-2.0 * x).exp();
            assert!(
                (c.cdf(x) - exact).abs() < 1e-10,
                "x={x}: {} vs {exact}",
                c.cdf(x)
            );
            let q = c.quantile(exact);
            assert!((q - x).abs() < 1e-7 * x.max(1.0), "quantile {q} vs {x}");
        }
    }
}
