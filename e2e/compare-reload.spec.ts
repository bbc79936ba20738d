// A reload while a comparison runs: the page comes back showing it running (Run off, Cancel on), so
// it can be cancelled, and a comparison that ends meanwhile shows its result on the reloaded page.
// Before, the reloaded page offered Run, which the host refused ('a comparison is running
// already'), with Cancel off: nothing to do but wait.
import { expect, test } from '@playwright/test';
import { openApp } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('a comparison running across a reload can be cancelled; one that ends shows its result', async ({ page }) => {
  const errors = await openApp(page);
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'spin-reload.S', text: '.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n' });
    await app.refreshFiles();
  });
  await page.locator('[data-view-tab="compare"]').click();
  const form = page.locator('form.cmp-form');
  await form.locator('select[name="kernel"]').selectOption('spin-reload.S');
  await form.locator('select[name="maxSteps"]').selectOption(String(500_000_000));
  await page.locator('[data-action="compare-run"]').click();
  await expect(page.locator('[data-compare-running]')).toContainText('running spin-reload.S in bare');

  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await expect(page.locator('[data-compare-running]')).toContainText('running spin-reload.S in bare');
  await expect(page.locator('[data-action="compare-run"]')).toBeDisabled();
  await expect(page.locator('[data-action="compare-cancel"]')).toBeEnabled();
  await page.locator('[data-action="compare-cancel"]').click();
  await expect(page.locator('[data-compare-error]')).toHaveText('compare: cancelled');
  await expect(page.locator('[data-compare-running]')).toHaveCount(0);
  await expect(page.locator('[data-action="compare-run"]')).toBeEnabled();

  // A short one started here ends while the page is reloaded: its rows are there afterwards.
  await form.locator('select[name="maxSteps"]').selectOption(String(20_000_000));
  await page.locator('[data-action="compare-run"]').click();
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await expect(page.locator('[data-compare-row]').first()).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('[data-compare-row]').first()).toHaveAttribute('data-compare-row', 'bare');
  await expect(page.locator('[data-compare-running]')).toHaveCount(0);
  // At 1280×720 the result's table scrolls on its own: the view (and the form in it) does not move sideways.
  expect(await page.locator('.view-pane').evaluate((v) => v.scrollWidth - v.clientWidth)).toBe(0);

  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'spin-reload.S' });
    await app.lab.call('fs.delete', { path: 'spin-reload.elf' }).catch(() => undefined);
  });
  expect(errors).toEqual([]);
});
