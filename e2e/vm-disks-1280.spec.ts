// The Disks view of a VM with a disk at 1280×720: the disk's row, its counters and Detach fit the
// view (before, Flushes, Errors and Detach were 126 px past its right edge).
import { expect, test } from '@playwright/test';
import { openApp, removeVm, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('a VM\'s disk row with Detach fits the Disks view at 1280×720', async ({ page }) => {
  const errors = await openApp(page);
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('disk.create', { path: 'row.qcow2', format: 'qcow2', size: 1 << 20 });
  });
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('disk/disk.S');
  await form.locator('select[name="mode"]').selectOption('trap');
  await form.locator('select[name="memory"]').selectOption('16');
  await form.locator('select[name="disk"]').selectOption('row.qcow2');
  await form.locator('input[name="name"]').fill('row-vm');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'row-vm').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await vmRow(page, 'row-vm').click();
  await page.locator('[data-view-tab="disks"]').click();
  const detach = page.locator('[data-disk-action="detach"]');
  await expect(detach).toBeVisible();
  await expect(page.locator('[data-stat="errors"]')).toHaveText('0');
  const fit = await page.evaluate(() => {
    const pane = document.querySelector<HTMLElement>('.view-pane')!;
    const right = pane.getBoundingClientRect().left + pane.clientWidth;
    const cells = ['[data-disk-action="detach"]', '[data-stat="errors"]', '[data-stat="flushes"]'].map((s) => document.querySelector(s)!.getBoundingClientRect().right);
    return { paneScroll: pane.scrollWidth - pane.clientWidth, outside: cells.filter((r) => r > right + 0.5).length };
  });
  expect(fit).toEqual({ paneScroll: 0, outside: 0 });
  await removeVm(page, 'row-vm');
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'row.qcow2' });
  });
  expect(errors).toEqual([]);
});
