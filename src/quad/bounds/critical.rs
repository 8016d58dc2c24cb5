//! Where modes the search did not locate can be: the boxes of a certified partition that may
//! hold a local minimum (every component of the gradient's enclosure contains 0), each
//! narrowed by bisection to a sub-box on which that still holds ([`Enclosure::critical`]).

use super::*;

/// The smallest fraction of Z (log) a box of [`Enclosure::critical`] may hold.
const CRITICAL_MASS: f64 = -30.0;
/// Boxes at most in [`Enclosure::critical`].
const MAX_CRITICAL: usize = 32;

/// [`Enclosure::critical`] from the final partition `items` (`order`: heaviest lower bound
/// first) whose lower bound of `log Z` (shifted) is `l`.
pub(super) fn critical_boxes(
    bd: &mut Bounder<'_, '_>,
    items: &[BoxItem],
    order: &[usize],
    l: f64,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let d = bd.p.dim();
    let mut out: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    if !bd.grad || d < 2 || !l.is_finite() {
        return out;
    }
    let mut by_hi: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&i| items[i].log_hi >= l + CRITICAL_MASS)
        .collect();
    by_hi.sort_by(|&a, &b| items[b].log_hi.total_cmp(&items[a].log_hi));
    let mut g = vec![Interval::ENTIRE; d];
    let mut taken: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    let evals0 = bd.evals;
    for i in by_hi {
        if out.len() >= MAX_CRITICAL || bd.evals - evals0 >= CRITICAL_EVALS {
            break;
        }
        let it = &items[i];
        if !it.lo.iter().chain(&it.hi).all(|x| x.is_finite()) {
            continue;
        }
        let touches = taken.iter().any(|(c, w)| {
            (0..d).all(|k| {
                (c[k] - 0.5 * (it.lo[k] + it.hi[k])).abs()
                    <= 0.5 * w[k] + 0.5 * (it.hi[k] - it.lo[k])
            })
        });
        if touches {
            continue;
        }
        let b = intervals(&it.lo, &it.hi);
        bd.evals += 1;
        if bd.p.enclose_gradient(&b, &mut g) && !g.iter().all(|x| x.contains(0.0)) {
            continue;
        }
        taken.push((
            it.lo
                .iter()
                .zip(&it.hi)
                .map(|(a, b)| 0.5 * a + 0.5 * b)
                .collect(),
            it.lo.iter().zip(&it.hi).map(|(a, b)| b - a).collect(),
        ));
        let leaf = critical_leaf(bd, &it.lo, &it.hi, &mut g);
        if let Some(leaf) = leaf {
            out.push(leaf);
        }
    }
    out
}

/// Gradient enclosures at most that [`critical_boxes`] spends on all boxes: the boxes of a
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
    bd: &mut Bounder<'_, '_>,
    lo: &[f64],
    hi: &[f64],
    g: &mut [Interval],
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
        bd.evals += 1;
        let b = intervals(&l, &h);
        if bd.p.enclose_gradient(&b, g) && !g.iter().all(|x| x.contains(0.0)) {
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
