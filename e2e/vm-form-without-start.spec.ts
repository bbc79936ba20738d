// The New VM form offers the kernels of a lab workspace, and sets apart the assembly files that
// kernels include: the structure lab's lib.S, fs.S, user.S, frame.S and virtio.S define no _start
// and sat among mono.S and micro.S as kernels; chosen, lib.S ran one routine from its first line,
// returned to address 0 and crashed. They are listed under their own label, and one chosen says why
// it is apart. Before, the list held all of them as kernels (fails on the old form: no such group).
import { expect, test } from '@playwright/test';
import { openApp } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('New VM: included files apart from the kernels, under a label, with a note when chosen', async ({ page }) => {
  const errors = await openApp(page);
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  const select = form.locator('select[name="kernel"]');
  await expect(select).toHaveValue('hello/hello.S');

  const group = select.locator('optgroup[data-without-start]');
  await expect(group).toHaveAttribute('label', 'No _start: files that kernels include');
  const included = ['structure/frame.S', 'structure/fs.S', 'structure/lib.S', 'structure/user.S', 'structure/virtio.S'];
  await expect(group.locator('option')).toHaveText(included);
  const kernels = await select.locator(':scope > option').allTextContents();
  expect(kernels).toEqual(expect.arrayContaining(['structure/mono.S', 'structure/micro.S', 'traps/traps.S', 'traps/traps-pv.S']));
  for (const f of included) expect(kernels).not.toContain(f);

  await select.selectOption('structure/lib.S');
  await expect(form.locator('[data-kernel-note]')).toHaveText([
    "'structure/lib.S' defines no _start, so it starts at the beginning of its code: a source without _start is usually a file that a kernel includes (.include), not a kernel",
  ]);
  await expect(select).toHaveValue('structure/lib.S');
  expect(errors).toEqual([]);
});
