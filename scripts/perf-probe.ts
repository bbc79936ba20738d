import { readFileSync } from 'node:fs';
import { execute } from '../src/engine/cpu/interp';
import { Hart } from '../src/engine/cpu/hart';
import { Bus } from '../src/engine/machine/bus';

const image = new Uint8Array(readFileSync(process.argv[2]));
const paging = process.argv[3] === 'sv32';
const bus = new Bus(0x80000000, 8 << 20);
bus.ram.set(image);
const h = new Hart(bus, { pmp: false });
h.reset(0x80000000);
if (paging) {
  // identity megapages for RAM at root 0x80400000, run in S-mode
  const root = 0x80400000;
  const view = new DataView(bus.ram.buffer);
  const vpn1 = 0x80000000 >>> 22;
  view.setUint32(root - 0x80000000 + vpn1 * 4, ((0x80000000 >>> 12) << 10) | 0xcf, true);
  h.satp = (1 << 31) | (root >>> 12);
  h.priv = 1;
  h.contextChanged();
}
const t0 = performance.now();
let total = 0;
for (let i = 0; i < 200; i++) {
  h.sliceDone = 0; h.sliceSteps = 0;
  execute(h, 1 << 20);
  total += h.sliceDone;
}
const dt = (performance.now() - t0) / 1000;
console.log(`${paging ? 'sv32' : 'bare'}: ${total} insns in ${dt.toFixed(2)} s = ${(total / dt / 1e6).toFixed(1)} MIPS, pc=${h.pcU.toString(16)}`);
