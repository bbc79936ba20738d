// Snapshot files the host cannot read (truncated, damaged, another format version, no snapshot at
// all) put into the snapshots/ folder beside a good one: after a reload each is listed as unreadable
// with the reason and its Restore is off, while the good one restores; no file is moved or removed.
// Before, every Restore was on and the reason came only after a click.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { newVm, openApp, removeVm, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('unreadable snapshot files are listed with their reason and cannot be restored; a readable one can', async ({ page }, info) => {
  const errors = await openApp(page);
  await newVm(page, 'traps/traps.S', 'trap', 'readable');
  await expect(vmRow(page, 'readable').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await vmRow(page, 'readable').locator('[data-vm-action="snapshot"]').click();
  const good = page.locator('tr[data-snapshot="snapshots/readable-1.snap"]');
  await expect(good.locator('[data-snapshot-instret]')).toBeVisible();

  // Files put there by hand, as a user copying snapshots around might.
  const dir = join(process.env.VMLAB_WORKSPACE!, 'snapshots');
  const bytes = readFileSync(join(dir, 'readable-1.snap'));
  const flipped = Buffer.from(bytes);
  flipped[flipped.length >> 1] ^= 0x40;
  const version = Buffer.from(bytes);
  version.writeUInt32LE(2, 8);
  const bad: Record<string, [Buffer | string, string]> = {
    'cut.snap': [bytes.subarray(0, 40), `truncated: 40 bytes, the header alone needs ${16 + bytes.readUInt32LE(12) + 32}`],
    'flipped.snap': [flipped, 'checksum mismatch: the file is damaged or truncated'],
    'newer.snap': [version, 'snapshot format version 2; this vmlab reads version 1'],
    'notes.snap': ['my notes, not a snapshot', 'not a vmlab snapshot (no VMLABSNP signature)'],
  };
  for (const [name, [data]] of Object.entries(bad)) writeFileSync(join(dir, name), data);

  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  for (const [name, [data, why]] of Object.entries(bad)) {
    const row = page.locator(`tr[data-snapshot="snapshots/${name}"]`);
    await expect(row.locator('[data-snapshot-action="restore"]')).toBeDisabled();
    await expect(row.locator('[data-snapshot-bad]')).toHaveText(`unreadable: ${why}`);
    await expect(row).toHaveAttribute('data-snapshot-unreadable', 'true');
    await expect(row.locator('[data-snapshot-action="restore"]')).toHaveAttribute('title', `Cannot restore: the file is unreadable (${why})`);
    // The file stays as it was.
    expect(readFileSync(join(dir, name)).equals(Buffer.from(data))).toBe(true);
  }
  await expect(good).toHaveAttribute('data-snapshot-unreadable', 'false');
  await expect(good.locator('[data-snapshot-bad]')).toHaveCount(0);
  await shot(page, info, '01-unreadable');

  await good.locator('[data-snapshot-action="restore"]').click();
  await expect(vmRow(page, 'readable-restored').locator('[data-vm-state]')).toHaveText('halted');
  await expect(page.locator('[data-snapshot-problem]')).toHaveCount(0);
  await expect(page.locator('tr[data-vm]')).toHaveCount(2);

  await removeVm(page, 'readable-restored');
  await removeVm(page, 'readable');
  await page.evaluate(async (paths) => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    for (const path of paths) await app.lab.call('fs.delete', { path });
  }, ['readable-1.snap', ...Object.keys(bad)].map((n) => `snapshots/${n}`));
  for (const name of Object.keys(bad)) expect(existsSync(join(dir, name))).toBe(false);
  expect(errors).toEqual([]);
});
