// At 1280x720 the compare view's form fills the view: a finished comparison showed its first two rows
// below it and left the rest to be scrolled to. A run the user started now brings its result's title
// to the top of the view, with every mode's row in sight.
import { expect, test } from '@playwright/test';
import { openApp } from './support';

test.use({ viewport: { width: 1280, height: 720 } });
test.setTimeout(120_000);

test('a finished comparison shows all its rows at 1280x720', async ({ page }) => {
  const errors = await openApp(page);
  await page.locator('[data-view-tab="compare"]').click();
  const form = page.locator('form.cmp-form');
  await form.locator('select[name="kernel"]').selectOption('traps/traps.S');
  await form.locator('select[name="maxSteps"]').selectOption(String(20_000_000));
  for (const m of ['bare', 'emulate', 'trap', 'bt', 'hw']) await form.locator(`[name="mode-${m}"]`).check();
  await form.locator('[name="mode-pv"]').uncheck();
  await page.locator('[data-action="compare-run"]').click();
  const rows = page.locator('[data-compare-row]');
  await expect(rows).toHaveCount(5, { timeout: 60_000 });
  await expect(page.locator('[data-compare-running]')).toHaveCount(0);
  // Inside the view's pane (the consoles below it cover the rest of the window).
  const pane = (await page.locator('.view-pane').boundingBox())!;
  for (let i = 0; i < 5; i++) {
    await expect.poll(async () => {
      const box = await rows.nth(i).boundingBox();
      return box !== null && box.y >= pane.y && box.y + box.height <= pane.y + pane.height;
    }, { message: `row ${i} inside the view's pane` }).toBe(true);
  }
  expect(errors).toEqual([]);
});
