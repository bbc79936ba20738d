// The translation-cache view in web mode at 1280x720: a bt-mode VM of the traps lab, created in the
// New VM form and run to its end, lists its translated blocks with their guest-physical address,
// virtual privilege, hits and callouts (the same blocks the LabApi reports); the callout filter
// keeps the blocks whose last callout is an sret; a chained block names the block it jumps to; a block's guest
// instructions stand beside the JavaScript they became with its callout marked. A bt VM of the project's self-modifying kernel
// (test/guests/vmm/self-modify.S) shows the two stores into f in the invalidation history, each
// dropping f's block, and f translated again from its new code. A trap-mode VM has no cache.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { assemble } from '../src/engine/asm/index';
import { docShot, newVm, openApp, removeVm, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

const SMC_PATH = fileURLToPath(new URL('../test/guests/vmm/self-modify.S', import.meta.url));

const hex32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** A LabApi call from the page, as the app makes it. */
const apiCall = <T>(page: Page, method: string, params: unknown): Promise<T> => page.evaluate(async ([m, p]) => {
  const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
  return app.lab.call(m as string, p);
}, [method, params] as const) as Promise<T>;

test('bt: the translation cache of a lab, callouts marked, and the invalidations of a self-modifying kernel', async ({ page }, info) => {
  const errors = await openApp(page);
  const smc = readFileSync(SMC_PATH, 'latin1');
  await apiCall(page, 'fs.create', { path: 'bt', kind: 'dir' }).catch(() => undefined);
  await apiCall(page, 'fs.create', { path: 'bt/self-modify.S', kind: 'file' }).catch(() => undefined);
  await apiCall(page, 'fs.write', { path: 'bt/self-modify.S', text: smc });

  await newVm(page, 'traps/traps.S', 'bt', 'bt-traps');
  await expect(vmRow(page, 'bt-traps').locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
  await vmRow(page, 'bt-traps').click();
  await page.locator('[data-view-tab="translations"]').click();
  const view = page.locator('[data-view="translations"]');
  const rows = view.locator('[data-bt-block]');
  await expect(rows.first()).toBeVisible();

  // The counters and the rows are the blocks the LabApi reports for this VM.
  const id = (await apiCall<{ id: string; name: string }[]>(page, 'vm.list', {})).find((m) => m.name === 'bt-traps')!.id;
  const stats = await apiCall<{ translation: { blocks: number; calloutKinds: Record<string, number> } }>(page, 'vm.stats', { id });
  await expect(view.locator('[data-bt-counter="blocks"] b')).toHaveText(String(stats.translation.blocks));
  await expect(view.locator('[data-bt-shown]')).toHaveText(`${stats.translation.blocks} of ${stats.translation.blocks}`);
  const first = await rows.first().getAttribute('data-bt-block');
  expect(first).toMatch(/^0x8000[0-9a-f]{4}:M$/);
  // The kernel's mret, sret and CSR accesses end blocks as callouts, marked in the list.
  for (const kind of ['csr', 'mret', 'sret']) expect(stats.translation.calloutKinds[kind]).toBeGreaterThan(0);
  await expect(view.locator('[data-bt-callout="csr"]').first()).toBeVisible();
  await view.locator('[data-bt-callout-filter]').selectOption('sret');
  await expect(rows.first()).toBeVisible();
  const sretRows = await rows.count();
  expect(sretRows).toBeGreaterThan(0);
  expect(await view.locator('[data-bt-callout="sret"]').count()).toBe(sretRows);
  // The filter by address: a block's own address shows exactly that block (in S- and M-mode if both).
  await view.locator('[data-bt-callout-filter]').selectOption('all');
  await view.locator('[data-bt-filter]').fill(first!.split(':')[0]);
  await expect(rows).toHaveCount(1);
  // Text that is no address says so beside the box, and filters nothing.
  await view.locator('[data-bt-filter]').fill('zzz');
  await expect(view.locator('[data-bt-shown]')).toHaveText(/^not an address or range .*: ([\d,]+) of \1$/);
  await view.locator('[data-bt-filter]').fill('');
  await view.locator('[data-bt-callout-filter]').selectOption('sret');

  // A chained block (read from the LabApi's packed words in the page): its row and its detail name
  // the block it jumps to without a lookup, and the link shows that block.
  const chained = await page.evaluate(async (vmId) => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    const info = (await app.lab.call('vm.translations', { id: vmId })) as { blocks: Uint8Array };
    const v = new DataView(info.blocks.buffer, info.blocks.byteOffset, info.blocks.byteLength);
    for (let o = 0; o + 32 <= v.byteLength; o += 32) if (v.getUint32(o + 28, true) !== 0xffffffff) return [v.getUint32(o, true), v.getUint32(o + 8, true), v.getUint32(o + 28, true)];
    return undefined;
  }, id);
  expect(chained).toBeDefined();
  const [cGpa, cPriv, cTo] = chained!;
  await view.locator('[data-bt-callout-filter]').selectOption('all');
  await view.locator('[data-bt-filter]').fill(hex32(cGpa));
  const chainedRow = view.locator(`[data-bt-block="${hex32(cGpa)}:${cPriv === 3 ? 'M' : 'S'}"]`);
  await expect(chainedRow).toContainText(`→ ${hex32(cTo)}`);
  await chainedRow.click();
  await view.locator('[data-bt-detail] button.link').click();
  await expect(view.locator('[data-bt-filter]')).toHaveValue(hex32(cTo));
  await expect(view.locator(`[data-bt-block^="${hex32(cTo)}:"]`).first()).toBeVisible();
  await view.locator('[data-bt-filter]').fill('');
  await view.locator('[data-bt-callout-filter]').selectOption('sret');

  // The sret block: its guest code beside its generated code, the sret its callout.
  await rows.first().click();
  const insns = view.locator('[data-bt-insn]');
  await expect(insns.last()).toContainText('sret');
  await expect(insns.last().locator('[data-bt-insn-callout="sret"]')).toHaveText('callout: sret');
  await expect(insns.last().locator('.bt-js')).toContainText('c.callout(2, 270532723)');
  // Before the sret the block holds only CSR accesses it goes on after (when they change no context).
  await expect(view.locator('[data-bt-insn-callout="sret"]')).toHaveCount(1);
  const held = await view.locator('[data-bt-insn-callout]').allTextContents();
  expect(held.slice(0, -1).every((t) => t === 'callout: csr')).toBe(true);
  await expect(view.locator('.bt-history')).toHaveCount(0);
  // For the docs: the kernel's first block whose last callout is a CSR access, its code beside its translation.
  await view.locator('[data-bt-callout-filter]').selectOption('csr');
  await rows.first().click();
  await expect(view.locator('[data-bt-insn-callout="csr"]').last()).toHaveText('callout: csr');
  await view.locator('[data-bt-insn-callout="csr"]').last().scrollIntoViewIfNeeded();
  await docShot(page, info, 'translations');

  // The self-modifying kernel: two stores into f, each dropping f's block.
  await newVm(page, 'bt/self-modify.S', 'bt', 'bt-smc');
  await expect(vmRow(page, 'bt-smc').locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
  await vmRow(page, 'bt-smc').click();
  const image = assemble(smc, { file: 'self-modify.S' });
  const sym = (n: string): string => hex32(image.symbols.find((s) => s.name === n)!.address);
  const f = sym('f');
  const history = view.locator('[data-bt-invalidation]');
  await expect(history).toHaveCount(2);
  // Newest first: the second store, then the first.
  for (const [k, store] of [[0, 'store2'], [1, 'store1']] as const) {
    await expect(history.nth(k).locator('td').nth(2)).toHaveText(`guest store at pc ${sym(store)}`);
    await expect(history.nth(k).locator('td').nth(3)).toHaveText(`${f} (4 B)`);
    await expect(history.nth(k).locator('td').nth(4)).toHaveText(f);
  }
  // The newer store happened later in the guest's clock (listed first).
  const steps = (await history.locator('td:first-child').allTextContents()).map((t) => Number(t.replace(/,/g, '')));
  expect(steps[0]).toBeGreaterThan(steps[1]);
  // This kernel takes no trap: its clock counts instructions only.
  expect((await history.locator('td:nth-child(2)').allTextContents()).map((t) => Number(t.replace(/,/g, '')))).toEqual(steps);
  // Following the dropped block's address shows f, translated again from its last code.
  await history.first().locator('button.link').click();
  await expect(view.locator('[data-bt-filter]')).toHaveValue(f);
  await expect(rows).toHaveCount(1);
  await rows.first().click();
  await expect(insns.first()).toContainText('li a0,3');

  // A trap-mode VM has no translation cache.
  await newVm(page, 'traps/traps.S', 'trap', 'trap-traps');
  await vmRow(page, 'trap-traps').click();
  await expect(view.locator('[data-bt-none]')).toContainText('trap mode: it has no translation cache');
  for (const name of ['bt-traps', 'bt-smc', 'trap-traps']) await removeVm(page, name);
  expect(errors).toEqual([]);
});
