// The scenario in web mode: open hello.S, see a syntax error marked and fixed, run it, talk
// to it through the console, pause, step, edit memory, save, and find the edit after a reload.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { docShot, openApp, shot } from './support';

const consoleText = (page: Page) => page.locator('.console:not(.hidden) .xterm-rows');
const status = (page: Page, what: string) => page.locator(`[data-status="${what}"]`);
const pcLine = async (page: Page): Promise<number> => {
  const top = await page.locator('.view-overlays .pc-line').first().evaluate((el) => (el.parentElement as HTMLElement).style.top);
  return Number.parseInt(top, 10);
};

test('edit, run, talk to, pause, step and inspect the hello guest', async ({ page }, info) => {
  const errors = await openApp(page);
  await shot(page, info, '01-open');

  await page.locator('[data-path="hello/hello.S"]').click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('the first vmlab guest');
  await expect(page.locator('.outline')).toContainText('_start');

  // A syntax error on a new first line gets a marker; deleting the line clears it.
  await page.locator('.monaco-editor .view-lines').click();
  // Keys go to the editor only once it has focus (Monaco marks it `focused`).
  await expect(page.locator('.monaco-editor.focused')).toBeVisible();
  await page.keyboard.press('Control+Home');
  await page.keyboard.type('        lix a0, 5\n');
  await expect(page.locator('.monaco-editor .squiggly-error')).toBeVisible({ timeout: 10_000 });
  await expect(page.locator('.tab .err-count')).toHaveText('1');
  await expect(page.locator('.tab.active .dirty-dot')).toBeVisible();
  await page.locator('.monaco-editor .view-lines .view-line').first().hover();
  await shot(page, info, '02-syntax-error');
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Delete');
  await expect(page.locator('.monaco-editor .squiggly-error')).toHaveCount(0, { timeout: 10_000 });
  await expect(page.locator('.tab .err-count')).toHaveCount(0);

  // Run: the greeting appears; typed characters come back.
  await page.keyboard.press('F5');
  await expect(consoleText(page)).toContainText('Hello from vmlab! Type something', { timeout: 20_000 });
  await expect(status(page, 'state')).toContainText('waiting for input (wfi)');
  await page.locator('.console:not(.hidden) .xterm').click();
  await page.keyboard.type('hi vmlab');
  await page.keyboard.press('Enter');
  await expect(consoleText(page)).toContainText('hi vmlab');
  await shot(page, info, '03-running-echo');

  // Pause: registers appear. Type a key (queued, it wakes the WFI), then step twice.
  await page.keyboard.press('F6');
  await expect(status(page, 'state')).toContainText('paused');
  const pc0 = await page.locator('[data-reg="pc"]').textContent();
  await expect(page.locator('[data-reg="sp"]')).not.toHaveText('0x00000000');
  const line0 = await pcLine(page);
  await page.locator('.console:not(.hidden) .xterm').click();
  await page.keyboard.type('x');
  await page.keyboard.press('F11');
  await expect(page.locator('[data-reg="pc"]')).not.toHaveText(pc0!);
  const pc1 = await page.locator('[data-reg="pc"]').textContent();
  await expect.poll(() => pcLine(page)).not.toBe(line0);
  await page.keyboard.press('F11');
  await expect(page.locator('[data-reg="pc"]')).not.toHaveText(pc1!);
  await expect(page.locator('.reg.changed').first()).toBeVisible();
  const pcNow = (await page.locator('[data-reg="pc"]').textContent())!;
  await expect(status(page, 'pc')).toContainText(pcNow);
  await expect(page.locator('.disasm-row.current')).toHaveAttribute('data-disasm', pcNow);
  await shot(page, info, '04-paused-stepped');
  // The README's first picture (lab.png among the README's pictures, with VMLAB_SCREENSHOTS=1).
  await docShot(page, info, 'lab');

  // Edit memory: follow sp, change the first byte shown, read it back.
  await page.locator('select[aria-label="Follow register"]').selectOption('sp');
  const first = page.locator('.mem-byte').first();
  await expect(first).not.toHaveText('··');
  const addr = await first.getAttribute('data-addr');
  await first.click();
  await page.locator('.mem-edit input').fill('ab');
  await page.keyboard.press('Enter');
  await expect(page.locator(`.mem-byte[data-addr="${addr}"]`)).toHaveText('ab');
  await shot(page, info, '05-memory-edit');

  // Unsaved edits hold back a reload; after Ctrl+S the reload finds them in the file.
  await page.locator('.monaco-editor .view-lines').click();
  // Keys go to the editor only once it has focus (Monaco marks it `focused`).
  await expect(page.locator('.monaco-editor.focused')).toBeVisible();
  await page.keyboard.press('Control+Home');
  await page.keyboard.type('# edited in the e2e test\n');
  await expect(page.locator('.tab.active .dirty-dot')).toBeVisible();
  let prompted = false;
  page.once('dialog', (d) => {
    prompted = d.type() === 'beforeunload';
    void d.dismiss();
  });
  await page.reload({ timeout: 3000 }).catch(() => undefined);
  expect(prompted).toBe(true);
  await expect(page.locator('.tab.active .dirty-dot')).toBeVisible();
  await page.locator('.monaco-editor .view-lines').click();
  // Keys go to the editor only once it has focus (Monaco marks it `focused`).
  await expect(page.locator('.monaco-editor.focused')).toBeVisible();
  await page.keyboard.press('Control+s');
  await expect(page.locator('.tab.active .dirty-dot')).toHaveCount(0);
  expect(readFileSync(join(process.env.VMLAB_WORKSPACE!, 'hello', 'hello.S'), 'utf8')).toMatch(/^# edited in the e2e test\n/);
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await page.locator('[data-path="hello/hello.S"]').click();
  // The paused machine is back after the reload, so the editor shows its pc's line: go to the top.
  await expect(page.locator('.view-overlays .pc-line')).toHaveCount(1);
  await page.locator('.monaco-editor .view-lines').click();
  // Keys go to the editor only once it has focus (Monaco marks it `focused`).
  await expect(page.locator('.monaco-editor.focused')).toBeVisible();
  await page.keyboard.press('Control+Home');
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('# edited in the e2e test');
  await shot(page, info, '06-reloaded');
  expect(errors).toEqual([]);
});
