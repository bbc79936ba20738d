// The disk manager in web mode: a qcow2 image created in the Disks view, a VM made from the disk lab
// (trap mode) with that image through the New VM form, the boot count in its console, the count in
// the block view's sector 0 (read through the device while the VM is halted), a second boot that
// counts on, Save as, an overlay, Detach, and the image attached again read-only. Its picture of the
// view is docs/screenshots/disks.png (written with VMLAB_SCREENSHOTS=1; a test artifact otherwise).
import { expect, test, type Page } from '@playwright/test';
import { docShot, consoleText, openApp, removeVm, shot, vmRow } from './support';

const image = (page: Page, path: string) => page.locator(`tr[data-disk-image="${path}"]`);
/** Bytes `from`..`from + n` of the block view, as shown. */
const shownBytes = (page: Page, from: number, n: number): Promise<string[]> =>
  Promise.all(Array.from({ length: n }, (_, k) => page.locator(`[data-byte="${from + k}"]`).textContent().then((t) => t ?? '')));

test('disk manager: create an image, boot the disk lab on it twice, read the count in the block view, detach, attach read-only', async ({ page }, info) => {
  const errors = await openApp(page);

  // The Disks view; a 1 MiB qcow2 image from the create form.
  await page.locator('[data-view-tab="disks"]').click();
  await expect(page.locator('[data-view="disks"]')).toBeVisible();
  await page.locator('[data-action="new-disk"]').click();
  const form = page.locator('form.disk-form');
  await form.locator('input[name="path"]').fill('boot.qcow2');
  await form.locator('select[name="format"]').selectOption('qcow2');
  await form.locator('input[name="size"]').fill('1');
  await form.locator('select[name="unit"]').selectOption('MiB');
  await form.getByRole('button', { name: 'Create' }).click();
  const boot = image(page, 'boot.qcow2');
  await expect(boot).toBeVisible();
  await expect(boot).toContainText('qcow2');
  await expect(boot.locator('[data-col="virtual"]')).toHaveText('1 MiB');
  await expect(boot.locator('[data-col="allocated"]')).toHaveText('0 B (0%)');
  await expect(boot.locator('[data-col="attached"]')).toHaveText('—');
  // The file tree got it too (fs.changed).
  await expect(page.locator('[data-path="boot.qcow2"]')).toBeVisible();
  // A malformed request is refused with the host's message in the status bar.
  await page.locator('[data-action="new-disk"]').click();
  await form.locator('input[name="path"]').fill('boot.qcow2');
  await form.locator('input[name="size"]').fill('1');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.locator('[data-status="message"]')).toContainText("'boot.qcow2' exists already");
  await form.getByRole('button', { name: 'Cancel' }).click();
  await shot(page, info, '01-image-created');

  // A VM from the disk lab in trap mode with that disk, through the New VM form; it boots and counts 1.
  await page.locator('[data-action="new-vm"]').click();
  const vmForm = page.locator('form.vm-form');
  await vmForm.locator('select[name="kernel"]').selectOption('disk/disk.S');
  await vmForm.locator('select[name="mode"]').selectOption('trap');
  await vmForm.locator('select[name="memory"]').selectOption('16');
  await vmForm.locator('select[name="disk"]').selectOption('boot.qcow2');
  await vmForm.locator('input[name="name"]').fill('counter');
  await vmForm.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'counter')).toBeVisible();
  await expect(vmRow(page, 'counter').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await page.locator('[data-console-tab="counter"] button').click();
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('virtio-blk at 0x10008000, legacy transport (version 1)');
  expect(await consoleText(page)).toContain('boot 1');

  // The VM's disk, with the guest's requests: one read, one write, one flush.
  const disk0 = page.locator('tr[data-attached="0"]');
  await expect(disk0).toContainText('0x10008000');
  await expect(disk0).toContainText('boot.qcow2');
  await expect(disk0).toContainText('read-write');
  await expect(disk0).toContainText('legacy (v1)');
  await expect(disk0.locator('[data-stat="reads"]')).toHaveText('1');
  await expect(disk0.locator('[data-stat="writes"]')).toHaveText('1');
  await expect(disk0.locator('[data-stat="flushes"]')).toHaveText('1');
  await expect(boot.locator('[data-col="attached"]')).toHaveText('counter');
  // The VM holds the image's writer lock, the disk layer's own file, which the tree leaves out.
  await expect(page.locator('[data-path="boot.qcow2"]')).toBeVisible();
  await expect(page.locator('[data-path="boot.qcow2.lock"]')).toHaveCount(0);
  await expect(boot.locator('[data-col="allocated"]')).toHaveText('64 KiB (6%)');
  // Halted: the disk list may change, but this VM's boots are what the test is about.
  await expect(page.locator('[data-disks-why]')).toHaveCount(0);

  // Block view, sector 0 (the lab's count sector): "BOOT" and the count 1, little-endian.
  await expect(page.locator('[data-block-view]')).toBeVisible();
  await page.locator('input[name="sector"]').fill('1');
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-byte="0"]')).toHaveText('00');
  await page.locator('[data-block="prev"]').click();
  await expect(page.locator('input[name="sector"]')).toHaveValue('0');
  await expect.poll(() => shownBytes(page, 0, 8)).toEqual(['42', '4f', '4f', '54', '01', '00', '00', '00']);
  await expect(page.locator('.block-ascii').first()).toHaveText(/^BOOT/);
  await shot(page, info, '02-first-boot');

  // Reset and run: boot 2; the view re-reads the sector when the VM halts and marks the changed byte.
  await vmRow(page, 'counter').locator('[data-vm-action="reset"]').click();
  await expect(vmRow(page, 'counter').locator('[data-vm-state]')).toHaveText('paused');
  await vmRow(page, 'counter').locator('[data-vm-action="run"]').click();
  await expect(vmRow(page, 'counter').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('boot 2');
  await expect(page.locator('[data-byte="4"]')).toHaveText('02');
  await expect(page.locator('[data-byte="4"]')).toHaveClass(/changed/);
  await expect(page.locator('[data-byte="0"]')).not.toHaveClass(/changed/);
  // The counters go on across a reset: two boots, two writes.
  await expect(disk0.locator('[data-stat="writes"]')).toHaveText('2');
  await shot(page, info, '03-second-boot');

  // Save as raw: a new image with the same count in its first sector.
  await boot.locator('[data-disk-action="save-as"]').click();
  const save = page.locator('form.disk-save');
  await save.locator('input[name="to"]').fill('boot-flat.img');
  await save.locator('select[name="format"]').selectOption('raw');
  await save.getByRole('button', { name: 'Save' }).click();
  const flat = image(page, 'boot-flat.img');
  await expect(flat).toContainText('raw');
  await expect(flat.locator('[data-col="virtual"]')).toHaveText('1 MiB');
  await expect(page.locator('[data-status="message"]')).toContainText('boot.qcow2 saved as boot-flat.img (raw)');

  // An overlay on the copy: it names its backing file and takes its size from it.
  await flat.locator('[data-disk-action="overlay"]').click();
  await expect(form.locator('select[name="backing"]')).toHaveValue('boot-flat.img');
  await expect(form.locator('input[name="path"]')).toHaveValue('boot-flat-overlay.qcow2');
  await expect(form.locator('input[name="size"]')).toHaveValue('');
  await form.getByRole('button', { name: 'Create' }).click();
  const overlay = image(page, 'boot-flat-overlay.qcow2');
  await expect(overlay.locator('[data-col="backing"]')).toHaveText('boot-flat.img');
  await expect(overlay.locator('[data-col="virtual"]')).toHaveText('1 MiB');
  await expect(overlay.locator('[data-col="allocated"]')).toHaveText('0 B (0%)');

  // The README's picture: a wide window, the image table, the VM's disk and the counted sector.
  await page.setViewportSize({ width: 1760, height: 1000 });
  await page.locator('[data-console-tab="counter"] button').click();
  await expect(page.locator('[data-byte="4"]')).toHaveText('02');
  await shot(page, info, '04-disks');
  await docShot(page, info, 'disks');
  await page.setViewportSize({ width: 1440, height: 900 });

  // Detach (the VM has halted): its disk list empties and the image is free again.
  await disk0.locator('[data-disk-action="detach"]').click();
  await expect(page.locator('tr[data-attached]')).toHaveCount(0);
  await expect(page.locator('[data-block-view]')).toHaveCount(0);
  await expect(boot.locator('[data-col="attached"]')).toHaveText('—');
  await expect(vmRow(page, 'counter').locator('[data-vm-state]')).toHaveText('paused');
  await expect(page.locator('[data-status="message"]')).toContainText('counter: boot.qcow2 detached');
  // Booted without a disk, the lab says how to attach one.
  await vmRow(page, 'counter').locator('[data-vm-action="run"]').click();
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('no disk: run with --disk FILE');
  await shot(page, info, '05-detached');

  // Attach it again read-only through the form: the count is read, the write fails with IOERR.
  const attach = page.locator('form.vm-disk-attach');
  await attach.locator('select[name="image"]').selectOption('boot.qcow2');
  await attach.locator('input[name="readonly"]').check();
  await attach.locator('input[name="legacy"]').uncheck();
  await attach.getByRole('button', { name: 'Attach' }).click();
  await expect(disk0).toContainText('read-only');
  await expect(disk0).toContainText('modern (v2)');
  await expect(boot.locator('[data-col="attached"]')).toHaveText('counter (ro)');
  await vmRow(page, 'counter').locator('[data-vm-action="run"]').click();
  await expect(vmRow(page, 'counter').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('modern transport (version 2)\ndisk request failed');
  await expect(disk0.locator('[data-stat="errors"]')).toHaveText('1');
  await expect.poll(() => shownBytes(page, 0, 8)).toEqual(['42', '4f', '4f', '54', '02', '00', '00', '00']);
  await shot(page, info, '06-read-only');

  await removeVm(page, 'counter');
  await expect(vmRow(page, 'counter')).toHaveCount(0);
  expect(errors).toEqual([]);
});
