// Reloading the page keeps the view the center pane showed (here the Translations view of a bt VM),
// as it keeps the machines, the selection and the pane sizes.
import { expect, test } from '@playwright/test';
import { newVm, openApp, removeVm, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('the center view survives a reload', async ({ page }) => {
  const errors = await openApp(page);
  await newVm(page, 'traps/traps.S', 'bt', 'kept');
  await expect(vmRow(page, 'kept').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await page.locator('[data-view-tab="translations"]').click();
  await expect(page.locator('[data-view-tab="translations"]')).toHaveAttribute('aria-selected', 'true');
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await expect(page.locator('[data-view-tab="translations"]')).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('[data-view-tab="editor"]')).toHaveAttribute('aria-selected', 'false');
  // Back to the editor for the specs that follow in this browser's storage.
  await page.locator('[data-view-tab="editor"]').click();
  await removeVm(page, 'kept');
  expect(errors).toEqual([]);
});
