// The Firmware and Initrd selects of the New VM form and the compare view list the files that can be
// one first (ELF or raw .bin for a firmware; cpio, images, compressed archives, initrd/initramfs
// names for an initrd) and under "other files" at the end the other files that may be a boot image
// (a kernel Image, say), never text: no README, expected output, source or configuration.
// Before, both listed every workspace file in one long list: READMEs, expected outputs, disks and
// snapshots between the firmware a student looked for; then the text files under "other files",
// all a fresh workspace had to offer.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Locator } from '@playwright/test';
import { openApp, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

/** The values a select offers outside any group, and inside its "other files" group. */
async function choices(select: Locator): Promise<{ top: string[]; other: string[] }> {
  return {
    top: await select.locator(':scope > option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
    other: await select.locator('optgroup[label="other files"] > option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
  };
}

test('Firmware and Initrd list the likely files first and the rest under "other files"', async ({ page }, info) => {
  const dir = join(process.env.VMLAB_WORKSPACE!, 'bootfiles');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fw_jump.bin'), new Uint8Array([0x6f, 0x00, 0x00, 0x00]));
  writeFileSync(join(dir, 'rootfs.cpio'), new Uint8Array(512));
  writeFileSync(join(dir, 'notes.txt'), 'not a boot image\n');
  writeFileSync(join(dir, 'Image'), new Uint8Array(64));
  const errors = await openApp(page);

  const check = async (form: Locator): Promise<void> => {
    const fw = await choices(form.locator('select[name="bios"]'));
    expect(fw.top.slice(0, 2)).toEqual(['', 'sbi']);
    expect(fw.top).toContain('bootfiles/fw_jump.bin');
    for (const f of fw.top.slice(2)) expect(f).toMatch(/\.(elf|bin)$/i);
    expect(fw.other).toContain('bootfiles/Image');
    expect(fw.other).toContain('bootfiles/rootfs.cpio');
    for (const f of [...fw.top, ...fw.other]) expect(f).not.toMatch(/\.(s|json|md|txt)$/i);

    const initrd = await choices(form.locator('select[name="initrd"]'));
    expect(initrd.top[0]).toBe('');
    expect(initrd.top).toContain('bootfiles/rootfs.cpio');
    expect(initrd.top).not.toContain('hello/README.md');
    expect(initrd.other).toContain('bootfiles/fw_jump.bin');
    expect(initrd.other).toContain('bootfiles/Image');
    for (const f of [...initrd.top, ...initrd.other]) expect(f).not.toMatch(/\.(s|json|md|txt)$/i);
    // A file under "other files" is still a choice.
    await form.locator('select[name="initrd"]').selectOption('bootfiles/Image');
    await expect(form.locator('select[name="initrd"]')).toHaveValue('bootfiles/Image');
  };

  await page.locator('[data-action="new-vm"]').click();
  const vmForm = page.locator('form.vm-form');
  await check(vmForm);
  await shot(page, info, 'vm-form');
  await vmForm.getByRole('button', { name: 'Cancel' }).click();

  await page.locator('[data-view-tab="compare"]').click();
  const cmp = page.locator('form.cmp-form');
  await check(cmp);
  await cmp.locator('select[name="initrd"]').selectOption('');
  expect(errors).toEqual([]);
});
