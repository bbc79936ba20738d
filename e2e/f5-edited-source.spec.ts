// The hello lab's first exercise as a newcomer does it: run hello.S, edit it, press F5. Before, F5 on
// the running machine did nothing at all (▶ Run was off, no message), and on a paused one it went on
// with the old build; the edit ran only after Shift+F5 and F5. Now F5 saves the edited file and
// starts it again (▶ Run is on for it), and F5 with nothing to do says so.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { consoleText, labCall, openApp, removeMachines, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

const message = (page: Page) => page.locator('[data-status="message"]');

/** Replaces text in the editor's model, as typing would (the file becomes unsaved). */
const edit = (page: Page, from: string, to: string): Promise<void> => page.evaluate(([a, b]) => {
  const model = (window as unknown as { __vmlabEditor: { getModel(): { getValue(): string; setValue(t: string): void } } }).__vmlabEditor.getModel();
  model.setValue(model.getValue().replace(a, b));
}, [from, to] as const);

test('F5 after an edit runs the edited file, running or paused; with no edit it says what F5 would do', async ({ page }, info) => {
  const errors = await openApp(page);
  const source = join(process.env.VMLAB_WORKSPACE!, 'hello', 'hello.S');
  const original = readFileSync(source, 'utf8');
  await page.locator('[data-path="hello/hello.S"]').click();
  await page.locator('.run-config select[name="run-mode"]').selectOption('bare');
  await page.keyboard.press('F5');
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Hello from vmlab!');
  const run = page.locator('[data-action="run"]');
  await expect(run).toBeDisabled();

  // F5 on the machine as it runs the file: a message, nothing else.
  await page.keyboard.press('F5');
  await expect(message(page)).toHaveText('hello runs hello/hello.S as it is: F6 pauses it, Shift+F5 stops it; edit the file and F5 starts it again');

  // Edited while it runs: ▶ Run is on, F5 saves and runs the new text.
  await edit(page, 'Hello from vmlab!', 'Hello, edited!');
  await expect(run).toBeEnabled();
  await expect(run).toHaveAttribute('title', 'Run the edited file again (F5)');
  await page.keyboard.press('F5');
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Hello, edited!');
  expect(await consoleText(page)).not.toContain('Hello from vmlab!');
  await expect(message(page)).toHaveText('hello/hello.S was edited: F5 saved it and started hello again');
  expect(readFileSync(source, 'utf8')).toContain('Hello, edited!');
  await expect(page.locator('tr[data-vm]')).toHaveCount(1);
  await shot(page, info, 'edited-running');

  // Edited while paused (and saved with Ctrl+S first): F5 runs the new text, not the old build on.
  await page.keyboard.press('F6');
  await expect(run).toHaveAttribute('title', 'Continue (F5)');
  await edit(page, 'Hello, edited!', 'Hello, twice!');
  await page.keyboard.press('Control+s');
  await expect(page.locator('[data-tab="hello/hello.S"] .dirty-dot')).toHaveCount(0);
  await expect(run).toHaveAttribute('title', 'Run the edited file again (F5)');
  await page.keyboard.press('F5');
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Hello, twice!');
  await expect(page.locator('tr[data-vm]')).toHaveCount(1);

  await removeMachines(page);
  await labCall(page, 'fs.write', { path: 'hello/hello.S', text: original });
  expect(errors).toEqual([]);
});
