// The CPU features and the source debugger in the app (issue #14, items 8 and 9): F5's run
// configuration and the New VM form take `--cpu`'s model string, so the sensitive lab runs in the
// app as its README says in each mode; breakpoints, step over and run to cursor act in VMs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { consoleText, openApp, shot, vmRow } from './support';

const LABS = fileURLToPath(new URL('../labs', import.meta.url));
const expected = (lab: string, file: string): string => readFileSync(join(LABS, lab, file), 'latin1').trimEnd();
const status = (page: Page, what: string) => page.locator(`[data-status="${what}"]`);

/** Sets F5's run configuration in the toolbar. */
async function runAs(page: Page, mode: string, cpu: string): Promise<void> {
  const config = page.locator('.run-config');
  await config.locator('select[name="run-mode"]').selectOption(mode);
  await config.locator('input[name="cpu"]').fill(cpu);
}

/** Puts the editor's cursor on a line (Monaco's Go to Line). */
async function gotoLine(page: Page, line: number): Promise<void> {
  await page.locator('.monaco-editor').click();
  await page.keyboard.press('Control+g');
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
}

/** The source line of the current machine's pc, as the editor marks it. */
const currentLine = (page: Page) => (): Promise<number | undefined> => page.evaluate(() => {
  const app = (window as unknown as { __vmlabState: { current?: { status: { pc: number }; lineOf(pc: number): number | undefined } } }).__vmlabState;
  return app.current?.lineOf(app.current.status.pc);
});

const lineOf = (lab: string, text: string): number => readFileSync(join(LABS, lab, `${lab}.S`), 'latin1').split('\n').findIndex((l) => l.startsWith(text)) + 1;

test('F5 runs the sensitive lab with Xsensitive bare, in emulate and in trap mode as its README says', async ({ page }, info) => {
  const errors = await openApp(page);
  await page.locator('[data-path="sensitive/sensitive.S"]').click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('rdpriv');

  // Without the extension the first rdpriv is an illegal instruction.
  await page.keyboard.press('F5');
  await expect(status(page, 'state')).toContainText('halted', { timeout: 20_000 });
  expect(await consoleText(page)).toContain('[S] unexpected trap, scause = 2');

  // A mistake in the model string is named where it is typed, and F5 refuses it.
  await runAs(page, 'bare', 'rv32,xsensitiv=on');
  await expect(page.locator('.run-config [data-cpu-error]')).toHaveText("unknown CPU property 'xsensitiv' (known: pmp, h, c, a, m, xsensitive)");
  await page.keyboard.press('F5');
  await expect(status(page, 'message')).toContainText("run configuration: unknown CPU property 'xsensitiv'");

  for (const [mode, file] of [['bare', 'expected-output.txt'], ['emulate', 'expected-output.txt'], ['trap', 'expected-output-trap.txt']]) {
    await runAs(page, mode, 'rv32,xsensitive=on');
    await page.keyboard.press('F5');
    await expect(status(page, 'state')).toContainText(`(${mode})`);
    await expect(status(page, 'state')).toContainText('halted', { timeout: 20_000 });
    await expect.poll(async () => (await consoleText(page)).trimEnd()).toBe(expected('sensitive', file));
    // F5 again replaces the machine of this file rather than starting a second one.
    await expect(page.locator('tr[data-vm]')).toHaveCount(1);
  }
  await shot(page, info, 'sensitive-trap');

  // The run configuration is remembered.
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  await expect(page.locator('.run-config select[name="run-mode"]')).toHaveValue('trap');
  await expect(page.locator('.run-config input[name="cpu"]')).toHaveValue('rv32,xsensitive=on');

  // The New VM form takes the same string.
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('sensitive/sensitive.S');
  await form.locator('select[name="mode"]').selectOption('emulate');
  await form.locator('input[name="cpu"]').fill('rv32,xsensitive=on');
  await form.locator('input[name="name"]').fill('sens-emu');
  await form.getByRole('button', { name: 'Create' }).click();
  await vmRow(page, 'sens-emu').click();
  await expect(vmRow(page, 'sens-emu').locator('[data-vm-state]')).toHaveText('halted', { timeout: 20_000 });
  await expect.poll(async () => (await consoleText(page)).trimEnd()).toBe(expected('sensitive', 'expected-output.txt'));
  expect(errors).toEqual([]);
});

test('breakpoints, step over and run to cursor in a trap-mode VM started with F5', async ({ page }, info) => {
  const errors = await openApp(page);
  await page.locator('[data-path="traps/traps.S"]').click();
  await expect(page.locator('.monaco-editor .view-lines')).toContainText('M-mode boot');
  await runAs(page, 'trap', 'rv32');

  // A breakpoint on the S-mode trap handler's first instruction: every ecall stops there.
  const trapLine = lineOf('traps', 's_trap:') + 1;
  await gotoLine(page, trapLine);
  await page.keyboard.press('F9');
  await expect(status(page, 'message')).toContainText(`breakpoint at traps/traps.S:${trapLine}: it acts on machines started from traps/traps.S`);
  await page.keyboard.press('F5');
  await expect(status(page, 'state')).toContainText('traps (trap): paused', { timeout: 20_000 });
  await expect(status(page, 'state')).toContainText('breakpoint');
  const handler = await page.locator('[data-reg="pc"]').textContent();
  await expect(page.locator('.disasm-row.current')).toContainText('csrrw');
  await expect(page.locator('.monaco-editor .pc-line')).toHaveCount(1);
  expect(await consoleText(page)).toContain('[S] sret to the user program');
  expect(await consoleText(page)).not.toContain('[S] ecall #1');
  await shot(page, info, 'trap-breakpoint');

  // Continue: the next ecall stops there again, after the first one's line.
  await page.keyboard.press('F5');
  await expect.poll(() => consoleText(page)).toContain('[S] ecall #1');
  await expect(status(page, 'state')).toContainText('paused');
  await expect(page.locator('[data-reg="pc"]')).toHaveText(handler!);

  // A reload shows the same breakpoint, and the host still has that one only.
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible({ timeout: 30_000 });
  await page.locator('[data-path="traps/traps.S"]').click();
  await expect(page.locator('.monaco-editor .bp-glyph')).toHaveCount(1);
  await expect(page.locator('[data-reg="pc"]')).toHaveText(handler!);

  // Run to cursor: a line further on in the handler.
  const saveLine = trapLine + 2;
  await gotoLine(page, saveLine);
  await page.keyboard.press('Control+F10');
  await expect(status(page, 'state')).toContainText('reached');
  await expect(page.locator('.disasm-row.current')).toContainText('sw');

  // Step over a call: the kernel's puts runs to its return.
  const callLine = readFileSync(join(LABS, 'traps', 'traps.S'), 'latin1').split('\n').findIndex((l, i) => i >= saveLine && /^\s+call\s+puts/.test(l)) + 1;
  await gotoLine(page, callLine);
  await page.keyboard.press('Control+F10');
  await expect(status(page, 'state')).toContainText('reached');
  const ecalls = async (): Promise<number> => (await consoleText(page)).split('[S] ecall #').length - 1;
  const printed = await ecalls();
  await page.keyboard.press('F10');
  await expect(status(page, 'state')).toContainText('(step)');
  await page.keyboard.press('F10');
  await expect(status(page, 'state')).toContainText('(reached)');
  await expect.poll(currentLine(page)).toBe(callLine + 1);
  expect(await ecalls()).toBe(printed + 1);

  // Without the breakpoint the guest runs to its end with the lab's output.
  await gotoLine(page, trapLine);
  await page.keyboard.press('F9');
  await page.keyboard.press('F5');
  await expect(status(page, 'state')).toContainText('halted', { timeout: 20_000 });
  await expect.poll(async () => (await consoleText(page)).trimEnd()).toBe(expected('traps', 'expected-output.txt'));

  // Its statistics say what they count in trap mode (issue #14, item 14).
  await page.locator('[data-view-tab="statistics"]').click();
  const label = (key: string) => page.locator(`[data-stat="${key}"] .stat-label`);
  await expect(label('tlb.hits')).toHaveAttribute('title', /physical hart's TLB served .*while this VM held the hart/);
  await expect(label('tlb.misses')).toHaveAttribute('title', /walks of the guest's own page table the VMM made in software/);
  await expect(label('shadow.fills')).toHaveAttribute('title', /shadow page-table entries built/);
  await expect(label('exits.exception8')).toHaveAttribute('title', /traps of the guest on the physical hart that came to the VMM/);
  expect(errors).toEqual([]);
});
