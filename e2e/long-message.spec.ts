// A long problem in the status bar (an assembler error quoting a long line, a refused disk size) is
// cut with an ellipsis inside the window: the panes keep their places at 1280×720 and nothing is
// pushed past the right edge; the whole text stays in the message's title. The New VM form wraps a
// long problem inside the VM manager instead of widening it.
import { expect, test, type Page } from '@playwright/test';
import { newVm, openApp, removeVm, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

/** How far the page and the right-hand panes reach past the window's right edge (0 when inside). */
const overflow = (page: Page) => page.evaluate(() => {
  const right = (sel: string): number => Math.round(document.querySelector(sel)!.getBoundingClientRect().right);
  return {
    page: document.documentElement.scrollWidth - window.innerWidth,
    app: right('.app') - window.innerWidth,
    vmManager: right('.vm-manager') - window.innerWidth,
    statusbar: right('.statusbar') - window.innerWidth,
  };
});

test('a long problem message stays inside the window at 1280×720', async ({ page }) => {
  const errors = await openApp(page);
  const before = await overflow(page);
  expect(before).toEqual({ page: 0, app: 0, vmManager: expect.any(Number), statusbar: 0 });
  expect(before.vmManager).toBeLessThanOrEqual(0);

  // The memory view names what it cannot go to: here a 400-character word.
  const word = 'q'.repeat(400);
  await page.locator('input[aria-label="Go to address"]').fill(word);
  await page.locator('input[aria-label="Go to address"]').press('Enter');
  const message = page.locator('[data-status="message"]');
  await expect(message).toHaveText(`not an address: ${word}`);
  await expect(message).toHaveAttribute('title', `not an address: ${word}`);
  const after = await overflow(page);
  expect(after.page).toBeLessThanOrEqual(0);
  expect(after.app).toBeLessThanOrEqual(0);
  expect(after.statusbar).toBeLessThanOrEqual(0);
  expect(after.vmManager).toBeLessThanOrEqual(0);
  await expect(page.locator('[data-status="dismiss"]')).toBeInViewport();
  await page.locator('[data-status="dismiss"]').click();
  await expect(message).toHaveText('');

  // The New VM form's problem wraps in the form: a kernel whose one line is a 3000-character word.
  await page.evaluate(async (text) => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'long-word.S', text });
    await app.refreshFiles();
  }, `${'x'.repeat(3000)}\n`);
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('long-word.S');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.locator('[data-form-error]')).toContainText('does not assemble');
  const inForm = await overflow(page);
  expect(inForm.page).toBeLessThanOrEqual(0);
  expect(inForm.app).toBeLessThanOrEqual(0);
  expect(inForm.vmManager).toBeLessThanOrEqual(0);
  const [problemRight, formRight] = await page.evaluate(() => ['[data-form-error]', 'form.vm-form'].map((s) => Math.round(document.querySelector(s)!.getBoundingClientRect().right)));
  expect(problemRight).toBeLessThanOrEqual(formRight);
  await form.getByRole('button', { name: 'Cancel' }).click();
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'long-word.S' });
    await app.refreshFiles();
  });
  expect(errors).toEqual([]);
});

test('a crashed VM\'s long state in the status bar is cut, and the line\'s end stays in the window', async ({ page }) => {
  const errors = await openApp(page);
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'bad-mtvec.S', text: '        .globl _start\n_start:\n        li t0, 0x8fff0000\n        csrw mtvec, t0\n        jr t0\n' });
    await app.refreshFiles();
  });
  await newVm(page, 'bad-mtvec.S', 'trap', 'a-vm-with-a-long-name-for-this-t');
  const row = vmRow(page, 'a-vm-with-a-long-name-for-this-t');
  await expect(row.locator('[data-vm-state]')).toHaveText('crashed', { timeout: 20_000 });
  await row.click();
  const state = page.locator('[data-status="state"]');
  await expect(state).toContainText('crashed: trap storm');
  await expect(state).toHaveAttribute('title', /crashed: trap storm: .* at pc 0x8fff0000 \(tval 0x8fff0000\)/);
  // A problem message beside it: both share the line, which ends with the cursor's line number.
  await page.locator('input[aria-label="Go to address"]').fill('z'.repeat(200));
  await page.locator('input[aria-label="Go to address"]').press('Enter');
  await expect(page.locator('[data-status="message"]')).toContainText('not an address');
  const bar = await page.locator('.statusbar').evaluate((b) => ({ overflow: b.scrollWidth - b.clientWidth, lastRight: Math.round(b.lastElementChild!.getBoundingClientRect().right), width: window.innerWidth }));
  expect(bar.overflow).toBeLessThanOrEqual(0);
  expect(bar.lastRight).toBeLessThanOrEqual(bar.width);
  await expect(page.locator('[data-status="dismiss"]')).toBeInViewport();
  await removeVm(page, 'a-vm-with-a-long-name-for-this-t');
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'bad-mtvec.S' });
    await app.lab.call('fs.delete', { path: 'bad-mtvec.elf' }).catch(() => undefined);
  });
  expect(errors).toEqual([]);
});
