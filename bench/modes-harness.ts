// One in-process run of an ELF kernel, bare or in a VM of one VMM mode, set up as `vmlab run` sets
// it up (default RAM, the translator on, 4 M-step chunks), for comparing two engines' trap/bare
// ratios without the CLI (which rebuilds itself when the source tree changes). Bundle it from each
// tree and run the bundles alternately (docs/speed.md, "Trap mode keeps up with bare"):
//   npx esbuild bench/modes-harness.ts --bundle --platform=node --format=esm --outfile=dist/modes-harness.mjs
//   node --no-concurrent-recompilation --no-concurrent-osr dist/modes-harness.mjs bare|trap|... KERNEL.elf
// Prints one JSON line: CPU seconds (user + system of the whole process) for the set-up, the run and
// the process so far, instructions, the end of the console output, TLB misses, exits, and the
// translator's counters.
import { readFileSync } from 'node:fs';
import { Machine, StopReason } from '../src/engine/machine/machine';
import { DEFAULT_RAM_SIZE, VMM_RESERVE } from '../src/engine/machine/memory-map';
import { ALL_VM_MODES, type VmMode } from '../src/engine/vmm/vm';
import { Vmm } from '../src/engine/vmm/vmm';

const CHUNK = 4_000_000;
const [mode, kernelPath] = process.argv.slice(2);
if (mode !== 'bare' && !(ALL_VM_MODES as readonly string[]).includes(mode)) throw new Error(`mode: expected bare or one of ${ALL_VM_MODES.join(', ')}, got '${mode}'`);
const kernel = new Uint8Array(readFileSync(kernelPath));
const seconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;
let out = '';
const onUart = (b: number): void => {
  out += String.fromCharCode(b);
};
const t0 = process.cpuUsage();
let step: () => boolean;
let report: () => object;
if (mode === 'bare') {
  const m = new Machine({ ramSize: DEFAULT_RAM_SIZE, cpu: { jit: true }, onUart, timeMode: 'deterministic', clock: () => performance.now() });
  m.loadKernel(kernel);
  step = () => m.run(CHUNK) === StopReason.BUDGET;
  report = () => ({ instret: m.hart.instret, tlbMisses: m.hart.tlb.misses, jit: m.hart.code?.stats });
} else {
  const vmm = new Vmm({ hostRamSize: DEFAULT_RAM_SIZE + VMM_RESERVE, jit: true });
  const vm = vmm.createVm({ name: 'guest', mode: mode as VmMode, kernel, memSize: DEFAULT_RAM_SIZE, onUart });
  step = () => {
    vmm.runVm(vm, CHUNK);
    return vm.state === 'running';
  };
  report = () => ({ instret: vm.stats.instructions, tlbMisses: vmm.hart.tlb.misses, exits: vm.stats.exits.reduce((a, b) => a + b, 0), jit: vmm.hart.code?.stats });
}
const setup = process.cpuUsage(t0);
const t1 = process.cpuUsage();
while (step()) {
  // Chunks until the guest halts (or waits, crashes, stops).
}
const run = process.cpuUsage(t1);
console.log(JSON.stringify({ mode, setup: seconds(setup), run: seconds(run), total: seconds(process.cpuUsage()), out: out.trim().slice(-60), ...report() }));
