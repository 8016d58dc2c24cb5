//! Where modes the search did not locate can be: the boxes of a certified partition that may
//! hold a local minimum (every component of the gradient's enclosure contains 0), each
//! narrowed by bisection to a sub-box on which that still holds ([`Enclosure::critical`]).

use super::*;

/// The smallest fraction of Z (log) a box of [`Enclosure::critical`] may hold.
const CRITICAL_MASS: f64 = -30.0;
/// Boxes at most in [`Enclosure::critical`].
const MAX_CRITICAL: usize = 32;
/// The candidates of [`Enclosure::critical`] from the final partition `items` whose lower
/// bound of `log Z` (shifted) is `l`: the finite boxes holding up to e^[`CRITICAL_MASS`] of Z
/// or more, most mass first, at most as many as [`CRITICAL_EVALS`] (each costs one enclosure),
/// flat: `lo` then `hi` of each box. (Cut at 4096 boxes, the far mode of a mixture, box
/// 5000 or so of 12 000, was never reached.)
pub(super) fn critical_candidates(items: &[BoxItem], l: f64) -> Vec<f64> {
    if !l.is_finite() {
        return Vec::new();
    }
    let mut by_hi: Vec<&BoxItem> = items
        .iter()
        .filter(|it| it.log_hi >= l + CRITICAL_MASS)
        .filter(|it| it.lo.iter().chain(&it.hi).all(|x| x.is_finite()))
        .collect();
    by_hi.sort_by(|a, b| b.log_hi.total_cmp(&a.log_hi));
    by_hi.truncate(CRITICAL_EVALS as usize);
    by_hi
        .into_iter()
        .flat_map(|it| it.lo.iter().chain(&it.hi).copied())
        .collect()
}

impl Enclosure {
    /// The candidate boxes (`candidates`) that may hold a local minimum (2–4D, with gradient
    /// enclosures), most mass first, at most 32, none touching another's box, each narrowed
    /// to a sub-box at most 1/64 as wide on which every component of the gradient's
    /// enclosure contains 0 ([`critical_leaf`]), as `(centre, widths)`: where modes the
    /// search did not locate can be. A sub-box that `known` (given its centre and widths) says
    /// a located minimum explains is passed over and takes no place: the sub-boxes along a
    /// needle's ridge inside a broad mode, every one explained by the broad mode's quadratic
    /// model, took all 32 places, and a far mode with 1e-3 of Z was never searched from.
    pub(crate) fn critical(
        &self,
        p: &Problem<'_>,
        known: &mut dyn FnMut(&[f64], &[f64]) -> bool,
    ) -> Vec<(Vec<f64>, Vec<f64>)> {
        let d = p.dim();
        let mut out: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        if d < 2 || !p.has_gradient_enclosure() {
            return out;
        }
        let mut g = vec![Interval::ENTIRE; d];
        let mut taken: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        let mut evals = 0u64;
        for b in self.candidates.chunks_exact(2 * d) {
            if out.len() >= MAX_CRITICAL || evals >= CRITICAL_EVALS {
                break;
            }
            let (lo, hi) = b.split_at(d);
            if let Some(leaf) = critical_box(p, lo, hi, &mut taken, &mut g, &mut evals, known) {
                out.push(leaf);
            }
        }
        out
    }
}

/// One candidate box `[lo, hi]` of [`Enclosure::critical`]: `None` when it touches a box
/// taken before, when its gradient enclosure excludes 0 somewhere, when `known` explains it,
/// or when no sub-box may hold a minimum.
fn critical_box(
    p: &Problem<'_>,
    lo: &[f64],
    hi: &[f64],
    taken: &mut Vec<(Vec<f64>, Vec<f64>)>,
    g: &mut [Interval],
    evals: &mut u64,
    known: &mut dyn FnMut(&[f64], &[f64]) -> bool,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let d = lo.len();
    let touches = taken.iter().any(|(c, w)| {
        (0..d).all(|k| (c[k] - 0.5 * (lo[k] + hi[k])).abs() <= 0.5 * w[k] + 0.5 * (hi[k] - lo[k]))
    });
    if touches {
        return None;
    }
    let b = intervals(lo, hi);
    *evals += 1;
    if p.enclose_gradient(&b, g) && !g.iter().all(|x| x.contains(0.0)) {
        return None;
    }
    let c: Vec<f64> = lo.iter().zip(hi).map(|(a, b)| 0.5 * a + 0.5 * b).collect();
    let w: Vec<f64> = lo.iter().zip(hi).map(|(a, b)| b - a).collect();
    taken.push((c, w));
    critical_leaf(p, lo, hi, g, evals).filter(|(c, w)| !known(c, w))
}

/// Gradient enclosures at most that [`Enclosure::critical`] spends on all boxes: the boxes of a
/// broad mode whose enclosures are too loose to exclude 0 come first (most mass), and a
/// narrow far mode holding 2e-4 of Z came after 128 of them.
const CRITICAL_EVALS: u64 = 40_000;

/// Gradient enclosures per critical box at most in [`critical_leaf`].
const CRITICAL_LEAF_EVALS: u64 = 256;

/// A sub-box of `[lo, hi]` at most 1/64 of its width on every side over which every
/// component of the gradient's enclosure contains 0, as `(centre, widths)`, found depth first
/// by bisecting the side widest relative to the box's; `None` when every part of the box has
/// a gradient component of one sign (no minimum inside: the flat floor of a curved valley,
/// where the box's own enclosure is too loose to tell). Past [`CRITICAL_LEAF_EVALS`]
/// enclosures the box itself is returned.
fn critical_leaf(
    p: &Problem<'_>,
    lo: &[f64],
    hi: &[f64],
    g: &mut [Interval],
    evals: &mut u64,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let w0: Vec<f64> = lo.iter().zip(hi).map(|(a, b)| b - a).collect();
    let mut stack: Vec<(Vec<f64>, Vec<f64>)> = vec![(lo.to_vec(), hi.to_vec())];
    let mut spent = 0u64;
    while let Some((l, h)) = stack.pop() {
        if spent >= CRITICAL_LEAF_EVALS {
            let c = lo.iter().zip(hi).map(|(a, b)| 0.5 * a + 0.5 * b).collect();
            return Some((c, w0));
        }
        spent += 1;
        *evals += 1;
        let b = intervals(&l, &h);
        if p.enclose_gradient(&b, g) && !g.iter().all(|x| x.contains(0.0)) {
            continue;
        }
        let rel = |k: usize| (h[k] - l[k]) / w0[k];
        let k = (0..l.len())
            .max_by(|&a, &b| rel(a).total_cmp(&rel(b)))
            .unwrap_or(0);
        let m = 0.5 * l[k] + 0.5 * h[k];
        if rel(k) <= 1.0 / 64.0 || !(m > l[k] && m < h[k]) {
            let c = l.iter().zip(&h).map(|(a, b)| 0.5 * a + 0.5 * b).collect();
            let w = l.iter().zip(&h).map(|(a, b)| b - a).collect();
            return Some((c, w));
        }
        let (mut h1, mut l2) = (h.clone(), l.clone());
        h1[k] = m;
        l2[k] = m;
        stack.push((l2, h));
        stack.push((l, h1));
    }
    None
}
