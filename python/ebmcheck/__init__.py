"""ebmcheck from Python: test sampler output against exact references, compute log Z, run
derivation files.

    >>> import numpy as np, ebmcheck
    >>> draws = np.random.default_rng(0).standard_normal((20_000, 1))
    >>> r = ebmcheck.sampler_test("y^2/2", draws, over={"y": (-np.inf, np.inf)})
    >>> r.verdict
    'pass'

Energies are written in ebmcheck's expression language (``docs/language.md``), the same text
as on the command line. Draws are NumPy arrays of shape ``(draws,)`` (one variable),
``(draws, dims)`` or ``(chains, draws, dims)``, a dict ``{name: array}`` with arrays of shape
``(draws,)`` or ``(chains, draws)``, or an ArviZ ``InferenceData`` (its ``posterior`` group).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _ebmcheck

__all__ = [
    "SamplerTestResult",
    "LogZ",
    "CheckResult",
    "sampler_test",
    "logz",
    "check",
]

__version__ = _ebmcheck.__version__

Over = Union[Mapping[str, Tuple[float, float]], Sequence[str], Sequence[Tuple[str, float, float]], str]


@dataclass
class SamplerTestResult:
    """The verdict of ``sampler_test`` with its evidence (the command's JSON, as Python values)."""

    verdict: str
    """``"pass"``, ``"fail"`` or ``"inconclusive"``."""
    reasons: List[Dict[str, Any]]
    """Machine-readable reasons: ``code`` (``reject``, ``reject_untrusted``, ``low_ess``,
    ``rhat``, ``undefined``), ``verdict``, ``variable``, ``value``, ``threshold``,
    ``more_draws``, ``message``. Empty on pass."""
    tests: List[Dict[str, Any]]
    ess: Dict[str, float]
    rhat: Dict[str, float]
    more_draws: Optional[int]
    summary: str
    n: int
    raw: Dict[str, Any] = field(repr=False)
    """The whole JSON object of ``ebmcheck sampler-test --format json``."""

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def explain(self) -> str:
        """The verdict and its reasons, one per line (the pytest helper's failure message)."""
        lines = [f"sampler test: {self.verdict} on {self.n} draws"]
        for r in self.reasons:
            lines.append(f"  [{r['code']}] {r['message']}")
        if self.more_draws:
            lines.append(f"  about {self.more_draws} more draws would make this conclusive")
        if not self.reasons:
            lines.append(f"  {self.summary}")
        return "\n".join(lines)


@dataclass
class LogZ:
    """log Z = log ∫ exp(-βE) with its error bound and why the quadrature stopped."""

    log_z: float
    abs_error: float
    status: str
    free_energy: float
    min_energy: float
    argmin: Dict[str, float]
    evaluations: int
    reason: Optional[str]

    @property
    def converged(self) -> bool:
        return self.status == "converged" and math.isfinite(self.abs_error)


@dataclass
class CheckResult:
    """The result of running derivation files."""

    all_passed: bool
    """No check failed, was inconclusive or hit an error (files that could not be loaded aside)."""
    load_errors: bool
    """Some file could not be loaded (the command's exit code 2)."""
    report: Dict[str, Any] = field(repr=False)

    @property
    def passed(self) -> bool:
        """Every file loaded and every check passed."""
        return self.all_passed and not self.load_errors


def _over(over: Over, dims: Optional[int] = None) -> Tuple[List[str], List[Tuple[float, float]]]:
    """Variable names and bounds from a dict {name: (lo, hi)}, ["x=-inf..inf"], [(name, lo, hi)]
    or a list of names (each -inf..inf)."""
    if isinstance(over, str):
        over = [over]
    names: List[str] = []
    bounds: List[Tuple[float, float]] = []
    if isinstance(over, Mapping):
        for k, v in over.items():
            lo, hi = v
            names.append(str(k))
            bounds.append((float(lo), float(hi)))
        return names, bounds
    for item in over:
        if isinstance(item, str):
            if "=" in item:
                name, rng = item.split("=", 1)
                if ".." not in rng:
                    raise ValueError(f"`{item}`: write NAME=LO..HI, e.g. x=-inf..inf")
                lo, hi = rng.split("..", 1)
                names.append(name.strip())
                bounds.append((float(lo), float(hi)))
            else:
                names.append(item.strip())
                bounds.append((-math.inf, math.inf))
        else:
            name, lo, hi = item
            names.append(str(name))
            bounds.append((float(lo), float(hi)))
    return names, bounds


def _from_inference_data(draws: Any) -> Any:
    post = getattr(draws, "posterior", None)
    if post is None:
        return draws
    return {str(k): np.asarray(post[k].values) for k in post.data_vars}


def _as_array(draws: Any, names: List[str]) -> np.ndarray:
    """(chains, draws, dims) float64 C-contiguous array in the order of `names`."""
    draws = _from_inference_data(draws)
    if isinstance(draws, Mapping):
        missing = [n for n in names if n not in draws]
        if missing:
            raise ValueError(
                f"no draws for {', '.join(missing)} (the draws have {', '.join(map(str, draws))})"
            )
        cols = []
        for n in names:
            a = np.asarray(draws[n], dtype=np.float64)
            if a.ndim == 1:
                a = a[None, :]
            if a.ndim != 2:
                raise ValueError(f"draws of {n} have shape {a.shape}: expected (draws,) or (chains, draws)")
            cols.append(a)
        shapes = {c.shape for c in cols}
        if len(shapes) != 1:
            raise ValueError(f"the variables' draws have different shapes {sorted(shapes)}")
        arr = np.stack(cols, axis=-1)
    else:
        arr = np.asarray(draws, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[None, :, None] if len(names) == 1 else arr[None, None, :]
        elif arr.ndim == 2:
            arr = arr[None, :, :]
        elif arr.ndim != 3:
            raise ValueError(
                f"draws of shape {arr.shape}: expected (draws,), (draws, dims) or (chains, draws, dims)"
            )
    if arr.shape[-1] != len(names):
        raise ValueError(
            f"the draws have {arr.shape[-1]} columns but `over` names {len(names)} variables ({', '.join(names)})"
        )
    if arr.shape[1] == 0:
        raise ValueError("no draws")
    return np.ascontiguousarray(arr, dtype="<f8")


def _params(params: Optional[Mapping[str, float]]) -> List[Tuple[str, float]]:
    return [(str(k), float(v)) for k, v in (params or {}).items()]


def sampler_test(
    energy: str,
    draws: Any,
    over: Over,
    beta: float = 1.0,
    alpha: float = 1e-3,
    params: Optional[Mapping[str, float]] = None,
) -> SamplerTestResult:
    """Are `draws` distributed as exp(-beta*E)/Z over the ranges in `over`?

    The exact reference (moments, region masses, CDFs) is computed by quadrature and the draws
    are judged by a Holm-corrected battery at family-wise false-alarm rate `alpha`. Chains are
    the first axis of a 3-D array (or of ArviZ's posterior); walkers stored interleaved in one
    chain are detected and split. `params` gives values to named constants of the energy.
    """
    names, bounds = _over(over)
    arr = _as_array(draws, names)
    out = _ebmcheck.sampler_test(
        energy,
        names,
        bounds,
        float(beta),
        arr.tobytes(),
        arr.shape[0],
        arr.shape[1],
        arr.shape[2],
        float(alpha),
        _params(params),
    )
    j = json.loads(out)
    j = {"schema": j.pop("schema", 1), **j}
    return SamplerTestResult(
        verdict=j["verdict"],
        reasons=j.get("reasons", []),
        tests=j.get("tests", []),
        ess={k: (math.nan if v is None else v) for k, v in j.get("ess", {}).items()},
        rhat={k: (math.nan if v is None else v) for k, v in j.get("rhat", {}).items()},
        more_draws=j.get("more_draws"),
        summary=j.get("summary", ""),
        n=j.get("n", 0),
        raw=j,
    )


def logz(
    energy: str,
    over: Over,
    beta: float = 1.0,
    rel_tol: Optional[float] = None,
    params: Optional[Mapping[str, float]] = None,
) -> LogZ:
    """log Z = log ∫ exp(-beta*E) over the ranges in `over`, with an error bound."""
    names, bounds = _over(over)
    j = json.loads(_ebmcheck.logz(energy, names, bounds, float(beta), rel_tol, _params(params)))
    return LogZ(
        log_z=j["log_z"],
        abs_error=math.nan if j["abs_error"] is None else j["abs_error"],
        status=j["status"],
        free_energy=j["free_energy"],
        min_energy=j["min_energy"],
        argmin=dict(zip(names, j["argmin"])),
        evaluations=j["evaluations"],
        reason=j.get("reason"),
    )


def check(path: Union[str, Sequence[str]], seed: int = 1, filter: Optional[str] = None) -> CheckResult:
    """Runs derivation files (a file, a folder, or a list of them), as ``ebmcheck check``."""
    paths = [str(path)] if isinstance(path, (str, bytes)) or hasattr(path, "__fspath__") else [str(p) for p in path]
    j = json.loads(_ebmcheck.check(paths, int(seed), filter))
    return CheckResult(all_passed=j["all_passed"], load_errors=j["load_errors"], report=j["report"])
