// Firmware, initrd and command line in the app: the New VM form boots the project's own SBI
// firmware (test/guests/boot/mini-sbi.S) with its S-mode kernel (sbi-payload.S) in a trap-mode VM,
// which shuts down through SBI (halted, exit 0); the compare view runs the same boot in every mode.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { assembleFile } from '../src/cli/kernel-input';
import { consoleText, openApp, removeVm, vmRow } from './support';

const BOOT = fileURLToPath(new URL('../test/guests/boot/', import.meta.url));

test('New VM form and compare view with Firmware, Initrd and Command line', async ({ page }) => {
  const dir = join(process.env.VMLAB_WORKSPACE!, 'boot');
  mkdirSync(dir, { recursive: true });
  for (const [name, base] of [['mini-sbi', 0x8000_0000], ['sbi-payload', 0x8040_0000]] as const) {
    writeFileSync(join(dir, `${name}.elf`), assembleFile(join(BOOT, `${name}.S`), { base }).elf!);
  }
  writeFileSync(join(dir, 'initrd.img'), new Uint8Array(1024).fill(1));
  const errors = await openApp(page);

  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('boot/sbi-payload.elf');
  await form.locator('select[name="mode"]').selectOption('trap');
  await form.locator('select[name="memory"]').selectOption('64');
  await form.locator('select[name="bios"]').selectOption('boot/mini-sbi.elf');
  await form.locator('select[name="initrd"]').selectOption('boot/initrd.img');
  await form.locator('input[name="append"]').fill('console=hvc0');
  await form.locator('input[name="name"]').fill('sbi-vm');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'sbi-vm')).toBeVisible({ timeout: 20_000 });
  await expect(vmRow(page, 'sbi-vm').locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
  await page.locator('[data-console-tab="sbi-vm"] button').click();
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('payload: shutdown through SRST');
  expect(await consoleText(page)).toContain('mini-sbi: S-mode kernel at 80400000');
  await removeVm(page, 'sbi-vm');

  await page.locator('[data-view-tab="compare"]').click();
  const cmp = page.locator('form.cmp-form');
  await cmp.locator('select[name="kernel"]').selectOption('boot/sbi-payload.elf');
  await cmp.locator('select[name="memory"]').selectOption('64');
  await cmp.locator('select[name="bios"]').selectOption('boot/mini-sbi.elf');
  await cmp.locator('input[name="append"]').fill('console=hvc0');
  await page.locator('[data-action="compare-run"]').click();
  const rows = page.locator('[data-compare-row]');
  // bare and every mode that runs an unmodified guest: emulate, trap, bt, hw
  await expect(rows).toHaveCount(5, { timeout: 60_000 });
  for (const i of [0, 1, 2, 3, 4]) {
    await expect(rows.nth(i).locator('td').nth(1)).toHaveText('exit');
    await expect(rows.nth(i).locator('td').nth(2)).toHaveText('0');
    await expect(rows.nth(i).locator('[data-same-output]')).toHaveText('✓ same');
  }
  expect(errors).toEqual([]);
});
