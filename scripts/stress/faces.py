"""Correlated 3-4D Gaussians cut by one face z1 >= c1 + k*sigma1 (truth in closed form,
log Phi(-k)); prints one line per case (ok / nc / SILENT) and the counts.
Usage: python faces.py SEED BIN N   (needs numpy, scipy; e.g. /tmp/venv/bin/python)"""
import numpy as np, json, subprocess, sys, math
from scipy.special import log_ndtr
rng=np.random.default_rng(int(sys.argv[1])); B=sys.argv[2]
cnt={}
for t in range(int(sys.argv[3])):
    d=int(rng.choice([3,4]))
    Q,_=np.linalg.qr(rng.normal(size=(d,d)))
    lam=10**rng.uniform(-1,float(sys.argv[4]) if len(sys.argv)>4 else 3,size=d)
    P=Q@np.diag(lam)@Q.T; P=(P+P.T)/2
    c=rng.uniform(-2,2,size=d)
    S=np.linalg.inv(P); s1=math.sqrt(S[0,0])
    k=rng.uniform(-2.5,2.5)
    lo=c[0]+k*s1
    terms=[]
    for i in range(d):
        for j in range(i,d):
            a=P[i,j]*(0.5 if i==j else 1.0)
            terms.append('%r*(z%d - (%r))*(z%d - (%r))'%(float(a),i+1,float(c[i]),j+1,float(c[j])))
    expr=' + '.join(terms)
    truth=0.5*d*math.log(2*math.pi)-0.5*np.linalg.slogdet(P)[1]+log_ndtr(-k)
    overs=['z1=%r..inf'%float(lo)]+['z%d=-inf..inf'%(i+1) for i in range(1,d)]
    cmd=[B,'logz',expr]+sum([['--over',o] for o in overs],[])+['--beta','1','--format','json']
    p=subprocess.run(cmd,capture_output=True,text=True,timeout=120)
    try: j=json.loads(p.stdout)
    except Exception: print('ERR',p.stderr[:200]); continue
    if j['log_z'] is None: cls='nc'; err=float('nan')
    else:
        err=abs(j['log_z']-truth)
        cls='ok' if j['status']=='converged' and err<=j['abs_error']+1e-12*max(1,abs(truth)) else ('SILENT' if j['status']=='converged' else 'nc')
    cnt[cls]=cnt.get(cls,0)+1
    print(t,d,'cond %.1e k %.2f'%(lam.max()/lam.min(),k),cls,'%.2e'%err,'%.2e'%(j['abs_error'] or -1),j['evaluations'],(j.get('reason') or '')[:100])
print(cnt)
