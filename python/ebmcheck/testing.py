"""pytest helpers: assert that a sampler's draws come from exp(-beta*E)/Z.

    def test_my_sampler():
        draws = my_sampler(n=20_000)
        assert_samples_from("(x^2-1)^2", draws, over={"x": (-np.inf, np.inf)}, beta=1.0)

On failure the AssertionError's message is the verdict with its reasons (which test rejects,
or why the draws cannot settle it and how many more would).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from . import Over, SamplerTestResult, sampler_test

__all__ = ["assert_samples_from"]


def assert_samples_from(
    energy: str,
    draws: Any,
    over: Over,
    beta: float = 1.0,
    alpha: float = 1e-3,
    params: Optional[Mapping[str, float]] = None,
    allow_inconclusive: bool = False,
) -> SamplerTestResult:
    """Raises AssertionError unless the sampler test passes (or, with `allow_inconclusive`,
    unless it fails). Returns the result."""
    r = sampler_test(energy, draws, over=over, beta=beta, alpha=alpha, params=params)
    ok = r.verdict == "pass" or (allow_inconclusive and r.verdict == "inconclusive")
    if not ok:
        raise AssertionError(r.explain())
    return r
