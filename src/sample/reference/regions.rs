//! Region masses by quadrature: exact intervals in 1D ([`regions_1d`]), and bins of every
//! coordinate whose masses are Z of a slab over the sum of the slabs' Z in 3–4D (and in 2D when
//! the grid cannot resolve the basins).

use super::*;

/// The Gibbs density exp(−βE) whose region masses are computed: the energy on its box and the
/// variables' names.
#[derive(Clone, Copy)]
pub(super) struct Gibbs<'a> {
    pub(super) energy: &'a dyn Energy,
    pub(super) bounds: &'a [(f64, f64)],
    pub(super) beta: f64,
    pub(super) names: &'a [String],
}

/// Where the density's mass lies: its located minima and each coordinate's mean and standard
/// deviation.
#[derive(Clone, Copy)]
pub(super) struct Spread<'a> {
    pub(super) minima: &'a [Vec<f64>],
    pub(super) means: &'a [f64],
    pub(super) sds: &'a [f64],
}

/// Normal quartiles in standard deviations: the cuts of the bins of a coordinate when the modes
/// do not separate along it (the masses are computed, so the cuts need not be the exact quartiles).
const QUARTILE_SDS: [f64; 3] = [-0.674_489_750_196_081_7, 0.0, 0.674_489_750_196_081_7];

/// Region masses in 3–4D by quadrature on boxes: bins of every coordinate (see
/// [`bins_on_axis`]), so that a sampler that gets one coordinate's marginal wrong is caught
/// whichever coordinate it is. A coordinate whose slabs the quadrature refuses, does not
/// converge on (a slab holding modes of two wells in 3–4D), or computes only beyond
/// [`REGION_MAX_ERROR`] is left out and named in the last element, for a note. Returns the
/// regions, the largest error of a mass, whether every quadrature kept converged (`false`, with
/// the smallest error found, when no coordinate is kept), and the coordinates left out; an
/// error only when every coordinate's quadrature was refused.
pub(super) fn regions_by_quadrature(
    gibbs: &Gibbs<'_>,
    spread: &Spread<'_>,
    quad_opts: &QuadOptions,
) -> Result<(Reference, f64, bool, Vec<String>), QuadError> {
    let (bounds, names) = (gibbs.bounds, gibbs.names);
    let mut reference = Reference::new();
    let mut err: f64 = 0.0;
    let mut best_rejected = f64::INFINITY;
    let mut left_out = Vec::new();
    let mut refused = 0;
    let mut first_error = None;
    for axis in 0..bounds.len() {
        match bins_on_axis(gibbs, spread, quad_opts, axis) {
            Ok((r, e, true)) if e <= REGION_MAX_ERROR => {
                reference.regions.extend(r.regions);
                err = err.max(e);
            }
            Ok((_, e, _)) => {
                best_rejected = best_rejected.min(e);
                left_out.push(names[axis].clone());
            }
            Err(e) => {
                refused += 1;
                left_out.push(names[axis].clone());
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if refused == bounds.len() => Err(e),
        _ if reference.regions.is_empty() => Ok((reference, best_rejected, false, Vec::new())),
        _ => Ok((reference, err, true, left_out)),
    }
}

/// Bins of coordinate `axis`, whose masses are Z(a < yᵢ ≤ b)/Z from [`quad::log_partition`] on
/// each slab a < yᵢ ≤ b (the partition function is computed to 1e-5, and to ~1e-7 when that is
/// as cheap; a tensor grid of 2^20 points reaches only ~1e-3 in 3D). When the minima are more
/// than a standard deviation apart along the coordinate, the cuts are midway between
/// neighbouring minima, so each bin holds one mode (or a group of modes sharing that
/// coordinate); otherwise the cuts are the coordinate's mean and mean ± 0.674 sd. Returns the
/// regions, the largest error of a mass, and whether every quadrature converged.
fn bins_on_axis(
    gibbs: &Gibbs<'_>,
    spread: &Spread<'_>,
    quad_opts: &QuadOptions,
    axis: usize,
) -> Result<(Reference, f64, bool), QuadError> {
    let Gibbs {
        energy,
        bounds,
        beta,
        names,
    } = *gibbs;
    let Spread { minima, means, sds } = *spread;
    let (lo, hi) = minima
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| {
            (a.min(m[axis]), b.max(m[axis]))
        });
    let mut cuts: Vec<f64> = Vec::new();
    if minima.len() >= 2 && (hi - lo) / sds[axis] > 1.0 {
        let mut at: Vec<f64> = minima.iter().map(|m| m[axis]).collect();
        at.sort_by(f64::total_cmp);
        for w in at.windows(2) {
            // Minima closer than half a standard deviation along the axis share a bin.
            if w[1] - w[0] > 0.5 * sds[axis] {
                cuts.push(0.5 * (w[0] + w[1]));
            }
        }
    }
    if cuts.is_empty() {
        cuts = QUARTILE_SDS
            .iter()
            .map(|k| means[axis] + k * sds[axis])
            .collect();
    }
    let (lo, hi) = bounds[axis];
    cuts.retain(|c| *c > lo && *c < hi);
    // Each mass takes the errors of two log Z's (δP ≤ P·(δ log Z_c + δ log Z)) and a bin two
    // masses: a tenth of the allowed error per log Z keeps a bin within it.
    let opts = QuadOptions {
        abs_tol: Some(REGION_MAX_ERROR / 10.0),
        hints: minima.to_vec(),
        ..quad_opts.clone()
    };
    let slab = |a: f64, b: f64| -> Result<quad::LogZ, QuadError> {
        let vars = bounds
            .iter()
            .enumerate()
            .map(|(i, &(lo, hi))| {
                if i == axis {
                    VarDomain::Continuous {
                        lo: a.max(lo),
                        hi: b.min(hi),
                    }
                } else {
                    VarDomain::Continuous { lo, hi }
                }
            })
            .collect();
        // Only the minima inside the slab guide its search: one outside would pull it to a face.
        let inside = QuadOptions {
            hints: minima
                .iter()
                .filter(|m| m[axis] > a && m[axis] < b)
                .cloned()
                .collect(),
            ..opts.clone()
        };
        quad::log_partition(energy, &Domain::new(vars)?, beta, &inside)
    };
    let mut edges = vec![f64::NEG_INFINITY];
    edges.extend(cuts);
    edges.push(f64::INFINITY);
    // One slab per bin, so that each holds one mode (the quadrature resolves one mode per
    // region best); Z is their sum.
    let mut parts = Vec::with_capacity(edges.len() - 1);
    for w in edges.windows(2) {
        parts.push(slab(w[0], w[1])?);
    }
    let converged = parts.iter().all(|p| p.status == Status::Converged);
    let top = parts
        .iter()
        .map(|p| p.log_z)
        .fold(f64::NEG_INFINITY, f64::max);
    let log_z = top
        + parts
            .iter()
            .map(|p| (p.log_z - top).exp())
            .sum::<f64>()
            .ln();
    let probs: Vec<f64> = parts.iter().map(|p| (p.log_z - log_z).exp()).collect();
    // δ log Z ≤ Σⱼ Pⱼ δⱼ, and δPₖ ≤ Pₖ·(δₖ + δ log Z) to first order (errors ≤ 1e-4).
    let total_err: f64 = probs.iter().zip(&parts).map(|(p, q)| p * q.abs_error).sum();
    let name = &names[axis];
    let mut reference = Reference::new();
    let mut err: f64 = 0.0;
    for (k, (w, (p, q))) in edges.windows(2).zip(probs.iter().zip(&parts)).enumerate() {
        let (a, b, p) = (w[0], w[1], *p);
        err = err.max(p * (q.abs_error + total_err));
        reference = reference.region(
            &bin_label(k, name, a, b),
            move |y| y[axis] > a && y[axis] <= b,
            p,
        );
    }
    Ok((reference, err, converged))
}

/// The name of the `k`-th (0-based) bin of coordinate `name`, `lo < name <= hi`, with its cuts to
/// six decimals and a cut that rounds to zero written `0.000000`, never `-0.000000`
/// (`testing::sample_reference::bin_edges` reads the cuts back).
pub(super) fn bin_label(k: usize, name: &str, lo: f64, hi: f64) -> String {
    let cut = |x: f64| {
        let s = format!("{x:.6}");
        match s.strip_prefix('-') {
            Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
            _ => s,
        }
    };
    format!(
        "bin {} of {name} ({} < {name} <= {})",
        k + 1,
        cut(lo),
        cut(hi)
    )
}

/// Notes the coordinates whose bins the quadrature refused (their tests are left out).
pub(super) fn bins_left_out(notes: &mut Vec<String>, left_out: &[String]) {
    if !left_out.is_empty() {
        notes.push(format!(
            "the quadrature on slabs did not reach {REGION_MAX_ERROR:.0e} for the bins of {}: their tests are left out",
            left_out.join(", ")
        ));
    }
}

/// Basins (or quartile bins) of a 1D density, exact through the tabulated CDF.
pub(super) fn regions_1d(
    mut reference: Reference,
    energy: &dyn Energy,
    cdf: &Arc<Cdf1d>,
    beta: f64,
    name: &str,
) -> Reference {
    let mins: Vec<f64> = cdf
        .minimisers
        .iter()
        .copied()
        .filter(|m| beta * (energy.eval(&[*m]) - cdf.min_energy) < BASIN_CUT)
        .collect();
    let mut cuts = Vec::new();
    let labels: Vec<String>;
    if mins.len() >= 2 {
        for w in mins.windows(2) {
            // The basin boundary is the highest energy between neighbouring minima.
            let n = 4000;
            let (mut best, mut arg) = (f64::NEG_INFINITY, 0.5 * (w[0] + w[1]));
            for k in 1..n {
                let x = w[0] + (w[1] - w[0]) * k as f64 / n as f64;
                let e = energy.eval(&[x]);
                if e > best {
                    best = e;
                    arg = x;
                }
            }
            cuts.push(arg);
        }
        labels = mins
            .iter()
            .map(|m| format!("the basin of the minimum at {name}={m:.4}"))
            .collect();
    } else {
        cuts = [0.25, 0.5, 0.75].iter().map(|u| cdf.quantile(*u)).collect();
        labels = (0..4)
            .map(|k| format!("quartile bin {} of {name}", k + 1))
            .collect();
    }
    let mut edges = vec![f64::NEG_INFINITY];
    edges.extend(cuts);
    edges.push(f64::INFINITY);
    for (k, label) in labels.iter().enumerate() {
        let (a, b) = (edges[k], edges[k + 1]);
        reference = reference.region(label, move |y| y[0] > a && y[0] <= b, cdf.mass(a, b));
    }
    reference
}
