// The VM manager in web mode: two VMs from the labs (hello in emulate mode, paging in trap mode with
// scattered placement), each console tab with its own output, one paused and its memory seen in
// guest-physical and host-physical space, and the scribble lab crashing with a reason while its
// neighbour keeps answering.
import { expect, test } from '@playwright/test';
import { consoleText, docShot, firstMemoryRow, newVm, openApp, removeVm, shot, vmRow } from './support';

test('VM manager: consoles per VM, per-VM pause, memory in three spaces, a crash', async ({ page }, info) => {
  const errors = await openApp(page);

  await newVm(page, 'hello/hello.S', 'emulate', 'hello-vm');
  await newVm(page, 'paging/paging.S', 'trap', 'paging-vm', 'scattered');
  await expect(vmRow(page, 'paging-vm')).toContainText('trap');
  await expect(vmRow(page, 'paging-vm').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });

  // Each console tab shows its own guest's output.
  await page.locator('[data-console-tab="hello-vm"] button').click();
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Hello from vmlab! Type something');
  expect(await consoleText(page)).not.toContain('paging on');
  await page.locator('[data-console-tab="paging-vm"] button').click();
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('[S] paging on: satp = 0x800800a1');
  expect(await consoleText(page)).not.toContain('Hello from vmlab');
  await expect(vmRow(page, 'hello-vm').locator('[data-vm-state]')).toHaveText('waiting');
  await shot(page, info, '01-two-vms');

  // Pause hello; its memory in guest-physical space, then the same bytes through host-physical.
  await vmRow(page, 'hello-vm').locator('[data-vm-action="pause"]').click();
  await expect(vmRow(page, 'hello-vm').locator('[data-vm-state]')).toHaveText('paused');
  await vmRow(page, 'hello-vm').click();
  await expect(page.locator('[data-status="state"]')).toContainText('hello-vm (emulate): paused');
  await expect(page.locator('select[aria-label="Address space"]')).toHaveValue('guest-physical');
  await page.locator('.mem-goto').fill('0x80000000');
  await page.keyboard.press('Enter');
  await expect(page.locator('.mem-byte').first()).toHaveAttribute('data-addr', String(0x80000000));
  await expect(page.locator('.mem-byte').first()).not.toHaveText('··');
  const guestBytes = await firstMemoryRow(page);
  await page.locator('.mem-byte').first().hover();
  const hpa = page.locator('[data-loc="host-physical"]');
  await expect(hpa).toBeVisible();
  await expect(page.locator('[data-loc="guest-physical"]')).toHaveText('gpa 0x80000000');
  await hpa.click();
  await expect(page.locator('select[aria-label="Address space"]')).toHaveValue('host-physical');
  await expect.poll(() => firstMemoryRow(page)).toEqual(guestBytes);
  await shot(page, info, '02-hello-host-physical');

  // A byte written in host-physical space is the guest's: guest-physical space shows it (then undo).
  const edit = async (value: string): Promise<void> => {
    await page.locator('.mem-byte').first().click();
    await page.locator('.mem-edit input').fill(value);
    await page.keyboard.press('Enter');
    await expect(page.locator('.mem-byte').first()).toHaveText(value);
  };
  await edit('ab');
  await page.locator('.mem-byte').first().hover();
  await page.locator('[data-loc="guest-physical"]').click();
  await expect(page.locator('select[aria-label="Address space"]')).toHaveValue('guest-physical');
  await expect(page.locator('.mem-byte').first()).toHaveText('ab');
  await edit(guestBytes[0]);

  // The paging VM (trap, scattered): the lecture's page RAM+0xa2 holds 0xcafe0001 in both spaces.
  await vmRow(page, 'paging-vm').click();
  await expect(page.locator('.reg-head')).toBeVisible();
  await page.locator('select[aria-label="Address space"]').selectOption('guest-physical');
  await page.locator('.mem-goto').fill('0x800a2000');
  await page.keyboard.press('Enter');
  await expect.poll(() => firstMemoryRow(page).then((b) => b.slice(0, 4))).toEqual(['01', '00', 'fe', 'ca']);
  await page.locator('.mem-byte').first().hover();
  await expect(page.locator('[data-loc="host-physical"]')).not.toHaveText(/0x800a2000/);
  await page.locator('[data-loc="host-physical"]').click();
  await expect.poll(() => firstMemoryRow(page).then((b) => b.slice(0, 4))).toEqual(['01', '00', 'fe', 'ca']);
  await expect(page.locator('[data-csr="satp"]')).toHaveText('0x800800a1');
  await shot(page, info, '03-paging-host-physical');

  // Scribble destroys itself: crashed, with a reason; hello, resumed, still echoes.
  await newVm(page, 'scribble/scribble.S', 'trap', 'scribble-vm');
  await expect(page.locator('[data-vm-crash="scribble-vm"]')).toContainText(/crashed: (trap storm|no instruction completed)/, { timeout: 60_000 });
  await expect(vmRow(page, 'scribble-vm').locator('[data-vm-state]')).toHaveText('crashed');
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('period 15: 16384 writes');
  await expect(page.locator('[data-stat="exits to the VMM"] .num')).not.toHaveText('0');
  await vmRow(page, 'hello-vm').locator('[data-vm-action="run"]').click();
  await page.locator('[data-console-tab="hello-vm"] button').click();
  await page.locator('.console:not(.hidden) .xterm').click();
  await page.keyboard.type('neighbour ok');
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('neighbour ok');
  await vmRow(page, 'scribble-vm').click();
  await shot(page, info, '04-scribble-crashed');

  // The README's picture: the paging guest's source, its VM selected, its memory and statistics.
  await page.locator('[data-path="paging/paging.S"]').click();
  await vmRow(page, 'paging-vm').click();
  await page.locator('[data-console-tab="paging-vm"] button').click();
  await page.locator('.memory').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.locator('.mem-byte').first().hover();
  await expect(page.locator('[data-loc="guest-physical"]')).toHaveText('gpa 0x800a2000');
  // The editor at the paging VM's current line, its scrollbars (shown a moment after it scrolled there) gone again.
  await expect(page.locator('.view-overlays .pc-line')).toHaveCount(1);
  await expect.poll(() => page.locator('.monaco-editor .scrollbar').evaluateAll((bars) => bars.every((b) => getComputedStyle(b).opacity === '0'))).toBe(true);
  await docShot(page, info, 'vm-manager');

  // Remove the VMs again; the manager follows.
  for (const name of ['scribble-vm', 'paging-vm', 'hello-vm']) {
    await removeVm(page, name);
    await expect(vmRow(page, name)).toHaveCount(0);
  }
  expect(errors).toEqual([]);
});
