// The compare view's form keeps what the user chose across a reload of the page and a switch of
// view, as the editor keeps its open files: kernels, disk, memory, step budget, CPU, firmware,
// initrd, command line, modes and console input. A chosen file deleted meanwhile falls back to the
// default, and a stored form that is garbage gives the defaults. Before, a reload showed the
// defaults again while the comparison's result stayed.
import { expect, test } from '@playwright/test';
import { labCall, openApp } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('the compare form keeps its choices across a reload and a switch of view', async ({ page }) => {
  const errors = await openApp(page);
  await labCall(page, 'fs.create', { path: 'cmp-form', kind: 'dir' });
  await labCall(page, 'fs.write', { path: 'cmp-form/spin.S', text: '.globl _start\n_start:\n  j _start\n' });
  await labCall(page, 'fs.write', { path: 'cmp-form/blank.img', text: 'not much of a disk' });
  await page.locator('[data-view-tab="compare"]').click();
  const form = page.locator('form.cmp-form');
  const field = (name: string) => form.locator(`[name="${name}"]`);
  await expect(field('kernel')).toHaveValue('traps/traps.S');

  const chosen: Record<string, string> = {
    kernel: 'cmp-form/spin.S', kernel2: 'traps/traps.S', pvKernel: 'paging/paging-pv.S', disk: 'cmp-form/blank.img',
    memory: '32', maxSteps: String(1_000_000), bios: 'sbi', initrd: 'cmp-form/blank.img',
  };
  for (const [name, value] of Object.entries(chosen)) await field(name).selectOption(value);
  await field('cpu').fill('rv32,c=off');
  await field('append').fill('console=hvc0 quiet');
  await field('input').fill('typed\nlines');
  await field('mode-emulate').uncheck();
  await field('mode-pv').check();

  const expectChosen = async (): Promise<void> => {
    for (const [name, value] of Object.entries(chosen)) await expect(field(name), name).toHaveValue(value);
    await expect(field('cpu')).toHaveValue('rv32,c=off');
    await expect(field('append')).toHaveValue('console=hvc0 quiet');
    await expect(field('input')).toHaveValue('typed\nlines');
    await expect(field('mode-emulate')).not.toBeChecked();
    await expect(field('mode-pv')).toBeChecked();
    await expect(field('mode-trap')).toBeChecked();
  };
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await expectChosen();
  await page.locator('[data-view-tab="editor"]').click();
  await page.locator('[data-view-tab="compare"]').click();
  await expectChosen();

  // A chosen kernel and disk deleted while the page is away: the defaults take their place.
  await labCall(page, 'fs.delete', { path: 'cmp-form/spin.S' });
  await labCall(page, 'fs.delete', { path: 'cmp-form/blank.img' });
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await expect(field('kernel')).toHaveValue('traps/traps.S');
  await expect(field('disk')).toHaveValue('');
  await expect(field('initrd')).toHaveValue('');
  await expect(field('kernel2')).toHaveValue('traps/traps.S');
  await expect(field('memory')).toHaveValue('32');

  // A stored form that is not one: the defaults, and no error on the page.
  await page.evaluate(() => localStorage.setItem('vmlab.compareForm', '{"kernel": 7, "mib": 3, "maxSteps": "many", "modes": {"bare": "yes", "pv": 1}, "input": null}'));
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await expect(field('kernel')).toHaveValue('traps/traps.S');
  await expect(field('memory')).toHaveValue('16');
  await expect(field('maxSteps')).toHaveValue(String(20_000_000));
  await expect(field('mode-bare')).toBeChecked();
  await expect(field('mode-pv')).not.toBeChecked();
  await expect(field('input')).toHaveValue('');

  await labCall(page, 'fs.delete', { path: 'cmp-form' });
  expect(errors).toEqual([]);
});
