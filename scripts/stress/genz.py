"""Random Genz (1987) problems on the unit cube as energies E = -log f: product peak,
Gaussian, C0, corner peak, discontinuous (as a box); Genz difficulties; truths in closed form
(corner peak by inclusion-exclusion in mpmath).
Usage: python genz.py SEED BIN N [FAMILIES pp,gauss,c0,corner,disc] [DIMS 3,4]"""
import numpy as np, json, subprocess, sys, math, itertools, mpmath as mp
mp.mp.dps = 40
rng = np.random.default_rng(int(sys.argv[1])); B = sys.argv[2]; N = int(sys.argv[3])
fams = sys.argv[4].split(',') if len(sys.argv) > 4 else ['pp', 'gauss', 'c0', 'corner', 'disc']
DIMS = [int(x) for x in (sys.argv[5] if len(sys.argv) > 5 else "3,4").split(",")]
H = dict(pp=(600, 2), gauss=(100, 1), c0=(150, 2), corner=(600, 2), disc=(100, 2))
cnt = {}
for t in range(N):
    for fam in fams:
        d = int(rng.choice(DIMS))
        h, e = H[fam]
        c = rng.uniform(0, 1, d); c *= (h / d**e) / c.sum()
        u = rng.uniform(0, 1, d)
        bounds = [(0.0, 1.0)] * d
        if fam == 'pp':
            expr = ' + '.join('log(%r + (z%d - %r)^2)' % (float(c[i]**-2), i+1, float(u[i])) for i in range(d))
            truth = sum(mp.log(c[i] * (mp.atan(c[i]*(1-u[i])) + mp.atan(c[i]*u[i]))) for i in range(d))
        elif fam == 'gauss':
            expr = ' + '.join('%r*(z%d - %r)^2' % (float(c[i]**2), i+1, float(u[i])) for i in range(d))
            truth = sum(mp.log(mp.sqrt(mp.pi)/(2*c[i]) * (mp.erf(c[i]*(1-u[i])) + mp.erf(c[i]*u[i]))) for i in range(d))
        elif fam == 'c0':
            expr = ' + '.join('%r*abs(z%d - %r)' % (float(c[i]), i+1, float(u[i])) for i in range(d))
            truth = sum(mp.log((2 - mp.exp(-c[i]*u[i]) - mp.exp(-c[i]*(1-u[i])))/c[i]) for i in range(d))
        elif fam == 'corner':
            expr = '%d*log(1 + %s)' % (d+1, ' + '.join('%r*z%d' % (float(c[i]), i+1) for i in range(d)))
            s = mp.mpf(0)
            for S in itertools.product([0, 1], repeat=d):
                s += (-1)**sum(S) / (1 + sum(mp.mpf(c[i]) for i in range(d) if S[i]))
            truth = mp.log(s / (mp.factorial(d) * mp.fprod([mp.mpf(x) for x in c])))
        elif fam == 'disc':
            expr = ' + '.join('-%r*z%d' % (float(c[i]), i+1) for i in range(d))
            bounds = [(0.0, float(u[i])) for i in range(min(2, d))] + [(0.0, 1.0)] * max(0, d-2)
            truth = sum(mp.log((mp.exp(c[i]*(bounds[i][1])) - 1)/c[i]) for i in range(d))
        truth = float(truth)
        overs = ['z%d=%r..%r' % (i+1, b[0], b[1]) for i, b in enumerate(bounds)]
        cmd = [B, 'logz', expr] + sum([['--over', o] for o in overs], []) + ['--beta', '1', '--format', 'json']
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            j = json.loads(p.stdout)
        except Exception as ex:
            print('ERR', fam, str(ex)[:100], p.stderr[:200] if 'p' in dir() else ''); continue
        if j['log_z'] is None: cls = 'nc'; err = float('nan')
        else:
            err = abs(j['log_z'] - truth)
            cls = 'ok' if j['status'] == 'converged' and err <= j['abs_error'] + 1e-12*max(1, abs(truth)) else ('SILENT' if j['status'] == 'converged' else 'nc')
        cnt[(fam, cls)] = cnt.get((fam, cls), 0) + 1
        print(t, fam, d, cls, '%.2e' % err, '%.2e' % (j['abs_error'] or -1), j['evaluations'], (j.get('reason') or '')[:90], flush=True)
print(sorted(cnt.items()))
