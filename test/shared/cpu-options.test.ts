// The CPU model string the CLI's --cpu and the app's CPU fields share.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../src/engine/cpu/hart';
import { CPU_FEATURES, CpuSpecError, formatCpuSpec, parseCpuSpec } from '../../src/shared/cpu-options';

describe('parseCpuSpec', () => {
  it('reads QEMU-style properties, a bare name meaning on', () => {
    expect(parseCpuSpec('rv32')).toEqual({});
    expect(parseCpuSpec('rv32,xsensitive=on,pmp=false,c=off,m=1,a=yes')).toEqual({ xsensitive: true, pmp: false, c: false, m: true, a: true });
    expect(parseCpuSpec(' rv32, h ')).toEqual({ h: true });
  });

  it('names every feature the engine has, and formats back to what it reads', () => {
    expect(CPU_FEATURES.map((f) => f.name).sort()).toEqual(Object.keys(DEFAULT_FEATURES).sort());
    const all = { pmp: false, h: true, c: false, a: true, m: false, xsensitive: true };
    expect(formatCpuSpec(all)).toBe('rv32,pmp=off,h=on,c=off,a=on,m=off,xsensitive=on');
    expect(parseCpuSpec(formatCpuSpec(all))).toEqual(all);
    expect(formatCpuSpec({})).toBe('rv32');
  });

  it('names what is wrong in one line', () => {
    expect(() => parseCpuSpec('x86')).toThrow(new CpuSpecError("the only CPU model is rv32, got 'x86'"));
    expect(() => parseCpuSpec('rv32,turbo=on')).toThrow("unknown CPU property 'turbo' (known: pmp, h, c, a, m, xsensitive)");
    expect(() => parseCpuSpec('rv32,pmp=maybe')).toThrow("CPU property pmp takes on or off, got 'maybe'");
    expect(() => parseCpuSpec('rv32,pmp=on=off')).toThrow("CPU property pmp takes on or off, got 'on=off'");
    expect(() => parseCpuSpec('rv32,')).toThrow("unknown CPU property ''");
  });
});
