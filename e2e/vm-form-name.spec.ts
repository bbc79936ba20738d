// The New VM form's Name at 1280x720: a name the host will refuse is named as it is typed, with the
// character it does not allow. Before, the form said nothing until Create, and then the host's
// request schema in its own words: "vm.create: name: a name of 1-32 letters, digits, _ . -".
import { expect, test } from '@playwright/test';
import { openApp, removeVm, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('a VM name with a space is named as it is typed, and Create says the same', async ({ page }, info) => {
  const errors = await openApp(page);
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('hello/hello.S');
  await form.locator('select[name="mode"]').selectOption('emulate');
  const name = form.locator('input[name="name"]');
  await name.fill('my vm');
  const nameError = form.locator('[data-name-error]');
  await expect(nameError).toHaveText('a name of 1-32 letters, digits, _ . - (not a space)');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  // Scrolled to its end, as a user scrolls the pane to reach Name (the footer with Create sticks to the pane's bottom).
  await form.evaluate((el) => {
    for (let p: Element | null = el; p; p = p.parentElement) if (p.scrollHeight > p.clientHeight) p.scrollTop = p.scrollHeight;
  });
  await expect(nameError).toBeInViewport();
  await shot(page, info, 'name-typed');

  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.locator('[data-form-error]')).toHaveText('name: a name of 1-32 letters, digits, _ . - (not a space)');
  await expect(vmRow(page, 'my vm')).toHaveCount(0);

  await name.fill('my-vm');
  await expect(nameError).toHaveCount(0);
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'my-vm')).toBeVisible({ timeout: 20_000 });
  await removeVm(page, 'my-vm');
  expect(errors).toEqual([]);
});
