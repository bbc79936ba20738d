// F5 runs the editor's file in the mode "Run as" names. A kernel written for pv mode (a -pv.S lab
// file) in another mode, or another kernel in pv mode, boots and then crashes at its first
// hypercall or privileged instruction; the New VM form says so under its mode, and F5's run said
// nothing. The run still goes on, and the status bar now says why it will fail.
import { expect, test, type Page } from '@playwright/test';
import { openApp } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

async function runAs(page: Page, path: string, mode: string): Promise<void> {
  await page.locator(`[data-path="${path}"]`).click();
  await page.locator('select[name="run-mode"]').selectOption(mode);
  await page.locator('[data-action="run"]').click();
}

test('F5 says when the kernel is written for another mode than Run as names', async ({ page }) => {
  const errors = await openApp(page);
  const message = page.locator('[data-status="message"]');

  await runAs(page, 'paging/paging-pv.S', 'trap');
  await expect(message).toContainText("run as trap: 'paging/paging-pv.S' is written for pv mode");
  await page.locator('[data-action="stop"]').click();

  await runAs(page, 'hello/hello.S', 'pv');
  await expect(message).toContainText('run as pv: pv mode runs kernels written for its hypercalls');
  await page.locator('[data-action="stop"]').click();

  // The right pairs say nothing of the kind.
  await runAs(page, 'paging/paging-pv.S', 'pv');
  await expect(page.locator('.console:not(.hidden) .xterm-rows')).toContainText('paging on');
  await expect(message).not.toContainText('run as');
  await page.locator('[data-action="stop"]').click();
  await runAs(page, 'hello/hello.S', 'bare');
  await expect(page.locator('.console:not(.hidden) .xterm-rows')).toContainText('Hello from vmlab');
  await expect(message).not.toContainText('run as');
  expect(errors).toEqual([]);
});
