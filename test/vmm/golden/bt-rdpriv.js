let a = 0, v = 0, vp = 0, ti = 0, hh = 0, o = 0;
h.pc = -2147479552; h.sliceDone = n0 + 0; h.sliceSteps = s0 + 1; h.tlb.hits += hh; hh = 0; if (!c.callout(7, 1291)) return -1;
h.pc = -2147479548; h.sliceDone = n0 + 0; h.sliceSteps = s0 + 2; h.tlb.hits += hh; c.callout(8, 364555); return -2;