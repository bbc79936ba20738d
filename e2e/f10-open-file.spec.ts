// F10 and F11 with another assembly file open than the selected machine runs: as F5 runs the open
// file, they start it paused at _start. Before, with hello running and traps.S open, F10 stepped
// hello (asleep in wfi, so nothing moved) while the editor showed traps.S with no current line.
import { expect, test } from '@playwright/test';
import { openApp, removeMachines, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('F10 on traps.S while hello runs starts traps paused at _start; F11 then steps traps', async ({ page }, info) => {
  const errors = await openApp(page);
  await page.locator('.run-config select[name="run-mode"]').selectOption('bare');
  await page.locator('[data-path="hello/hello.S"]').click();
  await page.keyboard.press('F5');
  await expect(page.locator('[data-status="state"]')).toContainText('hello (bare): waiting for input', { timeout: 20_000 });

  await page.locator('[data-path="traps/traps.S"]').click();
  await expect(page.locator('[data-tab="traps/traps.S"]')).toBeVisible();
  await page.keyboard.press('F10');
  await expect(page.locator('tr[data-vm="traps"]')).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('[data-status="state"]')).toContainText('traps (bare): paused', { timeout: 20_000 });
  await expect(page.locator('.pc-line')).toBeVisible();
  const pc = await page.locator('[data-reg="pc"]').textContent();
  // hello runs on.
  await expect(page.locator('tr[data-vm="hello"] [data-vm-state]')).toHaveText('waiting');

  await page.keyboard.press('F11');
  await expect(page.locator('[data-reg="pc"]')).not.toHaveText(pc!);
  await expect(page.locator('[data-status="state"]')).toContainText('traps (bare): paused');
  await expect(page.locator('tr[data-vm]')).toHaveCount(2);
  await shot(page, info, 'f10-traps');
  await removeMachines(page);
  expect(errors).toEqual([]);
});
