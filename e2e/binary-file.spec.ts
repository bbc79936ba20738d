// A binary file clicked in the workspace tree: before, the editor opened it as text (an ELF's header
// as replacement characters, a 32 MiB raw image as one line of them), and Ctrl+S wrote that text
// back over the file. Now the tree leaves it closed and the status bar says what the file is and
// where the app uses it; a text file opens as before.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { labCall, openApp, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('a binary file stays closed, named for what it is, and is left as it was', async ({ page }, info) => {
  const errors = await openApp(page);
  await labCall(page, 'asm.build', { path: 'hello/hello.S' });
  const elf = join(process.env.VMLAB_WORKSPACE!, 'hello', 'hello.elf');
  const before = readFileSync(elf);
  await labCall(page, 'disk.create', { path: 'binary-file.qcow2', format: 'qcow2', size: 1 << 20 });

  const message = page.locator('[data-status="message"]');
  await page.locator('[data-path="hello/hello.elf"]').click();
  await expect(message).toHaveText("'hello/hello.elf' is not a text file: an ELF program, which “+ New VM” and the Compare view run");
  await page.locator('[data-path="binary-file.qcow2"]').click();
  await expect(message).toHaveText("'binary-file.qcow2' is not a text file: a qcow2 disk image, which the Disks view shows");
  await expect(page.locator('[data-tab="hello/hello.elf"], [data-tab="binary-file.qcow2"]')).toHaveCount(0);
  await shot(page, info, 'binary-file');
  expect(readFileSync(elf)).toEqual(before);

  await page.locator('[data-path="hello/hello.S"]').click();
  await expect(page.locator('[data-tab="hello/hello.S"]')).toBeVisible();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('the first vmlab guest');
  await labCall(page, 'fs.delete', { path: 'binary-file.qcow2' });
  expect(errors).toEqual([]);
});
