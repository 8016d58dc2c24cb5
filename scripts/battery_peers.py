#!/usr/bin/env python3
"""Side by side on the partition-function battery (tests/data/battery.jsonl): `ebmcheck logz`
against SciPy, case by case in one run, so accuracy, honesty, evaluations and wall time compare
on one machine under one load.

Each case runs through ebmcheck's `log_partition` (the `quad_battery` example, `--battery` mode:
the median in-process wall time over repeated calls, as SciPy's side is timed) and SciPy's methods from the peers' reference
script (../shared/peers/quad/quad_ref.py, imported, not copied), on the raw integrand: nothing
is handed to SciPy that a user would not have (no minimisers, no Hessian).
  1D: quad (QUADPACK), tanhsinh_log        2D: nquad, cubature (Genz-Malik)
  3-4D: cubature (Genz-Malik)
A result is *accurate* when it reports success and its error estimate covers the true error,
*silent* when it reports success and does not, *not converged* otherwise; a divergent energy is
*refused* by ebmcheck when it exits with an error, and by SciPy when it reports failure.

Run: BATTERY=1 scripts/peers.sh
 (or python3 scripts/battery_peers.py target/release/examples/quad_battery [--only SUBSTR])
Needs scipy, numpy, mpmath (e.g. a venv at /tmp/venv). Prints a Markdown table; writes the
per-case JSON lines to target/quad_peers/battery.jsonl.
"""
import argparse
import collections
import json
import math
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.environ.get("PEERS", os.path.join(ROOT, "..", "shared", "peers", "quad"))
sys.path.insert(0, PEERS)
import numpy as np  # noqa: E402
import quad_ref as qr  # noqa: E402

# Keep the run to minutes: a tenth of the reference script's caps.
qr.NQUAD_EVAL_CAP = 300_000
qr.CUBATURE_EVAL_CAP = 3_000_000
RTOL_1D, RTOL_ND = 1e-10, 1e-8


def split_args(s):
    """The top-level comma-separated arguments of a call's argument text."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    out.append(cur)
    return out


def to_python(expr, vector):
    """The battery's expression language (`^`, log, exp, abs, logsumexp) as Python source."""
    src = expr.replace("^", "**")
    # logsumexp(a, b, ...) → lse([a, b, ...]), innermost first.
    while "logsumexp(" in src:
        i = src.rindex("logsumexp(")
        j, depth = i + len("logsumexp("), 1
        while depth:
            depth += {"(": 1, ")": -1}.get(src[j], 0)
            j += 1
        inner = src[i + len("logsumexp("):j - 1]
        src = src[:i] + "lse([" + ",".join(split_args(inner)) + "])" + src[j:]
    lib = "np" if vector else "math"
    src = re.sub(r"\b(log|exp)\(", lambda m: f"{lib}.{m.group(1)}(", src)
    src = re.sub(r"\babs\(", "np.abs(" if vector else "abs(", src)
    return src


def lse_scalar(v):
    m = max(v)
    if m == -math.inf:
        return -math.inf
    return m + math.log(sum(math.exp(x - m) for x in v))


def lse_vector(v):
    return np.logaddexp.reduce(np.stack(np.broadcast_arrays(*v)), axis=0)


def scipy_case(case):
    d = case["dim"]
    names = [f"z{i + 1}" for i in range(d)]
    scal = to_python(case["energy"], vector=False)
    vec = to_python(case["energy"], vector=True)
    env_s = {"math": math, "lse": lse_scalar, "np": np}
    env_v = {"np": np, "lse": lse_vector}
    f_s = eval(f"lambda {', '.join(names)}: {scal}", env_s)
    f_v = eval(f"lambda {', '.join(names)}: {vec}", env_v)
    dom = []
    for o in case["over"]:
        a, b = o.split("=", 1)[1].split("..")
        dom.append((float(a), float(b)))
    c = dict(id=case["id"], dim=d, beta=case["beta"], quantity="log_Z", domain=dom)

    def e_scalar(z):
        return f_s(*z) if d > 1 else f_s(z)

    def e_vector(z):
        z = np.asarray(z, float)
        if d == 1:
            return f_v(z)
        return f_v(*[z[..., k] for k in range(d)])

    c["E"] = (lambda z: f_s(z)) if d == 1 else e_scalar
    c["E_scalar"] = e_scalar
    c["E_vec"] = e_vector
    return c


def run_scipy(case):
    c = scipy_case(case)
    d = case["dim"]
    if d == 1:
        methods = [("quad", lambda: qr.m_quad(c, RTOL_1D)),
                   ("tanhsinh_log", lambda: qr.m_tanhsinh_log(c, RTOL_1D))]
    elif d == 2:
        methods = [("nquad", lambda: qr.m_nquad(c, RTOL_ND)),
                   ("cubature_gm", lambda: qr.m_cubature(c, RTOL_ND, "genz-malik"))]
    else:
        methods = [("cubature_gm", lambda: qr.m_cubature(c, RTOL_ND, "genz-malik"))]
    out = []
    for name, run in methods:
        try:
            r = run()
        except Exception as e:  # SciPy raising is its refusal
            r = dict(estimate=None, err_est=None, neval=0, status=f"raised {type(e).__name__}",
                     wall_s_median=math.nan)
        out.append(dict(method=name, **{k: r.get(k) for k in
                                        ("estimate", "err_est", "neval", "status",
                                         "wall_s_median")}))
    return out


def run_ebmcheck(example, only):
    """Every case through the `quad_battery` example (in-process median wall times)."""
    cmd = [example, "--battery", os.path.join(ROOT, "tests", "data", "battery.jsonl"), only]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600).stdout
    res = {}
    for line in out.splitlines():
        j = json.loads(line)
        r = j["results"][0]
        r["refused"] = r["status"].startswith("error")
        if r["status"].startswith("not_converged"):
            r["status"] = "not converged"
        res[j["id"]] = r
    return res


def classify(r, truth):
    """accurate / silent / not converged / refused, and whether the estimate is within 1e-6."""
    ok = r["status"] in ("ok", "converged")
    if truth == "diverges":
        if r.get("refused"):
            return "refused"
        return "silent" if ok else "not converged"
    est, ee = r.get("estimate"), r.get("err_est")
    if not ok or est is None or not math.isfinite(est):
        return "refused" if r.get("refused") else "not converged"
    err = abs(est - truth)
    return "accurate" if ee is not None and err <= ee else "silent"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("example", help="target/release/examples/quad_battery")
    ap.add_argument("--only", default="")
    ap.add_argument("--data", default=os.path.join(ROOT, "tests", "data", "battery.jsonl"))
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "quad_peers", "battery.jsonl"))
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    cases = [json.loads(l) for l in open(args.data) if l.strip()]
    cases = [c for c in cases if args.only in c["id"]]
    rows = collections.OrderedDict()
    print(f"load before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    ours = run_ebmcheck(args.example, args.only)
    with open(args.out, "w") as fh:
        for case in cases:
            res = [ours[case["id"]]] + run_scipy(case)
            for r in res:
                r["outcome"] = classify(r, case["truth"])
            fh.write(json.dumps(dict(id=case["id"], truth=case["truth"], results=res)) + "\n")
            key = (case["family"], case["dim"])
            rows.setdefault(key, []).append((case, res))
            print(case["id"], " ".join(f"{r['method']}={r['outcome']}" for r in res),
                  file=sys.stderr)
    print(f"load after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    table(rows)


def gmean(v):
    v = [x for x in v if x and x > 0 and math.isfinite(x)]
    return math.exp(sum(map(math.log, v)) / len(v)) if v else math.nan


def table(rows):
    def counts(res_list, method):
        c = collections.Counter(r["outcome"] for rs in res_list for r in rs
                                if r["method"] == method)
        return f"{c['accurate']}/{c['not converged']}/{c['silent']}/{c['refused']}"

    print("| family | d | n | ebmcheck a/nc/s/r | SciPy method | SciPy a/nc/s/r "
          "| evals SciPy/ebmcheck | wall SciPy/ebmcheck |")
    print("|---|---|---|---|---|---|---|---|")
    total = collections.Counter()
    for (fam, d), items in rows.items():
        methods = [r["method"] for r in items[0][1][1:]]
        for m in methods:
            ev, wl = [], []
            for _, res in items:
                e = res[0]
                s = next(r for r in res if r["method"] == m)
                if e["outcome"] == "accurate" and s["outcome"] == "accurate":
                    ev.append(s["neval"] / max(e["neval"], 1))
                    wl.append(s["wall_s_median"] / e["wall_s_median"])
            res_list = [res for _, res in items]
            print(f"| {fam} | {d} | {len(items)} | {counts(res_list, 'ebmcheck')} | {m} | "
                  f"{counts(res_list, m)} | {gmean(ev):.3g} | {gmean(wl):.3g} |")
        for _, res in items:
            for r in res:
                total[(r["method"], r["outcome"])] += 1
    print()
    for m in ("ebmcheck", "quad", "tanhsinh_log", "nquad", "cubature_gm"):
        c = {o: total[(m, o)] for o in ("accurate", "not converged", "silent", "refused")}
        if sum(c.values()):
            print(f"- {m}: " + ", ".join(f"{k} {v}" for k, v in c.items()))


if __name__ == "__main__":
    main()
