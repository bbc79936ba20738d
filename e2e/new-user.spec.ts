// A new user's first steps in an empty workspace folder (web mode copies the labs only into a folder
// that does not exist yet). Before: the editor said "try hello/hello.S", a file the workspace does
// not have, and the compare view said it wanted a kernel ".S or .elf" while it takes raw .bin kernels
// too. Now the editor says how to make a source and where the labs come from, both forms name the
// kernels they take alike (.S, .elf or .bin), and F5 on a file made without .S names that file and
// the fix, where it said "open an assembly source" with one open.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startServer, stopServer } from './server';
import { shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });
test.setTimeout(240_000);

let server: Awaited<ReturnType<typeof startServer>> | undefined;
let workspace = '';

test.beforeAll(async () => {
  // An empty folder that exists: web mode leaves it empty.
  workspace = mkdtempSync(join(tmpdir(), 'vmlab-e2e-empty-'));
  server = await startServer(workspace);
});

test.afterAll(async () => {
  if (server) await stopServer(server.child);
});

async function open(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(server!.url);
  await expect(page.locator('.app.ready')).toBeVisible({ timeout: 30_000 });
  return errors;
}

const message = (page: Page) => page.locator('[data-status="message"]');

test('an empty workspace says how to begin, and both forms name the kernels they take', async ({ page }, info) => {
  const errors = await open(page);
  const welcome = page.locator('.welcome');
  await expect(welcome).toHaveAttribute('data-welcome', 'empty');
  await expect(welcome).toContainText('no assembly source yet');
  await expect(welcome).toContainText('+file');
  await expect(welcome).not.toContainText('hello/hello.S');
  await shot(page, info, 'empty-workspace');

  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.locator('[data-form-error]')).toHaveText('the workspace has no kernel (.S, .elf or .bin) to run');
  await form.getByRole('button', { name: 'Cancel' }).click();

  await page.locator('[data-view-tab="compare"]').click();
  await expect(page.locator('.compare .hint')).toContainText('The workspace has no kernel (.S, .elf or .bin) yet.');
  await expect(page.locator('.compare .hint')).not.toContainText('traps/traps.S');
  await page.locator('[data-action="compare-run"]').click();
  await expect(message(page)).toHaveText('the workspace has no kernel (.S, .elf or .bin) to compare');
  await shot(page, info, 'compare-no-kernel');

  // A raw kernel is one the compare view takes: it is listed, and the hint no longer says none.
  writeFileSync(join(workspace, 'spin.bin'), new Uint8Array([0x6f, 0x00, 0x00, 0x00]));
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible({ timeout: 30_000 });
  await page.locator('[data-view-tab="compare"]').click();
  await expect(page.locator('form.cmp-form select[name="kernel"]')).toHaveValue('spin.bin');
  await expect(page.locator('.compare .hint')).not.toContainText('no kernel');
  await page.locator('[data-view-tab="editor"]').click();
  // Still no source: the welcome says so, and that New VM runs the .bin.
  await expect(welcome).toHaveAttribute('data-welcome', 'empty');
  await expect(welcome).toContainText('“+ New VM” runs the workspace\'s ELF and .bin kernels');
  expect(errors).toEqual([]);
});

test('F5 on a file made without .S names it and says how to make it run', async ({ page }, info) => {
  const errors = await open(page);
  await page.getByRole('button', { name: '+file' }).click();
  await page.locator('form.tree-ask input').fill('first');
  await page.keyboard.press('Enter');
  await expect(page.locator('.tab.active[data-tab="first"]')).toBeVisible();
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.type('_start: j _start\n');
  for (const key of ['F5', 'F10']) {
    await page.keyboard.press(key);
    await expect(message(page)).toHaveText("'first' is not an assembly source: only a file whose name ends in .S is assembled and run (ren renames it)");
    await page.locator('[data-status="dismiss"]').click();
  }
  await shot(page, info, 'f5-not-a-source');
  // With a source in the workspace and no file open, the welcome suggests it.
  writeFileSync(join(workspace, 'prog.S'), '.globl _start\n_start: j _start\n');
  await page.keyboard.press('Control+s');
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible({ timeout: 30_000 });
  await page.locator('.tab[data-tab="first"] .tab-close').click();
  await expect(page.locator('.welcome')).toHaveAttribute('data-welcome', 'source');
  await expect(page.locator('.welcome')).toContainText('try prog.S, then press F5');
  expect(errors).toEqual([]);
});
