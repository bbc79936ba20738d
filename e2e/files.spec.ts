// The workspace tree in web mode: create a folder and a file, write and save it, rename it, delete
// it; the host's folder follows each step.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

test('create, save, rename and delete workspace files', async ({ page }, info) => {
  const ws = process.env.VMLAB_WORKSPACE!;
  await page.goto(process.env.VMLAB_URL!);
  await expect(page.locator('.app.ready')).toBeVisible();

  await page.getByTitle('New folder').click();
  await page.keyboard.type('mine');
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-path="mine"]')).toBeVisible();

  await page.getByTitle('New file').click();
  await expect(page.locator('.tree-ask input')).toHaveValue('mine/');
  await page.keyboard.type('trap.S');
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-tab].active')).toContainText('trap.S');
  await page.locator('.monaco-editor .view-lines').click();
  // Keys go to the editor only once it has focus (Monaco marks it `focused`).
  await expect(page.locator('.monaco-editor.focused')).toBeVisible();
  await page.keyboard.type('_start: j _start');
  // Enter would accept the label completion Monaco offers for `_start`: close it first.
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Control+s');
  await expect(page.locator('[data-tab].active .dirty-dot')).toHaveCount(0);
  expect(readFileSync(join(ws, 'mine', 'trap.S'), 'utf8')).toBe('_start: j _start\n');

  await page.getByTitle('Rename').click();
  await page.locator('.tree-ask input').fill('mine/spin.S');
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-path="mine/spin.S"]')).toBeVisible();
  await expect(page.locator('[data-tab].active')).toContainText('spin.S');
  expect(existsSync(join(ws, 'mine', 'trap.S'))).toBe(false);
  await page.screenshot({ path: info.outputPath('files.png') });

  // Save As (web mode asks for a path): the edit goes to the new file, the original keeps its text.
  await page.locator('.monaco-editor .view-lines').click();
  // Keys go to the editor only once it has focus (Monaco marks it `focused`).
  await expect(page.locator('.monaco-editor.focused')).toBeVisible();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('# copy\n');
  page.once('dialog', (d) => void d.accept('mine/copy.S'));
  await page.keyboard.press('Control+Shift+s');
  await expect(page.locator('[data-path="mine/copy.S"]')).toBeVisible();
  await expect(page.locator('[data-tab].active')).toContainText('copy.S');
  await expect(page.locator('[data-tab].active .dirty-dot')).toHaveCount(0);
  expect(readFileSync(join(ws, 'mine', 'copy.S'), 'utf8')).toBe('_start: j _start\n# copy\n');
  expect(readFileSync(join(ws, 'mine', 'spin.S'), 'utf8')).toBe('_start: j _start\n');
  await page.locator('[data-path="mine/spin.S"]').click();

  page.once('dialog', (d) => void d.accept());
  await page.getByTitle('Delete').click();
  await expect(page.locator('[data-path="mine/spin.S"]')).toHaveCount(0);
  expect(existsSync(join(ws, 'mine', 'spin.S'))).toBe(false);
  // The deleted file's tab closed; the copy made by Save As stays open.
  await expect(page.locator('[data-tab]')).toHaveCount(1);
  await expect(page.locator('[data-tab]')).toContainText('copy.S');
});
