//! Effective sample size, rank-normalised split R-hat, Monte-Carlo standard errors and batch means.
//!
//! Formulas follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization,
//! folding, and localization: an improved R-hat", Bayesian Analysis 16:667, as written in
//! `docs/sampler-testing.md` §3.1–3.4:
//!
//! * chains are truncated to the shortest one and split in half (M' = 2M chains of N' = ⌊N/2⌋);
//! * W = mean within-chain variance (divisor N' − 1), B/N' = variance of the chain means
//!   (divisor M' − 1), var⁺ = (N' − 1)/N' · W + B/N';
//! * ρ̂_t = 1 − (W − mean_m γ̂_{t,m}) / var⁺ with γ̂ the biased (divisor N') autocovariance;
//! * Geyer's initial positive sequence on the pairs P̂_k = ρ̂_{2k} + ρ̂_{2k+1} (stop before the
//!   first P̂_k < 0), made monotone by P̂_k ← min(P̂_k, P̂_{k−1}); τ̂ = −1 + 2 Σ P̂_k, floored at
//!   1/log10(S) so antithetic chains cap at S·log10 S; ESS = S/τ̂.
//!
//! This is the Stan/`posterior` estimator except for two documented details: the monotone step
//! takes the minimum (Geyer) rather than ArviZ's pair average, and we do not add ArviZ's
//! "improved" ρ̂_{2K+2} term. Autocovariances are computed directly for the first lags (cheap for
//! well-mixing chains, where Geyer's truncation comes early) and by a radix-2 FFT once more than
//! [`DIRECT_LAGS`] lags are needed, so the cost is O(S·min(K, log S)).
//!
//! For output as samplers produce it: [`ess_conservative`] takes the smaller of Geyer's ESS and
//! batch means' (Geyer's stops at the first negative pair and misses correlation that returns at
//! longer lags); [`detect_interleaving`] finds walkers stored interleaved in one chain (a peak of
//! the autocorrelation at the walker stride) and [`deinterleave`] splits them; [`rhat_check`]
//! judges R̂ against the spread of chain means that the measured ESS allows, so its threshold
//! grows with the number of chains (Vats & Knudson 2021).
//!
//! Functions return `NaN` when the quantity is undefined: fewer than 4 draws per chain, no chains,
//! non-finite draws, or draws that are constant across all chains.

use super::special;
use std::ops::Not as _;

/// Lags computed directly before switching to the FFT. Measured on this machine (2 cores): a
/// direct lag costs ~0.4 ns per draw, the FFT path ~400 ns per draw, so the FFT only pays for
/// very slowly mixing chains.
pub const DIRECT_LAGS: usize = 256;

/// Truncates chains to the shortest length and splits each in half (first and last ⌊N/2⌋ draws).
/// Returns `None` when there is no chain, a chain has fewer than 4 draws, or a value is not finite.
pub fn split_chains(chains: &[&[f64]]) -> Option<Vec<Vec<f64>>> {
    let n = chains.iter().map(|c| c.len()).min()?;
    if n < 4 || chains.iter().any(|c| c[..n].iter().any(|v| !v.is_finite())) {
        return None;
    }
    let half = n / 2;
    let mut out = Vec::with_capacity(2 * chains.len());
    for c in chains {
        out.push(c[..half].to_vec());
        out.push(c[n - half..n].to_vec());
    }
    Some(out)
}

/// Between/within-chain summary of equal-length chains.
struct Pooled {
    /// Mean within-chain variance, divisor N' − 1.
    w: f64,
    /// var⁺ = (N' − 1)/N' · W + B/N'.
    var_plus: f64,
    /// Centred chains (each centred at its own mean).
    centred: Vec<Vec<f64>>,
}

fn pooled(chains: &[Vec<f64>]) -> Pooled {
    let m = chains.len();
    let n = chains[0].len();
    let nf = n as f64;
    let means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / nf).collect();
    let centred: Vec<Vec<f64>> = chains
        .iter()
        .zip(&means)
        .map(|(c, mu)| c.iter().map(|v| v - mu).collect())
        .collect();
    let w = centred
        .iter()
        .map(|c| c.iter().map(|v| v * v).sum::<f64>() / (nf - 1.0))
        .sum::<f64>()
        / m as f64;
    let grand = means.iter().sum::<f64>() / m as f64;
    let b_over_n = if m > 1 {
        means.iter().map(|mu| (mu - grand).powi(2)).sum::<f64>() / (m as f64 - 1.0)
    } else {
        0.0
    };
    Pooled {
        w,
        var_plus: (nf - 1.0) / nf * w + b_over_n,
        centred,
    }
}

/// Lazily computed mean (over chains) biased autocovariance.
struct Acov<'a> {
    centred: &'a [Vec<f64>],
    fft: Option<Vec<f64>>,
}

impl Acov<'_> {
    fn mean_at(&mut self, t: usize) -> f64 {
        let n = self.centred[0].len();
        if t >= n {
            return 0.0;
        }
        if t < DIRECT_LAGS && self.fft.is_none() {
            let s: f64 = self.centred.iter().map(|c| dot(&c[..n - t], &c[t..])).sum();
            return s / (n as f64 * self.centred.len() as f64);
        }
        let all = self
            .fft
            .get_or_insert_with(|| mean_autocov_fft(self.centred));
        all[t]
    }
}

/// Dot product with four independent accumulators (the additions are latency-bound otherwise).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

/// In-place iterative radix-2 FFT of (re, im); `inverse` uses the conjugate twiddles (unscaled).
/// Twiddles are tabulated once (n/2 sin/cos pairs) and strided per stage.
fn fft(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let tw: Vec<(f64, f64)> = (0..n / 2)
        .map(|k| (sign * 2.0 * std::f64::consts::PI * k as f64 / n as f64).sin_cos())
        .collect();
    let mut len = 2;
    while len <= n {
        let half = len / 2;
        let stride = n / len;
        for start in (0..n).step_by(len) {
            for k in 0..half {
                let (s, c) = tw[k * stride];
                let (a, b) = (start + k, start + k + half);
                let tr = re[b] * c - im[b] * s;
                let ti = re[b] * s + im[b] * c;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        len <<= 1;
    }
}

/// Biased autocovariance γ̂_t = (1/n) Σ c_i c_{i+t} of a centred series, for all lags, by FFT.
#[cfg(test)]
fn autocov_fft(centred: &[f64]) -> Vec<f64> {
    mean_autocov_fft(&[centred.to_vec()])
}

/// Mean over equal-length centred chains of their biased autocovariances, for all lags.
///
/// Only the summed power spectrum is needed, so two real chains share one complex FFT
/// (z = a + ib gives |A_k|² + |B_k|² = (|Z_k|² + |Z_{N−k}|²)/2) and a single inverse FFT follows.
fn mean_autocov_fft(centred: &[Vec<f64>]) -> Vec<f64> {
    let n = centred[0].len();
    let size = (2 * n).next_power_of_two();
    let mut power = vec![0.0; size];
    for pair in centred.chunks(2) {
        let mut re = vec![0.0; size];
        let mut im = vec![0.0; size];
        re[..n].copy_from_slice(&pair[0]);
        if let Some(b) = pair.get(1) {
            im[..n].copy_from_slice(b);
        }
        fft(&mut re, &mut im, false);
        for k in 0..size {
            let m = (size - k) % size;
            power[k] += 0.5 * (re[k] * re[k] + im[k] * im[k] + re[m] * re[m] + im[m] * im[m]);
        }
    }
    let mut im = vec![0.0; size];
    fft(&mut power, &mut im, true);
    power.truncate(n);
    let scale = 1.0 / (size as f64 * n as f64 * centred.len() as f64);
    power.iter_mut().for_each(|v| *v *= scale);
    power
}

/// ESS of already split, equal-length chains (formula in the module docs).
fn ess_split(chains: &[Vec<f64>]) -> f64 {
    let n = chains[0].len();
    let s = (n * chains.len()) as f64;
    let p = pooled(chains);
    if p.var_plus.is_nan() || p.var_plus <= 0.0 || !p.var_plus.is_finite() {
        return f64::NAN;
    }
    let mut acov = Acov {
        centred: &p.centred,
        fft: None,
    };
    let mut rho = |t: usize| {
        if t == 0 {
            1.0
        } else {
            1.0 - (p.w - acov.mean_at(t)) / p.var_plus
        }
    };
    let tau = geyer_tau(&mut rho, n).max(1.0 / s.log10());
    s / tau
}

/// Geyer's initial monotone sequence estimate τ̂ = −1 + 2 Σ P̂_k from autocorrelations ρ̂_t of
/// series of length `n` (not floored).
fn geyer_tau(rho: &mut dyn FnMut(usize) -> f64, n: usize) -> f64 {
    let mut sum = 0.0;
    let mut prev = f64::INFINITY;
    let mut k = 0;
    while 2 * k + 1 < n {
        let pair = rho(2 * k) + rho(2 * k + 1);
        if pair < 0.0 {
            break;
        }
        let pair = pair.min(prev);
        sum += pair;
        prev = pair;
        k += 1;
    }
    -1.0 + 2.0 * sum
}

/// Potential scale reduction sqrt(var⁺/W) of already split chains.
fn rhat_split(chains: &[Vec<f64>]) -> f64 {
    let p = pooled(chains);
    if p.w.is_nan() || p.w <= 0.0 {
        return f64::NAN;
    }
    (p.var_plus / p.w).sqrt()
}

/// Rank-normalises pooled draws: z = Φ⁻¹((r − 3/8)/(S + 1/4)) with average ranks for ties.
fn rank_normalise(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = chains[0].len();
    let all: Vec<f64> = chains.iter().flatten().copied().collect();
    let s = all.len();
    let mut idx: Vec<usize> = (0..s).collect();
    idx.sort_by(|&a, &b| all[a].total_cmp(&all[b]));
    let mut z = vec![0.0; s];
    let mut i = 0;
    while i < s {
        let mut j = i;
        while j + 1 < s && all[idx[j + 1]].total_cmp(&all[idx[i]]).is_eq() {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their average.
        let r = (i + j) as f64 / 2.0 + 1.0;
        let v = special::quantile_fast((r - 0.375) / (s as f64 + 0.25));
        for &k in &idx[i..=j] {
            z[k] = v;
        }
        i = j + 1;
    }
    z.chunks(n).map(|c| c.to_vec()).collect()
}

/// Sample quantile of pooled values by linear interpolation (type 7, as NumPy's default).
pub fn quantile_of(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// ESS for the mean: Geyer's initial monotone sequence on the raw split chains (multi-chain).
pub fn ess_mean(chains: &[&[f64]]) -> f64 {
    split_chains(chains).map_or(f64::NAN, |c| ess_split(&c))
}

/// Bulk ESS: the ESS of the rank-normalised split chains.
pub fn ess_bulk(chains: &[&[f64]]) -> f64 {
    split_chains(chains).map_or(f64::NAN, |c| ess_split(&rank_normalise(&c)))
}

/// Tail ESS: min of the ESS of the indicators 1[θ ≤ q̂₀.₀₅] and 1[θ ≤ q̂₀.₉₅].
pub fn ess_tail(chains: &[&[f64]]) -> f64 {
    let Some(split) = split_chains(chains) else {
        return f64::NAN;
    };
    let all: Vec<f64> = split.iter().flatten().copied().collect();
    [0.05, 0.95]
        .iter()
        .map(|&p| {
            let q = quantile_of(&all, p);
            let ind: Vec<Vec<f64>> = split
                .iter()
                .map(|c| c.iter().map(|&v| if v <= q { 1.0 } else { 0.0 }).collect())
                .collect();
            ess_split(&ind)
        })
        .fold(f64::INFINITY, f64::min)
}

/// Rank-normalised split R̂: the maximum of the bulk R̂ and the R̂ of the folded draws |θ − median|.
pub fn split_rhat(chains: &[&[f64]]) -> f64 {
    let Some(split) = split_chains(chains) else {
        return f64::NAN;
    };
    let bulk = rhat_split(&rank_normalise(&split));
    let all: Vec<f64> = split.iter().flatten().copied().collect();
    let med = quantile_of(&all, 0.5);
    let folded: Vec<Vec<f64>> = split
        .iter()
        .map(|c| c.iter().map(|v| (v - med).abs()).collect())
        .collect();
    let tail = rhat_split(&rank_normalise(&folded));
    bulk.max(tail)
}

/// R̂ with the threshold it is judged against.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RhatCheck {
    /// Rank-normalised split R̂ (max of bulk and folded), as [`split_rhat`].
    pub rhat: f64,
    /// The largest R̂ that chains agreeing as their own autocorrelation predicts reach with
    /// probability 1 − [`RHAT_DELTA`] (see [`rhat_check`]); never below 1.01.
    pub threshold: f64,
    /// Number of split chains M'.
    pub split_chains: usize,
    /// Draws per split chain N'.
    pub draws_per_chain: usize,
    /// The ESS the threshold rests on: the smaller of the bulk and folded series' multi-chain
    /// ESS ([`ess_bulk`]'s estimator on the rank-normalised and folded draws).
    pub ess: f64,
}

impl RhatCheck {
    /// Whether the chains disagree (R̂ undefined or above its threshold).
    pub fn disagrees(&self) -> bool {
        self.rhat.is_nan() || self.rhat > self.threshold
    }
}

/// The R̂ gate for four long chains (Vehtari et al. 2021); [`rhat_check`] never goes below it.
pub const RHAT_MAX_FEW_CHAINS: f64 = 1.01;

/// Probability that chains which agree (stationary, each as autocorrelated as it looks from
/// within) still exceed the R̂ threshold, per coordinate.
pub const RHAT_DELTA: f64 = 1e-3;

/// The R̂ threshold for `split_chains` split chains of `draws_per_chain` draws whose ESS is
/// `ess`: max(1.01, √(1 − 1/N' + q·M'/ESS)) with q the 1 − [`RHAT_DELTA`] quantile of
/// χ²_{M'−1}/(M'−1) (see [`rhat_check`]).
pub fn rhat_threshold(split_chains: usize, draws_per_chain: usize, ess: f64) -> f64 {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    let m = split_chains as f64;
    if split_chains < 2 || (ess > 0.0).not() {
        return RHAT_MAX_FEW_CHAINS;
    }
    let q =
        ChiSquared::new(m - 1.0).map_or(f64::NAN, |c| c.inverse_cdf(1.0 - RHAT_DELTA) / (m - 1.0));
    let t2 = 1.0 - 1.0 / draws_per_chain.max(1) as f64 + q * m / ess;
    if t2.is_nan() {
        return RHAT_MAX_FEW_CHAINS;
    }
    t2.sqrt().max(RHAT_MAX_FEW_CHAINS)
}

/// Rank-normalised split R̂ judged against the spread of chain means that the measured ESS
/// allows, whatever the number of chains. Under stationarity the variance of a split chain's
/// mean is σ²τ/N', so R̂² = (N' − 1)/N' + (B/N')/W ≈ 1 − 1/N' + (M'/ESS)·χ²_{M'−1}/(M'−1)
/// (Vats & Knudson 2021, "Revisiting the Gelman–Rubin diagnostic", Statistical Science 36:518):
/// a fixed 1.01 demands an ESS of about 50·M', and 64 healthy split walkers sit at R̂ ≈ 1.06
/// however good the sampler. The threshold is the 1 − [`RHAT_DELTA`] point of that law with
/// the ESS of the rank-normalised and folded draws (the smaller), never below 1.01: R̂ above it
/// says the chain means differ more than the autocorrelation the ESS estimator found explains
/// (a chain apart from the others, correlation that Geyer's truncation missed). Chains so stuck
/// that their ESS is small are left to the ESS floor of the sampler test. `None` when R̂ is
/// undefined (see [`split_chains`]).
pub fn rhat_check(chains: &[&[f64]]) -> Option<RhatCheck> {
    let split = split_chains(chains)?;
    let z = rank_normalise(&split);
    let all: Vec<f64> = split.iter().flatten().copied().collect();
    let med = quantile_of(&all, 0.5);
    let folded: Vec<Vec<f64>> = split
        .iter()
        .map(|c| c.iter().map(|v| (v - med).abs()).collect())
        .collect();
    let zf = rank_normalise(&folded);
    let rhat = rhat_split(&z).max(rhat_split(&zf));
    let ew = ess_split(&z).min(ess_split(&zf));
    let ew = if ew.is_nan() { 0.0 } else { ew };
    Some(RhatCheck {
        rhat,
        threshold: rhat_threshold(split.len(), split[0].len(), ew),
        split_chains: split.len(),
        draws_per_chain: split[0].len(),
        ess: ew,
    })
}

/// ESS by non-overlapping batch means pooled over chains: each chain of n draws is cut into
/// ⌊√n⌋-draw batches; σ̂²_BM = b·Σ(Ȳ_k − Ȳ_chain)²/Σ(a − 1) and ESS = S·σ̂²/σ̂²_BM with σ̂² the
/// pooled within-chain variance. NaN when no chain has two batches or the draws are constant.
pub fn ess_batch_means(chains: &[&[f64]]) -> f64 {
    let mut num = 0.0;
    let mut dof = 0usize;
    let mut ss = 0.0;
    let mut cnt = 0usize;
    for c in chains {
        if c.iter().any(|v| !v.is_finite()) {
            return f64::NAN;
        }
        let n = c.len();
        let b = (n as f64).sqrt().floor() as usize;
        if b == 0 || n / b < 2 {
            continue;
        }
        let a = n / b;
        let used = &c[..a * b];
        let mean = used.iter().sum::<f64>() / (a * b) as f64;
        for chunk in used.chunks(b) {
            let m = chunk.iter().sum::<f64>() / b as f64;
            num += b as f64 * (m - mean).powi(2);
        }
        dof += a - 1;
        ss += used.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
        cnt += a * b - 1;
    }
    if dof == 0 || cnt == 0 {
        return f64::NAN;
    }
    let var_bm = num / dof as f64;
    let var = ss / cnt as f64;
    if (var > 0.0 && var_bm > 0.0).not() {
        return f64::NAN;
    }
    let s: usize = chains.iter().map(|c| c.len()).sum();
    s as f64 * var / var_bm
}

/// The conservative ESS for the mean: the smaller of Geyer's (multi-chain, split, [`ess_mean`])
/// and batch means' ([`ess_batch_means`]). Geyer's estimator stops at the first negative pair of
/// autocorrelations and so overestimates the ESS when the correlation comes back at longer lags
/// (interleaved walkers, slowly varying chains); batch means see such long-range correlation
/// but are noisier (≈ 12 % relative sd at 20 000 draws in one chain). Taking the smaller keeps
/// standard errors from being too small; it costs a few percent of ESS on healthy chains.
/// NaN when Geyer's is undefined; Geyer's alone when batch means are.
pub fn ess_conservative(chains: &[&[f64]]) -> f64 {
    let g = ess_mean(chains);
    let b = ess_batch_means(chains);
    if g.is_nan() || b.is_nan() {
        g
    } else {
        g.min(b)
    }
}

/// Evidence that one stored chain interleaves several walkers (emcee's `get_chain(flat=True)`
/// stores step by step, walker after walker): the autocorrelation peaks at the walker stride.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interleaving {
    /// The stride (number of walkers).
    pub stride: usize,
    /// Autocorrelation at the stride.
    pub rho_stride: f64,
    /// Autocorrelation at lag 1.
    pub rho_1: f64,
}

/// Smallest autocorrelation at the stride that counts as interleaving.
const INTERLEAVE_MIN_RHO: f64 = 0.2;

/// Looks for walker interleaving in one series: the autocorrelation ρ̂_t over lags 2..L
/// (L = min(n/20, 4096)) has a peak at a lag w that exceeds ρ̂_1 and its neighbours ρ̂_{w±1} by
/// at least 0.1 and is at least 0.2 and 8/√n. The stride is the smallest such peak within
/// 80 % of the highest one. A series that is one chain (monotone or oscillating ρ̂ from lag 1)
/// has no such peak. `None` for short or constant series.
pub fn detect_interleaving(x: &[f64]) -> Option<Interleaving> {
    let n = x.len();
    if n < 200 || x.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let centred = vec![x.iter().map(|v| v - mean).collect::<Vec<f64>>()];
    let g = mean_autocov_fft(&centred);
    if (g[0] > 0.0).not() {
        return None;
    }
    let lmax = (n / 20).min(4096);
    let rho: Vec<f64> = g[..=lmax + 1].iter().map(|v| v / g[0]).collect();
    let floor = INTERLEAVE_MIN_RHO.max(8.0 / (n as f64).sqrt());
    let is_peak = |w: usize| {
        rho[w] >= floor
            && rho[w] >= rho[1] + 0.1
            && rho[w] >= rho[w - 1] + 0.1
            && rho[w] >= rho[w + 1] + 0.1
    };
    let best = (2..=lmax)
        .filter(|&w| is_peak(w))
        .map(|w| rho[w])
        .fold(f64::NEG_INFINITY, f64::max);
    if !best.is_finite() {
        return None;
    }
    let stride = (2..=lmax).find(|&w| is_peak(w) && rho[w] >= 0.8 * best)?;
    Some(Interleaving {
        stride,
        rho_stride: rho[stride],
        rho_1: rho[1],
    })
}

/// Splits one interleaved row-major chain (`dim` values per draw) into `stride` chains: draw i
/// goes to chain i mod `stride`; trailing draws of an incomplete last step are dropped.
pub fn deinterleave(chain: &[f64], dim: usize, stride: usize) -> Vec<Vec<f64>> {
    let n = chain.len() / dim.max(1);
    let steps = n / stride.max(1);
    let mut out = vec![Vec::with_capacity(steps * dim); stride];
    for i in 0..steps * stride {
        out[i % stride].extend_from_slice(&chain[i * dim..(i + 1) * dim]);
    }
    out
}

/// Pooled sample standard deviation (divisor S − 1) of all draws.
pub fn pooled_sd(chains: &[&[f64]]) -> f64 {
    let s: usize = chains.iter().map(|c| c.len()).sum();
    if s < 2 {
        return f64::NAN;
    }
    let mean = chains.iter().flat_map(|c| c.iter()).sum::<f64>() / s as f64;
    let ss: f64 = chains
        .iter()
        .flat_map(|c| c.iter())
        .map(|v| (v - mean).powi(2))
        .sum();
    (ss / (s as f64 - 1.0)).sqrt()
}

/// Monte-Carlo standard error of the mean: sd(θ)/sqrt(ess_mean(θ)).
pub fn mcse_mean(chains: &[&[f64]]) -> f64 {
    pooled_sd(chains) / ess_mean(chains).sqrt()
}

/// Monte-Carlo standard error of the standard deviation without a normality assumption
/// (`posterior` ≥ 1.5): with c = θ − θ̄, Var(s²) ≈ (m₄ − m₂²)/ess_mean(c²), MCSE = sqrt(Var(s²)/(4 m₂)).
pub fn mcse_sd(chains: &[&[f64]]) -> f64 {
    let s: usize = chains.iter().map(|c| c.len()).sum();
    if s < 2 {
        return f64::NAN;
    }
    let mean = chains.iter().flat_map(|c| c.iter()).sum::<f64>() / s as f64;
    let sq: Vec<Vec<f64>> = chains
        .iter()
        .map(|c| c.iter().map(|v| (v - mean).powi(2)).collect())
        .collect();
    let m2 = sq.iter().flatten().sum::<f64>() / s as f64;
    let m4 = sq.iter().flatten().map(|v| v * v).sum::<f64>() / s as f64;
    let refs: Vec<&[f64]> = sq.iter().map(|c| c.as_slice()).collect();
    let ess = ess_mean(&refs);
    ((m4 - m2 * m2) / ess / (4.0 * m2)).sqrt()
}

/// Result of non-overlapping batch means on one chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BatchMeans {
    /// Mean of the draws used (the first a·b).
    pub mean: f64,
    /// σ̂_BM/√n, to be referred to Student's t with `df` degrees of freedom.
    pub mcse: f64,
    /// Batch size b.
    pub batch_size: usize,
    /// Number of batches a.
    pub n_batches: usize,
    /// Degrees of freedom a − 1.
    pub df: usize,
}

/// Batch means (Flegal & Jones 2010): b = `batch_size` or ⌊√n⌋, a = ⌊n/b⌋ batches,
/// σ̂²_BM = b/(a−1) Σ (Ȳ_k − Ȳ)², MCSE = σ̂_BM/√(ab). `None` if fewer than 2 batches fit.
pub fn batch_means(x: &[f64], batch_size: Option<usize>) -> Option<BatchMeans> {
    let b = batch_size.unwrap_or_else(|| (x.len() as f64).sqrt().floor() as usize);
    if b == 0 {
        return None;
    }
    let a = x.len() / b;
    if a < 2 {
        return None;
    }
    let used = &x[..a * b];
    let means: Vec<f64> = used
        .chunks(b)
        .map(|c| c.iter().sum::<f64>() / b as f64)
        .collect();
    let mean = means.iter().sum::<f64>() / a as f64;
    let var_bm =
        b as f64 / (a as f64 - 1.0) * means.iter().map(|m| (m - mean).powi(2)).sum::<f64>();
    Some(BatchMeans {
        mean,
        mcse: (var_bm / (a * b) as f64).sqrt(),
        batch_size: b,
        n_batches: a,
        df: a - 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::stats::{ar1_chains, tol};

    #[test]
    fn rhat_matches_hand_computation() {
        // Split halves [1,2],[3,4],[2,3],[4,5]: W = 0.5, B/N' = 5/3, var⁺ = 0.25 + 5/3.
        let split = vec![
            vec![1.0, 2.0],
            vec![3.0, 4.0],
            vec![2.0, 3.0],
            vec![4.0, 5.0],
        ];
        let want = ((0.25 + 5.0 / 3.0) / 0.5_f64).sqrt();
        assert!((rhat_split(&split) - want).abs() < 1e-14);
    }

    #[test]
    fn fft_autocovariance_matches_direct_sum() {
        let x: Vec<f64> = (0..37).map(|i| ((i * 7919) % 31) as f64 - 15.0).collect();
        let g = autocov_fft(&x);
        for t in 0..37 {
            let direct: f64 = (0..37 - t).map(|i| x[i] * x[i + t]).sum::<f64>() / 37.0;
            assert!(
                (g[t] - direct).abs() < 1e-10,
                "lag {t}: {} vs {direct}",
                g[t]
            );
        }
    }

    #[test]
    fn ess_of_ar1_matches_truth_over_seeds() {
        // AR(1) with φ = 0.9: τ = (1 + φ)/(1 − φ), true ESS = S(1 − φ)/(1 + φ).
        let phi = 0.9;
        let (m, n) = (4, 25_000);
        let truth = (m * n) as f64 * (1.0 - phi) / (1.0 + phi);
        let mut sum = 0.0;
        let seeds = [11_u64, 12, 13, 14, 15];
        for &seed in &seeds {
            let chains = ar1_chains(phi, m, n, seed);
            let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            let ess = ess_mean(&refs);
            println!("seed {seed}: ESS {ess:.0} (truth {truth:.0})");
            assert!(
                (ess / truth - 1.0).abs() < tol::ESS_REL_ONE,
                "seed {seed}: ESS {ess} vs {truth}"
            );
            sum += ess;
            let bulk = ess_bulk(&refs);
            assert!(
                (bulk / truth - 1.0).abs() < tol::ESS_REL_ONE,
                "bulk ESS {bulk}"
            );
            let rhat = split_rhat(&refs);
            assert!(rhat < 1.01, "R-hat {rhat}");
        }
        let avg = sum / seeds.len() as f64;
        assert!(
            (avg / truth - 1.0).abs() < tol::ESS_REL_AVG,
            "average ESS {avg} vs {truth}"
        );
    }

    #[test]
    fn slowly_mixing_chains_use_the_fft_path_correctly() {
        // φ = 0.99: τ = 199, Geyer's truncation lies beyond DIRECT_LAGS, so the FFT path runs.
        let phi = 0.99;
        let (m, n) = (4, 100_000);
        let truth = (m * n) as f64 * (1.0 - phi) / (1.0 + phi);
        let chains = ar1_chains(phi, m, n, 81);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let ess = ess_mean(&refs);
        println!("φ = 0.99: ESS {ess:.0} (truth {truth:.0})");
        assert!(
            (ess / truth - 1.0).abs() < tol::ESS_REL_ONE,
            "ESS {ess} vs {truth}"
        );
    }

    #[test]
    fn ess_of_iid_draws_is_close_to_s() {
        let chains = ar1_chains(0.0, 4, 5000, 21);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let ess = ess_mean(&refs);
        assert!((ess / 20_000.0 - 1.0).abs() < tol::ESS_REL_ONE, "ESS {ess}");
        let tail = ess_tail(&refs);
        assert!(
            (tail / 20_000.0 - 1.0).abs() < tol::ESS_REL_ONE,
            "tail ESS {tail}"
        );
    }

    #[test]
    fn antithetic_chains_are_capped_by_the_floor() {
        let chains = ar1_chains(-0.95, 2, 5000, 31);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let s = 10_000.0_f64;
        let ess = ess_mean(&refs);
        assert!(
            ess <= s * s.log10() * (1.0 + 1e-12),
            "ESS {ess} above the cap"
        );
        assert!(ess > s, "antithetic ESS {ess} should exceed S");
    }

    #[test]
    fn stuck_chains_have_large_rhat() {
        let mut chains = ar1_chains(0.5, 4, 2000, 41);
        chains[0].iter_mut().for_each(|v| *v += 3.0);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        assert!(split_rhat(&refs) > 1.1);
    }

    #[test]
    fn mcse_of_iid_mean_is_sd_over_sqrt_n() {
        let chains = ar1_chains(0.0, 1, 40_000, 51);
        let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
        let want = 1.0 / 200.0;
        assert!((mcse_mean(&refs) / want - 1.0).abs() < tol::ESS_REL_ONE);
        // For N(0,1): sd of s ≈ 1/√(2n).
        let want_sd = 1.0 / (2.0 * 40_000.0_f64).sqrt();
        assert!((mcse_sd(&refs) / want_sd - 1.0).abs() < tol::ESS_REL_ONE);
    }

    #[test]
    fn batch_means_recovers_ar1_long_run_variance() {
        // Long-run variance of AR(1) with unit marginal variance: (1 + φ)/(1 − φ).
        let chains = ar1_chains(0.5, 1, 250_000, 61);
        let bm = batch_means(&chains[0], None).expect("enough batches");
        let want = (3.0_f64 / 250_000.0).sqrt();
        assert!((bm.mcse / want - 1.0).abs() < 0.2, "{bm:?} vs {want}");
        assert_eq!(bm.batch_size, 500);
    }

    #[test]
    fn undefined_inputs_give_nan() {
        assert!(ess_mean(&[]).is_nan());
        assert!(ess_mean(&[&[1.0, 2.0, 3.0]]).is_nan());
        assert!(ess_mean(&[&[1.0; 10]]).is_nan());
    }
}
