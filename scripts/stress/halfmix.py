"""Mixtures of 2-3 correlated Gaussians in 3-4D on the half-space z1 >= a (truth in closed
form, each component's mass log Phi).
Usage: python halfmix.py SEED BIN N"""
import numpy as np, json, subprocess, sys, math
from scipy.special import log_ndtr, logsumexp
rng=np.random.default_rng(int(sys.argv[1])); B=sys.argv[2]; N=int(sys.argv[3])
cnt={}
for t in range(N):
    d=int(rng.choice([3,4])); K=int(rng.choice([2,3]))
    comps=[]; terms=[]; logm=[]
    for k in range(K):
        Q,_=np.linalg.qr(rng.normal(size=(d,d)))
        lam=10**rng.uniform(-0.5,2,size=d)
        P=Q@np.diag(lam)@Q.T; P=(P+P.T)/2
        c=rng.uniform(-6,6,size=d)
        lw=rng.uniform(-1,1)
        comps.append((P,c,lw))
    # half-space z1 >= a, a between the components' z1 centres
    cs=sorted(cc[1][0] for cc in comps)
    a=float(rng.uniform(cs[0]-1, cs[-1]+1))
    parts=[]
    for P,c,lw in comps:
        S=np.linalg.inv(P); s1=math.sqrt(S[0,0])
        q=[]
        for i in range(d):
            for j in range(i,d):
                w=P[i,j]*(0.5 if i==j else 1.0)
                q.append('%r*(z%d - (%r))*(z%d - (%r))'%(float(w),i+1,float(c[i]),j+1,float(c[j])))
        parts.append('%r - (%s)'%(float(lw),' + '.join(q)))
        logm.append(lw+0.5*d*math.log(2*math.pi)-0.5*np.linalg.slogdet(P)[1]+log_ndtr((c[0]-a)/s1))
    expr='-logsumexp(%s)'%(', '.join(parts))
    truth=float(logsumexp(logm))
    overs=['z1=%r..inf'%a]+['z%d=-inf..inf'%(i+1) for i in range(1,d)]
    cmd=[B,'logz',expr]+sum([['--over',o] for o in overs],[])+['--beta','1','--format','json']
    try:
        p=subprocess.run(cmd,capture_output=True,text=True,timeout=120); j=json.loads(p.stdout)
    except Exception as ex:
        print(t,'ERR',str(ex)[:80]); cnt['err']=cnt.get('err',0)+1; continue
    if j['log_z'] is None: cls='nc'; err=float('nan')
    else:
        err=abs(j['log_z']-truth)
        cls='ok' if j['status']=='converged' and err<=j['abs_error']+1e-12*max(1,abs(truth)) else ('SILENT' if j['status']=='converged' else 'nc')
    cnt[cls]=cnt.get(cls,0)+1
    print(t,d,K,cls,'%.2e'%err,'%.2e'%(j['abs_error'] or -1),j['evaluations'],(j.get('reason') or '')[:110],flush=True)
print(cnt)
