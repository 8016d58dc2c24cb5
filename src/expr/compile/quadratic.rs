//! Second-order Taylor models of a program's polynomial parts: the exact range of a quadratic
//! sub-expression over a box, where plain interval arithmetic suffers the dependency problem.
//!
//! A correlated quadratic `a·(x-m)² + b·(x-m)·(y-n) + c·(y-n)²` reads `x` and `y` twice, so its
//! plain enclosure over a box around `(m, n)` reaches far below its minimum 0, and to `-inf`
//! over a ray. Every register of the tape whose value is a polynomial of degree at most 2 in
//! the inputs (decided once, from the instructions: [`plan`]) is carried as a Taylor model at
//! a corner `z0` of the box, `v + gᵀδ + ½·δᵀHδ` with `δ = z - z0`, its coefficients intervals
//! computed with outward rounding: the model equals the polynomial for some coefficients in
//! them. On each orthant of `δ` (the box is split only where a coordinate's range straddles
//! `z0`, which happens only for a line unbounded both ways) the model lies between two point
//! quadratics, the coefficients' ends chosen by the signs of `δ`. The minimum of a definite
//! point quadratic over a box, unbounded or not, is found exactly by enumerating the box's
//! faces ([`min_quadratic`]); the maximum of a convex one over a bounded box is at a vertex.
//!
//! The registers refined are the maximal polynomial ones (read by an instruction that is not
//! polynomial, or the output) that read some input more than once; their enclosure becomes the
//! intersection of the plain one with the model's range. Boxes with one coordinate of positive
//! width (no correlation to see; the 1D audit's many gradient enclosures would pay the models)
//! or more than [`MAX_ACTIVE`] are left to plain intervals.

use super::Op;
use crate::expr::interval::Interval;

/// Coordinates of positive width at most that a model tracks (the faces of a box number `3^d`).
pub(super) const MAX_ACTIVE: usize = 4;
/// Programs with more inputs than this get no plan.
const MAX_INPUTS: usize = 16;
/// The degree of a register that is not a polynomial of degree at most 2.
const HIGH: u8 = 3;
/// Registers without a model.
const NONE: u32 = u32::MAX;
/// Relative rounding slack of a point quadratic evaluated in `f64` (at most 21 terms, each
/// rounded a few times: 21·4·ε ≈ 1.9e-14).
const EVAL_SLACK: f64 = 2e-14;
/// Largest condition number (squared pivot ratio of the Cholesky factor) of a face's Hessian
/// for which its stationary point is trusted; beyond, the orthant states nothing.
const MAX_CONDITION: f64 = 1e12;

/// Which registers of a program are polynomials of degree ≤ 2, and which to refine.
#[derive(Debug, Clone)]
pub(super) struct QuadPlan {
    /// Per instruction: degree in the inputs, [`HIGH`] when above 2 or not a polynomial.
    deg: Vec<u8>,
    /// Per instruction: whether its enclosure is refined by its model's range.
    refine: Vec<bool>,
}

fn deg_of(r: u32, n_in: usize, deg: &[u8]) -> u8 {
    let r = r as usize;
    if r < n_in {
        1
    } else {
        deg.get(r - n_in).copied().unwrap_or(HIGH)
    }
}

/// The degree of one instruction from its operands' (`d`).
fn op_degree(op: Op, d: impl Fn(u32) -> u8) -> u8 {
    let sum = |a: u8, b: u8| (a + b).min(HIGH);
    let only_const = |a: u8| if a == 0 { 0 } else { HIGH };
    match op {
        Op::Input(_) => HIGH,
        Op::Const(_) => 0,
        Op::Add(a, b) | Op::Sub(a, b) | Op::AddMulC(a, b, _) => d(a).max(d(b)),
        Op::Mul(a, b) => sum(d(a), d(b)),
        Op::Div(a, b) => {
            if d(b) == 0 {
                d(a)
            } else {
                HIGH
            }
        }
        Op::AddC(a, _) | Op::MulC(a, _) | Op::SubCR(_, a) | Op::Neg(a) => d(a),
        Op::Sqr(a) | Op::SqrAddC(a, _) => sum(d(a), d(a)),
        Op::Powi(a, n) => match n {
            0 => 0,
            1 => d(a),
            2 => sum(d(a), d(a)),
            _ => only_const(d(a)),
        },
        Op::DivCR(_, a) | Op::F1(_, a) | Op::Index(_, a) => only_const(d(a)),
        Op::Powf(a, b) | Op::Min(a, b) | Op::Max(a, b) | Op::Lse(a, b) => {
            only_const(d(a).max(d(b)))
        }
        Op::AddSqr(a, b) => d(a).max(sum(d(b), d(b))),
        Op::SumSqr(a, b) | Op::SumSqrC(a, b, _) => sum(d(a), d(a)).max(sum(d(b), d(b))),
        Op::SqrAddMulC(a, b, _) => sum(d(a), d(a)).max(d(b)),
    }
}

/// The plan of a program of `ops` over `n_in` inputs with output register `output`; `None`
/// when no register needs refining (every input read at most once by each polynomial part,
/// so plain intervals are exact there) or the program has more than [`MAX_INPUTS`] inputs.
pub(super) fn plan(ops: &[Op], n_in: usize, output: u32) -> Option<QuadPlan> {
    if n_in == 0 || n_in > MAX_INPUTS {
        return None;
    }
    let mut deg: Vec<u8> = Vec::with_capacity(ops.len());
    // How often each register reads each input (saturating at 2); squaring reads once, since
    // the interval square of a single occurrence is exact.
    let mut occ: Vec<Vec<u8>> = (0..n_in)
        .map(|k| (0..n_in).map(|j| u8::from(j == k)).collect())
        .collect();
    let zero = vec![0u8; n_in];
    for op in ops {
        let d = op_degree(*op, |r| deg_of(r, n_in, &deg));
        deg.push(d);
        let o = |r: u32| occ.get(r as usize).unwrap_or(&zero);
        let [a, b] = super::passes::operands(op);
        let mut row = a.map_or_else(|| zero.clone(), |a| o(a).clone());
        let squared_once = matches!(op, Op::Sqr(_) | Op::SqrAddC(..) | Op::Powi(..))
            || matches!(op, Op::Mul(x, y) if x == y);
        if let Some(b) = b
            && !squared_once
        {
            for (x, y) in row.iter_mut().zip(o(b)) {
                *x = (*x + y).min(2);
            }
        }
        occ.push(row);
    }
    // Maximal polynomial registers: read by an instruction that is not polynomial, or output.
    let mut maximal = vec![false; ops.len()];
    let mut mark = |r: u32| {
        if let Some(m) = (r as usize)
            .checked_sub(n_in)
            .and_then(|i| maximal.get_mut(i))
        {
            *m = true;
        }
    };
    mark(output);
    for (op, &d) in ops.iter().zip(&deg) {
        if d == HIGH {
            for r in super::passes::operands(op).into_iter().flatten() {
                mark(r);
            }
        }
    }
    let refine: Vec<bool> = (0..ops.len())
        .map(|i| {
            let repeated = occ
                .get(n_in + i)
                .is_some_and(|row| row.iter().any(|&c| c >= 2));
            maximal[i] && (1..=2).contains(&deg[i]) && repeated
        })
        .collect();
    refine
        .iter()
        .any(|&r| r)
        .then_some(QuadPlan { deg, refine })
}

const ZERO: Interval = Interval { lo: 0.0, hi: 0.0 };

fn is_zero(x: Interval) -> bool {
    x.lo == 0.0 && x.hi == 0.0
}

/// `a·b`, with the frequent zero coefficients of a model passed through without arithmetic.
fn mul0(a: Interval, b: Interval) -> Interval {
    if is_zero(a) || is_zero(b) {
        ZERO
    } else {
        a * b
    }
}

/// `a + b`, the same.
fn add0(a: Interval, b: Interval) -> Interval {
    if is_zero(a) {
        b
    } else if is_zero(b) {
        a
    } else {
        a + b
    }
}

/// `v + gᵀδ + ½·δᵀHδ` over the active coordinates, coefficients as intervals.
#[derive(Debug, Clone, Copy)]
struct Tm<const K: usize> {
    v: Interval,
    g: [Interval; K],
    h: [[Interval; K]; K],
}

impl<const K: usize> Tm<K> {
    fn constant(v: Interval) -> Self {
        Tm {
            v,
            g: [ZERO; K],
            h: [[ZERO; K]; K],
        }
    }

    /// `f` applied to each coefficient pair over the first `k` coordinates (the Hessian's
    /// upper triangle; [`Tm::mirror`] fills the rest).
    fn map2(self, o: &Self, k: usize, f: impl Fn(Interval, Interval) -> Interval) -> Self {
        let mut t = self;
        t.v = f(self.v, o.v);
        for i in 0..k {
            t.g[i] = f(self.g[i], o.g[i]);
            for j in i..k {
                t.h[i][j] = f(self.h[i][j], o.h[i][j]);
            }
        }
        t.mirror(k)
    }

    fn mirror(mut self, k: usize) -> Self {
        for i in 0..k {
            for j in 0..i {
                self.h[i][j] = self.h[j][i];
            }
        }
        self
    }

    fn map(self, k: usize, f: impl Fn(Interval) -> Interval) -> Self {
        self.map2(&self, k, |a, _| f(a))
    }

    fn add(self, o: &Self, k: usize) -> Self {
        self.map2(o, k, add0)
    }

    fn sub(self, o: &Self, k: usize) -> Self {
        self.map2(o, k, |a, b| add0(a, -b))
    }

    fn add_const(mut self, c: Interval) -> Self {
        self.v = self.v + c;
        self
    }

    /// Whether the model is a constant (no gradient, no Hessian over the first `k`).
    fn is_constant(&self, k: usize) -> bool {
        let zero = |x: &Interval| is_zero(*x);
        self.g[..k].iter().all(zero) && self.h[..k].iter().all(|r| r[..k].iter().all(zero))
    }

    /// The product, exact for operands whose degrees sum to at most 2 (the plan's invariant:
    /// the third- and fourth-order terms it drops are zero).
    fn mul(self, o: &Self, k: usize) -> Self {
        // A constant factor scales the other (most products of an energy are so).
        if o.is_constant(k) {
            let c = o.v;
            return self.map(k, |x| mul0(x, c));
        }
        if self.is_constant(k) {
            let c = self.v;
            return o.map(k, |x| mul0(x, c));
        }
        // Both linear: v·w + (v·g' + w·g)ᵀδ + (g g'ᵀ + g' gᵀ) terms.
        let (a, b) = (self, o);
        let mut t = Tm::constant(a.v * b.v);
        for i in 0..k {
            t.g[i] = add0(mul0(a.v, b.g[i]), mul0(b.v, a.g[i]));
            for j in i..k {
                t.h[i][j] = add0(mul0(a.g[i], b.g[j]), mul0(a.g[j], b.g[i]));
            }
        }
        t.mirror(k)
    }

    fn sqr(self, k: usize) -> Self {
        let mut t = self.mul(&self, k);
        t.v = self.v.sqr();
        t
    }
}

/// The models of one interval evaluation: the box's active coordinates, the corner `z0` and
/// the range of `δ` along each, and the model of every polynomial register.
pub(super) struct Models<'p, const K: usize> {
    plan: &'p QuadPlan,
    k: usize,
    dlo: [f64; K],
    dhi: [f64; K],
    /// Per register: the index of its model in `tms`, or [`NONE`].
    idx: Vec<u32>,
    tms: Vec<Tm<K>>,
}

/// The models of one evaluation, by the number of active coordinates.
pub(super) enum AnyModels<'p> {
    K2(Models<'p, 2>),
    K3(Models<'p, 3>),
    K4(Models<'p, 4>),
}

impl AnyModels<'_> {
    /// [`Models::step`] of the models held.
    pub(super) fn step(&mut self, i: usize, op: Op, plain: Interval) -> Interval {
        match self {
            AnyModels::K2(m) => m.step(i, op, plain),
            AnyModels::K3(m) => m.step(i, op, plain),
            AnyModels::K4(m) => m.step(i, op, plain),
        }
    }
}

impl QuadPlan {
    /// The models' start for the box `inputs` (one interval per input): `None` when fewer
    /// than two coordinates or more than [`MAX_ACTIVE`] have positive width, or an end is NaN.
    pub(super) fn start(&self, inputs: &[Interval], n_in: usize) -> Option<AnyModels<'_>> {
        let box_of = |r: usize| inputs.get(r).copied().unwrap_or(Interval::ENTIRE);
        let mut active = 0;
        for r in 0..n_in {
            let x = box_of(r);
            if x.lo.is_nan() || x.hi.is_nan() {
                return None;
            }
            active += usize::from(x.lo < x.hi);
        }
        Some(match active {
            // One coordinate: a polynomial of degree ≤ 2 in it that reads it twice (`a·z² + b·z`)
            // is bounded loosely but soundly by plain intervals, and the 1D audit's thousands of
            // gradient enclosures per integral would pay the models (`check` of every derivation
            // took 2.7 s instead of 1.6 s). Only boxes with a correlation to see get models.
            1 => return None,
            2 => AnyModels::K2(self.models(inputs, n_in)),
            3 => AnyModels::K3(self.models(inputs, n_in)),
            4 => AnyModels::K4(self.models(inputs, n_in)),
            _ => return None,
        })
    }

    /// The models of the inputs, `K` of them of positive width.
    fn models<const K: usize>(&self, inputs: &[Interval], n_in: usize) -> Models<'_, K> {
        let mut m = Models {
            plan: self,
            k: 0,
            dlo: [0.0; K],
            dhi: [0.0; K],
            idx: Vec::with_capacity(n_in + self.deg.len()),
            tms: Vec::with_capacity(n_in + self.deg.len()),
        };
        for r in 0..n_in {
            let x = inputs.get(r).copied().unwrap_or(Interval::ENTIRE);
            let j = m.k;
            let tm = if x.lo < x.hi && j < K {
                m.k += 1;
                // The corner nearest below, else above, else 0 (a line unbounded both ways).
                let (z0, lo, hi) = if x.lo.is_finite() {
                    (x.lo, 0.0, x.width())
                } else if x.hi.is_finite() {
                    (x.hi, -x.width(), 0.0)
                } else {
                    (0.0, x.lo, x.hi)
                };
                (m.dlo[j], m.dhi[j]) = (lo, hi);
                let mut t = Tm::constant(Interval::point(z0));
                t.g[j] = Interval::point(1.0);
                t
            } else {
                Tm::constant(x)
            };
            m.idx.push(m.tms.len() as u32);
            m.tms.push(tm);
        }
        m
    }
}

impl<const K: usize> Models<'_, K> {
    fn tm(&self, r: u32) -> Option<&Tm<K>> {
        let i = *self.idx.get(r as usize)?;
        self.tms.get(i as usize)
    }

    /// Records instruction `i` (`op`, whose plain enclosure is `plain`) and returns its
    /// enclosure, refined by its model's range where the plan says so.
    pub(super) fn step(&mut self, i: usize, op: Op, plain: Interval) -> Interval {
        let deg = self.plan.deg.get(i).copied().unwrap_or(HIGH);
        let tm = match deg {
            0 => Some(Tm::constant(plain)),
            1 | 2 => self.model(op, i),
            _ => None,
        };
        let Some(tm) = tm else {
            self.idx.push(NONE);
            return plain;
        };
        let out = if self.plan.refine.get(i).copied().unwrap_or(false) {
            let (lo, hi) = self.range(&tm);
            let (lo, hi) = (plain.lo.max(lo), plain.hi.min(hi));
            if lo <= hi {
                Interval::new(lo, hi)
            } else {
                plain
            }
        } else {
            plain
        };
        self.idx.push(self.tms.len() as u32);
        self.tms.push(tm);
        out
    }

    /// The model of a polynomial instruction from its operands' models.
    fn model(&self, op: Op, i: usize) -> Option<Tm<K>> {
        let t = |r: u32| self.tm(r).copied();
        let c = Interval::point;
        let k = self.k;
        Some(match op {
            Op::Add(a, b) => t(a)?.add(&t(b)?, k),
            Op::Sub(a, b) => t(a)?.sub(&t(b)?, k),
            Op::Mul(a, b) => t(a)?.mul(&t(b)?, k),
            Op::Div(a, b) => {
                let d = t(b)?.v;
                t(a)?.map(k, |x| x / d)
            }
            Op::AddC(a, v) => t(a)?.add_const(c(v)),
            Op::MulC(a, v) => t(a)?.map(k, |x| mul0(x, c(v))),
            Op::SubCR(v, a) => t(a)?.map(k, |x| -x).add_const(c(v)),
            Op::Neg(a) => t(a)?.map(k, |x| -x),
            Op::Sqr(a) => t(a)?.sqr(k),
            Op::Powi(a, 1) => t(a)?,
            Op::Powi(a, 2) => t(a)?.sqr(k),
            Op::SqrAddC(a, v) => t(a)?.add_const(c(v)).sqr(k),
            Op::AddSqr(a, b) => t(a)?.add(&t(b)?.sqr(k), k),
            Op::AddMulC(a, b, v) => t(a)?.add(&t(b)?.map(k, |x| mul0(x, c(v))), k),
            Op::SumSqr(a, b) => t(a)?.sqr(k).add(&t(b)?.sqr(k), k),
            Op::SumSqrC(a, b, v) => t(a)?.sqr(k).add(&t(b)?.sqr(k), k).add_const(c(v)),
            Op::SqrAddMulC(a, b, v) => t(a)?.sqr(k).add(&t(b)?.map(k, |x| mul0(x, c(v))), k),
            _ => {
                // Degree ≤ 2 by the plan but no polynomial rule: never expected; no model.
                debug_assert!(false, "instruction {i} has no polynomial model: {op:?}");
                return None;
            }
        })
    }

    /// Bounds `(lo, hi)` of the model over the box (`-inf`/`+inf` where an orthant's point
    /// quadratic is not definite the right way).
    fn range(&self, tm: &Tm<K>) -> (f64, f64) {
        let k = self.k;
        // Coordinates whose range straddles 0 are split into two orthants.
        let split: Idx = (0..k)
            .filter(|&j| self.dlo[j] < 0.0 && self.dhi[j] > 0.0)
            .collect();
        let split = split.as_slice();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for pattern in 0..(1usize << split.len()) {
            let mut s = [1.0f64; K];
            let (mut blo, mut bhi) = (self.dlo, self.dhi);
            for (sj, &hi) in s.iter_mut().zip(&self.dhi).take(k) {
                if hi <= 0.0 {
                    *sj = -1.0;
                }
            }
            for (bit, &j) in split.iter().enumerate() {
                if pattern >> bit & 1 == 1 {
                    (s[j], bhi[j]) = (-1.0, 0.0);
                } else {
                    (s[j], blo[j]) = (1.0, 0.0);
                }
            }
            // The lower point quadratic on this orthant, and the negated upper one.
            let pick = |x: Interval, low: bool| if low { x.lo } else { x.hi };
            let mut lq = Point::zero();
            let mut uq = Point::zero();
            lq.v = tm.v.lo;
            uq.v = -tm.v.hi;
            for i in 0..k {
                lq.g[i] = pick(tm.g[i], s[i] > 0.0);
                uq.g[i] = -pick(tm.g[i], s[i] < 0.0);
                for j in 0..k {
                    let same = i == j || s[i] * s[j] > 0.0;
                    lq.h[i][j] = pick(tm.h[i][j], same);
                    uq.h[i][j] = -pick(tm.h[i][j], !same);
                }
            }
            lo = lo.min(min_quadratic(&lq, k, &blo, &bhi));
            hi = hi.max(-min_quadratic(&uq, k, &blo, &bhi));
        }
        (lo, hi)
    }
}

/// A set of at most [`MAX_ACTIVE`] coordinates, without allocating.
#[derive(Debug, Clone, Copy, Default)]
struct Idx {
    n: usize,
    at: [usize; MAX_ACTIVE],
}

impl Idx {
    fn push(&mut self, i: usize) {
        if let Some(slot) = self.at.get_mut(self.n) {
            *slot = i;
            self.n += 1;
        }
    }

    fn as_slice(&self) -> &[usize] {
        &self.at[..self.n]
    }
}

impl FromIterator<usize> for Idx {
    fn from_iter<T: IntoIterator<Item = usize>>(iter: T) -> Self {
        let mut s = Idx::default();
        for i in iter {
            s.push(i);
        }
        s
    }
}

/// A point quadratic `v + gᵀδ + ½·δᵀHδ`.
#[derive(Debug, Clone, Copy)]
struct Point<const K: usize> {
    v: f64,
    g: [f64; K],
    h: [[f64; K]; K],
}

impl<const K: usize> Point<K> {
    fn zero() -> Self {
        Point {
            v: 0.0,
            g: [0.0; K],
            h: [[0.0; K]; K],
        }
    }

    /// The value at `x` and its magnitude (the sum of its terms' absolute values).
    fn eval(&self, x: &[f64; K], k: usize) -> (f64, f64) {
        let (mut val, mut mag) = (self.v, self.v.abs());
        for i in 0..k {
            let t = self.g[i] * x[i];
            val += t;
            mag += t.abs();
            for j in 0..k {
                let t = 0.5 * self.h[i][j] * x[i] * x[j];
                val += t;
                mag += t.abs();
            }
        }
        (val, mag)
    }
}

/// The Cholesky factor of `h` restricted to `idx` (row-major lower triangle), when positive
/// definite with condition at most [`MAX_CONDITION`].
fn cholesky<const K: usize>(h: &[[f64; K]; K], idx: &[usize]) -> Option<[[f64; K]; K]> {
    let (l, pmin, pmax) = factor(h, idx)?;
    (pmax <= MAX_CONDITION * pmin).then_some(l)
}

/// The Cholesky factor of `h` restricted to `idx` and its smallest and largest pivot, when
/// every pivot is positive and finite.
fn factor<const K: usize>(h: &[[f64; K]; K], idx: &[usize]) -> Option<([[f64; K]; K], f64, f64)> {
    let n = idx.len();
    let mut l = [[0.0f64; K]; K];
    let (mut pmin, mut pmax) = (f64::INFINITY, 0.0f64);
    for a in 0..n {
        for b in 0..=a {
            let dot: f64 = l[a][..b].iter().zip(&l[b][..b]).map(|(x, y)| x * y).sum();
            let s = h[idx[a]][idx[b]] - dot;
            if a == b {
                if s.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !s.is_finite() {
                    return None;
                }
                l[a][a] = s.sqrt();
                pmin = pmin.min(s);
                pmax = pmax.max(s);
            } else {
                l[a][b] = s / l[b][b];
            }
        }
    }
    Some((l, pmin, pmax))
}

/// Solves `L·Lᵀ·x = r` for the factor `l` of size `n`.
fn solve<const K: usize>(l: &[[f64; K]; K], n: usize, r: &[f64; K]) -> [f64; K] {
    let mut y = [0.0f64; K];
    for a in 0..n {
        let mut s = r[a];
        for c in 0..a {
            s -= l[a][c] * y[c];
        }
        y[a] = s / l[a][a];
    }
    let mut x = [0.0f64; K];
    for a in (0..n).rev() {
        let mut s = y[a];
        for c in a + 1..n {
            s -= l[c][a] * x[c];
        }
        x[a] = s / l[a][a];
    }
    x
}

/// A lower bound of the point quadratic `q` over the box `[lo, hi]` of its first `k`
/// coordinates (ends may be infinite); `-inf` when undecided.
///
/// Coordinates with a zero Hessian row enter linearly and separately (their minimum is at an
/// end). Over the others, a positive definite Hessian has its minimum at the stationary point
/// of one face of the box (its relative interior): every face's stationary point is computed,
/// those inside the face (within a margin) are candidates, and each candidate's value is
/// lowered by its rounding slack and by `½·rᵀH⁻¹r` for its residual gradient `r` (the gap to
/// the face's exact minimum). A negative semi-definite Hessian over a bounded box has its
/// minimum at a vertex.
fn min_quadratic<const K: usize>(q: &Point<K>, k: usize, lo: &[f64; K], hi: &[f64; K]) -> f64 {
    let finite = q.v.is_finite()
        && q.g[..k].iter().all(|x| x.is_finite())
        && q.h[..k]
            .iter()
            .all(|row| row[..k].iter().all(|x| x.is_finite()));
    if !finite {
        return f64::NEG_INFINITY;
    }
    let quad: Idx = (0..k)
        .filter(|&i| (0..k).any(|j| q.h[i][j] != 0.0 || q.h[j][i] != 0.0))
        .collect();
    let quad = quad.as_slice();
    let mut linear = 0.0;
    for i in (0..k).filter(|i| !quad.contains(i)) {
        let g = q.g[i];
        let end = if g > 0.0 {
            lo[i]
        } else if g < 0.0 {
            hi[i]
        } else {
            continue;
        };
        if !end.is_finite() {
            return f64::NEG_INFINITY;
        }
        let t = g * end;
        linear += t - t.abs() * EVAL_SLACK;
    }
    let mut best = f64::INFINITY;
    let mut point = [0.0f64; K];
    let m = quad.len();
    let convex = cholesky(&q.h, quad).is_some();
    if !convex {
        // Concave (or linear) over a bounded box: the minimum is at a vertex.
        let bounded = quad.iter().all(|&i| lo[i].is_finite() && hi[i].is_finite());
        let mut neg = [[0.0f64; K]; K];
        for &i in quad {
            for &j in quad {
                neg[i][j] = -q.h[i][j];
            }
        }
        let Some(t) = semidefinite(&neg, quad).filter(|_| bounded) else {
            return f64::NEG_INFINITY;
        };
        for corner in 0..(1usize << m) {
            for (bit, &i) in quad.iter().enumerate() {
                point[i] = if corner >> bit & 1 == 1 { hi[i] } else { lo[i] };
            }
            let (val, mag) = q.eval(&point, k);
            best = best.min(val - mag * EVAL_SLACK);
        }
        // `q - ½·t·|δ - c|²` (c the box's centre) is concave, so its minimum is at a vertex,
        // where `|δ - c|² = R²`; and `q` is above it.
        let r2: f64 = quad.iter().map(|&i| (0.5 * (hi[i] - lo[i])).powi(2)).sum();
        return best - 0.5 * t * r2 * (1.0 + EVAL_SLACK) + linear;
    }
    // Every face: each coordinate at its lower end, its upper end, or free. Face 0 (all free)
    // comes first: when its stationary point lies inside, it is the minimum over the box.
    let mut state = [0u8; K];
    let mut interior_min = false;
    'faces: for face in 0..3usize.pow(m as u32) {
        if face > 0 && interior_min {
            break;
        }
        let mut f = face;
        for s in state.iter_mut().take(m) {
            *s = (f % 3) as u8;
            f /= 3;
        }
        let mut free = Idx::default();
        for (a, &i) in quad.iter().enumerate() {
            match state[a] {
                0 => free.push(i),
                1 if lo[i].is_finite() => point[i] = lo[i],
                2 if hi[i].is_finite() => point[i] = hi[i],
                _ => continue 'faces,
            }
        }
        let free = free.as_slice();
        if !free.is_empty() {
            let Some(l) = cholesky(&q.h, free) else {
                return f64::NEG_INFINITY;
            };
            let mut rhs = [0.0f64; K];
            for (a, &i) in free.iter().enumerate() {
                rhs[a] = -q.g[i];
                for &j in quad.iter().filter(|j| !free.contains(j)) {
                    rhs[a] -= q.h[i][j] * point[j];
                }
            }
            let x = solve(&l, free.len(), &rhs);
            for (a, &i) in free.iter().enumerate() {
                // Inside within a margin: a face accepted wrongly only lowers the bound.
                let width = hi[i] - lo[i];
                let margin = 1e-9
                    * if width.is_finite() {
                        width.max(x[a].abs())
                    } else {
                        1.0 + x[a].abs()
                    };
                if !(x[a] >= lo[i] - margin && x[a] <= hi[i] + margin) {
                    continue 'faces;
                }
                point[i] = x[a];
            }
            // The residual gradient along the free coordinates and its gap ½·rᵀH⁻¹r.
            let mut r = [0.0f64; K];
            for (a, &i) in free.iter().enumerate() {
                r[a] = q.g[i];
                for &j in quad {
                    r[a] += q.h[i][j] * point[j];
                }
            }
            let y = solve(&l, free.len(), &r);
            let gap: f64 = (0..free.len()).map(|a| r[a] * y[a]).sum::<f64>().abs();
            let (val, mag) = q.eval(&point, k);
            best = best.min(val - mag * EVAL_SLACK - gap);
            interior_min = face == 0;
        } else {
            let (val, mag) = q.eval(&point, k);
            best = best.min(val - mag * EVAL_SLACK);
        }
    }
    if best.is_nan() {
        return f64::NEG_INFINITY;
    }
    best + linear
}

/// `Some(t)` when `h + t·I` restricted to `idx` is positive definite for the tiny `t` it
/// returns (relative to `h`'s diagonal; `0` for a zero matrix): `h` is then positive
/// semi-definite up to `t`.
fn semidefinite<const K: usize>(h: &[[f64; K]; K], idx: &[usize]) -> Option<f64> {
    let scale = idx.iter().map(|&i| h[i][i].abs()).fold(0.0f64, f64::max);
    if scale == 0.0 {
        return idx
            .iter()
            .all(|&i| idx.iter().all(|&j| h[i][j] == 0.0))
            .then_some(0.0);
    }
    let t = 1e-12 * scale;
    let mut shifted = *h;
    for &i in idx {
        shifted[i][i] += t;
    }
    factor(&shifted, idx).map(|_| t)
}
