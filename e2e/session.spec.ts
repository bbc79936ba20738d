// A lab that survives a reload of the page and a restart of web mode: consoles come back with their
// scrollback (each line once), the machine shown last with its registers, F5 on a file whose machine
// exists continues it (no hello-2); after a restart the VMs are there again, paused, with their
// consoles. On the way: the lecture's explicit placement after two ordinary VMs, a refused frame
// named in the New VM form, the status bar without internal ids or doubled states, and removing a VM
// only after the user confirms.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect as baseExpect, test, type Page } from '@playwright/test';
import { startServer, stopServer } from './server';
import { consoleText, newVm, openApp, removeVm, shot, vmRow } from './support';

// Web mode restarts and a page rebuilding itself take their time on a loaded machine.
const expect = baseExpect.configure({ timeout: 20_000 });
test.setTimeout(240_000);
const status = (page: Page, what: string) => page.locator(`[data-status="${what}"]`);
const tab = (page: Page, name: string) => page.locator(`[data-console-tab="${name}"] button`);
const count = (text: string, part: string): number => text.split(part).length - 1;

test('a reload keeps consoles, the selected machine and its registers, and F5 finds the file\'s machine', async ({ page }, info) => {
  const errors = await openApp(page);
  await newVm(page, 'hello/hello.S', 'emulate', 'greeter');
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Hello from vmlab! Type something');
  await page.locator('.console:not(.hidden) .xterm').click();
  await page.keyboard.type('abc');
  await expect.poll(() => consoleText(page)).toContain('abc');
  await newVm(page, 'traps/traps.S', 'trap', 'traps');
  await expect(vmRow(page, 'traps').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });

  // F5 on hello.S: a machine for the file, paused with its registers.
  await page.locator('[data-path="hello/hello.S"]').click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('the first vmlab guest');
  await page.keyboard.press('F5');
  await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Hello from vmlab! Type something');
  const launched = (await page.locator('[data-console-tab].active').getAttribute('data-console-tab'))!;
  await page.keyboard.press('F6');
  await expect(status(page, 'state')).toHaveText(new RegExp(`^${launched} \\(\\w+\\): paused$`));
  await expect(page.locator('[data-reg="sp"]')).not.toHaveText('0x00000000');
  const sp = await page.locator('[data-reg="sp"]').textContent();
  await expect(page.locator('.statusbar')).not.toContainText(/\bm\d+\b/);
  await shot(page, info, '01-before-reload');

  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible({ timeout: 30_000 });
  for (const name of ['greeter', 'traps', launched]) await expect(tab(page, name)).toBeVisible();
  // The machine shown last, paused, with the same registers.
  await expect(status(page, 'state')).toHaveText(new RegExp(`^${launched} \\(\\w+\\): paused$`));
  await expect(page.locator('[data-reg="sp"]')).toHaveText(sp!);
  await expect.poll(() => consoleText(page)).toContain('Hello from vmlab! Type something');
  expect(count(await consoleText(page), 'Hello from vmlab!')).toBe(1);
  await tab(page, 'greeter').click();
  await expect.poll(() => consoleText(page)).toContain('abc');
  expect(count(await consoleText(page), 'Hello from vmlab!')).toBe(1);
  await tab(page, 'traps').click();
  await expect.poll(() => consoleText(page)).toContain('[S] ecall #8');
  await shot(page, info, '02-after-reload');

  // F5 on the file continues its machine: no second one.
  await tab(page, launched).click();
  await page.locator('[data-path="hello/hello.S"]').click();
  // After the reload the file is read from the host again: F5 acts on it once its editor tab is the active one.
  await expect(page.locator('.tab.active[data-tab="hello/hello.S"]')).toBeVisible();
  await page.keyboard.press('F5');
  await expect(status(page, 'state')).toContainText(`${launched} `);
  await expect(status(page, 'state')).toContainText('waiting for input (wfi)');
  await expect(page.locator('tr[data-vm]')).toHaveCount(3);
  await expect(page.locator('tr[data-vm$="-2"]')).toHaveCount(0);
  expect(count(await consoleText(page), 'Hello from vmlab!')).toBe(1);
  expect(errors).toEqual([]);
});

test('a restart of web mode keeps the VMs and their consoles; the lecture\'s frames after two VMs', async ({ page }, info) => {
  const workspace = join(mkdtempSync(join(tmpdir(), 'vmlab-e2e-restart-')), 'workspace');
  let server = await startServer(workspace);
  try {
    await page.goto(server.url);
    await expect(page.locator('.app.ready')).toBeVisible({ timeout: 30_000 });
    await newVm(page, 'hello/hello.S', 'emulate', 'greeter');
    await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Hello from vmlab! Type something');
    await page.locator('.console:not(.hidden) .xterm').click();
    await page.keyboard.type('xyz');
    await expect.poll(() => consoleText(page)).toContain('xyz');
    await newVm(page, 'traps/traps.S', 'trap', 'traps');

    // The lecture's placement, after two ordinary VMs took their frames.
    const explicitVm = async (name: string): Promise<void> => {
      await page.locator('[data-action="new-vm"]').click();
      const form = page.locator('form.vm-form');
      await form.locator('select[name="kernel"]').selectOption('paging/paging.S');
      await form.locator('select[name="mode"]').selectOption('trap');
      await form.locator('select[name="memory"]').selectOption('16');
      await form.locator('select[name="placement"]').selectOption('explicit');
      await form.locator('input[name="explicit"]').fill('a1:c0 a2:c1 a3:c4');
      await form.locator('input[name="name"]').fill(name);
      await form.getByRole('button', { name: 'Create' }).click();
    };
    await explicitVm('lecture');
    await expect(vmRow(page, 'lecture')).toBeVisible();
    await expect(vmRow(page, 'lecture').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
    // The same frames again: the form stays open and names the VM that holds them.
    await explicitVm('clash');
    await expect(page.locator('[data-form-error]')).toHaveText(/host frame 0xc0 is already in use by VM lecture/);
    await expect(page.locator('form.vm-form')).toBeVisible();
    await shot(page, info, '01-frame-taken');
    await page.locator('form.vm-form').getByRole('button', { name: 'Cancel' }).click();
    await expect(vmRow(page, 'clash')).toHaveCount(0);
    await expect(page.locator('.statusbar')).not.toContainText(/\bm\d+\b/);

    await stopServer(server.child);
    server = await startServer(workspace);
    await page.goto(server.url);
    await expect(page.locator('.app.ready')).toBeVisible({ timeout: 30_000 });
    for (const name of ['greeter', 'traps', 'lecture']) await expect(vmRow(page, name).locator('[data-vm-state]')).toHaveText('paused');
    await tab(page, 'greeter').click();
    await expect.poll(() => consoleText(page)).toContain('vmlab started again: greeter was recreated');
    const before = await consoleText(page);
    expect(before).toContain('xyz');
    expect(count(before, 'Hello from vmlab!')).toBe(1);
    // It boots again from its kernel.
    await vmRow(page, 'greeter').locator('[data-vm-action="run"]').click();
    await expect.poll(async () => count(await consoleText(page), 'Hello from vmlab!'), { timeout: 20_000 }).toBe(2);
    await shot(page, info, '02-after-restart');

    // Removing asks first: dismissed, the VM stays; confirmed, it goes with its stored files.
    page.once('dialog', (d) => void d.dismiss());
    await vmRow(page, 'traps').locator('[data-vm-action="remove"]').click();
    await expect(vmRow(page, 'traps')).toBeVisible();
    expect(existsSync(join(workspace, '.vmlab', 'traps.vm.json'))).toBe(true);
    await removeVm(page, 'traps');
    await expect.poll(() => existsSync(join(workspace, '.vmlab', 'traps.vm.json'))).toBe(false);
  } finally {
    await stopServer(server.child);
  }
});
