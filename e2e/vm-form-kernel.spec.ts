// The New VM form says what a kernel is before Create: a raw (non-ELF) image gets a warning with the
// address it is loaded and started at (the start of RAM; 0x80400000 under the built-in SBI and in
// pv mode, as docs/machine.md says), a text file or bytes that are no instructions get a warning
// too, a kernel written for pv mode in another mode (and the reverse) is flagged, and such a legal
// combination still creates its VM. An ELF vmlab cannot load is named in the form before Create,
// and Create refuses it naming the file, with the form left open. Before, none of this was said:
// the VMs crashed later ("stuck in a loop of traps at pc 0x0") and a bad ELF's refusal did not name
// the kernel. A page reload shows the same notes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { openApp, removeVm, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('New VM: a raw kernel\'s load address, text and pv kernels flagged, a bad ELF refused by name', async ({ page }, info) => {
  const ws = process.env.VMLAB_WORKSPACE!;
  // `j .` as a raw image, a text file and an x86-64 ELF header.
  writeFileSync(join(ws, 'spin.bin'), new Uint8Array([0x6f, 0x00, 0x00, 0x00]));
  writeFileSync(join(ws, 'notes.bin'), 'these are notes, not a kernel\n'.repeat(8));
  const x86 = new Uint8Array(64);
  x86.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  x86.set([2, 0, 62, 0], 16);
  writeFileSync(join(ws, 'x86.elf'), x86);

  const errors = await openApp(page);
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  const notes = form.locator('[data-kernel-note]');
  const problem = form.locator('[data-kernel-problem]');

  // The default kernel (hello/hello.S) in emulate mode: nothing to say.
  await expect(form.locator('select[name="kernel"]')).toHaveValue('hello/hello.S');
  await expect(form.locator('[data-kernel-info]')).toHaveCount(0);

  // A raw image: where it is loaded, for each boot.
  await form.locator('select[name="kernel"]').selectOption('spin.bin');
  await form.locator('select[name="mode"]').selectOption('trap');
  await expect(form.locator('[data-kernel-info]')).toHaveAttribute('data-kernel-info', 'raw');
  await expect(notes).toHaveText([
    "'spin.bin' is not an ELF file: it is loaded as a raw image of 4 bytes at 0x80000000 (the start of RAM, as QEMU's -kernel without firmware) and started there",
  ]);
  await form.locator('select[name="bios"]').selectOption('sbi');
  await expect(notes.first()).toContainText('at 0x80400000 (where QEMU puts a kernel behind OpenSBI, for the built-in SBI)');
  await form.locator('select[name="bios"]').selectOption('');
  await form.locator('select[name="mode"]').selectOption('pv');
  await expect(notes.first()).toContainText('at 0x80400000 (where a pv kernel boots, behind the VMM\'s SBI)');
  await expect(notes.nth(1)).toContainText('pv mode runs kernels written for its hypercalls');
  await expect(problem).toHaveCount(0);
  await shot(page, info, 'new-vm-raw-kernel-pv');

  // A warning, not a refusal: the raw image boots in trap mode and spins at 0x80000000.
  await form.locator('select[name="mode"]').selectOption('trap');
  await form.locator('input[name="name"]').fill('spin');
  await form.locator('input[name="start"]').uncheck();
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'spin')).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('form.vm-form')).toHaveCount(0);
  await removeVm(page, 'spin');

  // Text where code is expected; a pv kernel in emulate mode.
  await page.locator('[data-action="new-vm"]').click();
  await form.locator('select[name="kernel"]').selectOption('notes.bin');
  await expect(notes.nth(1)).toHaveText("'notes.bin' looks like a text file, not RISC-V code (assemble a source with a .S or .s name, or vmlab asm)");
  await form.locator('select[name="kernel"]').selectOption('disk/disk-pv.S');
  await form.locator('select[name="mode"]').selectOption('emulate');
  await expect(form.locator('[data-kernel-info]')).toHaveAttribute('data-kernel-info', 'source');
  await expect(notes).toHaveText([
    "'disk/disk-pv.S' is written for pv mode (its code calls the VMM's pv extension, a7 = 0x08564d4c): it calls the VMM by hypercalls, which nothing answers in emulate mode, so it crashes at the first one; pick mode pv",
  ]);
  await form.locator('select[name="mode"]').selectOption('pv');
  await expect(form.locator('[data-kernel-info]')).toHaveCount(0);

  // An ELF for another machine: named in the form at once, and Create refuses it by name.
  await form.locator('select[name="kernel"]').selectOption('x86.elf');
  await form.locator('select[name="mode"]').selectOption('emulate');
  const refusal = /^could not load kernel 'x86\.elf': ELF file for x86-64, not RISC-V/;
  await expect(problem).toHaveText(refusal);
  await form.locator('input[name="name"]').fill('x86');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.locator('[data-form-error]')).toHaveText(refusal);
  await expect(vmRow(page, 'x86')).toHaveCount(0);

  // A new page shows the same.
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await page.locator('[data-action="new-vm"]').click();
  await form.locator('select[name="kernel"]').selectOption('spin.bin');
  await expect(notes.first()).toContainText("'spin.bin' is not an ELF file: it is loaded as a raw image of 4 bytes at 0x80000000");
  await form.getByRole('button', { name: 'Cancel' }).click();

  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    for (const path of ['spin.bin', 'notes.bin', 'x86.elf']) await app.lab.call('fs.delete', { path });
  });
  expect(errors).toEqual([]);
});
