//! Test support for the `stats` and `sample` modules: tolerances, reference targets and exact references.

/// Named tolerances.
pub mod tol {
    /// Relative accuracy required of the normal CDF, survival function and quantile.
    pub const NORMAL_REL: f64 = 1e-14;
    /// Relative error allowed for one ESS estimate against the AR(1) truth (the estimator's own
    /// relative sd at S = 10⁵, τ = 19 is about 4 %; 15 % is > 3 sd).
    pub const ESS_REL_ONE: f64 = 0.15;
    /// Relative error allowed for the average ESS over five seeds.
    pub const ESS_REL_AVG: f64 = 0.07;
}

/// Relative error of `got` against `want` (absolute when `want` is 0).
pub fn rel_err(got: f64, want: f64) -> f64 {
    if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    }
}

/// AR(1) chains x_t = φ x_{t−1} + √(1−φ²) ξ_t with unit marginal variance, started stationary.
pub fn ar1_chains(phi: f64, m: usize, n: usize, seed: u64) -> Vec<Vec<f64>> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let s = (1.0 - phi * phi).sqrt();
    (0..m)
        .map(|_| {
            let mut x: f64 = StandardNormal.sample(&mut rng);
            (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    x = phi * x + s * z;
                    x
                })
                .collect()
        })
        .collect()
}

/// Family-wise false-alarm rate of the statistical tests in this crate's own test suite.
pub const ALPHA: f64 = 1e-3;

/// Reference targets with exact (closed-form or fine-grid) references and exact samplers.
pub mod targets {
    use crate::sample::{Energy, Rng};
    use crate::stats::{Reference, special};
    use rand::RngCore;
    use rand_distr::{Distribution, Gamma, StandardNormal};

    /// A target given by two function pointers.
    #[derive(Debug, Clone, Copy)]
    pub struct Toy {
        /// Dimension.
        pub dim: usize,
        /// Energy.
        pub energy: fn(&[f64]) -> f64,
        /// Gradient (returns the energy).
        pub grad: fn(&[f64], &mut [f64]) -> f64,
    }

    impl Energy for Toy {
        fn dim(&self) -> usize {
            self.dim
        }
        fn eval(&self, y: &[f64]) -> f64 {
            (self.energy)(y)
        }
        fn grad(&self, y: &[f64], g: &mut [f64]) -> f64 {
            (self.grad)(y, g)
        }
    }

    fn gauss(rng: &mut Rng) -> f64 {
        StandardNormal.sample(rng)
    }

    fn uniform(rng: &mut Rng) -> f64 {
        ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// N(0, 1).
    pub fn normal_1d() -> Toy {
        Toy {
            dim: 1,
            energy: |y| 0.5 * y[0] * y[0],
            grad: |y, g| {
                g[0] = y[0];
                0.5 * y[0] * y[0]
            },
        }
    }

    /// Correlation of the 2D Gaussian.
    pub const RHO: f64 = 0.9;

    /// Standard bivariate normal with correlation [`RHO`]: E = (y₁² − 2ρy₁y₂ + y₂²)/(2(1 − ρ²)).
    pub fn gauss_2d() -> Toy {
        fn e(y: &[f64]) -> f64 {
            (y[0] * y[0] - 2.0 * RHO * y[0] * y[1] + y[1] * y[1]) / (2.0 * (1.0 - RHO * RHO))
        }
        Toy {
            dim: 2,
            energy: e,
            grad: |y, g| {
                let c = 1.0 - RHO * RHO;
                g[0] = (y[0] - RHO * y[1]) / c;
                g[1] = (y[1] - RHO * y[0]) / c;
                e(y)
            },
        }
    }

    /// Exact draw from [`gauss_2d`].
    pub fn gauss_2d_draw(rng: &mut Rng) -> Vec<f64> {
        let z1 = gauss(rng);
        let z2 = gauss(rng);
        vec![z1, RHO * z1 + (1.0 - RHO * RHO).sqrt() * z2]
    }

    /// Exact references for [`gauss_2d`], all closed form. The energy is χ²₂/2 ~ Exp(1); the
    /// positive quadrant has mass 1/4 + arcsin(ρ)/(2π); y₁ − y₂ ~ N(0, 2(1 − ρ)).
    pub fn gauss_2d_reference() -> Reference {
        let sd_diff = (2.0 * (1.0 - RHO)).sqrt();
        Reference::new()
            .moment("mean of y1", |y| y[0], 0.0, Some(1.0))
            .moment("mean of y2", |y| y[1], 0.0, Some(1.0))
            .moment("mean of y1^2", |y| y[0] * y[0], 1.0, Some(2f64.sqrt()))
            .moment("mean of y2^2", |y| y[1] * y[1], 1.0, Some(2f64.sqrt()))
            .moment(
                "mean of y1*y2",
                |y| y[0] * y[1],
                RHO,
                Some((1.0 + RHO * RHO).sqrt()),
            )
            .moment("mean of E(y)", |y| (gauss_2d().energy)(y), 1.0, Some(1.0))
            .region(
                "quadrant y1>0, y2>0",
                |y| y[0] > 0.0 && y[1] > 0.0,
                0.25 + RHO.asin() / (2.0 * std::f64::consts::PI),
            )
            .region("y1 > 1", |y| y[0] > 1.0, special::sf(1.0))
            .cdf("y1", |y| y[0], special::cdf)
            .cdf(
                "y1 - y2",
                |y| y[0] - y[1],
                move |x| special::cdf(x / sd_diff),
            )
            .cdf(
                "E(y)",
                |y| (gauss_2d().energy)(y),
                |x| if x <= 0.0 { 0.0 } else { -(-x).exp_m1() },
            )
    }

    /// Mixture ½N(−2, 0.5²) + ½N(2, 0.5²): a double well whose modes a local sampler cannot cross.
    pub fn mixture_1d() -> Toy {
        fn e(y: &[f64]) -> f64 {
            let a = -2.0 * (y[0] + 2.0).powi(2);
            let b = -2.0 * (y[0] - 2.0).powi(2);
            let m = a.max(b);
            -(m + ((a - m).exp() + (b - m).exp()).ln())
        }
        Toy {
            dim: 1,
            energy: e,
            grad: |y, g| {
                let a = -2.0 * (y[0] + 2.0).powi(2);
                let b = -2.0 * (y[0] - 2.0).powi(2);
                let m = a.max(b);
                let (wa, wb) = ((a - m).exp(), (b - m).exp());
                // dE/dy = Σ w_i·4(y − μ_i)/Σ w_i.
                g[0] = (wa * 4.0 * (y[0] + 2.0) + wb * 4.0 * (y[0] - 2.0)) / (wa + wb);
                e(y)
            },
        }
    }

    /// Exact draw from [`mixture_1d`].
    pub fn mixture_1d_draw(rng: &mut Rng) -> Vec<f64> {
        let mu = if uniform(rng) < 0.5 { -2.0 } else { 2.0 };
        vec![mu + 0.5 * gauss(rng)]
    }

    /// Exact references for [`mixture_1d`] (closed form: E y² = 4.25, Var y² = 4.125).
    pub fn mixture_1d_reference() -> Reference {
        Reference::new()
            .moment("mean of y1", |y| y[0], 0.0, Some(4.25f64.sqrt()))
            .moment("mean of y1^2", |y| y[0] * y[0], 4.25, Some(4.125f64.sqrt()))
            .region("basin of the minimum at y=-2", |y| y[0] < 0.0, 0.5)
            .cdf(
                "y1",
                |y| y[0],
                |x| 0.5 * special::cdf((x + 2.0) / 0.5) + 0.5 * special::cdf((x - 2.0) / 0.5),
            )
    }

    /// Gamma(3, 1) on (0, ∞): E = y − 2 ln y, +∞ outside the support.
    pub fn gamma3() -> Toy {
        fn e(y: &[f64]) -> f64 {
            if y[0] > 0.0 {
                y[0] - 2.0 * y[0].ln()
            } else {
                f64::INFINITY
            }
        }
        Toy {
            dim: 1,
            energy: e,
            grad: |y, g| {
                g[0] = 1.0 - 2.0 / y[0];
                e(y)
            },
        }
    }

    /// Exact draw from [`gamma3`].
    pub fn gamma3_draw(rng: &mut Rng) -> Vec<f64> {
        let g = Gamma::new(3.0, 1.0).map(|d| d.sample(rng)).unwrap_or(3.0);
        vec![g]
    }

    /// Exact references for [`gamma3`]: mean 3 (sd √3), E y² = 12 (sd √216), E ln y = ψ(3) =
    /// 3/2 − γ, sd √ψ′(3) = √(π²/6 − 5/4).
    pub fn gamma3_reference() -> Reference {
        use statrs::distribution::{ContinuousCDF, Gamma as G};
        let euler = 0.577_215_664_901_532_9;
        let psi1 = std::f64::consts::PI.powi(2) / 6.0 - 1.25;
        let cdf = G::new(3.0, 1.0).ok();
        Reference::new()
            .moment("mean of y1", |y| y[0], 3.0, Some(3f64.sqrt()))
            .moment("mean of y1^2", |y| y[0] * y[0], 12.0, Some(216f64.sqrt()))
            .moment(
                "mean of ln y1",
                |y| y[0].ln(),
                1.5 - euler,
                Some(psi1.sqrt()),
            )
            .cdf(
                "y1",
                |y| y[0],
                move |x| cdf.as_ref().map_or(f64::NAN, |c| c.cdf(x)),
            )
    }

    /// A density tabulated on a fine grid: Simpson expectations, trapezoid CDF, inverse CDF.
    ///
    /// For the smooth, fast-decaying densities used here the truncation error is e^(−E(edge))
    /// (below 1e-25 for the boxes chosen) and the grid error of the composite rules at 20 000
    /// intervals is below 1e-10 relative for moments and 1e-8 absolute for the CDF (checked by
    /// halving the grid in `tabulated_references_are_grid_converged`).
    #[derive(Debug, Clone)]
    pub struct Tabulated {
        x: Vec<f64>,
        dens: Vec<f64>,
        cum: Vec<f64>,
        z: f64,
    }

    impl Tabulated {
        /// Tabulates exp(log_density) on [lo, hi] with `n` (even) intervals.
        pub fn new(log_density: impl Fn(f64) -> f64, lo: f64, hi: f64, n: usize) -> Self {
            let h = (hi - lo) / n as f64;
            let x: Vec<f64> = (0..=n).map(|i| lo + i as f64 * h).collect();
            let dens: Vec<f64> = x.iter().map(|&v| log_density(v).exp()).collect();
            let mut cum = vec![0.0; n + 1];
            for i in 1..=n {
                cum[i] = cum[i - 1] + 0.5 * h * (dens[i - 1] + dens[i]);
            }
            let mut t = Self {
                x,
                dens,
                cum,
                z: 1.0,
            };
            t.z = t.integrate(|_| 1.0);
            let total = t.cum[n];
            t.cum.iter_mut().for_each(|c| *c /= total);
            t
        }

        /// Simpson's rule for ∫ f(x) exp(log_density(x)) dx (unnormalised).
        fn integrate(&self, f: impl Fn(f64) -> f64) -> f64 {
            let n = self.x.len() - 1;
            let h = self.x[1] - self.x[0];
            let mut s = 0.0;
            for i in 0..=n {
                let w = if i == 0 || i == n {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                s += w * f(self.x[i]) * self.dens[i];
            }
            s * h / 3.0
        }

        /// E[f] under the normalised density.
        pub fn expect(&self, f: impl Fn(f64) -> f64) -> f64 {
            self.integrate(f) / self.z
        }

        /// CDF by linear interpolation of the cumulative trapezoid.
        pub fn cdf(&self, v: f64) -> f64 {
            let n = self.x.len() - 1;
            if v <= self.x[0] {
                return 0.0;
            }
            if v >= self.x[n] {
                return 1.0;
            }
            let h = self.x[1] - self.x[0];
            let i = (((v - self.x[0]) / h).floor() as usize).min(n - 1);
            let t = (v - self.x[i]) / h;
            self.cum[i] + t * (self.cum[i + 1] - self.cum[i])
        }

        /// Inverse of [`Tabulated::cdf`].
        pub fn quantile(&self, u: f64) -> f64 {
            let i = self
                .cum
                .partition_point(|&c| c < u)
                .clamp(1, self.x.len() - 1);
            let (c0, c1) = (self.cum[i - 1], self.cum[i]);
            let t = if c1 > c0 { (u - c0) / (c1 - c0) } else { 0.5 };
            self.x[i - 1] + t * (self.x[i] - self.x[i - 1])
        }
    }

    /// Grid intervals for tabulated references.
    pub const GRID: usize = 20_000;

    /// Double well E = (y² − 1)² (β = 1; barrier 1 nat, so local samplers mix).
    pub fn double_well_1d() -> Toy {
        Toy {
            dim: 1,
            energy: |y| (y[0] * y[0] - 1.0).powi(2),
            grad: |y, g| {
                g[0] = 4.0 * y[0] * (y[0] * y[0] - 1.0);
                (y[0] * y[0] - 1.0).powi(2)
            },
        }
    }

    /// The double well's density tabulated on [−4, 4] (E(±4) = 225: truncation e^−225).
    pub fn double_well_table() -> Tabulated {
        Tabulated::new(|x| -(x * x - 1.0).powi(2), -4.0, 4.0, GRID)
    }

    /// Exact references for [`double_well_1d`] by quadrature on the table.
    pub fn double_well_reference() -> Reference {
        let t = double_well_table();
        let m2 = t.expect(|x| x * x);
        let m4 = t.expect(|x| x.powi(4));
        let e1 = t.expect(|x| (x * x - 1.0).powi(2));
        let e2 = t.expect(|x| (x * x - 1.0).powi(4));
        let tc = t.clone();
        // P(E ≤ e) = P(√(max(0, 1 − √e)) ≤ |y| ≤ √(1 + √e)), by symmetry 2·(F(b) − F(a)).
        let te = t.clone();
        Reference::new()
            .moment("mean of y1", |y| y[0], 0.0, Some(m2.sqrt()))
            .moment(
                "mean of y1^2",
                |y| y[0] * y[0],
                m2,
                Some((m4 - m2 * m2).sqrt()),
            )
            .moment(
                "mean of E(y)",
                |y| (y[0] * y[0] - 1.0).powi(2),
                e1,
                Some((e2 - e1 * e1).sqrt()),
            )
            .region("basin of the minimum at y=-1", |y| y[0] < 0.0, 0.5)
            .cdf("y1", |y| y[0], move |x| tc.cdf(x))
            .cdf(
                "E(y)",
                |y| (y[0] * y[0] - 1.0).powi(2),
                move |e| {
                    if e <= 0.0 {
                        return 0.0;
                    }
                    let a = (1.0 - e.sqrt()).max(0.0).sqrt();
                    let b = (1.0 + e.sqrt()).sqrt();
                    (2.0 * (te.cdf(b) - te.cdf(a))).clamp(0.0, 1.0)
                },
            )
    }

    /// 2D ring E = (y₁² + y₂² − 1)².
    pub fn ring() -> Toy {
        Toy {
            dim: 2,
            energy: |y| (y[0] * y[0] + y[1] * y[1] - 1.0).powi(2),
            grad: |y, g| {
                let r2m1 = y[0] * y[0] + y[1] * y[1] - 1.0;
                g[0] = 4.0 * y[0] * r2m1;
                g[1] = 4.0 * y[1] * r2m1;
                r2m1 * r2m1
            },
        }
    }

    /// The ring's radial density r·exp(−(r² − 1)²) tabulated on [0, 3] (E(3) = 64).
    pub fn ring_radial_table() -> Tabulated {
        Tabulated::new(
            |r| {
                if r > 0.0 {
                    r.ln() - (r * r - 1.0).powi(2)
                } else {
                    f64::NEG_INFINITY
                }
            },
            0.0,
            3.0,
            GRID,
        )
    }

    /// Exact draw from [`ring`]: radius by inverse CDF of the table, angle uniform.
    pub fn ring_draw(table: &Tabulated, rng: &mut Rng) -> Vec<f64> {
        let r = table.quantile(uniform(rng));
        let th = 2.0 * std::f64::consts::PI * uniform(rng);
        vec![r * th.cos(), r * th.sin()]
    }

    /// Exact references for [`ring`] from the radial table (E y₁² = E r²/2, Var y₁² = 3E r⁴/8 − (E r²/2)²).
    pub fn ring_reference() -> Reference {
        let t = ring_radial_table();
        let r2 = t.expect(|r| r * r);
        let r4 = t.expect(|r| r.powi(4));
        let e1 = t.expect(|r| (r * r - 1.0).powi(2));
        let e2 = t.expect(|r| (r * r - 1.0).powi(4));
        let y1sq = r2 / 2.0;
        // E y₁⁴ = E r⁴ · E cos⁴θ = 3 E r⁴ / 8; E (y₁y₂)² = E r⁴ · E cos²θ sin²θ = E r⁴ / 8.
        let tc = t.clone();
        Reference::new()
            .moment("mean of y1", |y| y[0], 0.0, Some(y1sq.sqrt()))
            .moment("mean of y2", |y| y[1], 0.0, Some(y1sq.sqrt()))
            .moment(
                "mean of y1^2",
                |y| y[0] * y[0],
                y1sq,
                Some((3.0 * r4 / 8.0 - y1sq * y1sq).sqrt()),
            )
            .moment(
                "mean of y1*y2",
                |y| y[0] * y[1],
                0.0,
                Some((r4 / 8.0).sqrt()),
            )
            .moment(
                "mean of E(y)",
                |y| (y[0] * y[0] + y[1] * y[1] - 1.0).powi(2),
                e1,
                Some((e2 - e1 * e1).sqrt()),
            )
            .region("half-plane y1 > 0", |y| y[0] > 0.0, 0.5)
            .cdf(
                "|y|",
                |y| (y[0] * y[0] + y[1] * y[1]).sqrt(),
                move |r| tc.cdf(r),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::targets::*;

    #[test]
    fn tabulated_references_are_grid_converged() {
        let fine = double_well_table();
        let coarse = Tabulated::new(|x| -(x * x - 1.0).powi(2), -4.0, 4.0, GRID / 2);
        let (a, b) = (fine.expect(|x| x * x), coarse.expect(|x| x * x));
        assert!((a - b).abs() < 1e-10 * a, "{a} vs {b}");
        for &v in &[-1.5, -0.3, 0.0, 0.7, 1.9] {
            assert!((fine.cdf(v) - coarse.cdf(v)).abs() < 4e-8, "cdf at {v}");
        }
        assert!((fine.cdf(fine.quantile(0.3)) - 0.3).abs() < 1e-12);
        let r = ring_radial_table();
        let rc = Tabulated::new(
            |r: f64| {
                if r > 0.0 {
                    r.ln() - (r * r - 1.0).powi(2)
                } else {
                    f64::NEG_INFINITY
                }
            },
            0.0,
            3.0,
            GRID / 2,
        );
        let (a, b) = (r.expect(|x| x * x), rc.expect(|x| x * x));
        assert!((a - b).abs() < 1e-9 * a, "{a} vs {b}");
    }
}

/// Proptest strategies for the statistics module.
pub mod strategies {
    use proptest::prelude::*;

    /// Probabilities spread over many orders of magnitude, in (0, 1).
    pub fn probability() -> impl Strategy<Value = f64> {
        prop_oneof![(1e-300f64..1e-10), (1e-10f64..0.999_999), (0.5f64..1.0)]
    }

    /// A family of p-values, some tiny.
    pub fn p_values() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(prop_oneof![(0.0f64..1.0), (1e-12f64..1e-3)], 1..30)
    }
}
