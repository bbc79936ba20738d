let a = 0, v = 0, vp = 0, ti = 0, hh = 0, o = 0;
a = x[10]; vp = a >>> 12; ti = vp & 4095;
if ((a & 3) === 0 && tagR[ti] === (vp | dtag)) { hh++; v = r32[((a + toff[ti]) | 0) >> 2]; h.reservation = a; h.reservedValue = v; x[5] = v; }
else { h.pc = -2147479488; h.sliceDone = n0 + 0; h.sliceSteps = s0 + 0; h.tlb.hits += hh; hh = 0; o = c.atomic(); if (o !== 0) return o > 0 ? 1 : -1; }
a = x[10]; vp = a >>> 12; ti = vp & 4095;
if ((a & 3) === 0 && h.reservation !== a) { h.reservation = -1; x[6] = 1; }
else if ((a & 3) === 0 && (tagW[ti] === (vp | dtag) ? (o = (a + toff[ti]) | 0) >= 0 : tagCW[ti] === (vp | dtag) && ((cw[(ti << 5) | ((a >>> 7) & 31)] >>> (a >>> 2)) & 1) === 0 && cch[(o = (a + cwOff[ti]) | 0) >>> 12] === 0)) { hh++; h.reservation = -1; if (r32[o >> 2] === h.reservedValue) { r32[o >> 2] = x[11]; x[6] = 0; } else { x[6] = 1; } }
else { h.pc = -2147479484; h.sliceDone = n0 + 1; h.sliceSteps = s0 + 1; h.tlb.hits += hh; hh = 0; o = c.atomic(); if (o !== 0) return o > 0 ? 2 : -2; }
a = x[18]; vp = a >>> 12; ti = vp & 4095;
if ((a & 3) === 0 && (tagW[ti] === (vp | dtag) ? (o = (a + toff[ti]) | 0) >= 0 : tagCW[ti] === (vp | dtag) && ((cw[(ti << 5) | ((a >>> 7) & 31)] >>> (a >>> 2)) & 1) === 0 && cch[(o = (a + cwOff[ti]) | 0) >>> 12] === 0)) { hh++; v = r32[o >> 2]; r32[o >> 2] = x[5]; x[6] = v; }
else { h.pc = -2147479480; h.sliceDone = n0 + 2; h.sliceSteps = s0 + 2; h.tlb.hits += hh; hh = 0; o = c.atomic(); if (o !== 0) return o > 0 ? 3 : -3; }
a = x[10]; vp = a >>> 12; ti = vp & 4095;
if ((a & 3) === 0 && (tagW[ti] === (vp | dtag) ? (o = (a + toff[ti]) | 0) >= 0 : tagCW[ti] === (vp | dtag) && ((cw[(ti << 5) | ((a >>> 7) & 31)] >>> (a >>> 2)) & 1) === 0 && cch[(o = (a + cwOff[ti]) | 0) >>> 12] === 0)) { hh++; v = r32[o >> 2]; r32[o >> 2] = (v + x[11]) | 0;  }
else { h.pc = -2147479476; h.sliceDone = n0 + 3; h.sliceSteps = s0 + 3; h.tlb.hits += hh; hh = 0; o = c.atomic(); if (o !== 0) return o > 0 ? 4 : -4; }
a = x[10]; vp = a >>> 12; ti = vp & 4095;
if ((a & 3) === 0 && (tagW[ti] === (vp | dtag) ? (o = (a + toff[ti]) | 0) >= 0 : tagCW[ti] === (vp | dtag) && ((cw[(ti << 5) | ((a >>> 7) & 31)] >>> (a >>> 2)) & 1) === 0 && cch[(o = (a + cwOff[ti]) | 0) >>> 12] === 0)) { hh++; v = r32[o >> 2]; r32[o >> 2] = v >>> 0 > x[12] >>> 0 ? v : x[12]; x[12] = v; }
else { h.pc = -2147479472; h.sliceDone = n0 + 4; h.sliceSteps = s0 + 4; h.tlb.hits += hh; hh = 0; o = c.atomic(); if (o !== 0) return o > 0 ? 5 : -5; }
v = ((x[1] + 0) & ~1) | 0;   h.pc = v; h.tlb.hits += hh; return 6;