// The New VM form at 1280×720, where it is taller than the VM manager's pane: Create and Cancel stay
// in sight at the pane's bottom while the fields scroll, and so does a refusal; the form starts with
// a kernel a newcomer can create as it is (the file open in the editor, else hello/hello.S), not the
// first source in the tree (disk/disk-pv.S, written for pv mode). Its Disk list has the workspace's
// images even when the Disks view was never opened.
import { expect, test, type Page } from '@playwright/test';
import { openApp, removeVm, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

/** Whether `selector` lies wholly inside the VM manager's visible part. */
const insidePane = (page: Page, selector: string): Promise<boolean> => page.evaluate((sel) => {
  const pane = document.querySelector('.vm-manager')!.getBoundingClientRect();
  const r = document.querySelector(sel)!.getBoundingClientRect();
  return r.top >= pane.top && r.bottom <= pane.bottom && r.left >= pane.left && r.right <= pane.right;
}, selector);

test('New VM at 1280×720: Create in sight, a problem beside it, and a kernel that runs as it is', async ({ page }) => {
  const errors = await openApp(page);
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await expect(form.locator('select[name="kernel"]')).toHaveValue('hello/hello.S');
  expect(await insidePane(page, 'form.vm-form button[type="submit"]')).toBe(true);
  await expect(form.getByRole('button', { name: 'Create' })).toBeInViewport({ ratio: 1 });

  // A refusal shows right above the buttons, in sight too.
  await form.locator('select[name="mode"]').selectOption('trap');
  await form.locator('select[name="placement"]').selectOption('explicit');
  await form.locator('input[name="explicit"]').fill('a1:c0 a1:c1');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.locator('[data-form-error]')).toHaveText('placement: guest page 0xa1 is placed twice');
  expect(await insidePane(page, '[data-form-error]')).toBe(true);

  await form.locator('select[name="placement"]').selectOption('contiguous');
  await form.locator('input[name="name"]').fill('first-vm');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'first-vm')).toBeVisible({ timeout: 20_000 });
  await removeVm(page, 'first-vm');

  // With a source open in the editor, the form offers that one.
  await page.locator('[data-path="traps/traps.S"]').click();
  await expect(page.locator('.tab.active[data-tab="traps/traps.S"]')).toBeVisible();
  await page.locator('[data-action="new-vm"]').click();
  await expect(page.locator('form.vm-form select[name="kernel"]')).toHaveValue('traps/traps.S');
  expect(errors).toEqual([]);
});

test('New VM offers the workspace\'s disk images before the Disks view was ever opened', async ({ page }) => {
  const errors = await openApp(page);
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('disk.create', { path: 'form-disk.qcow2', format: 'qcow2', size: 1 << 20 });
  });
  // A fresh page: nothing has read the disk list yet when the form opens.
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="mode"]').selectOption('trap');
  await expect(form.locator('select[name="disk"] option[value="form-disk.qcow2"]')).toHaveCount(1);
  await form.getByRole('button', { name: 'Cancel' }).click();
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'form-disk.qcow2' });
  });
  expect(errors).toEqual([]);
});
