// Reverse Step and Reverse Continue in the app (docs/replay.md): on the traps lab run bare, the
// buttons beside Step take the machine back to the pc of the steps before, and from the end of the
// run back to the start of its history; run on from there, the console shows the lab's output once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { consoleText, openApp, shot } from './support';

const LABS = fileURLToPath(new URL('../labs', import.meta.url));
const status = (page: Page, what: string) => page.locator(`[data-status="${what}"]`);
const pc = (page: Page) => (): Promise<number | undefined> => page.evaluate(() => {
  const app = (window as unknown as { __vmlabState: { current?: { status: { pc: number } } } }).__vmlabState;
  return app.current?.status.pc;
});

test('Reverse Step and Reverse Continue take a bare machine back, and it runs on to the same output', async ({ page }, info) => {
  await openApp(page);
  await page.locator('[data-path="traps/traps.S"]').click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('M-mode boot');
  await page.locator('.run-config select[name="run-mode"]').selectOption('bare');

  // Step Over starts the machine paused at _start; three steps, remembering each pc.
  await page.locator('[data-action="step-over"]').click();
  await expect(status(page, 'state')).toContainText('reached', { timeout: 30_000 });
  await expect.poll(pc(page), { timeout: 30_000 }).not.toBe(0x1000);
  const pcs = [await pc(page)()];
  for (let i = 0; i < 3; i++) {
    await page.locator('[data-action="step-into"]').click();
    await expect.poll(pc(page), { timeout: 30_000 }).not.toBe(pcs[pcs.length - 1]);
    pcs.push(await pc(page)());
  }
  await page.locator('[data-action="reverse-step"]').click();
  await expect(status(page, 'state')).toContainText('reverse step', { timeout: 30_000 });
  await expect.poll(pc(page), { timeout: 30_000 }).toBe(pcs[2]);
  await page.locator('[data-action="reverse-step"]').click();
  await page.locator('[data-action="reverse-step"]').click();
  await expect.poll(pc(page), { timeout: 30_000 }).toBe(pcs[0]);
  await shot(page, info, 'reverse-step');

  // To the end, back to where the machine's history starts, and on to the end again.
  const expected = readFileSync(join(LABS, 'traps', 'expected-output.txt'), 'latin1').trimEnd();
  await page.locator('[data-action="run"]').click();
  await expect(status(page, 'state')).toContainText('halted', { timeout: 60_000 });
  await expect.poll(async () => (await consoleText(page)).trimEnd()).toBe(expected);
  await page.locator('[data-action="reverse-continue"]').click();
  await expect(status(page, 'state')).toContainText('start of history', { timeout: 30_000 });
  await expect.poll(pc(page), { timeout: 30_000 }).toBe(0x1000);
  await page.locator('[data-action="run"]').click();
  await expect(status(page, 'state')).toContainText('halted', { timeout: 60_000 });
  expect((await consoleText(page)).trimEnd()).toBe(expected);
});
