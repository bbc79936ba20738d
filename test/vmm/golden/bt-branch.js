let a = 0, v = 0, vp = 0, ti = 0, hh = 0, o = 0, t = 0;
for (;;) {
x[5] = x[6] << 3;
x[5] = (x[5] + x[7]) | 0;
if (x[5] !== 0) { t += 3; if (s0 + t + 3 <= h.sliceEnd && h.breakpoints.size === 0) continue; h.pc = -2147479532; h.tlb.hits += hh; return t; } h.pc = -2147479520; h.tlb.hits += hh; return t + 3;
}