// compare.state and compare.done: the host keeps the comparison that runs and the last one that
// ended, so a page loaded while one runs (a reload) shows it running, can cancel it and gets its
// result. A second comparison refused while one runs leaves that state alone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LabService } from '../../src/host/lab-service';
import type { CompareResult, CompareState } from '../../src/shared/inspect-api';

let lab: LabService;
const done: CompareState[] = [];

beforeAll(async () => {
  lab = await LabService.create({ workspace: mkdtempSync(join(tmpdir(), 'vmlab-compare-state-')) });
  lab.subscribe((event, payload) => {
    if (event === 'compare.done') done.push(payload as CompareState);
  });
  await lab.call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n' });
});

afterAll(() => lab.dispose());

const state = (): Promise<CompareState> => lab.call('compare.state', {}) as Promise<CompareState>;

it('shows the running comparison, keeps it when a second is refused, and the last one\'s end after cancel and after a result', async () => {
  expect(await state()).toEqual({});
  const config = { kernel: 'spin.S', maxSteps: 500_000_000, modes: ['bare', 'emulate'] };
  const before = Date.now();
  const long = (lab.call('compare.run', config) as Promise<CompareResult>).then(() => 'finished', (e: unknown) => e);
  await expect.poll(async () => (await state()).running?.config).toEqual(config);
  const running = (await state()).running!;
  expect(running.since).toBeGreaterThanOrEqual(before);
  expect(running.since).toBeLessThanOrEqual(Date.now());

  await expect(lab.call('compare.run', { kernel: 'spin.S', modes: ['bare'] })).rejects.toMatchObject({ code: 'bad-state', message: expect.stringMatching(/running already/) });
  expect((await state()).running).toEqual(running);
  expect(done).toEqual([]);

  await lab.call('compare.cancel', {});
  expect(await long).toMatchObject({ message: 'compare: cancelled' });
  const cancelled = { last: { config, error: 'compare: cancelled' } };
  expect(await state()).toEqual(cancelled);
  expect(done).toEqual([cancelled]);

  const short = { kernel: 'spin.S', maxSteps: 1000, modes: ['bare'] };
  const result = (await lab.call('compare.run', short)) as CompareResult;
  expect(result.rows.map((r) => [r.mode, r.instructions])).toEqual([['bare', 1000]]);
  expect(await state()).toEqual({ last: { config: short, result } });
  expect(done).toEqual([cancelled, { last: { config: short, result } }]);
}, 60_000);
