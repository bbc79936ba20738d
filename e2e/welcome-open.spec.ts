// The editor's welcome at 1280x720 opens what it names: before, it said "try hello/hello.S" and the
// newcomer had to find the file in the tree; and with a machine selected whose source was not open
// (after a restart of the app, or in another browser) it still suggested hello.S, not where the
// machine runs. Now the name is a link, and a selected machine's source comes first.
import { expect, test } from '@playwright/test';
import { openApp, removeMachines, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('the welcome opens hello.S, and names the selected machine\'s source once the editor is empty again', async ({ page }, info) => {
  const errors = await openApp(page);
  const welcome = page.locator('.welcome');
  await expect(welcome).toHaveAttribute('data-welcome', 'source');
  await welcome.locator('[data-welcome-open]').click();
  await expect(page.locator('[data-tab="hello/hello.S"]')).toBeVisible();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('the first vmlab guest');

  await page.locator('.run-config select[name="run-mode"]').selectOption('bare');
  await page.keyboard.press('F6'); // nothing to pause yet
  await page.keyboard.press('F10'); // starts paused at _start
  await expect(page.locator('tr[data-vm="hello"]')).toBeVisible({ timeout: 20_000 });
  await page.locator('[data-tab="hello/hello.S"] .tab-close').click();
  await expect(welcome).toHaveAttribute('data-welcome', 'machine');
  await expect(welcome).toHaveText('hello runs hello/hello.S: open it to see the machine\'s current line.');
  await shot(page, info, 'welcome-machine');
  await welcome.locator('[data-welcome-open]').click();
  await expect(page.locator('[data-tab="hello/hello.S"]')).toBeVisible();
  await expect(page.locator('.pc-line')).toBeVisible();
  await removeMachines(page);
  expect(errors).toEqual([]);
});
