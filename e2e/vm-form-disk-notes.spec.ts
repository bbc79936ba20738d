// The New VM form's disk list as a new user meets it: an image the host cannot open (a damaged
// qcow2) stays in the list, off, with the reason, where before it silently dropped out and only the
// Disks view said why; and a 5-byte raw image is explained under the list before Create (one sector,
// as on QEMU), then boots the disk lab with "boot 1" and grows to 512 bytes, where before the guest
// saw a disk of no sectors and said only "disk request failed".
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { consoleText, openApp, removeVm, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

const call = (page: Page, method: string, params: unknown): Promise<unknown> => page.evaluate(async ([m, p]) => {
  const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
  return app.lab.call(m as string, p);
}, [method, params] as const);

test('New VM lists an unreadable image with its reason and explains a 5-byte one before Create', async ({ page }, info) => {
  const ws = process.env.VMLAB_WORKSPACE!;
  // A qcow2 header whose version field is garbage: the host cannot open it.
  const bad = new Uint8Array(1024);
  bad.set([0x51, 0x46, 0x49, 0xfb, 0x62, 0x3d, 0x9a, 0x96]);
  writeFileSync(join(ws, 'form-bad.qcow2'), bad);
  writeFileSync(join(ws, 'form-tiny.img'), 'hello');
  const errors = await openApp(page);
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('disk/disk.S');
  await form.locator('select[name="mode"]').selectOption('trap');

  const badOption = form.locator('select[name="disk"] option[value="form-bad.qcow2"]');
  await expect(badOption).toHaveCount(1);
  await expect(badOption).toBeDisabled();
  await expect(badOption).toHaveText(/^form-bad\.qcow2: qcow2: version \d+ is not supported/);

  await expect(form.locator('[data-disk-note]')).toHaveCount(0);
  await form.locator('select[name="disk"]').selectOption('form-tiny.img');
  const note = form.locator('[data-disk-note]');
  await expect(note).toHaveText(/^form-tiny\.img is 5 bytes, less than one 512-byte sector: the guest sees 1 sector \(512 bytes\), as on QEMU/);
  await note.scrollIntoViewIfNeeded();
  await shot(page, info, 'vm-form-disk-note');

  await form.locator('input[name="name"]').fill('tiny-disk');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'tiny-disk')).toBeVisible({ timeout: 20_000 });
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('boot 1');
  expect(await consoleText(page)).not.toContain('disk request failed');
  await removeVm(page, 'tiny-disk');
  expect(statSync(join(ws, 'form-tiny.img')).size).toBe(512);

  await call(page, 'fs.delete', { path: 'form-bad.qcow2' });
  await call(page, 'fs.delete', { path: 'form-tiny.img' });
  expect(errors).toEqual([]);
});
