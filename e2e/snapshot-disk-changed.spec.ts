// A snapshot whose disk image was written after it was saved (web mode, 1280x720): the disk lab
// saved after its first boot, then booted again on the same image (it writes its boot count). The
// Snapshots panel names the disk under the snapshot's row with what changed (same size, another
// SHA-256) and when it was last written, and its Restore is off with the reason, also after a
// reload. Once the image is put back as it was (copied from outside the app, the window focused
// again), the line goes and Restore makes the VM. Before, Restore stayed on and the refusal came
// only after a click.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { consoleText, openApp, removeVm, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('a snapshot whose disk changed says which disk and how, and restores only once the image is put back', async ({ page }, info) => {
  const errors = await openApp(page);
  const ws = process.env.VMLAB_WORKSPACE!;
  const call = (method: string, params: unknown): Promise<unknown> => page.evaluate(async ([m, p]) => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    return app.lab.call(m as string, p);
  }, [method, params] as const);
  await call('disk.create', { path: 'counted.img', format: 'raw', size: 1 << 20 });

  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('disk/disk.S');
  await form.locator('select[name="mode"]').selectOption('trap');
  await form.locator('select[name="memory"]').selectOption('16');
  await form.locator('select[name="disk"]').selectOption('counted.img');
  await form.locator('input[name="name"]').fill('counted');
  await form.getByRole('button', { name: 'Create' }).click();
  const vm = vmRow(page, 'counted');
  await expect(vm.locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await page.locator('[data-console-tab="counted"] button').click();
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('boot 1');

  await vm.locator('[data-vm-action="snapshot"]').click();
  const row = page.locator('tr[data-snapshot="snapshots/counted-1.snap"]');
  const restore = row.locator('[data-snapshot-action="restore"]');
  await expect(row.locator('[data-snapshot-instret]')).toBeVisible();
  await expect(row).toHaveAttribute('data-snapshot-disk-changed', 'false');
  await expect(restore).toBeEnabled();
  await expect(page.locator('[data-snapshot-disks]')).toHaveCount(0);
  // The user keeps a copy of the image as it was, as docs/snapshots.md advises.
  const image = join(ws, 'counted.img');
  copyFileSync(image, join(ws, 'counted-kept.img'));
  const kept = readFileSync(image);

  // A second boot writes the count into sector 0: same size, other bytes.
  await vm.locator('[data-vm-action="reset"]').click();
  await expect(vm.locator('[data-vm-state]')).toHaveText('paused');
  await vm.locator('[data-vm-action="run"]').click();
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('boot 2');
  await expect(vm.locator('[data-vm-state]')).toHaveText('halted');
  expect(readFileSync(image).equals(kept)).toBe(false);

  const line = page.locator('[data-snapshot-disks="snapshots/counted-1.snap"] [data-snapshot-disk="counted.img"]');
  for (const reloaded of [false, true]) {
    if (reloaded) {
      await page.reload();
      await expect(page.locator('.app.ready')).toBeVisible();
    }
    await expect(line).toContainText(/^⚠ disk counted\.img: changed since the snapshot was taken \(same size, but its SHA-256 is [0-9a-f]{12}…, was [0-9a-f]{12}…\), last written /);
    await expect(line).toBeVisible();
    await expect(row).toHaveAttribute('data-snapshot-disk-changed', 'true');
    await expect(restore).toBeDisabled();
    await expect(restore).toHaveAttribute('title', /^Cannot restore: disk counted\.img: changed since the snapshot was taken .* put the image back as it was when the snapshot was taken\.$/);
    // The note fits the panel: its right edge inside the table's.
    const [lineBox, tableBox] = await Promise.all([line.boundingBox(), row.locator('xpath=ancestor::table').boundingBox()]);
    expect(lineBox!.x + lineBox!.width).toBeLessThanOrEqual(tableBox!.x + tableBox!.width + 0.5);
  }
  await shot(page, info, '01-disk-changed');

  // The image put back from the copy, outside the app; back in the window, the list is asked again.
  await removeVm(page, 'counted');
  copyFileSync(join(ws, 'counted-kept.img'), image);
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect(page.locator('[data-snapshot-disks]')).toHaveCount(0);
  await expect(row).toHaveAttribute('data-snapshot-disk-changed', 'false');
  await expect(restore).toBeEnabled();
  await restore.click();
  await expect(vmRow(page, 'counted-restored').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await expect(page.locator('[data-snapshot-problem]')).toHaveCount(0);
  await shot(page, info, '02-restored');

  await removeVm(page, 'counted-restored');
  for (const path of ['snapshots/counted-1.snap', 'counted.img', 'counted-kept.img']) await call('fs.delete', { path });
  expect(errors).toEqual([]);
});
