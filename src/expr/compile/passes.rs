//! Passes over the tape after emission: the registers an instruction reads, renumbering, dead
//! code elimination, fusion of common shapes into single instructions, and inputs read in place.

use super::*;

pub(super) fn operands(op: &Op) -> [Option<u32>; 2] {
    match *op {
        Op::Input(_) | Op::Const(_) => [None, None],
        Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Powf(a, b) => {
            [Some(a), Some(b)]
        }
        Op::Min(a, b) | Op::Max(a, b) | Op::Lse(a, b) => [Some(a), Some(b)],
        Op::AddC(a, _)
        | Op::MulC(a, _)
        | Op::SubCR(_, a)
        | Op::DivCR(_, a)
        | Op::Neg(a)
        | Op::Sqr(a) => [Some(a), None],
        Op::Powi(a, _) | Op::F1(_, a) | Op::Index(_, a) | Op::SqrAddC(a, _) => [Some(a), None],
        Op::AddSqr(a, b) | Op::AddMulC(a, b, _) | Op::SumSqr(a, b) => [Some(a), Some(b)],
        Op::SumSqrC(a, b, _) | Op::SqrAddMulC(a, b, _) => [Some(a), Some(b)],
    }
}

fn remap(op: Op, m: &[u32]) -> Op {
    let r = |s: u32| m[s as usize];
    match op {
        Op::Input(_) | Op::Const(_) => op,
        Op::Add(a, b) => Op::Add(r(a), r(b)),
        Op::Sub(a, b) => Op::Sub(r(a), r(b)),
        Op::Mul(a, b) => Op::Mul(r(a), r(b)),
        Op::Div(a, b) => Op::Div(r(a), r(b)),
        Op::Powf(a, b) => Op::Powf(r(a), r(b)),
        Op::Min(a, b) => Op::Min(r(a), r(b)),
        Op::Max(a, b) => Op::Max(r(a), r(b)),
        Op::Lse(a, b) => Op::Lse(r(a), r(b)),
        Op::AddC(a, c) => Op::AddC(r(a), c),
        Op::MulC(a, c) => Op::MulC(r(a), c),
        Op::SubCR(c, a) => Op::SubCR(c, r(a)),
        Op::DivCR(c, a) => Op::DivCR(c, r(a)),
        Op::Neg(a) => Op::Neg(r(a)),
        Op::Sqr(a) => Op::Sqr(r(a)),
        Op::Powi(a, n) => Op::Powi(r(a), n),
        Op::F1(f, a) => Op::F1(f, r(a)),
        Op::Index(l, a) => Op::Index(l, r(a)),
        Op::SqrAddC(a, c) => Op::SqrAddC(r(a), c),
        Op::AddSqr(a, b) => Op::AddSqr(r(a), r(b)),
        Op::AddMulC(a, b, c) => Op::AddMulC(r(a), r(b), c),
        Op::SumSqr(a, b) => Op::SumSqr(r(a), r(b)),
        Op::SumSqrC(a, b, c) => Op::SumSqrC(r(a), r(b), c),
        Op::SqrAddMulC(a, b, c) => Op::SqrAddMulC(r(a), r(b), c),
    }
}

/// Removes instructions the output does not need and renumbers the rest; returns the new output.
pub(super) fn eliminate_dead(ops: &mut Vec<Op>, out: u32) -> u32 {
    let mut live = vec![false; ops.len()];
    if let Some(l) = live.get_mut(out as usize) {
        *l = true;
    }
    for i in (0..ops.len()).rev() {
        if live[i] {
            for s in operands(&ops[i]).into_iter().flatten() {
                live[s as usize] = true;
            }
        }
    }
    let mut map = vec![0u32; ops.len()];
    let mut kept = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        if live[i] {
            map[i] = kept.len() as u32;
            kept.push(remap(*op, &map));
        }
    }
    *ops = kept;
    map.get(out as usize).copied().unwrap_or(0)
}

/// Fuses an instruction with a single-use producer into one instruction (fewer passes over a
/// batch, fewer dispatches per point): `(a + c)^2`, `a + b^2`, `a ± c*b`, `a^2 + b^2`,
/// `a^2 + c*b`, `a^2 + b^2 + c`.
pub(super) fn fuse(ops: &mut [Op], out: u32) {
    let mut uses = vec![0u32; ops.len()];
    for op in ops.iter() {
        for s in operands(op).into_iter().flatten() {
            uses[s as usize] += 1;
        }
    }
    if let Some(u) = uses.get_mut(out as usize) {
        *u += 1;
    }
    for i in 0..ops.len() {
        let single = |j: u32| uses[j as usize] == 1;
        let fused = match ops[i] {
            Op::Sqr(a) if single(a) => match ops[a as usize] {
                Op::AddC(x, c) => Some(Op::SqrAddC(x, c)),
                _ => None,
            },
            Op::Add(a, b) => {
                let pick = |p: u32, q: u32| match ops[q as usize] {
                    Op::Sqr(x) if single(q) => Some(Op::AddSqr(p, x)),
                    Op::MulC(x, c) if single(q) => Some(Op::AddMulC(p, x, c)),
                    _ => None,
                };
                pick(a, b).or_else(|| pick(b, a))
            }
            Op::Sub(a, b) if single(b) => match ops[b as usize] {
                Op::MulC(x, c) => Some(Op::AddMulC(a, x, -c)),
                _ => None,
            },
            _ => None,
        };
        // Second level, after the fusions above: a sum of two squares, a square plus a scaled
        // term, a sum of two squares plus a constant. Each computes the same operations in the
        // same order as the instructions it replaces, so results are bit for bit the same.
        let fused = match fused {
            Some(Op::AddSqr(p, x)) => match ops[p as usize] {
                Op::Sqr(y) if single(p) => Some(Op::SumSqr(y, x)),
                _ => Some(Op::AddSqr(p, x)),
            },
            Some(Op::AddMulC(p, x, c)) => match ops[p as usize] {
                Op::Sqr(y) if single(p) => Some(Op::SqrAddMulC(y, x, c)),
                _ => Some(Op::AddMulC(p, x, c)),
            },
            None => match ops[i] {
                Op::AddC(p, c) if single(p) => match ops[p as usize] {
                    Op::SumSqr(x, y) => Some(Op::SumSqrC(x, y, c)),
                    _ => None,
                },
                _ => None,
            },
            f => f,
        };
        if let Some(f) = fused {
            ops[i] = f;
        }
    }
}

/// Renumbers a compiled tape into registers: input `k` is register `k`, instruction `i` of the
/// result writes register `n_in + i`, and `Input` instructions disappear (inputs are read where
/// they are, which saves a dispatch per input and per point). Returns the output register.
pub(super) fn lower_inputs(ops: &mut Vec<Op>, out: u32, n_in: usize) -> u32 {
    let mut map = vec![0u32; ops.len()];
    let mut kept = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        map[i] = match *op {
            Op::Input(k) => k,
            _ => {
                kept.push(remap(*op, &map));
                (n_in + kept.len() - 1) as u32
            }
        };
    }
    *ops = kept;
    map.get(out as usize).copied().unwrap_or(0)
}
