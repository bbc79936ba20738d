// Snapshots in the VM manager (web mode, 1280x720): a VM of the hello lab saved with its ⎙ button
// while it waits for input, listed with its mode and instruction count, restored into a new VM
// that starts paused at that count and echoes typed keys as the original does; a damaged file is
// listed as unreadable with its problem and its Restore is off.
import { expect, test } from '@playwright/test';
import { consoleText, newVm, openApp, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('VM manager: save a snapshot, restore it into a new VM that continues, refuse a damaged file', async ({ page }, info) => {
  const errors = await openApp(page);
  await newVm(page, 'hello/hello.S', 'trap', 'greeter');
  await expect(vmRow(page, 'greeter').locator('[data-vm-state]')).toHaveText('waiting', { timeout: 20_000 });
  await vmRow(page, 'greeter').locator('[data-vm-action="pause"]').click();
  await expect(vmRow(page, 'greeter').locator('[data-vm-state]')).toHaveText('paused');
  await vmRow(page, 'greeter').click();
  const instret = (await page.locator('[data-status="instret"]').textContent())!.replace(' instructions', '');

  await vmRow(page, 'greeter').locator('[data-vm-action="snapshot"]').click();
  await expect(page.locator('[data-status="message"]')).toHaveText(`greeter: saved snapshots/greeter-1.snap at ${instret} instructions`);
  const row = page.locator('tr[data-snapshot="snapshots/greeter-1.snap"]');
  await expect(row).toContainText('trap');
  await expect(row.locator('[data-snapshot-instret]')).toHaveText(instret);
  // The file tree shows the new file too.
  await expect(page.locator('.tree').getByText('greeter-1.snap')).toBeVisible();
  await shot(page, info, '01-saved');

  await row.locator('[data-snapshot-action="restore"]').click();
  await expect(vmRow(page, 'greeter-restored')).toBeVisible();
  await expect(vmRow(page, 'greeter-restored').locator('[data-vm-state]')).toHaveText('paused');
  await expect(page.locator('[data-status="state"]')).toContainText('greeter-restored (trap): paused');
  await expect(page.locator('[data-status="instret"]')).toHaveText(`${instret} instructions`);
  await page.locator('[data-console-tab="greeter-restored"] button').click();
  await expect.poll(() => consoleText(page)).toContain('[vmlab: restored from snapshots/greeter-1.snap');
  await shot(page, info, '02-restored');

  // Both go on from the same state: the same keys give the same echo in each.
  for (const name of ['greeter', 'greeter-restored']) {
    await vmRow(page, name).locator('[data-vm-action="run"]').click();
    await page.locator(`[data-console-tab="${name}"] button`).click();
    await page.locator('.console:not(.hidden) .xterm').click();
    await page.keyboard.type('snap');
    await expect.poll(() => consoleText(page)).toMatch(/snap\s*$/);
  }

  // A damaged file: listed as unreadable with its problem, its Restore off; no machine is made.
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'snapshots/broken.snap', text: 'VMLABSNP but nothing else' });
  });
  const broken = page.locator('tr[data-snapshot="snapshots/broken.snap"]');
  await expect(broken.locator('[data-snapshot-bad]')).toHaveText('unreadable: damaged: the VMLABSNP signature is not followed by a format version');
  await expect(broken.locator('[data-snapshot-action="restore"]')).toBeDisabled();
  await expect(row.locator('[data-snapshot-action="restore"]')).toBeEnabled();
  await expect(page.locator('tr[data-vm]')).toHaveCount(2);
  await shot(page, info, '03-refused');
  expect(errors).toEqual([]);
});
