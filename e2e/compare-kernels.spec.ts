// The compare view with two kernels and a disk (issue 19): the structure lab's monolithic kernel
// and microkernel bare and in trap mode on fresh copies of one workspace image; one row per kernel
// and mode, named by kernel, with the same output as the first row and figures relative to it.
import { expect, test } from '@playwright/test';
import { openApp, shot } from './support';

test.setTimeout(180_000);

test('compare view: the monolithic kernel and the microkernel side by side', async ({ page }, info) => {
  const errors = await openApp(page);
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('disk.create', { path: 'scratch-structure.img', format: 'raw', size: 65536 });
    await app.refreshFiles();
  });
  await page.locator('[data-view-tab="compare"]').click();
  const form = page.locator('form.cmp-form');
  await form.locator('select[name="kernel"]').selectOption('structure/mono.S');
  await form.locator('select[name="kernel2"]').selectOption('structure/micro.S');
  await form.locator('select[name="disk"]').selectOption('scratch-structure.img');
  for (const m of ['emulate', 'bt', 'hw', 'pv']) {
    const box = form.locator(`input[name="mode-${m}"]`);
    if ((await box.count()) > 0) await box.uncheck();
  }
  await page.locator('[data-action="compare-run"]').click();
  const rows = page.locator('[data-compare-row]');
  await expect(rows).toHaveCount(4, { timeout: 120_000 });
  const expected = [['structure/mono.S', 'bare'], ['structure/mono.S', 'trap'], ['structure/micro.S', 'bare'], ['structure/micro.S', 'trap']];
  for (const [i, [kernel, mode]] of expected.entries()) {
    await expect(rows.nth(i)).toHaveAttribute('data-compare-kernel', kernel);
    await expect(rows.nth(i)).toHaveAttribute('data-compare-row', mode);
    await expect(rows.nth(i).locator('td').first()).toHaveText(kernel);
    await expect(rows.nth(i).locator('[data-same-output]')).toHaveText('✓ same');
  }
  const figure = (i: number, name: string) => rows.nth(i).locator(`[data-figure="${name}"]`);
  await expect(figure(0, 'instructions').locator('[data-relative]')).toHaveText('1.00×');
  await expect(figure(2, 'instructions').locator('[data-relative]')).toHaveText(/^2\.\d\d×$/);
  // The guest's traps are the kernel's own: the same bare and in trap mode, more in the microkernel.
  const traps = async (i: number) => Number((await figure(i, 'traps').textContent())!.replace(/,/g, ''));
  expect(await traps(1)).toBe(await traps(0));
  expect(await traps(3)).toBe(await traps(2));
  expect(await traps(2)).toBeGreaterThan(await traps(0));
  await expect(page.locator('th', { hasText: 'kernel' })).toHaveCount(1);
  await expect(page.locator('[data-compare-output="trap"]').first()).toContainText('Hello from the file system!');
  await shot(page, info, 'compare-kernels');
  // The image goes again, so the specs after this one (the Disks view's picture) see only their own.
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'scratch-structure.img' });
    await app.refreshFiles();
  });
  expect(errors).toEqual([]);
});
