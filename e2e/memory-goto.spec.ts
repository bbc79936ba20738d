// The memory view's goto at 1280x720: a refused address marks the field, and the next goto that
// works takes the refusal away. Before, "not an address: -5" stayed in the status bar beside the
// rows of the address given after it, as if that one had been refused too.
import { expect, test } from '@playwright/test';
import { openApp, removeMachines } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('a good goto after a bad one clears the refusal and the mark', async ({ page }) => {
  const errors = await openApp(page);
  await page.locator('[data-path="hello/hello.S"]').click();
  await page.locator('.run-config select[name="run-mode"]').selectOption('bare');
  await page.keyboard.press('F10');
  await expect(page.locator('[data-status="state"]')).toContainText('paused', { timeout: 20_000 });
  const field = page.locator('.mem-goto');
  const message = page.locator('[data-status="message"]');
  await field.fill('-5');
  await field.press('Enter');
  await expect(message).toHaveText('not an address: -5');
  await expect(field).toHaveAttribute('aria-invalid', 'true');

  await field.fill('0x80000040');
  await field.press('Enter');
  await expect(page.locator('.mem-row').first()).toContainText('0x80000040');
  await expect(message).toHaveText('');
  await expect(field).toHaveAttribute('aria-invalid', 'false');
  await removeMachines(page);
  expect(errors).toEqual([]);
});
