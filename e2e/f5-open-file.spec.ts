// F5 with a VM selected and another file in the editor: the README says "open hello/hello.S and press
// F5", and VMs come back paused (and the last one selected) after a restart of the app. F5 runs the
// open file then; the paused VM stays paused until its own ▶ in the VM manager continues it.
import { expect, test } from '@playwright/test';
import { consoleText, newVm, openApp, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('F5 runs the open file while a paused VM of another kernel is selected; the VM\'s ▶ continues the VM', async ({ page }) => {
  const errors = await openApp(page);
  await newVm(page, 'traps/traps.S', 'trap', 'held');
  // Reset reboots it paused before its first instruction, as a restart of the app leaves it.
  await vmRow(page, 'held').locator('[data-vm-action="reset"]').click();
  await expect(vmRow(page, 'held').locator('[data-vm-state]')).toHaveText('paused', { timeout: 20_000 });
  await vmRow(page, 'held').click();

  await page.locator('[data-path="hello/hello.S"]').click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('the first vmlab guest');
  await page.locator('.run-config select[name="run-mode"]').selectOption('bare');
  await page.keyboard.press('F5');
  await expect(page.locator('tr[data-vm="hello"]')).toBeVisible({ timeout: 20_000 });
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Hello from vmlab!');
  await expect(vmRow(page, 'held').locator('[data-vm-state]')).toHaveText('paused');

  await vmRow(page, 'held').locator('[data-vm-action="run"]').click();
  await expect(vmRow(page, 'held').locator('[data-vm-state]')).not.toHaveText('paused', { timeout: 20_000 });
  expect(errors).toEqual([]);
});
