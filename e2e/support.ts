// Helpers the end-to-end specs share: opening the app with page errors collected, screenshots kept
// as test artifacts, the visible console's text, and the VM manager's rows and New VM form.
import { fileURLToPath } from 'node:url';
import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';

/** Calls the LabApi from the page as the renderer does, then has the app read the workspace's files again. */
export const labCall = (page: Page, method: string, params: unknown): Promise<unknown> => page.evaluate(async ([m, p]) => {
  const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
  const r = await app.lab.call(m as string, p);
  await app.refreshFiles();
  return r;
}, [method, params] as const);

/** Opens the app (web mode, from global-setup's URL); returns the page errors and console errors seen from then on. */
export async function openApp(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(process.env.VMLAB_URL!);
  await expect(page.locator('.app.ready')).toBeVisible();
  await removeMachines(page);
  return errors;
}

/**
 * Removes the machines an earlier spec left in the one web-mode server the specs share, so that a
 * spec starts with all host frames free (an explicit placement needs its frames).
 */
export async function removeMachines(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    const machines = (await app.lab.call('vm.list', {})) as { id: string }[];
    for (const m of machines) await app.lab.call('vm.destroy', { id: m.id });
  });
  await expect(page.locator('tr[data-vm]')).toHaveCount(0);
}

/**
 * A picture for the project's docs: saved as a test artifact (under test-results/) on every run, and
 * into docs/screenshots/NAME.png only when VMLAB_SCREENSHOTS=1 asks to refresh the docs, so a plain
 * `npm test` leaves the tracked files alone.
 */
export async function docShot(page: Page, info: TestInfo, name: string): Promise<void> {
  await shot(page, info, `docs-${name}`);
  if (process.env.VMLAB_SCREENSHOTS === '1') {
    await page.screenshot({ path: fileURLToPath(new URL(`../docs/screenshots/${name}.png`, import.meta.url)) });
  }
}

/** Saves a screenshot as a test artifact. */
export async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path });
  await info.attach(name, { path, contentType: 'image/png' });
}

/** Everything the visible console holds, scrollback included (through the app's test hook). */
export const consoleText = (page: Page): Promise<string> => page.evaluate(() => {
  const id = document.querySelector<HTMLElement>('.console:not(.hidden)')?.dataset.machine;
  type Line = { isWrapped: boolean; translateToString(trim: boolean): string };
  const hook = (window as unknown as { __vmlabTerms?: Record<string, { buffer: { active: { length: number; getLine(i: number): Line | undefined } } }> }).__vmlabTerms;
  const term = id === undefined ? undefined : hook?.[id];
  if (!term) return '';
  let text = '';
  for (let i = 0; i < term.buffer.active.length; i++) {
    const line = term.buffer.active.getLine(i);
    // A wrapped row continues the line above it, so the row before it keeps its trailing blanks.
    const continued = term.buffer.active.getLine(i + 1)?.isWrapped ?? false;
    text += (i > 0 && !line?.isWrapped ? '\n' : '') + (line?.translateToString(!continued) ?? '');
  }
  return text;
});

/** A VM's row in the VM manager. */
export const vmRow = (page: Page, name: string): Locator => page.locator(`tr[data-vm="${name}"]`);

/** Removes a machine with its row's ✕, accepting the confirmation the app asks for first. */
export async function removeVm(page: Page, name: string): Promise<void> {
  page.once('dialog', (d) => void d.accept());
  await vmRow(page, name).locator('[data-vm-action="remove"]').click();
  await expect(vmRow(page, name)).toHaveCount(0);
}

/** The 16 bytes of the memory view's first row, as shown. */
export const firstMemoryRow = (page: Page): Promise<string[]> => page.locator('.mem-row').first().locator('.mem-byte').allTextContents();

/** Creates a VM with 16 MiB through the New VM form and waits for its row. */
export async function newVm(page: Page, kernel: string, mode: string, name: string, placement?: string): Promise<void> {
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption(kernel);
  await form.locator('select[name="mode"]').selectOption(mode);
  await form.locator('select[name="memory"]').selectOption('16');
  if (placement !== undefined) await form.locator('select[name="placement"]').selectOption(placement);
  await form.locator('input[name="name"]').fill(name);
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, name)).toBeVisible({ timeout: 20_000 });
}
