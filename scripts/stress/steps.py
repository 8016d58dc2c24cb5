"""Correlated 1-4D Gaussians with an oblique step a*(1 + sign(n.z - b)); truth in closed
form through the mass of the half-space n.z > b.
Usage: python steps.py SEED BIN N DIMS (e.g. 1,2)"""
import numpy as np, json, subprocess, sys, math
from scipy.special import log_ndtr, logsumexp
rng=np.random.default_rng(int(sys.argv[1])); B=sys.argv[2]; N=int(sys.argv[3]); DIMS=[int(x) for x in sys.argv[4].split(',')]
cnt={}
for t in range(N):
    d=int(rng.choice(DIMS))
    Q,_=np.linalg.qr(rng.normal(size=(d,d)))
    lam=10**rng.uniform(-1,1.5,size=d)
    P=Q@np.diag(lam)@Q.T; P=(P+P.T)/2
    S=np.linalg.inv(P)
    n=rng.normal(size=d); n/=np.linalg.norm(n)
    sd=math.sqrt(n@S@n)
    b=float(rng.uniform(-1.5,1.5))*sd
    a=float(rng.uniform(0.5,4))  # jump of 2a
    q=[]
    for i in range(d):
        for j in range(i,d):
            w=P[i,j]*(0.5 if i==j else 1.0)
            q.append('%r*z%d*z%d'%(float(w),i+1,j+1))
    lin=' + '.join('%r*z%d'%(float(n[i]),i+1) for i in range(d))
    expr='%s + %r*(1 + sign(%s - %r))'%(' + '.join(q),a,lin,b)
    base=0.5*d*math.log(2*math.pi)-0.5*np.linalg.slogdet(P)[1]
    truth=base+float(logsumexp([log_ndtr(b/sd), -2*a+log_ndtr(-b/sd)]))
    overs=['z%d=-inf..inf'%(i+1) for i in range(d)]
    cmd=[B,'logz',expr]+sum([['--over',o] for o in overs],[])+['--beta','1','--format','json']
    p=None
    try:
        p=subprocess.run(cmd,capture_output=True,text=True,timeout=120); j=json.loads(p.stdout)
    except Exception as ex:
        print(t,'ERR',str(ex)[:80], p.stderr[:200] if p else ''); cnt['err']=cnt.get('err',0)+1; continue
    if j['log_z'] is None: cls='nc'; err=float('nan')
    else:
        err=abs(j['log_z']-truth)
        cls='ok' if j['status']=='converged' and err<=j['abs_error']+1e-12*max(1,abs(truth)) else ('SILENT' if j['status']=='converged' else 'nc')
    cnt[cls]=cnt.get(cls,0)+1
    print(t,d,cls,'%.2e'%err,'%.2e'%(j['abs_error'] or -1),j['evaluations'],(j.get('reason') or '')[:110],flush=True)
print(cnt)
