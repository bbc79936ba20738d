// A reload (or a page opened again) shows the editor's files as they were: the same tabs, the same
// one in front, with their text; a file deleted meanwhile is not opened again.
import { expect, test } from '@playwright/test';
import { openApp } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('a reload opens the editor\'s files again, the one shown in front', async ({ page }) => {
  const errors = await openApp(page);
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'reopen-gone.S', text: '        nop\n' });
    await app.refreshFiles();
  });
  for (const path of ['traps/traps.S', 'reopen-gone.S', 'hello/hello.S']) await page.locator(`[data-path="${path}"]`).click();
  await page.locator('[data-tab="traps/traps.S"] .tab-name').click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('traps.S');
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'reopen-gone.S' });
  });

  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await expect(page.locator('.doc-tabs [data-tab]')).toHaveCount(2);
  expect(await page.locator('.doc-tabs [data-tab]').evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-tab')))).toEqual(['traps/traps.S', 'hello/hello.S']);
  await expect(page.locator('.tab.active[data-tab="traps/traps.S"]')).toBeVisible();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('traps.S');

  // Closing a tab is remembered too.
  await page.locator('[data-tab="traps/traps.S"] .tab-close').click();
  await expect(page.locator('.tab.active[data-tab="hello/hello.S"]')).toBeVisible();
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await expect(page.locator('.doc-tabs [data-tab]')).toHaveCount(1);
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('the first vmlab guest');
  expect(errors).toEqual([]);
});
