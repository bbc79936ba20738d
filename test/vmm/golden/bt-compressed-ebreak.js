let a = 0, v = 0, vp = 0, ti = 0, hh = 0, o = 0;
x[10] = (0 + 1) | 0;
a = (x[10] + 0) | 0; vp = a >>> 12; ti = vp & 4095;
if ((a & 3) === 0 && tagR[ti] === (vp | dtag)) { hh++; v = r32[((a + toff[ti]) | 0) >> 2]; } else { h.pc = -2147479506; h.sliceDone = n0 + 1; h.sliceSteps = s0 + 2; v = h.loadSlow(a, 4); if (h.fault !== 0) { h.tlb.hits += hh; h.raiseFault(); return -2; } if (h.sliceEnd <= s0 + 2) { x[11] = v | 0; h.pc = -2147479504; h.tlb.hits += hh; return 2; } }
x[11] = v | 0;
h.pc = -2147479504; h.sliceDone = n0 + 2; h.sliceSteps = s0 + 3; h.tlb.hits += hh; c.callout(6, 36866); return -3;