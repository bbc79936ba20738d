// The page-table view of a trap-mode VM (guest table, pmap, shadow) at 1280×720 and 1920×1080:
// every column lies wholly inside the view pane, at least a column's least width and tall enough
// for its rows, its rows whole, and neither the columns, the pane nor the window scroll sideways.
// Before, at 1280×720 the shadow column began past the pane's right edge (732 px of 796, its end
// at 994) and could only be reached by scrolling a 160 px high strip sideways. A page reload, with
// the view remembered, lays it out the same way.
import { expect, test, type Page } from '@playwright/test';
import { openApp, removeVm, shot, vmRow } from './support';

const COLUMNS = ['guest', 'pmap', 'shadow'];

/** Where each column lies against the view pane once scrolled into sight, and what scrolls sideways. */
const geometry = (page: Page): Promise<Record<string, unknown>> => page.evaluate((ids) => {
  const pane = document.querySelector<HTMLElement>('.view-pane')!;
  const columns = document.querySelector<HTMLElement>('.pt-columns')!;
  const out: Record<string, unknown> = {
    sideways: {
      window: document.documentElement.scrollWidth - window.innerWidth,
      pane: pane.scrollWidth - pane.clientWidth,
      columns: columns.scrollWidth - columns.clientWidth,
    },
  };
  for (const id of ids) {
    const col = document.querySelector<HTMLElement>(`[data-column="${id}"]`)!;
    col.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    const p = pane.getBoundingClientRect();
    const c = col.getBoundingClientRect();
    const rows = [...col.querySelectorAll<HTMLElement>('.pt-row')];
    out[id] = {
      inside: c.left >= p.left - 0.5 && c.right <= p.left + pane.clientWidth + 0.5 && c.top >= p.top - 0.5 && c.bottom <= p.top + pane.clientHeight + 0.5,
      wide: c.width >= 262,
      tall: c.height >= 200,
      rows: rows.length > 0 && rows.every((r) => r.scrollWidth <= r.clientWidth + 1 && r.getBoundingClientRect().right <= c.right + 0.5),
    };
  }
  return out;
}, COLUMNS);

const FITS = {
  sideways: { window: 0, pane: 0, columns: 0 },
  ...Object.fromEntries(COLUMNS.map((id) => [id, { inside: true, wide: true, tall: true, rows: true }])),
};

for (const size of [{ width: 1280, height: 720 }, { width: 1920, height: 1080 }]) {
  test(`the page-table view's three columns are whole at ${size.width}×${size.height}, after a reload too`, async ({ page }, info) => {
    await page.setViewportSize(size);
    const errors = await openApp(page);
    await page.locator('[data-action="new-vm"]').click();
    const form = page.locator('form.vm-form');
    await form.locator('select[name="kernel"]').selectOption('paging/paging.S');
    await form.locator('select[name="mode"]').selectOption('trap');
    await form.locator('select[name="placement"]').selectOption('explicit');
    await form.locator('input[name="explicit"]').fill('a1:c0 a2:c1 a3:c4');
    await form.locator('input[name="name"]').fill('columns');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect(vmRow(page, 'columns').locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });

    for (const reload of [false, true]) {
      if (reload) {
        await page.reload();
        await expect(page.locator('.app.ready')).toBeVisible();
      }
      await vmRow(page, 'columns').click();
      await page.locator('[data-view-tab="page-tables"]').click();
      // The shadow's level-0 entries for VA pages 01 and 02 (host frames c1 and c4), as in the lecture.
      await expect(page.locator('[data-column="shadow"] .pt-row[data-level="0"][data-in="02"]')).toHaveAttribute('data-to', 'c4');
      await expect(page.locator('[data-column="pmap"] .pt-row').first()).toBeVisible();
      expect(await geometry(page)).toEqual(FITS);
      await page.locator('.view-pane').evaluate((e) => e.scrollTo(0, 0));
      await shot(page, info, `page-tables-${size.width}x${size.height}${reload ? '-reload' : ''}`);
    }

    // The translate box below the columns is in reach, and its walk reads whole.
    const box = page.locator('[data-translate]');
    await box.locator('input[name="address"]').fill('0x1000');
    await box.getByRole('button', { name: 'Translate' }).click();
    await expect(box.locator('.tr-steps[data-walk="0x1000"]')).toBeVisible();
    await box.scrollIntoViewIfNeeded();
    await expect(box.getByRole('button', { name: 'Translate' })).toBeInViewport({ ratio: 1 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);

    await removeVm(page, 'columns');
    expect(errors).toEqual([]);
  });
}
