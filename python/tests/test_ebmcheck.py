"""The Python package: each function, NumPy / dict / ArviZ-like input, errors, the pytest helper."""

import math
import textwrap

import numpy as np
import pytest

import ebmcheck
from ebmcheck.testing import assert_samples_from

INF = math.inf


def ar1(phi, chains, n, seed):
    """AR(1) chains with N(0, 1) marginals, started stationary: shape (chains, n)."""
    rng = np.random.default_rng(seed)
    x = np.empty((chains, n))
    x[:, 0] = rng.standard_normal(chains)
    s = math.sqrt(1 - phi * phi)
    z = rng.standard_normal((chains, n))
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + s * z[:, t]
    return x


def test_exact_normal_draws_pass():
    draws = np.random.default_rng(1).standard_normal((20_000, 1))
    r = ebmcheck.sampler_test("y^2/2", draws, over={"y": (-INF, INF)})
    assert r.verdict == "pass", r.explain()
    assert r.passed and r.reasons == [] and r.n == 20_000
    assert list(r.raw)[0] == "schema"
    assert r.ess["y"] > 10_000


def test_shifted_draws_fail_with_reason_codes():
    draws = np.random.default_rng(2).standard_normal(20_000) + 0.1
    r = ebmcheck.sampler_test("y^2/2", draws, over=["y=-inf..inf"], alpha=1e-3)
    assert r.verdict == "fail"
    codes = {c["code"] for c in r.reasons}
    assert "reject" in codes
    mean = [c for c in r.reasons if c["variable"] == "mean of y"]
    assert mean and mean[0]["verdict"] == "fail" and mean[0]["threshold"] == 1e-3


def test_short_chains_are_inconclusive_and_say_how_many_more_draws():
    # AR(1) with phi = 0.99: tau = 199, so 4 000 draws hold about 20 effective ones (floor 100).
    chains = ar1(0.99, 4, 1_000, 3)
    r = ebmcheck.sampler_test("y^2/2", chains[:, :, None], over=["y"])
    assert r.verdict == "inconclusive"
    assert any(c["code"] == "low_ess" for c in r.reasons)
    assert r.more_draws is not None and r.more_draws > 0
    assert "more draws" in r.explain()


def test_dict_input_two_variables_and_params():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 5_000))
    y = 2.0 * rng.standard_normal((4, 5_000))
    r = ebmcheck.sampler_test(
        "x^2/2 + y^2/(2*s^2)",
        {"y": y, "x": x, "lp": np.zeros((4, 5_000))},
        over={"x": (-INF, INF), "y": (-INF, INF)},
        params={"s": 2.0},
    )
    assert r.verdict == "pass", r.explain()
    assert set(r.ess) == {"x", "y"}


def test_interleaved_walkers_are_split():
    walkers = ar1(0.9, 32, 1_000, 5)  # (walkers, steps)
    flat = walkers.T.reshape(-1)  # step by step, walker after walker (emcee flat=True)
    r = ebmcheck.sampler_test("y^2/2", flat, over=["y"], alpha=0.01)
    assert r.raw["interleaving"]["stride"] == 32
    assert r.raw["chains"] == 32
    assert r.verdict != "fail", r.explain()


class _Var:
    def __init__(self, values):
        self.values = values


class _Posterior:
    def __init__(self, **vars):
        self._vars = vars
        self.data_vars = list(vars)

    def __getitem__(self, k):
        return _Var(self._vars[k])


class _InferenceData:
    """The part of ArviZ's InferenceData the package reads: posterior[name].values (chain, draw)."""

    def __init__(self, **vars):
        self.posterior = _Posterior(**vars)


def test_inference_data_like_input():
    rng = np.random.default_rng(6)
    idata = _InferenceData(y=rng.standard_normal((4, 5_000)))
    r = ebmcheck.sampler_test("y^2/2", idata, over=["y"])
    assert r.verdict == "pass", r.explain()
    assert r.raw["chains"] == 4


def test_real_arviz_if_installed():
    az = pytest.importorskip("arviz")
    rng = np.random.default_rng(7)
    idata = az.from_dict(posterior={"y": rng.standard_normal((4, 5_000))})
    assert ebmcheck.sampler_test("y^2/2", idata, over=["y"]).verdict == "pass"


def test_bad_input_raises_value_error_with_the_reason():
    draws = np.zeros((100, 2))
    with pytest.raises(ValueError, match="2 columns"):
        ebmcheck.sampler_test("y^2/2", draws, over=["y"])
    with pytest.raises(ValueError, match="without a value"):
        ebmcheck.sampler_test("y^2/2 + q", draws[:, :1], over=["y"])
    with pytest.raises(ValueError):
        ebmcheck.sampler_test("y^2/", draws[:, :1], over=["y"])
    with pytest.raises(ValueError, match="alpha"):
        ebmcheck.sampler_test("y^2/2", draws[:, :1], over=["y"], alpha=2.0)
    with pytest.raises(ValueError, match="inverse temperature"):
        ebmcheck.logz("y^2/2", over=["y"], beta=-1.0)
    with pytest.raises(ValueError, match="diverges"):
        ebmcheck.logz("y", over=["y"])


def test_logz_of_a_gaussian():
    r = ebmcheck.logz("y^2/2", over={"y": (-INF, INF)}, beta=2.0)
    assert r.converged
    want = 0.5 * math.log(2 * math.pi / 2.0)
    assert abs(r.log_z - want) <= max(r.abs_error, 1e-12) * 10 + 1e-9
    assert r.argmin["y"] == pytest.approx(0.0, abs=1e-6)


def test_check_runs_a_derivation_file(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(
        textwrap.dedent(
            """
            title = "a Gaussian integral"
            [variables]
            y = "-inf..inf"
            [points]
            beta = "0.5..4"
            [[check]]
            name = "the Gaussian integral"
            claim = "C1"
            kind = "equal"
            lhs = "int[y](exp(-beta*y^2/2))"
            rhs = "sqrt(2*pi/beta)"
            """
        )
    )
    r = ebmcheck.check(str(good))
    assert r.passed and r.all_passed and not r.load_errors, r.report
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(good.read_text().replace("sqrt(2*pi/beta)", "sqrt(pi/beta)"))
    r = ebmcheck.check(str(wrong))
    assert not r.passed
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace('claim = "C1"', ""))
    r = ebmcheck.check(str(bad))
    assert r.load_errors and not r.passed
    with pytest.raises(ValueError):
        ebmcheck.check(str(tmp_path / "missing.toml"))


def test_assert_samples_from_passes_and_fails_with_the_reasons():
    rng = np.random.default_rng(8)
    assert_samples_from("y^2/2", rng.standard_normal(20_000), over=["y"])
    with pytest.raises(AssertionError) as e:
        assert_samples_from("y^2/2", 1.2 * rng.standard_normal(20_000), over=["y"])
    msg = str(e.value)
    assert "fail" in msg and "[reject]" in msg and "mean of y^2" in msg
