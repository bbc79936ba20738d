// The New VM form at 1280×720 is taller than the VM manager's pane, and its Create/Cancel bar stays at
// the pane's bottom. Every field must be reachable: scrolled into view, it is not under the bar, and
// the first view says that the form goes on under the bar (the bar names the fields out of sight).
// Before, Initrd, Command line and Name lay hidden under the bar with nothing to say so, and Initrd
// scrolled into view stopped under it.
import { expect, test, type Page } from '@playwright/test';
import { openApp, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

const FIELDS = ['kernel', 'mode', 'memory', 'placement', 'cpu', 'disk', 'disk-slot', 'bios', 'initrd', 'append', 'name', 'start'];

/** What the user sees at the centre of the field named `name`: 'field', 'bar' (the Create/Cancel bar) or what else is there. */
const atCentre = (page: Page, name: string): Promise<string> => page.evaluate((n) => {
  const field = document.querySelector(`form.vm-form [name="${n}"]`)!;
  const r = field.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (hit === field || (hit && field.contains(hit))) return 'field';
  if (hit?.closest('.vm-form-footer')) return 'bar';
  return hit ? `${hit.tagName.toLowerCase()}.${hit.className}` : 'nothing';
}, name);

test('New VM at 1280×720: every field scrolls into view clear of the Create/Cancel bar', async ({ page }, info) => {
  const errors = await openApp(page);
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await expect(form.locator('select[name="kernel"]')).toBeVisible();

  // The first view says that the form goes on under the bar: the bar names the fields out of sight.
  const hidden = await page.evaluate(() => {
    const bar = document.querySelector('form.vm-form .vm-form-footer')!.getBoundingClientRect();
    return [...document.querySelectorAll('form.vm-form > label')].filter((l) => l.getBoundingClientRect().bottom > bar.top + 1).length;
  });
  expect(hidden).toBeGreaterThan(0);
  const more = form.locator('[data-form-more]');
  await expect(more).toBeInViewport({ ratio: 1 });
  await expect(more).toContainText('Initrd');
  await expect(more).toContainText('Command line');
  await expect(more).toContainText('Name');
  await shot(page, info, 'vm-form-1280-top');
  // Its button scrolls to the first of them, clear of the bar.
  await more.click();
  expect(`initrd: ${await atCentre(page, 'initrd')}`).toBe('initrd: field');

  for (const name of FIELDS) {
    const field = form.locator(`[name="${name}"]`);
    await field.scrollIntoViewIfNeeded();
    await expect(field).toBeInViewport({ ratio: 1 });
    expect(`${name}: ${await atCentre(page, name)}`).toBe(`${name}: field`);
  }
  // Typing in the last text fields, with the bar in sight.
  await form.locator('input[name="append"]').fill('console=hvc0');
  await form.locator('input[name="name"]').fill('fields-vm');
  await expect(form.getByRole('button', { name: 'Create' })).toBeInViewport({ ratio: 1 });
  await shot(page, info, 'vm-form-1280-bottom');
  await form.getByRole('button', { name: 'Cancel' }).click();
  expect(errors).toEqual([]);
});
