// At 1280x720 the compare view's table was wider than the view (782 px in 588) and scrolled sideways,
// its last columns, wall ms and same output, out of sight. Now each figure's ratio goes under it and
// the headers wrap: every column lies inside the view, with two kernels (the widest table, a kernel
// column more) at 1280x720 and, on one line each, at 1920x1080.
import { expect, test, type Page } from '@playwright/test';
import { openApp, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });
test.setTimeout(180_000);

const HEADERS = ['kernel', 'mode', 'end', 'exit', 'instructions × row 1', 'traps', 'exits × row 1', 'modeled cycles × row 1', 'wall ms × row 1', 'same output'];

/** The table's sideways overflow and every header and cell that is not wholly inside the view. */
const outside = (page: Page): Promise<{ overflow: number; cut: string[] }> => page.evaluate(() => {
  const view = document.querySelector('[data-view="compare"]')!.getBoundingClientRect();
  const wrap = document.querySelector('.cmp-table-wrap')!;
  const cut = [...document.querySelectorAll('.cmp-table th, .cmp-table td')].filter((c) => {
    const b = c.getBoundingClientRect();
    return b.left < view.left - 0.5 || b.right > view.right + 0.5 || c.scrollWidth > c.clientWidth + 1;
  }).map((c) => c.textContent!.trim());
  return { overflow: wrap.scrollWidth - wrap.clientWidth, cut };
});

/** Whether the first row's instruction ratio sits under the figure (else beside it, on its line). */
const ratioUnder = (page: Page): Promise<boolean> => page.locator('[data-compare-row] [data-figure="instructions"]').first().evaluate((td) => {
  const range = document.createRange();
  range.selectNodeContents(td.firstChild!);
  const figure = range.getBoundingClientRect();
  const ratio = td.querySelector('[data-relative]')!.getBoundingClientRect();
  return ratio.top >= figure.bottom - 1;
});

test('the compare table shows every column without scrolling sideways at 1280x720 and 1920x1080', async ({ page }, info) => {
  const errors = await openApp(page);
  await page.locator('[data-view-tab="compare"]').click();
  const form = page.locator('form.cmp-form');
  await form.locator('select[name="kernel"]').selectOption('paging/paging.S');
  await form.locator('select[name="kernel2"]').selectOption('traps/traps.S');
  await form.locator('select[name="maxSteps"]').selectOption(String(20_000_000));
  for (const m of ['bare', 'emulate', 'trap', 'bt', 'hw']) await form.locator(`[name="mode-${m}"]`).check();
  await form.locator('[name="mode-pv"]').uncheck();
  await page.locator('[data-action="compare-run"]').click();
  await expect(page.locator('[data-compare-row]')).toHaveCount(10, { timeout: 120_000 });
  await expect(page.locator('[data-compare-running]')).toHaveCount(0);

  await expect.poll(() => outside(page)).toEqual({ overflow: 0, cut: [] });
  const headers = page.locator('.cmp-table th');
  await expect(headers).toHaveCount(HEADERS.length);
  for (const [i, h] of HEADERS.entries()) expect((await headers.nth(i).textContent())!.replace(/\s+/g, ' ').trim()).toBe(h);
  expect(await ratioUnder(page)).toBe(true);
  await shot(page, info, 'compare-table-1280x720');

  await page.setViewportSize({ width: 1920, height: 1080 });
  await expect.poll(() => outside(page)).toEqual({ overflow: 0, cut: [] });
  expect(await ratioUnder(page)).toBe(false);
  await shot(page, info, 'compare-table-1920x1080');
  expect(errors).toEqual([]);
});
