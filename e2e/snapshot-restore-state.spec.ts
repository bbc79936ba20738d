// Restoring a snapshot of a VM that had already ended (the traps lab run to its end) says in the
// status bar the state the new VM really has, as its row does ("halted"), not "paused".
import { expect, test } from '@playwright/test';
import { newVm, openApp, removeVm, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('Restore of an ended VM reports the state the new VM has', async ({ page }) => {
  const errors = await openApp(page);
  await newVm(page, 'traps/traps.S', 'trap', 'ended');
  await expect(vmRow(page, 'ended').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await vmRow(page, 'ended').locator('[data-vm-action="snapshot"]').click();
  const row = page.locator('tr[data-snapshot="snapshots/ended-1.snap"]');
  await row.locator('[data-snapshot-action="restore"]').click();
  await expect(vmRow(page, 'ended-restored').locator('[data-vm-state]')).toHaveText('halted');
  await expect(page.locator('[data-status="message"]')).toHaveText('ended-restored: restored from snapshots/ended-1.snap (trap), halted');

  await removeVm(page, 'ended-restored');
  await removeVm(page, 'ended');
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'snapshots/ended-1.snap' });
  });
  expect(errors).toEqual([]);
});
