let a = 0, v = 0, vp = 0, ti = 0, hh = 0, o = 0;
a = (x[2] + 8) | 0; vp = a >>> 12; ti = vp & 4095;
if ((a & 3) === 0 && tagR[ti] === (vp | dtag)) { hh++; v = r32[((a + toff[ti]) | 0) >> 2]; } else { h.pc = -2147479552; h.sliceDone = n0 + 0; h.sliceSteps = s0 + 1; v = h.loadSlow(a, 4); if (h.fault !== 0) { h.tlb.hits += hh; h.raiseFault(); return -1; } if (h.sliceEnd <= s0 + 1) { x[10] = v | 0; h.pc = -2147479548; h.tlb.hits += hh; return 1; } }
x[10] = v | 0;
x[10] = (x[10] + 1) | 0;
a = (x[2] + 8) | 0; vp = a >>> 12; ti = vp & 4095;
if ((a & 3) === 0 && tagW[ti] === (vp | dtag)) { hh++; r32[((a + toff[ti]) | 0) >> 2] = x[10]; }
else if ((a & 3) === 0 && tagCW[ti] === (vp | dtag) && ((cw[(ti << 5) | ((a >>> 7) & 31)] >>> (a >>> 2)) & 1) === 0 && cch[(o = (a + cwOff[ti]) | 0) >>> 12] === 0) { hh++; r32[o >> 2] = x[10]; }
else { h.pc = -2147479544; h.sliceDone = n0 + 2; h.sliceSteps = s0 + 3; h.storeSlow(a, 4, x[10]); h.codeWritten = false; if (h.fault !== 0) { h.tlb.hits += hh; h.raiseFault(); return -3; } if (h.sliceEnd <= s0 + 3) {  h.pc = -2147479540; h.tlb.hits += hh; return 3; } }
h.pc = -2147479540; h.sliceDone = n0 + 3; h.sliceSteps = s0 + 4; h.tlb.hits += hh; c.callout(2, 270532723); return -4;