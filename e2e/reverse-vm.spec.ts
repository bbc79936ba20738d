// Step Back and Reverse on a VM (docs/replay.md), at 1280×720: the traps lab in a trap-mode VM
// beside a second VM that runs on its own; the buttons take the selected VM back to the pc and
// instruction count of the steps before, stepping forward again gives the same ones, and from the
// end of the run Reverse goes back to the start of its history; run on from there, the console shows
// the lab's output once and the VM retires as many instructions as it did the first time. The other
// VM runs to its end meanwhile, untouched.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { consoleText, newVm, openApp, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

const LABS = fileURLToPath(new URL('../labs', import.meta.url));
const status = (page: Page, what: string) => page.locator(`[data-status="${what}"]`);
/** The selected VM's pc and instructions retired. */
const where = (page: Page) => (): Promise<string> => page.evaluate(() => {
  const app = (window as unknown as { __vmlabState: { current?: { status: { pc: number; instret: number } } } }).__vmlabState;
  const s = app.current?.status;
  return s === undefined ? '' : `${s.pc.toString(16)}/${s.instret}`;
});

test('Step Back and Reverse take a VM back while another VM runs, and it runs on to the same output', async ({ page }, info) => {
  const errors = await openApp(page);
  const expected = readFileSync(join(LABS, 'traps', 'expected-output.txt'), 'latin1').trimEnd();
  // A new VM starts running: Reset brings each back to its reset vector, paused.
  for (const [name, mode] of [['other', 'emulate'], ['back', 'trap']]) {
    await newVm(page, 'traps/traps.S', mode, name);
    await vmRow(page, name).locator('[data-vm-action="reset"]').click();
    await expect(vmRow(page, name).locator('[data-vm-state]')).toHaveText('paused', { timeout: 20_000 });
  }
  await vmRow(page, 'back').click();

  const seen = [await where(page)()];
  for (let i = 0; i < 4; i++) {
    await page.locator('[data-action="step-into"]').click();
    await expect.poll(where(page), { timeout: 30_000 }).not.toBe(seen[seen.length - 1]);
    seen.push(await where(page)());
  }
  await vmRow(page, 'other').locator('[data-vm-action="run"]').click();
  await vmRow(page, 'back').click();
  await page.locator('[data-action="reverse-step"]').click();
  await expect(status(page, 'state')).toContainText('reverse step', { timeout: 30_000 });
  await expect.poll(where(page), { timeout: 30_000 }).toBe(seen[3]);
  await page.locator('[data-action="reverse-step"]').click();
  await expect.poll(where(page), { timeout: 30_000 }).toBe(seen[2]);
  await page.locator('[data-action="step-into"]').click();
  await expect.poll(where(page), { timeout: 30_000 }).toBe(seen[3]);
  await shot(page, info, 'reverse-vm-step');

  await page.locator('[data-action="run"]').click();
  await expect(status(page, 'state')).toContainText('halted', { timeout: 60_000 });
  // The console may also hold what the VM printed when it was created, before its reset.
  await expect.poll(async () => (await consoleText(page)).trimEnd().endsWith(expected)).toBe(true);
  const shown = await consoleText(page);
  const end = await where(page)();
  await page.locator('[data-action="reverse-continue"]').click();
  await expect(status(page, 'state')).toContainText('start of history', { timeout: 30_000 });
  await expect.poll(where(page), { timeout: 30_000 }).toBe(seen[0]);
  await page.locator('[data-action="run"]').click();
  await expect(status(page, 'state')).toContainText('halted', { timeout: 60_000 });
  expect(await where(page)()).toBe(end);
  expect(await consoleText(page)).toBe(shown);

  await expect(vmRow(page, 'other').locator('[data-vm-state]')).toHaveText('halted', { timeout: 60_000 });
  await vmRow(page, 'other').click();
  await expect.poll(async () => (await consoleText(page)).trimEnd().endsWith(expected)).toBe(true);
  expect(errors).toEqual([]);
});
