// The Disks view with a bare machine selected names every mode a disk attaches in: it said "mode
// emulate or trap", from before bt, pv and hw VMs took disks as the New VM form gives them.
import { expect, test } from '@playwright/test';
import { openApp, removeMachines } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('a bare machine in the Disks view: disks attach to VMs in every mode but bare', async ({ page }) => {
  const errors = await openApp(page);
  await page.locator('[data-path="hello/hello.S"]').click();
  await page.locator('.run-config select[name="run-mode"]').selectOption('bare');
  await page.keyboard.press('F5');
  await expect(page.locator('tr[data-vm="hello"]')).toBeVisible({ timeout: 20_000 });
  await page.locator('[data-view-tab="disks"]').click();
  const hint = page.locator('.disks-vm > .hint');
  await expect(hint).toContainText('hello is a bare machine: disks attach to VMs, in every mode but bare');
  await expect(hint).not.toContainText('emulate or trap');
  await removeMachines(page);
  expect(errors).toEqual([]);
});
