// The page-table inspector in web mode: the paging lab in a trap-mode VM with the lecture's explicit
// placement (guest pages 0xA1, 0xA2, 0xA3 in host frames 0xC0, 0xC1, 0xC4), run to its end; the
// Page tables view shows the lecture's three tables (guest 0x01 → 0xA2, 0x02 → 0xA3; pmap 0xA1 →
// 0xC0, 0xA2 → 0xC1, 0xA3 → 0xC4; shadow 0x01 → 0xC1, 0x02 → 0xC4), translates 0x1000, 0x2000 and
// 0x3000 step by step, and a click on the result opens host memory where the guest's store landed.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { docShot, firstMemoryRow, openApp, removeMachines, removeVm, shot, vmRow } from './support';


const column = (page: Page, id: string): Locator => page.locator(`[data-column="${id}"]`);
/** The level-0 entry of a column whose input page is `input` (hex, as shown). */
const entry = (page: Page, id: string, input: string): Locator => column(page, id).locator(`.pt-row[data-level="0"][data-in="${input}"]`);

async function translate(page: Page, address: string, access = 'load', priv = '1'): Promise<Locator> {
  const box = page.locator('[data-translate]');
  await box.locator('input[name="address"]').fill(address);
  await box.locator('select[name="access"]').selectOption(access);
  await box.locator('select[name="priv"]').selectOption(priv);
  await box.getByRole('button', { name: 'Translate' }).click();
  const steps = box.locator(`.tr-steps[data-walk="${address}"]`);
  await expect(steps).toBeVisible();
  return steps;
}

test('page-table inspector: the lecture\'s three tables, translations step by step, host memory', async ({ page }, info) => {
  const errors = await openApp(page);

  // The New VM form with the lecture's explicit placement; a typo is refused with a clear message first.
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('paging/paging.S');
  await form.locator('select[name="mode"]').selectOption('trap');
  await form.locator('select[name="placement"]').selectOption('explicit');
  await form.locator('input[name="explicit"]').fill('a1:c0 a2:c1 a2:c4');
  await expect(form.locator('[data-placement-error]')).toHaveText('guest page 0xa2 is placed twice');
  await form.locator('input[name="explicit"]').fill('a1:c0 a2:c1 a3:c4');
  await expect(form.locator('[data-placement-error]')).toHaveCount(0);
  await form.locator('input[name="name"]').fill('lecture');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'lecture')).toBeVisible();
  await expect(vmRow(page, 'lecture').locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
  await vmRow(page, 'lecture').click();

  await page.locator('[data-view-tab="page-tables"]').click();
  const view = page.locator('[data-view="page-tables"]');
  await expect(view.locator('[data-satp]')).toHaveText('0x800800a1');
  await expect(view.locator('[data-hardware]')).toContainText('trap: the physical hart walks shadow: guest M-mode, paging off');

  // Guest table: root at guest page a1 (write-protected), VA pages 01 and 02 in guest pages a2 and a3.
  await expect(column(page, 'guest').locator('.pt-root')).toContainText('gpa 0x800a1000 (page a1)');
  await expect(column(page, 'guest').locator('.pt-root')).toContainText('write-protected');
  await expect(entry(page, 'guest', '01')).toHaveAttribute('data-to', 'a2');
  await expect(entry(page, 'guest', '02')).toHaveAttribute('data-to', 'a3');
  await expect(column(page, 'guest').locator('.pt-row[data-level="0"]')).toHaveCount(2);
  await expect(entry(page, 'guest', '01').locator('.pt-flags')).toHaveText('VRW···AD');
  await expect(column(page, 'guest').locator('.pt-row[data-level="1"][data-in="000"]')).toContainText('WP');
  // The shadow the hardware walks for the guest kernel: VA pages 01 and 02 straight to host frames c1 and c4.
  await expect(column(page, 'shadow').locator('.pt-title')).toContainText('Shadow table');
  await expect(page.locator('select[aria-label="Shadow table"]')).toHaveValue(/^S:/);
  await expect(entry(page, 'shadow', '01')).toHaveAttribute('data-to', 'c1');
  await expect(entry(page, 'shadow', '02')).toHaveAttribute('data-to', 'c4');
  // The pmap: 4096 entries per level-0 page are read on demand; go to guest page a1.
  await column(page, 'pmap').locator('.pt-find input').fill('a1');
  await column(page, 'pmap').locator('.pt-find input').press('Enter');
  await expect(entry(page, 'pmap', 'a1')).toHaveAttribute('data-to', 'c0');
  await expect(entry(page, 'pmap', 'a2')).toHaveAttribute('data-to', 'c1');
  await expect(entry(page, 'pmap', 'a3')).toHaveAttribute('data-to', 'c4');
  // Only the rows in view are in the page, not the 1024 entries of the expanded pmap page.
  expect(await column(page, 'pmap').locator('.pt-row').count()).toBeLessThan(120);
  await shot(page, info, '01-lecture-tables');

  // 0x1000: guest table (two levels, each PTE found through the pmap), pmap, then the shadow.
  let steps = await translate(page, '0x1000');
  await expect(steps.locator('[data-kind="head"]').first()).toHaveText('load from gva 0x00001000 as S-mode');
  await expect(steps.locator('[data-kind="summary"]')).toHaveText('→ gpa 0x800a2000 → hpa 0x800c1000');
  await expect(steps.locator('[data-kind="step"]').nth(0)).toContainText('guest table level 1, entry 0x0 at gpa 0x800a1000 = hpa 0x800c0000 = 0x20028001 V-------: points to the level-0 table at gpa 0x800a0000');
  await expect(steps.locator('[data-kind="step"]').nth(1)).toContainText('guest table level 0, entry 0x1 at gpa 0x800a0004');
  await expect(steps.locator('[data-kind="step"]').nth(1)).toContainText('0x200288c7 VRW---AD: a leaf → gpa 0x800a2000 (page a2)');
  await expect(steps.locator('[data-kind="nested"]')).toHaveCount(4);
  await expect(steps.locator('[data-kind="nested"]').nth(1)).toContainText('→ hpa 0x800c0000 (frame c0)');
  await expect(steps.locator('[data-kind="result"]').first()).toHaveText('result: hpa 0x800c1000 (host frame c1) (gpa 0x800a2000)');
  await expect(steps).toContainText('8 memory references for this translation');
  await expect(steps.locator('[data-kind="head"]').nth(1)).toHaveText('what the hardware walks: shadow: guest kernel (S), satp 0x800800a1');
  await expect(steps.locator('[data-kind="result"]').nth(1)).toContainText('the hart reaches hpa 0x800c1000 in 2 references, without a trap: the same host address');
  // The path of the walk is marked in the tables.
  await expect(entry(page, 'guest', '01')).toHaveClass(/on-path/);
  await expect(entry(page, 'shadow', '01')).toHaveClass(/on-path/);
  await expect(entry(page, 'pmap', 'a2')).toHaveClass(/on-path/);
  // The README's picture at 1920x1080, where the three tables stand side by side above the translation.
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.evaluate(() => document.querySelector('[data-view="page-tables"]')?.closest('.view-pane')?.scrollTo(0, 0));
  await docShot(page, info, 'page-tables');
  await page.setViewportSize({ width: 1440, height: 900 });
  await shot(page, info, '02-translate-0x1000');

  steps = await translate(page, '0x2000', 'store');
  await expect(steps.locator('[data-kind="step"]').nth(1)).toContainText('a leaf → gpa 0x800a3000 (page a3)');
  await expect(steps.locator('[data-kind="result"]').first()).toHaveText('result: hpa 0x800c4000 (host frame c4) (gpa 0x800a3000)');
  await expect(steps.locator('[data-kind="result"]').nth(1)).toContainText('the hart reaches hpa 0x800c4000');
  await shot(page, info, '03-translate-0x2000');

  steps = await translate(page, '0x3000');
  await expect(steps.locator('[data-kind="step"]').nth(1)).toContainText('guest table level 0, entry 0x3 at gpa 0x800a000c');
  await expect(steps.locator('[data-kind="step"]').nth(1)).toContainText('= 0x00000000 --------: not valid');
  await expect(steps.locator('[data-kind="summary"]')).toHaveText('→ load page fault (cause 13)');
  await expect(steps.locator('[data-kind="fault"]')).toHaveText('load page fault (cause 13): the entry is not valid (V = 0): nothing is mapped there. stval = 0x00003000.');
  await expect(steps.locator('[data-kind="result"]')).toHaveCount(0);
  await expect(steps).toContainText('reflects the load page fault (cause 13) to the guest\'s trap handler');
  await shot(page, info, '04-translate-0x3000');

  // Click through to host memory: frame c1 holds the value the guest stored through VA 0x1000.
  steps = await translate(page, '0x1000');
  await steps.locator('[data-kind="result"]').first().locator('.tr-addr[data-space="host-physical"]').click();
  await expect(page.locator('select[aria-label="Address space"]')).toHaveValue('host-physical');
  await expect(page.locator('.mem-byte').first()).toHaveAttribute('data-addr', String(0x800c1000));
  await expect.poll(() => firstMemoryRow(page).then((b) => b.slice(0, 4))).toEqual(['01', '00', 'fe', 'ca']);
  await expect(page.locator('[data-loc="guest-physical"]')).toHaveText('gpa 0x800a2000');
  await expect(page.locator('[data-loc="host-physical"]')).toHaveText('hpa 0x800c1000');
  // A table entry's frame opens the memory view too: the guest table's 02 → guest page a3.
  await entry(page, 'guest', '02').locator('.pt-to').click();
  await expect(page.locator('select[aria-label="Address space"]')).toHaveValue('guest-physical');
  await expect.poll(() => firstMemoryRow(page).then((b) => b.slice(0, 4))).toEqual(['02', '00', 'fe', 'ca']);
  await expect(page.locator('[data-loc="host-physical"]')).toHaveText('hpa 0x800c4000');
  await shot(page, info, '05-host-memory');

  await removeVm(page, 'lecture');
  await expect(vmRow(page, 'lecture')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('page-table inspector: emulate mode\'s combined software walk, and a bare machine\'s one table', async ({ page }, info) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(process.env.VMLAB_URL!);
  await expect(page.locator('.app.ready')).toBeVisible();
  await removeMachines(page);
  const create = async (mode: string, name: string): Promise<void> => {
    await page.locator('[data-action="new-vm"]').click();
    const form = page.locator('form.vm-form');
    await form.locator('select[name="kernel"]').selectOption('paging/paging.S');
    await form.locator('select[name="mode"]').selectOption(mode);
    if (mode !== 'bare') await form.locator('select[name="placement"]').selectOption('scattered');
    await form.locator('input[name="name"]').fill(name);
    await form.getByRole('button', { name: 'Create' }).click();
    await expect(vmRow(page, name).locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
    await vmRow(page, name).click();
  };

  // Emulate: the third column composes the guest table with the pmap, as the VMM's software walk does.
  await create('emulate', 'soft');
  await page.locator('[data-view-tab="page-tables"]').click();
  await expect(page.locator('[data-hardware]')).toHaveText('emulate: guest paging is off; the VMM maps guest-physical through the pmap in software');
  await expect(column(page, 'combined').locator('.pt-title')).toContainText('Combined (software walk)');
  await column(page, 'pmap').locator('.pt-find input').fill('a2');
  await column(page, 'pmap').locator('.pt-find input').press('Enter');
  const frame = await entry(page, 'pmap', 'a2').getAttribute('data-to');
  expect(frame).toMatch(/^[0-9a-f]{2,}$/);
  await expect(entry(page, 'guest', '01')).toHaveAttribute('data-to', 'a2');
  await expect(entry(page, 'combined', '01')).toHaveAttribute('data-to', frame!);
  // A fetch from the kernel's identity megapage: the combined column opens the megapage at that page.
  const steps = await translate(page, '0x80000010', 'fetch');
  // One guest PTE (a megapage) with its two-level pmap walk, then the pmap walk of the result.
  await expect(steps).toContainText('5 memory references for this translation: the VMM makes them in software on every TLB miss of the virtual hart.');
  await expect(steps.locator('[data-kind="step"]').first()).toContainText('a 4 MiB megapage at gpa 0x80000000');
  await expect(column(page, 'combined').locator('.pt-row.on-path[data-level="0"]')).toHaveAttribute('data-in', '80000');
  // The pmap column shows the entry that gave the result: guest page 00.
  await expect(entry(page, 'pmap', '00')).toHaveClass(/on-path/);
  await shot(page, info, '06-emulate-combined');
  await removeVm(page, 'soft');

  // Bare: one table, physical pages; a translation's result opens physical memory.
  await create('bare', 'alone');
  await expect(page.locator('[data-hardware]')).toHaveText('translation is off (M-mode or satp bare): virtual = physical');
  await expect(page.locator('.pt-col')).toHaveCount(1);
  await expect(entry(page, 'machine', '02')).toHaveAttribute('data-to', 'a3');
  const bare = await translate(page, '0x2000', 'store');
  await expect(bare.locator('[data-kind="summary"]')).toHaveText('→ pa 0x800a3000');
  await expect(bare.locator('[data-kind="nested"]')).toHaveCount(0);
  await bare.locator('[data-kind="result"] .tr-addr').click();
  await expect(page.locator('select[aria-label="Address space"]')).toHaveValue('physical');
  await expect.poll(() => firstMemoryRow(page).then((b) => b.slice(0, 4))).toEqual(['02', '00', 'fe', 'ca']);
  await expect(page.locator('[data-loc="physical"]')).toHaveText('pa 0x800a3000');
  await shot(page, info, '07-bare');
  await removeVm(page, 'alone');
  expect(errors).toEqual([]);
});

/** A bare kernel that writes a page table, turns satp on (M-mode itself never translates) and changes the table between two breakpoints. */
const CHANGING = `# The page table changes between the two breakpoints.
        .globl _start
_start:
        li      t0, 0x80100000          # root table
        li      t1, 0x80101000          # level-0 table
        li      t2, 0x20040401          # root[0] -> the level-0 table
        sw      t2, 0(t0)
        li      t2, 0x200800c7          # 0x1000 -> 0x80200000
        sw      t2, 4(t1)
        li      t2, 0x200808c7          # 0x3000 -> 0x80202000
        sw      t2, 12(t1)
        li      t2, 0x80080100          # satp: Sv32, root 0x80100000
        csrw    satp, t2
first:
        nop
        li      t2, 0x200804c7          # 0x1000 -> 0x80201000 now
        sw      t2, 4(t1)
        sw      t2, 8(t1)               # 0x2000 -> 0x80201000 as well
        sw      zero, 12(t1)            # 0x3000 unmapped
second:
        nop
1:      j       1b
`;

test('page-table inspector: entries changed since the previous pause are marked', async ({ page }, info) => {
  await page.goto(process.env.VMLAB_URL!);
  await expect(page.locator('.app.ready')).toBeVisible();
  await removeMachines(page);
  await page.evaluate(async (text) => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'changing.S', text });
    await app.refreshFiles();
  }, CHANGING);
  await page.locator('[data-path="changing.S"]').click();
  const lines = CHANGING.split('\n');
  for (const label of ['first:', 'second:']) {
    await page.locator('.monaco-editor').click();
    await page.keyboard.press('Control+g');
    await page.keyboard.type(String(lines.indexOf(label) + 2));
    await page.keyboard.press('Enter');
    await page.keyboard.press('F9');
  }
  await page.locator('[data-view-tab="page-tables"]').click();
  await page.keyboard.press('F5');
  await expect(page.locator('[data-status="state"]')).toContainText('paused', { timeout: 20_000 });
  await expect(entry(page, 'machine', '01')).toHaveAttribute('data-to', '200');
  await expect(entry(page, 'machine', '03')).toHaveAttribute('data-to', '202');
  await expect(column(page, 'machine').locator('.pt-row.changed')).toHaveCount(0);

  await page.keyboard.press('F5');
  await expect(entry(page, 'machine', '02')).toHaveAttribute('data-to', '201');
  await expect(entry(page, 'machine', '01')).toHaveAttribute('data-to', '201');
  await expect(entry(page, 'machine', '01')).toHaveClass(/changed/);
  await expect(entry(page, 'machine', '02')).toHaveClass(/changed/);
  // The entry that is gone stays one pause, struck through.
  await expect(entry(page, 'machine', '03')).toHaveClass(/removed/);
  await expect(column(page, 'machine').locator('.pt-row[data-level="1"]')).not.toHaveClass(/changed/);
  await shot(page, info, '08-changed-entries');
});
