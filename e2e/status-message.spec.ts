// The status bar's message: what an action did goes away by itself after a while; a problem stays
// until the next action replaces it or the user dismisses it with ×. The page's clock is Playwright's
// fake one, moved forward instead of waited for.
import { expect, test } from '@playwright/test';
import { openApp } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('an action\'s message goes away by itself; a problem stays until dismissed', async ({ page }) => {
  await page.clock.install();
  const errors = await openApp(page);
  const message = page.locator('[data-status="message"]');
  const dismiss = page.locator('[data-status="dismiss"]');

  await page.locator('[data-path="hello/hello.S"]').click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('the first vmlab guest');
  await page.locator('[data-action="assemble"]').click();
  await expect(message).toHaveText('assembled hello/hello.elf');
  await expect(dismiss).toBeVisible();
  await page.clock.fastForward(10_000);
  await expect(message).toHaveText('assembled hello/hello.elf');
  await page.clock.fastForward(11_000);
  await expect(message).toHaveText('');
  await expect(dismiss).toHaveCount(0);

  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'status-bad.S', text: '  addi x1, x2\n' });
    await app.refreshFiles();
  });
  await page.locator('[data-path="status-bad.S"]').click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('addi x1, x2');
  await page.locator('[data-action="assemble"]').click();
  await expect(message).toHaveText('1 problem(s) in status-bad.S');
  await page.clock.fastForward(120_000);
  await expect(message).toHaveText('1 problem(s) in status-bad.S');
  await dismiss.click();
  await expect(message).toHaveText('');

  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'status-bad.S' });
    await app.lab.call('fs.delete', { path: 'status-bad.elf' }).catch(() => undefined);
    await app.refreshFiles();
  });
  expect(errors).toEqual([]);
});
