// The compare view's Disk list and the Disks view's Attach form, as the New VM form already was: an
// image the host cannot open (a damaged qcow2) is listed, off, under "cannot be used" with the
// reason, and a 5-byte raw image is explained under the list. Before, the compare view offered the
// damaged image and gave the host's refusal only after Run, and the Attach form left it out without
// a word (only the image table above said why). An image larger than a comparison copies (64 MiB) is
// off in the compare view with the reason the host gives after Run, and on in the Attach form.
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Locator } from '@playwright/test';
import { consoleText, labCall, newVm, openApp, removeVm, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

/** Checks a disk list: the damaged image off under "cannot be used" with its reason, the 5-byte one on. */
async function checkList(select: Locator): Promise<void> {
  const bad = select.locator('option[value="views-bad.qcow2"]');
  await expect(bad).toHaveCount(1);
  await expect(bad).toBeDisabled();
  await expect(bad).toHaveText(/^views-bad\.qcow2: qcow2: version \d+ is not supported \(only 2 and 3\)$/);
  await expect(select.locator('optgroup[label="cannot be used"] option[value="views-bad.qcow2"]')).toHaveCount(1);
  await expect(select.locator('option[value="views-tiny.img"]')).toBeEnabled();
}

/** The host's refusal of a comparison with views-big.img (65 MiB), the compare list's reason for it. */
const BIG_REASON = 'a comparison copies at most 64 MiB of disk into memory, the image has 68157440 bytes';

const TINY_NOTE = /^views-tiny\.img is 5 bytes, less than one 512-byte sector: the guest sees 1 sector \(512 bytes\), as on QEMU/;

test('compare and Attach list an unreadable image with its reason and explain a 5-byte one', async ({ page }, info) => {
  const ws = process.env.VMLAB_WORKSPACE!;
  // A qcow2 header whose version field is garbage: the host cannot open it.
  const bad = new Uint8Array(1024);
  bad.set([0x51, 0x46, 0x49, 0xfb, 0x62, 0x3d, 0x9a, 0x96]);
  writeFileSync(join(ws, 'views-bad.qcow2'), bad);
  writeFileSync(join(ws, 'views-tiny.img'), 'hello');
  // A sparse raw image of 65 MiB.
  const fd = openSync(join(ws, 'views-big.img'), 'w');
  ftruncateSync(fd, 65 << 20);
  closeSync(fd);
  const errors = await openApp(page);
  await labCall(page, 'fs.list', {});

  // The compare view.
  await page.locator('[data-view-tab="compare"]').click();
  const cmp = page.locator('form.cmp-form');
  await checkList(cmp.locator('select[name="disk"]'));
  // Too large for a comparison: off, with the reason the host would give after Run.
  const big = cmp.locator('select[name="disk"] optgroup[label="cannot be used"] option[value="views-big.img"]');
  await expect(big).toBeDisabled();
  await expect(big).toHaveText(`views-big.img: ${BIG_REASON}`);
  const refusal = await labCall(page, 'compare.run', { kernel: 'hello/hello.S', disks: [{ path: 'views-big.img' }] }).then(() => 'ran', (e: Error) => e.message);
  expect(refusal).toContain(`disk views-big.img: ${BIG_REASON}`);
  await expect(cmp.locator('[data-disk-note]')).toHaveCount(0);
  await cmp.locator('select[name="disk"]').selectOption('views-tiny.img');
  await expect(cmp.locator('[data-disk-note]')).toHaveText(TINY_NOTE);
  // The form keeps its columns: the long reason in the list widens no field past the view.
  const pane = (await page.locator('.view-pane').boundingBox())!;
  const formBox = (await cmp.boundingBox())!;
  expect(formBox.x + formBox.width).toBeLessThanOrEqual(pane.x + pane.width);
  expect(await page.locator('[data-view="compare"]').evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
  await shot(page, info, 'compare-disk-choices');
  await cmp.locator('select[name="disk"]').selectOption('');
  await expect(cmp.locator('[data-disk-note]')).toHaveCount(0);

  // The Disks view's Attach form, for the disk lab halted without a disk.
  await newVm(page, 'disk/disk.S', 'trap', 'views-attach');
  await expect(vmRow(page, 'views-attach').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await vmRow(page, 'views-attach').click();
  await page.locator('[data-view-tab="disks"]').click();
  const attach = page.locator('form.vm-disk-attach');
  await checkList(attach.locator('select[name="image"]'));
  // A VM takes an image of any size.
  await expect(attach.locator('select[name="image"] option[value="views-big.img"]')).toBeEnabled();
  // The long reason does not widen the list past its place in the form.
  expect((await attach.locator('select[name="image"]').boundingBox())!.width).toBeLessThanOrEqual(280);
  await attach.locator('select[name="image"]').selectOption('views-tiny.img');
  await expect(attach.locator('[data-disk-note]')).toHaveText(TINY_NOTE);
  expect(await page.locator('[data-view="disks"]').evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
  await shot(page, info, 'attach-disk-choices');
  // Attached, the guest sees the one sector the note promised, and the disk lab boots on it.
  await attach.getByRole('button', { name: 'Attach' }).click();
  await expect(page.locator('tr[data-attached="0"]')).toContainText('views-tiny.img');
  await expect(page.locator('tr[data-attached="0"]')).toContainText('512 B');
  await vmRow(page, 'views-attach').locator('[data-vm-action="run"]').click();
  await page.locator('[data-console-tab="views-attach"] button').click();
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('boot 1');
  await removeVm(page, 'views-attach');

  await labCall(page, 'fs.delete', { path: 'views-bad.qcow2' });
  await labCall(page, 'fs.delete', { path: 'views-tiny.img' });
  await labCall(page, 'fs.delete', { path: 'views-big.img' });
  expect(errors).toEqual([]);
});
