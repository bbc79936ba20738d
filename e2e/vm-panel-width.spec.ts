// The VM manager at the smallest supported window, 1280×720: a VM with a long name (the New VM form
// takes 32 characters; Restore adds "-restored") and its snapshot beside a damaged one leave every
// row's buttons inside the panel (the name is cut with an ellipsis instead), so remove, save and
// Restore stay reachable without scrolling sideways.
import { expect, test, type Page } from '@playwright/test';
import { newVm, openApp, removeVm, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

/** Buttons of the VM manager whose right edge lies past the panel's, and the panel's sideways overflow. */
const outside = (page: Page): Promise<{ buttons: string[]; overflow: number }> => page.evaluate(() => {
  const panel = document.querySelector('.vm-manager')!;
  const right = panel.getBoundingClientRect().right;
  const buttons = [...panel.querySelectorAll('button')]
    .filter((b) => b.getBoundingClientRect().right > right + 0.5)
    .map((b) => `${b.dataset.vmAction ?? b.dataset.snapshotAction ?? b.textContent} at ${Math.round(b.getBoundingClientRect().right)} > ${Math.round(right)}`);
  return { buttons, overflow: panel.scrollWidth - panel.clientWidth };
});

test('VM manager at 1280×720: long names and snapshot rows keep their buttons inside the panel', async ({ page }, info) => {
  const errors = await openApp(page);
  const name = 'a-long-name-for-a-virtual-mach-1';
  expect(name).toHaveLength(32);
  await newVm(page, 'hello/hello.S', 'trap', name);
  await newVm(page, 'traps/traps.S', 'bt', 'short');
  await expect(vmRow(page, name).locator('[data-vm-state]')).toHaveText('waiting', { timeout: 20_000 });

  await vmRow(page, name).locator('[data-vm-action="snapshot"]').click();
  await expect(page.locator(`tr[data-snapshot="snapshots/${name}-1.snap"]`)).toBeVisible();
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'snapshots/damaged.snap', text: 'not a snapshot at all' });
    // The signature, then text: a long problem.
    await app.lab.call('fs.write', { path: 'snapshots/b-text.snap', text: 'VMLABSNP but then only text, no snapshot at all' });
  });
  await expect(page.locator('tr[data-snapshot="snapshots/b-text.snap"] [data-snapshot-bad]')).toHaveText('unreadable: damaged: the VMLABSNP signature is not followed by a format version');
  await expect(page.locator('tr[data-snapshot="snapshots/damaged.snap"] [data-snapshot-bad]')).toHaveText('unreadable: not a vmlab snapshot (no VMLABSNP signature)');
  await shot(page, info, 'vm-panel-1280');

  expect(await outside(page)).toEqual({ buttons: [], overflow: 0 });
  // The name is cut, not lost: the cell holds all of it.
  await expect(vmRow(page, name).locator('.vm-name')).toHaveText(name);

  await removeVm(page, name);
  await removeVm(page, 'short');
  await page.evaluate(async (files) => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    for (const path of files) await app.lab.call('fs.delete', { path });
  }, [`snapshots/${name}-1.snap`, 'snapshots/damaged.snap', 'snapshots/b-text.snap']);
  expect(errors).toEqual([]);
});
