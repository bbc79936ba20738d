// The status bar's speed for a machine that is not running: before, "— MIPS" whatever the state. Now
// a VM that ran shows the last rate it ran at once paused; a reset one, and one asleep in WFI from its
// first instructions (hello waiting for input), show no rate, the state field naming their state once
// (before this, the rate field said it again: "paused … paused", "waiting for input (wfi) … idle").
import { expect, test } from '@playwright/test';
import { newVm, openApp, removeVm, vmRow } from './support';

test('the status bar gives the last MIPS of a paused VM, and no rate, the state said once, for one that never ran long', async ({ page }) => {
  const errors = await openApp(page);
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'rate-spin.S', text: '.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n' });
    await app.refreshFiles();
  });
  const rate = page.locator('[data-status="mips"]');
  /** The bar's state and rate fields (not the last action's message), as one text. */
  const stateAndRate = async (): Promise<string> => (await page.locator('[data-status="state"], [data-status="mips"]').allTextContents()).join(' ');

  await newVm(page, 'rate-spin.S', 'emulate', 'rate-spin');
  await vmRow(page, 'rate-spin').click();
  await expect(page.locator('[data-status="state"]')).toHaveText('rate-spin (emulate): running');
  await expect(rate).toHaveText(/^(measuring MIPS|\d+\.\d MIPS)$/);
  await expect(rate).toHaveText(/^\d+\.\d MIPS$/, { timeout: 10_000 });
  await vmRow(page, 'rate-spin').locator('[data-vm-action="pause"]').click();
  await expect(page.locator('[data-status="state"]')).toHaveText('rate-spin (emulate): paused');
  await expect(rate).toHaveText(/^last \d+\.\d MIPS$/);
  expect(Number(/[\d.]+/.exec((await rate.textContent())!)![0])).toBeGreaterThan(0);
  // A reset starts the count again: no rate until it runs a whole interval.
  await vmRow(page, 'rate-spin').locator('[data-vm-action="reset"]').click();
  await expect(page.locator('[data-status="instret"]')).toHaveText('0 instructions');
  await expect(page.locator('[data-status="state"]')).toHaveText(/^rate-spin \(emulate\): paused/);
  await expect(rate).toHaveCount(0);
  expect((await stateAndRate()).match(/paused/g)).toHaveLength(1);
  await removeVm(page, 'rate-spin');

  await newVm(page, 'hello/hello.S', 'emulate', 'rate-hello');
  await vmRow(page, 'rate-hello').click();
  await expect(page.locator('[data-status="state"]')).toHaveText('rate-hello (emulate): waiting for input (wfi)', { timeout: 20_000 });
  await expect(rate).toHaveCount(0);
  expect(await stateAndRate()).not.toMatch(/idle|MIPS/);
  await removeVm(page, 'rate-hello');

  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'rate-spin.S' });
  });
  expect(errors).toEqual([]);
});
