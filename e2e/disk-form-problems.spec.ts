// The Disks view's forms at 1280x720 say why they refused, inside the form: before, a size of 0, a
// size over vmlab's largest disk and a path that exists already were told only in the status bar at
// the window's foot, while the form above looked as if nothing had happened. The form stays open with
// what was typed; a Create that succeeds closes it.
import { expect, test } from '@playwright/test';
import { labCall, openApp, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('the new-image and Save-as forms show their refusals inside the form', async ({ page }, info) => {
  const errors = await openApp(page);
  await labCall(page, 'disk.create', { path: 'form-taken.qcow2', format: 'qcow2', size: 1 << 20 });
  await page.locator('[data-view-tab="disks"]').click();
  await page.locator('[data-action="new-disk"]').click();
  const form = page.locator('form.disk-form');
  const problem = form.locator('[data-form-error]');
  await form.locator('input[name="path"]').fill('form-new.qcow2');

  await form.locator('input[name="size"]').fill('0');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(problem).toHaveText('size: 0 MiB is not a disk size');
  await expect(problem).toBeInViewport();
  await form.locator('input[name="size"]').fill('1e30');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(problem).toHaveText("size: 1e+30 MiB is larger than vmlab's largest disk, 64 GiB");
  // The host's refusal too.
  await form.locator('input[name="path"]').fill('form-taken.qcow2');
  await form.locator('input[name="size"]').fill('1');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(problem).toContainText("'form-taken.qcow2' exists already");
  await expect(form.locator('input[name="path"]')).toHaveValue('form-taken.qcow2');
  await shot(page, info, 'create-refused');

  // Save as onto the same name: refused in its row; then to a free name, which closes the row.
  const taken = page.locator('tr[data-disk-image="form-taken.qcow2"]');
  await form.getByRole('button', { name: 'Cancel' }).click();
  await taken.locator('[data-disk-action="save-as"]').click();
  const save = page.locator('form.disk-save');
  await save.locator('select[name="format"]').selectOption('qcow2');
  await save.locator('input[name="to"]').fill('form-taken.qcow2');
  await save.getByRole('button', { name: 'Save' }).click();
  const saveProblem = page.locator('.disk-save-row [data-form-error]');
  await expect(saveProblem).toContainText('form-taken.qcow2');
  await expect(saveProblem).toBeInViewport();
  await shot(page, info, 'save-refused');
  await save.locator('select[name="format"]').selectOption('raw');
  await save.locator('input[name="to"]').fill('form-copy.raw');
  await save.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('tr[data-disk-image="form-copy.raw"]')).toBeVisible();
  await expect(page.locator('form.disk-save')).toHaveCount(0);

  // A new image that the host makes: the form closes.
  await page.locator('[data-action="new-disk"]').click();
  await expect(form.locator('[data-form-error]')).toHaveCount(0);
  await form.locator('input[name="path"]').fill('form-new.qcow2');
  await form.locator('input[name="size"]').fill('1');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.locator('tr[data-disk-image="form-new.qcow2"]')).toBeVisible();
  await expect(form).toHaveCount(0);
  for (const path of ['form-taken.qcow2', 'form-copy.raw', 'form-new.qcow2']) await labCall(page, 'fs.delete', { path });
  expect(errors).toEqual([]);
});
