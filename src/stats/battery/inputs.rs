//! The battery's inputs: draws from one or more chains ([`Draws`]) and the exact reference they
//! are tested against ([`Reference`]: moments, region masses and CDFs with their exact values).

use super::*;

/// Draws from one or more chains, each row-major `n_i × dim`, in draw order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Draws {
    /// Dimension of one draw.
    pub dim: usize,
    /// Coordinate names, one per dimension (e.g. "y1", "y2").
    pub names: Vec<String>,
    /// Chains, each a row-major `n_i × dim` array.
    pub chains: Vec<Vec<f64>>,
}

impl Draws {
    /// Draws with default coordinate names y1, y2, ….
    ///
    /// # Errors
    /// [`StatsError::NoDraws`] without chains or draws; [`StatsError::Ragged`] if a chain's length
    /// is not a multiple of `dim` (or `dim` is 0).
    pub fn new(dim: usize, chains: Vec<Vec<f64>>) -> Result<Self, StatsError> {
        let d = Self {
            dim,
            names: (1..=dim).map(|i| format!("y{i}")).collect(),
            chains,
        };
        d.validate()?;
        Ok(d)
    }

    /// Checks the shape.
    ///
    /// # Errors
    /// As for [`Draws::new`], plus [`StatsError::Names`] if `names` has the wrong length.
    pub fn validate(&self) -> Result<(), StatsError> {
        if self.chains.is_empty() || self.chains.iter().all(|c| c.is_empty()) {
            return Err(StatsError::NoDraws);
        }
        for (i, c) in self.chains.iter().enumerate() {
            if self.dim == 0 || c.len() % self.dim != 0 {
                return Err(StatsError::Ragged {
                    chain: i,
                    len: c.len(),
                    dim: self.dim,
                });
            }
        }
        if self.names.len() != self.dim {
            return Err(StatsError::Names {
                names: self.names.len(),
                dim: self.dim,
            });
        }
        Ok(())
    }

    /// Total number of draws over all chains.
    pub fn n(&self) -> usize {
        self.chains.iter().map(|c| c.len() / self.dim.max(1)).sum()
    }

    /// Applies `f` to every draw, chain by chain.
    pub fn map(&self, f: &dyn Fn(&[f64]) -> f64) -> Vec<Vec<f64>> {
        self.chains
            .iter()
            .map(|c| c.chunks(self.dim).map(f).collect())
            .collect()
    }
}

/// A shared scalar functional of one draw.
pub type Functional = Arc<dyn Fn(&[f64]) -> f64 + Send + Sync>;
/// A shared membership test of one draw.
pub type Indicator = Arc<dyn Fn(&[f64]) -> bool + Send + Sync>;
/// A shared one-dimensional CDF.
pub type Cdf = Arc<dyn Fn(f64) -> f64 + Send + Sync>;

/// A scalar functional `f` with its exact expectation under the target.
#[derive(Clone)]
pub struct ExactMoment {
    /// Name used in the report, e.g. "mean of y1".
    pub name: String,
    /// The functional.
    pub f: Functional,
    /// The exact expectation E_p(f).
    pub exact: f64,
    /// sd_p(f) if known (gives better power than the sample sd).
    pub exact_sd: Option<f64>,
}

/// A region with its exact probability under the target.
#[derive(Clone)]
pub struct ExactRegion {
    /// Name used in the report, e.g. "basin of minimum at y=-1".
    pub name: String,
    /// Membership test.
    pub indicator: Indicator,
    /// P_p(region).
    pub prob: f64,
}

/// A scalar statistic with its exact (continuous) CDF under the target.
#[derive(Clone)]
pub struct ExactCdf {
    /// Name used in the report, e.g. "y1" or "E(y)".
    pub name: String,
    /// The statistic.
    pub f: Functional,
    /// Its CDF under the target.
    pub cdf: Cdf,
    /// A bound on `sup |cdf − true CDF|` (0 for an exact CDF). A positive bound makes the KS
    /// test conservative — its p-value is that of `max(D − error, 0)`, which is never below the
    /// p-value against the true CDF — and leaves out the Anderson–Darling test, which has no
    /// such bound.
    pub error: f64,
}

macro_rules! debug_by_name {
    ($t:ty, $($field:ident),*) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t)) $(.field(stringify!($field), &self.$field))* .finish_non_exhaustive()
            }
        }
    };
}
debug_by_name!(ExactMoment, name, exact, exact_sd);
debug_by_name!(ExactRegion, name, prob);
debug_by_name!(ExactCdf, name);

/// Exact reference values, supplied by the caller (by quadrature or in closed form).
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// Moments to test.
    pub moments: Vec<ExactMoment>,
    /// Regions whose mass to test.
    pub regions: Vec<ExactRegion>,
    /// Statistics whose distribution to test with KS and AD.
    pub cdfs: Vec<ExactCdf>,
}

impl Reference {
    /// An empty reference.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a moment.
    pub fn moment(
        mut self,
        name: &str,
        f: impl Fn(&[f64]) -> f64 + Send + Sync + 'static,
        exact: f64,
        exact_sd: Option<f64>,
    ) -> Self {
        self.moments.push(ExactMoment {
            name: name.to_string(),
            f: Arc::new(f),
            exact,
            exact_sd,
        });
        self
    }

    /// Adds a region.
    pub fn region(
        mut self,
        name: &str,
        indicator: impl Fn(&[f64]) -> bool + Send + Sync + 'static,
        prob: f64,
    ) -> Self {
        self.regions.push(ExactRegion {
            name: name.to_string(),
            indicator: Arc::new(indicator),
            prob,
        });
        self
    }

    /// Adds a statistic with its CDF.
    pub fn cdf(
        self,
        name: &str,
        f: impl Fn(&[f64]) -> f64 + Send + Sync + 'static,
        cdf: impl Fn(f64) -> f64 + Send + Sync + 'static,
    ) -> Self {
        self.cdf_within(name, f, cdf, 0.0)
    }

    /// Adds a statistic with a CDF known to within `error` in sup norm: its KS test is made
    /// conservative by the error, and it gets no Anderson–Darling test (see [`ExactCdf::error`]).
    pub fn cdf_within(
        mut self,
        name: &str,
        f: impl Fn(&[f64]) -> f64 + Send + Sync + 'static,
        cdf: impl Fn(f64) -> f64 + Send + Sync + 'static,
        error: f64,
    ) -> Self {
        self.cdfs.push(ExactCdf {
            name: name.to_string(),
            f: Arc::new(f),
            cdf: Arc::new(cdf),
            error: error.max(0.0),
        });
        self
    }
}
