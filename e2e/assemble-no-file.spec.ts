// Assemble with no file open says what it needs, as F5 does, instead of doing nothing; with a file
// that is no assembly source open it names the file.
import { expect, test } from '@playwright/test';
import { openApp } from './support';

test('Assemble with no file open, and with a README open, says why nothing was built', async ({ page }) => {
  const errors = await openApp(page);
  const message = page.locator('[data-status="message"]');
  await expect(page.locator('.doc-tabs [data-tab]')).toHaveCount(0);
  await page.locator('[data-action="assemble"]').click();
  await expect(message).toHaveText('open an assembly source (.S) to assemble it');
  await page.keyboard.press('F5');
  await expect(message).toHaveText('open an assembly source (.S) to run it');

  await page.locator('[data-path="hello/README.md"]').click();
  await expect(page.locator('.tab.active[data-tab="hello/README.md"]')).toBeVisible();
  await page.locator('[data-action="assemble"]').click();
  await expect(message).toContainText("'hello/README.md' is not an assembly source (.S or .s)");
  expect(errors).toEqual([]);
});
