#!/usr/bin/env python3
"""Generate the partition-function battery: literature families in 1-4D with exact log Z.

Writes one JSON object per line to tests/data/battery.jsonl (or the path given):
  {"id", "family", "dim", "energy", "over": ["z1=-inf..inf", ...], "beta", "truth"}
`truth` is log Z = log of the integral of exp(-beta*E) (closed forms, or mpmath quadrature at 30
digits for one-dimensional factors), or the string "diverges" for non-normalisable energies.
Run: python3 scripts/battery.py [out.jsonl]   (needs mpmath; deterministic: fixed seed)
"""
import json
import random
import sys

import mpmath as mp

mp.mp.dps = 30
rng = random.Random(20261202)
cases = []


def add(family, dim, energy, over, beta, truth):
    cid = f"{family}-{dim}d-{sum(1 for c in cases if c['family'] == family)}"
    t = truth if isinstance(truth, str) else float(mp.nstr(truth, 20))
    cases.append(dict(id=cid, family=family, dim=dim, energy=energy, over=over, beta=beta, truth=t))


def names(d):
    return [f"z{i + 1}" for i in range(d)]


def inf_over(d):
    return [f"{n}=-inf..inf" for n in names(d)]


def num(x):
    return repr(float(x))


# 1. Correlated Gaussians: E = 0.5 z^T A z.
for d in (1, 2, 3, 4):
    for k in range(4):
        m = mp.matrix(d, d)
        for i in range(d):
            for j in range(d):
                m[i, j] = rng.uniform(-1, 1)
        a = m * m.T + mp.eye(d) * rng.choice([0.05, 0.5, 2.0])
        a = [[float(a[i, j]) for j in range(d)] for i in range(d)]
        am = mp.matrix(a)
        z = names(d)
        terms = []
        for i in range(d):
            terms.append(f"{num(0.5 * a[i][i])}*{z[i]}^2")
            for j in range(i + 1, d):
                terms.append(f"{num(a[i][j])}*{z[i]}*{z[j]}")
        beta = rng.choice([0.5, 1.0, 10.0, 1000.0])
        truth = mp.mpf(d) / 2 * mp.log(2 * mp.pi / beta) - mp.log(mp.det(am)) / 2
        add("gaussian", d, " + ".join(terms), inf_over(d), beta, truth)


def log_int_1d(f, beta, lo=-mp.inf, hi=mp.inf, points=None):
    pts = [lo] + (points or []) + [hi]
    return mp.log(mp.quad(lambda x: mp.exp(-beta * f(x)), pts))


# 2. Products of wells: sum_i (z_i^4 - a_i z_i^2 + b_i z_i).
for d in (1, 2, 3, 4):
    for k in range(4):
        beta = rng.choice([0.5, 1.0, 4.0])
        terms, truth = [], mp.mpf(0)
        for i, zn in enumerate(names(d)):
            a = rng.choice([0.0, 1.0, 2.0, 4.0])
            b = rng.choice([0.0, 0.1, 0.5])
            terms.append(f"({zn}^4 - {num(a)}*{zn}^2 + {num(b)}*{zn})")
            s = mp.sqrt(a / 2) if a > 0 else 0
            truth += log_int_1d(lambda x, a=a, b=b: x**4 - a * x**2 + b * x, beta, points=[-s, 0, s] if s else [0])
        add("wells", d, " + ".join(terms), inf_over(d), beta, truth)

# 3. Multivariate Student-t: E = p0*log(1 + |z|^2/nu); integrable iff beta*p0 > d/2.
for d in (1, 2, 3):
    for nu in (0.5, 1.0, 2.0, 5.0):
        beta = 1.0
        p0 = (nu + d) / 2
        p = beta * p0
        r2 = " + ".join(f"{z}^2" for z in names(d))
        truth = mp.mpf(d) / 2 * mp.log(nu * mp.pi) + mp.loggamma(p - mp.mpf(d) / 2) - mp.loggamma(p)
        add("student_t", d, f"{num(p0)}*log(1 + ({r2})/{num(nu)})", inf_over(d), beta, truth)

# 4. Separated mixtures of normalised Gaussians (log Z = 0 at beta = 1), with far narrow modes.
for d, n in ((1, 16), (2, 8)):
    for k in range(n):
        m = rng.choice([2, 3, 4])
        ws = [rng.uniform(0.1, 1) for _ in range(m)]
        ws = [w / sum(ws) for w in ws]
        comps = []
        for w in ws:
            sig = rng.choice([0.05, 0.1, 0.5, 1.0, 3.0])
            mu = [rng.choice([-1, 1]) * rng.uniform(0, 40) for _ in range(d)]
            c = mp.log(w) - d * mp.log(sig * mp.sqrt(2 * mp.pi))
            quad = " + ".join(f"(({z} - {num(u)})/{num(sig)})^2" for z, u in zip(names(d), mu))
            comps.append(f"{num(c)} - 0.5*({quad})")
        add("mixture", d, f"-logsumexp({', '.join(comps)})", inf_over(d), 1.0, mp.mpf(0))

# 5. Banana chains: 0.5*z1^2/s^2 + c*sum (z_{k+1} - z_k^2)^2; each conditional is free.
for d in (2, 3, 4):
    for k in range(5 if d == 2 else 3):
        s = rng.choice([0.5, 1.0, 2.0])
        c = rng.choice([0.5, 2.0, 10.0])
        beta = rng.choice([0.1, 0.5, 1.0, 4.0])
        z = names(d)
        e = f"0.5*{z[0]}^2/{num(s * s)}" + "".join(f" + {num(c)}*({z[i + 1]} - {z[i]}^2)^2" for i in range(d - 1))
        truth = mp.log(mp.sqrt(2 * mp.pi * s * s / beta)) + (d - 1) * mp.log(mp.sqrt(mp.pi / (beta * c)))
        add("banana", d, e, inf_over(d), beta, truth)

# 6. Rosenbrock valleys: (a - z1)^2 + b*sum (z_{k+1} - z_k^2)^2.
for d in (2, 3, 4):
    for k in range(4 if d == 2 else 3):
        a = rng.choice([1.0, 0.5])
        b = rng.choice([1.0, 5.0, 100.0])
        beta = rng.choice([0.1, 0.3, 1.0])
        z = names(d)
        e = f"({num(a)} - {z[0]})^2" + "".join(f" + {num(b)}*({z[i + 1]} - {z[i]}^2)^2" for i in range(d - 1))
        truth = mp.log(mp.sqrt(mp.pi / beta)) + (d - 1) * mp.log(mp.sqrt(mp.pi / (beta * b)))
        add("rosenbrock", d, e, inf_over(d), beta, truth)

# 7. Neal's funnel: v^2/(2*sv^2) + sum x_i^2*exp(-v)/2 (+ optional (d-1)*v/2).
for d in (2, 3, 4):
    for variant in (0, 1):
        for beta in (1.0, 0.5):
            sv = 3.0 if variant == 0 else 1.5
            xs = names(d)[1:]
            e = f"z1^2/{num(2 * sv * sv)}" + "".join(f" + 0.5*{x}^2*exp(-z1)" for x in xs)
            if variant == 0:
                e += f" + {num((d - 1) / 2)}*z1"
                # int exp(-beta x^2 e^-v/2) dx = sqrt(2 pi e^v / beta); the v-term cancels at beta=1.
                av = beta / (2 * sv * sv)
                bv = (1 - beta) * (d - 1) / 2
            else:
                av = beta / (2 * sv * sv)
                bv = mp.mpf(d - 1) / 2
            truth = (d - 1) * mp.log(mp.sqrt(2 * mp.pi / beta)) + mp.log(mp.sqrt(mp.pi / av)) + bv**2 / (4 * av)
            add("funnel", d, e, inf_over(d), beta, truth)

# 8. Rings: k*(|z|^2 - 1)^2 in 2D (closed form) and 3D (radial quadrature).
for d in (2, 3):
    for k in (1.0, 10.0):
        for beta in (1.0, 10.0):
            r2 = " + ".join(f"{z}^2" for z in names(d))
            e = f"{num(k)}*({r2} - 1)^2"
            g = beta * k
            if d == 2:
                truth = mp.log(mp.pi * mp.sqrt(mp.pi / g) / 2 * (1 + mp.erf(mp.sqrt(g))))
            else:
                truth = mp.log(4 * mp.pi * mp.quad(lambda r: r * r * mp.exp(-g * (r * r - 1) ** 2), [0, 1, mp.inf]))
            add("ring", d, e, inf_over(d), beta, truth)

# 9. Near-singular correlated ridges: 0.5*((sum z)^2/eps + sum_{i<d} (z_i - z_{i+1})^2).
for d in (2, 3, 4):
    for eps in (1e-2, 1e-4, 1e-6):
        z = names(d)
        s = " + ".join(z)
        e = f"0.5*({s})^2/{num(eps)}" + "".join(f" + 0.5*({z[i]} - {z[i + 1]})^2" for i in range(d - 1))
        a = mp.matrix(d, d)
        for i in range(d):
            for j in range(d):
                a[i, j] += mp.mpf(1) / eps
        for i in range(d - 1):
            a[i, i] += 1
            a[i + 1, i + 1] += 1
            a[i, i + 1] -= 1
            a[i + 1, i] -= 1
        beta = 1.0
        truth = mp.mpf(d) / 2 * mp.log(2 * mp.pi / beta) - mp.log(mp.det(a)) / 2
        add("ridge", d, e, inf_over(d), beta, truth)

# 10. Genz families on [0, 1]^d as energies E = -log f (product peak, Gaussian, C0, corner peak).
h = {"product_peak": 600.0, "genz_gaussian": 100.0, "c0": 150.0, "corner_peak": 600.0}
ex = {"product_peak": 2.0, "genz_gaussian": 1.0, "c0": 2.0, "corner_peak": 2.0}
for fam in ("product_peak", "genz_gaussian", "c0", "corner_peak"):
    for d in (1, 2, 3, 4):
        for k in range(2):
            a = [rng.uniform(0, 1) for _ in range(d)]
            sc = h[fam] / d ** ex[fam] / sum(a)
            a = [ai * sc for ai in a]
            u = [rng.uniform(0, 1) for _ in range(d)]
            z = names(d)
            over = [f"{n}=0..1" for n in z]
            if fam == "product_peak":
                e = " + ".join(f"log({num(ai ** -2)} + ({zi} - {num(ui)})^2)" for ai, ui, zi in zip(a, u, z))
                truth = sum(mp.log(ai * (mp.atan(ai * (1 - ui)) + mp.atan(ai * ui))) for ai, ui in zip(a, u))
            elif fam == "genz_gaussian":
                a = [ai / 4 for ai in a]
                e = " + ".join(f"{num(ai * ai)}*({zi} - {num(ui)})^2" for ai, ui, zi in zip(a, u, z))
                truth = sum(mp.log(mp.sqrt(mp.pi) / (2 * ai) * (mp.erf(ai * (1 - ui)) + mp.erf(ai * ui))) for ai, ui in zip(a, u))
            elif fam == "c0":
                a = [ai / 4 for ai in a]
                e = " + ".join(f"{num(ai)}*abs({zi} - {num(ui)})" for ai, ui, zi in zip(a, u, z))
                truth = sum(mp.log((2 - mp.exp(-ai * ui) - mp.exp(-ai * (1 - ui))) / ai) for ai, ui in zip(a, u))
            else:
                a = [ai / 40 for ai in a]
                lin = " + ".join(f"{num(ai)}*{zi}" for ai, zi in zip(a, z))
                e = f"{d + 1}*log(1 + {lin})"
                # integral of (1 + a.x)^-(d+1) over the cube: inclusion-exclusion over vertices.
                tot = mp.mpf(0)
                for mask in range(2 ** d):
                    bits = [(mask >> i) & 1 for i in range(d)]
                    tot += (-1) ** sum(bits) / (1 + sum(ai for ai, b in zip(a, bits) if b))
                tot /= mp.factorial(d) * mp.fprod(a)
                truth = mp.log(tot)
            add(fam, d, e, over, 1.0, truth)

# 11. Power wells |z|^p per axis: log Z = sum log(2*Gamma(1 + 1/p)*beta^(-1/p)).
for d in (1, 2, 3, 4):
    for p in (0.5, 1.0):
        beta = 1.0
        e = " + ".join(f"abs({z})^{num(p)}" if p != 1.0 else f"abs({z})" for z in names(d))
        truth = d * mp.log(2 * mp.gamma(1 + 1 / mp.mpf(p)) * beta ** (-1 / mp.mpf(p)))
        add("power", d, e, inf_over(d), beta, truth)

# 12. Divergent energies: slow logarithmic growth, flat directions, unconfined valleys.
div = [
    (1, "0.4*log(1 + z1^2)"),
    (1, "-z1"),
    (2, "log(1 + z1^2 + z2^2)"),
    (2, "0.5*(z1 - z2)^2"),
    (2, "(z2 - z1^2)^2"),
    (2, "z1^2"),
    (3, "1.4*log(1 + z1^2 + z2^2 + z3^2)"),
    (3, "z1^2 + z2^2"),
    (4, "1.9*log(1 + z1^2 + z2^2 + z3^2 + z4^2)"),
    (4, "z1^2 + z2^2 + (z3 - z4)^2"),
]
for d, e in div:
    add("divergent", d, e, inf_over(d), 1.0, "diverges")

out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/battery.jsonl"
with open(out, "w") as f:
    for c in cases:
        f.write(json.dumps(c) + "\n")
print(f"{len(cases)} cases -> {out}", file=sys.stderr)
