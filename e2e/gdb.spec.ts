// The gdb switch in the VM manager (web mode, 1280x720): on a VM of the traps lab it shows gdb's
// `target remote 127.0.0.1:PORT` line; gdb-multiarch (Debian package gdb-multiarch) connects to
// it, stops the VM at a breakpoint, and the VM manager and status bar show it paused, held by gdb,
// at that pc, the app's Run refused; after gdb detaches the VM runs to its end.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { consoleText, openApp, shot, vmRow } from './support';
import { tool } from '../test/support/tools';

test.use({ viewport: { width: 1280, height: 720 } });

test('VM manager: gdb switch, gdb holds the VM at a breakpoint, detach lets it run on', async ({ page }, info) => {
  const gdbPath = tool('gdb-multiarch');
  const errors = await openApp(page);
  // A VM created paused (the New VM form with "start it" off).
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('traps/traps.S');
  await form.locator('select[name="mode"]').selectOption('trap');
  await form.locator('select[name="memory"]').selectOption('16');
  await form.locator('input[name="name"]').fill('debugged');
  await form.locator('input[name="start"]').uncheck();
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'debugged').locator('[data-vm-state]')).toHaveText('paused', { timeout: 30_000 });

  await vmRow(page, 'debugged').locator('[data-vm-action="gdb"]').click();
  const command = page.locator('[data-vm-gdb="debugged"] [data-gdb-command]');
  await expect(command).toHaveText(/^target remote 127\.0\.0\.1:\d+$/);
  await expect(page.locator('[data-vm-gdb="debugged"] [data-gdb-attached]')).toHaveText('waiting for gdb');
  await shot(page, info, '01-gdb-on');

  const workspace = process.env.VMLAB_WORKSPACE!;
  const script = join(workspace, 'e2e-gdb.gdb');
  writeFileSync(script, ['set architecture riscv:rv32', `file ${join(workspace, 'traps/traps.elf')}`, 'set confirm off',
    (await command.textContent())!, 'break s_trap', 'continue', 'shell sleep 4', 'delete', 'detach'].join('\n') + '\n');
  const gdb = spawn(gdbPath, ['-batch', '-nx', '-x', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let transcript = '';
  gdb.stdout.on('data', (d: Buffer) => { transcript += d.toString('latin1'); });
  const ended = new Promise((resolve) => gdb.on('close', resolve));

  await expect(page.locator('[data-vm-gdb="debugged"] [data-gdb-attached]')).toHaveText('attached: gdb holds the VM', { timeout: 20_000 });
  await expect(page.locator('[data-status="state"]')).toHaveText('debugged (trap): paused (held by gdb)', { timeout: 20_000 });
  await expect.poll(() => transcript).toContain('Breakpoint 1, s_trap () at');
  const pc = /Breakpoint 1 at (0x[0-9a-f]+)/.exec(transcript)![1];
  await expect(page.locator('[data-status="pc"]')).toContainText(`pc 0x${pc.slice(2).padStart(8, '0')}`);
  await vmRow(page, 'debugged').locator('[data-vm-action="run"]').click();
  await expect(page.locator('[data-status="message"]')).toContainText('gdb is attached to it');
  await shot(page, info, '02-held-by-gdb');

  await ended;
  await expect(vmRow(page, 'debugged').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await page.locator('[data-console-tab="debugged"] button').click();
  await expect.poll(() => consoleText(page)).toContain('user program done');
  await vmRow(page, 'debugged').locator('[data-vm-action="gdb"]').click();
  await expect(page.locator('[data-vm-gdb="debugged"]')).toHaveCount(0);
  expect(errors).toEqual([]);
});
