// One measured run for bench/os.ts, bundled with esbuild (as the CLI is, so the instruction ids are
// literals) and run in a child process: boots a kernel on the bare machine, with or without the
// block translator, until it exits, prints a given string, or reaches a step budget; then prints one
// JSON line with the wall and CPU time (MIPS are per CPU second: the host is shared), instruction counts, the translator's counters and the TLB's.
// Usage: node harness.mjs KERNEL [--no-jit] [--js] [--until TEXT] [--then INPUT --until2 TEXT]
//        [--max-steps N] [--disk FILE] [--bios FILE] [--initrd FILE] [--append ARGS] [--mem BYTES]
import { Machine, StopReason } from '../src/engine/machine/machine';
import { setMachineV8Flags } from '../src/host/v8-flags';
import { closeDisks, parseDiskSpec } from '../src/cli/disk-option';
import { openDisks } from '../src/cli/disk-open';
import { loadKernelFor, readBootFiles, type BootSpec } from '../src/cli/boot-option';
import { readFileSync } from 'node:fs';

interface Args {
  kernel: string;
  jit: boolean;
  /** The translator's JavaScript backend (--js) instead of the default WebAssembly one. */
  js: boolean;
  until: string | undefined;
  then: string | undefined;
  until2: string | undefined;
  maxSteps: number;
  disk: string | undefined;
  boot: BootSpec;
  mem: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { kernel: '', jit: true, js: false, until: undefined, then: undefined, until2: undefined, maxSteps: 20e9, disk: undefined, boot: {}, mem: undefined };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--no-jit') a.jit = false;
    else if (v === '--js') a.js = true;
    else if (v === '--until') a.until = argv[++i];
    else if (v === '--then') a.then = argv[++i];
    else if (v === '--until2') a.until2 = argv[++i];
    else if (v === '--max-steps') a.maxSteps = Number(argv[++i]);
    else if (v === '--disk') a.disk = argv[++i];
    else if (v === '--bios') a.boot.bios = argv[++i];
    else if (v === '--initrd') a.boot.initrd = argv[++i];
    else if (v === '--append') a.boot.append = argv[++i];
    else if (v === '--mem') a.mem = Number(argv[++i]);
    else a.kernel = v;
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
setMachineV8Flags();
const disks = args.disk === undefined ? [] : openDisks([parseDiskSpec(args.disk)]);
let output = '';
let waitFor = args.until;
const boot = readBootFiles(args.boot);
const m = new Machine({ ramSize: args.mem, ...boot, cpu: { jit: args.jit, jitBackend: args.js ? 'js' : 'wasm' }, onUart: (b) => {
  output += String.fromCharCode(b);
  if (waitFor !== undefined && output.endsWith(waitFor)) m.requestStop();
}, disks });
// Wall milliseconds (cheap to read; on a busy host they include time other processes had the CPU).
if (m.hart.code !== undefined) m.hart.code.clock = () => performance.now();
m.loadKernel(boot.firmware === undefined ? new Uint8Array(readFileSync(args.kernel)) : loadKernelFor(args.kernel, boot));
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let phase1Seconds = 0;
let reason: StopReason = StopReason.BUDGET;
let sent = false;
while (m.clockSteps < args.maxSteps) {
  reason = m.run(Math.min(4_000_000, args.maxSteps - m.clockSteps));
  if (reason === StopReason.STOPPED) {
    if (args.then !== undefined && !sent) {
      phase1Seconds = (performance.now() - t0) / 1000;
      sent = true;
      waitFor = args.until2;
      output = '';
      m.sendInput(new TextEncoder().encode(args.then));
      continue;
    }
    break;
  }
  if (reason !== StopReason.BUDGET) break;
}
const wall = (performance.now() - t0) / 1000;
const cpuUsed = process.cpuUsage(cpu0);
const cpu = (cpuUsed.user + cpuUsed.system) / 1e6;
closeDisks(disks);
const h = m.hart;
const names: Record<number, string> = { 1: 'exit', 2: 'budget', 3: 'idle', 4: 'reached', 5: 'reset', 6: 'breakpoint' };
console.log(JSON.stringify({
  reason: names[reason] ?? String(reason),
  exitCode: m.exitCode ?? null,
  instret: h.instret,
  steps: m.clockSteps,
  wallSeconds: wall,
  phase1Seconds,
  cpuSeconds: cpu,
  mips: h.instret / cpu / 1e6,
  outputTail: output.slice(-200),
  jit: h.code?.stats?.toJSON() ?? null,
  tlb: { hits: h.tlb.hits, misses: h.tlb.misses, flushes: h.tlb.flushes },
  traps: Array.from(h.trapCounts).reduce((s, c) => s + c, 0),
}));
