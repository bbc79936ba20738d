// Real-guest benchmark (`npx tsx bench/guests.ts [DIR] [--runs N] [--only xv6,linux,linux-nommu]
// [--modes LIST]`, part of `npm run bench` when VMLAB_GUESTS=DIR is set): boots the guests a user keeps
// in DIR (layout in docs/guests.md: xv6, Linux with MMU under OpenSBI, a nommu Linux) on
// qemu-system-riscv32 and on vmlab bare and in every VMM mode, in the same run, and drives the same
// console script as `npm run test:guests` on each. Prints wall seconds to the shell and for the command
// script after it, and each one's ratio to QEMU's. Without a DIR it says so and exits 0; a run that
// fails is shown as such and the exit code is 1.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ALL_MODES, PV_NOTE, consoleGuests, runOnce, type ConsoleGuest, type DriveResult, type Mode } from '../scripts/guests-lib';
import { dropNodeStartExtras } from './node-env';

/** The best (fastest to the end) of `runs` runs, or the first failure. */
async function best(g: ConsoleGuest, target: Mode | 'qemu', runs: number): Promise<DriveResult> {
  let pick: DriveResult | undefined;
  for (let i = 0; i < runs; i++) {
    const r = await runOnce(g, target);
    if (!r.ok) return r;
    if (pick === undefined || r.seconds < pick.seconds) pick = r;
  }
  return pick!;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i < 2 ? ':' : '-') + '-'.repeat(w) + (i < 2 ? '-' : ':')).join('|') + '|';
  return [line(head), rule, ...rows.map(line)].join('\n');
}

function usage(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 2;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let dir = process.env.VMLAB_GUESTS || undefined;
  let runs = 1;
  let only: string[] | undefined;
  let modes: Mode[] = [...ALL_MODES];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) return usage(`--runs wants a whole number of at least 1, got '${argv[i]}'`);
    } else if (a === '--only') only = (argv[++i] ?? '').split(',').map((s) => s.trim());
    else if (a === '--modes') {
      modes = (argv[++i] ?? '').split(',').map((s) => s.trim());
      const bad = modes.find((m) => !ALL_MODES.includes(m));
      if (bad === 'pv') return usage(`${PV_NOTE} (modes: ${ALL_MODES.join(', ')})`);
      if (bad !== undefined) return usage(`unknown mode '${bad}' (modes: ${ALL_MODES.join(', ')})`);
    } else if (a.startsWith('-')) return usage(`unknown option '${a}'`);
    else dir = a;
  }
  if (dir === undefined) {
    console.log('real guests: no guests folder given (VMLAB_GUESTS=DIR or bench/guests.ts DIR; docs/guests.md); skipped.');
    return 0;
  }
  dir = resolve(dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return usage(`${dir} is not a folder`);
  const guests = consoleGuests(dir, (g) => !only || only.includes(g), false);
  if (guests.length === 0) return usage(`${dir} holds no xv6/, linux/ or linux-nommu/ guest (docs/guests.md)`);
  dropNodeStartExtras();

  const rows: string[][] = [];
  let failed = false;
  const secs = (s: number): string => s.toFixed(2);
  for (const g of guests) {
    process.stderr.write(`running ${g.name} on QEMU and in ${modes.join(', ')}...\n`);
    const q = await best(g, 'qemu', runs);
    const qShell = q.ok ? q.marks[g.shellStep] : NaN;
    const qScript = q.ok ? q.seconds - qShell : NaN;
    const ratio = (v: number, ref: number): string => (Number.isFinite(ref) && ref > 0 ? `${(v / ref).toFixed(1)}x` : '-');
    rows.push([g.name, 'qemu', q.ok ? secs(qShell) : 'FAIL', q.ok ? secs(qScript) : '-', '1.0x', '1.0x']);
    if (!q.ok) process.stderr.write(`  qemu: ${q.detail}\n`);
    for (const mode of modes) {
      const r = await best(g, mode, runs);
      if (!r.ok) {
        failed = true;
        process.stderr.write(`  ${mode}: ${r.detail}\n`);
        rows.push([g.name, mode, 'FAIL', '-', '-', '-']);
        continue;
      }
      const shell = r.marks[g.shellStep];
      const script = r.seconds - shell;
      rows.push([g.name, mode, secs(shell), secs(script), ratio(shell, qShell), ratio(script, qScript)]);
    }
  }
  console.log(table(['guest', 'run', 'to shell s', 'script s', 'shell vs QEMU', 'script vs QEMU'], rows));
  console.log(`\nwall seconds, best of ${runs}; "to shell" is from start to the first prompt, "script" the commands after it (docs/guests.md), ending with poweroff for Linux.`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
