"""Fast vs naive conv and max-pool, forward+backward, median of 7 (the issue-2 speedup figures).

Run: python benchmarks/fast_vs_naive.py
"""
import time, numpy as np
from xnn.layers import (conv_forward_naive, conv_backward_naive, conv_forward_fast, conv_backward_fast,
                        max_pool_forward_naive, max_pool_backward_naive, max_pool_forward_fast, max_pool_backward_fast)
def med(f, r=7):
    f(); ts=[]
    for _ in range(r):
        t=time.perf_counter(); f(); ts.append(time.perf_counter()-t)
    return 1000*sorted(ts)[r//2]
rs = np.random.RandomState(231)
cases = {"conv A 100x3x31x31 w25x3x3x3 s2p1": ((100,3,31,31),(25,3,3,3),2,1), "conv B 50x3x32x32 w32x3x7x7 s1p3": ((50,3,32,32),(32,3,7,7),1,3)}
for dt in (np.float64, np.float32):
    for name,(xs,ws,s,p) in cases.items():
        x=rs.randn(*xs).astype(dt); w=rs.randn(*ws).astype(dt); b=rs.randn(ws[0]).astype(dt); cp={'stride':s,'pad':p}
        def run(fw,bw):
            out,c=fw(x,w,b,cp); bw(np.ones_like(out),c)
        tn=med(lambda: run(conv_forward_naive, conv_backward_naive)); tf=med(lambda: run(conv_forward_fast, conv_backward_fast))
        print(f"{dt.__name__} {name}: naive {tn:.1f} ms, fast {tf:.1f} ms, speedup {tn/tf:.1f}x")
    x=rs.randn(100,3,32,32).astype(dt); pp={'pool_height':2,'pool_width':2,'stride':2}
    for label,pp in (("pool 2x2 s2 100x3x32x32",{'pool_height':2,'pool_width':2,'stride':2}),("pool 3x3 s2 100x3x32x32",{'pool_height':3,'pool_width':3,'stride':2})):
        def runp(fw,bw):
            out,c=fw(x,pp); bw(np.ones_like(out),c)
        tn=med(lambda: runp(max_pool_forward_naive,max_pool_backward_naive)); tf=med(lambda: runp(max_pool_forward_fast,max_pool_backward_fast))
        print(f"{dt.__name__} {label}: naive {tn:.2f} ms, fast {tf:.2f} ms, speedup {tn/tf:.1f}x")
