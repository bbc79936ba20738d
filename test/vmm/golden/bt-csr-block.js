let a = 0, v = 0, vp = 0, ti = 0, hh = 0, o = 0;
x[10] = (x[10] + 1) | 0;
h.pc = -2147483644; h.sliceDone = n0 + 1; h.sliceSteps = s0 + 2; h.tlb.hits += hh; hh = 0; if (!c.callout(0, 268444403)) return -2;
x[10] = (x[10] + 2) | 0;
v = ((x[1] + 0) & ~1) | 0;   h.pc = v; h.tlb.hits += hh; return 4;