"""1D Gaussians with a step a*(1 + sign(z - b)): width 0.01-10, step within +-3 widths,
|a| 0.2-4 either sign; truth s*sqrt(2pi)*(Phi(k) + e^(-2a) Phi(-k)). Prints the cases that are
not accurate and the counts.
Usage: python steps1d.py SEED BIN N"""
import numpy as np, json, subprocess, sys, math
from scipy.special import log_ndtr, logsumexp
rng=np.random.default_rng(int(sys.argv[1])); B=sys.argv[2]; N=int(sys.argv[3])
cnt={}
for t in range(N):
    s=10**rng.uniform(-2,1); c=rng.uniform(-3,3)
    b=c+s*rng.uniform(-3,3); a=rng.uniform(0.2,4)*rng.choice([-1,1])
    c,s,a,b=float(c),float(s),float(a),float(b)
    expr="0.5*((z - (%r))/%r)^2 + %r*(1 + sign(z - (%r)))"%(c,s,a,b)
    k=(b-c)/s
    truth=math.log(s*math.sqrt(2*math.pi))+float(logsumexp([log_ndtr(k), -2*a+log_ndtr(-k)]))
    cmd=[B,'logz',expr,'--over','z=-inf..inf','--beta','1','--format','json']
    p=subprocess.run(cmd,capture_output=True,text=True,timeout=60)
    try: j=json.loads(p.stdout)
    except Exception: print(t,"ERR",p.stderr[:300]); continue
    if j['log_z'] is None: cls='nc'; err=float('nan')
    else:
        err=abs(j['log_z']-truth)
        cls='ok' if j['status']=='converged' and err<=j['abs_error']+1e-12*max(1,abs(truth)) else ('SILENT' if j['status']=='converged' else 'nc')
    cnt[cls]=cnt.get(cls,0)+1
    if cls!='ok': print(t,cls,'k %.2f a %.2f'%(k,a),'%.2e'%err,'%.2e'%(j['abs_error'] or -1),j['evaluations'],(j.get('reason') or '')[:100],flush=True)
print(cnt)
