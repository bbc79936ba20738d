let a = 0, v = 0, vp = 0, ti = 0, hh = 0, o = 0;

h.pc = -2147479516; h.sliceDone = n0 + 1; h.sliceSteps = s0 + 2; h.tlb.hits += hh; c.callout(4, 301990003); return -2;