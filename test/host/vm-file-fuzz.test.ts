// Fuzzing `*.vm.json`, the VM files `vmlab vms` runs and the lab keeps its VMs in: a valid file cut
// short, with characters changed, inserted or removed, with fields given any JSON value, with fields
// added or removed, or arbitrary JSON. The outcome is a configuration or an error that names the file
// and what is wrong, in one line without internals. A short run here; npm run test:fuzz:inputs runs
// 20,000 cases per kind.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readVmFile } from '../../src/cli/commands/vms';
import { fuzzRuns, INTERNAL_MESSAGE } from '../support/mutate';

const RUNS = fuzzRuns(150);
const dir = mkdtempSync(join(tmpdir(), 'vmlab-vmfile-fuzz-'));
const path = join(dir, 'fuzz.vm.json');
const counts = new Map<string, { cases: number; refused: number; read: number }>();

const VALID = {
  name: 'alpha',
  kernel: 'hello.elf',
  mode: 'trap',
  memory: '16M',
  placement: { explicit: [[0xa1, 0xc0], [0xa2, 0xc1]], rest: 'scattered' },
  cpu: 'rv32,pmp=false',
  input: 'hi\n',
  disks: ['boot.qcow2,readonly', { file: 'data.img', format: 'raw', readonly: false, legacy: true, serial: 'D1' }],
};
const TEXT = JSON.stringify(VALID, null, 2);

/** Reads the text as a VM file; throws (failing the property) unless it is read or refused cleanly. */
function read(text: string | Uint8Array, tally: { refused: number; read: number }): void {
  writeFileSync(path, text);
  try {
    readVmFile(path);
    tally.read++;
  } catch (err) {
    if (!(err instanceof Error) || err.constructor !== Error) throw err;
    expect(err.message.startsWith(`${path}: `), `"${err.message}" names the file`).toBe(true);
    expect(err.message).not.toContain('\n');
    expect(err.message.slice(path.length)).not.toMatch(INTERNAL_MESSAGE);
    tally.refused++;
  }
}

const edit = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fc.string({ maxLength: 3 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

/** Plain JSON values, without strings a message could echo that look like internals. */
const value = fc.jsonValue({ maxDepth: 3 }).filter((v) => !INTERNAL_MESSAGE.test(JSON.stringify(v) ?? ''));

function run(name: string, arb: fc.Arbitrary<string | Uint8Array>, seed: number): void {
  const tally = { cases: 0, refused: 0, read: 0 };
  counts.set(name, tally);
  fc.assert(fc.property(arb, (text) => {
    tally.cases++;
    read(text, tally);
  }), { seed, numRuns: RUNS });
  expect(tally.refused).toBeGreaterThan(0);
}

describe('damaged VM files', { timeout: RUNS > 500 ? 3_600_000 : 120_000 }, () => {
  it('text edits of a valid file', () => {
    run('text edits', fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
      let t = TEXT;
      for (const e of edits) {
        const at = e.at % (t.length + 1);
        if (e.kind === 'replace') t = t.slice(0, at) + e.text + t.slice(at + 1);
        else if (e.kind === 'delete') t = t.slice(0, at) + t.slice(at + e.length);
        else t = t.slice(0, at);
      }
      return t;
    }), 0x1301);
  });

  it('fields given any JSON value, removed, or added', () => {
    const keys = Object.keys(VALID);
    run('field values', fc.tuple(fc.constantFrom(...keys, 'extra'), value, fc.boolean()).map(([key, v, remove]) => {
      const obj: Record<string, unknown> = structuredClone(VALID);
      if (remove) delete obj[key];
      else obj[key] = v;
      return JSON.stringify(obj);
    }), 0x1302);
  });

  it('nested values: placement pairs and disk entries of any JSON', () => {
    run('nested values', fc.tuple(fc.constantFrom('placement', 'disks'), fc.nat({ max: 1 }), value).map(([key, index, v]) => {
      const obj = structuredClone(VALID) as Record<string, unknown>;
      if (key === 'placement') (obj.placement as { explicit: unknown[] }).explicit[index] = v;
      else (obj.disks as unknown[])[index] = v;
      return JSON.stringify(obj);
    }), 0x1303);
  });

  it('arbitrary JSON and arbitrary bytes', () => {
    run('arbitrary', fc.oneof(value.map((v) => JSON.stringify(v) ?? ''), fc.uint8Array({ maxLength: 200 })), 0x1304);
  });
});

afterAll(() => {
  const total = [...counts.values()].reduce((n, c) => n + c.cases, 0);
  console.log(`VM file fuzz: ${total} cases (${[...counts].map(([n, c]) => `${n}: ${c.cases}, ${c.refused} refused, ${c.read} read`).join('; ')})`);
});
