// The compare, statistics and TLB views in web mode: a comparison of the traps lab bare, in emulate,
// trap and bt mode (one row per mode with the same output, charts drawn), a long comparison
// cancelled; a trap-mode VM of the traps lab whose statistics show the 8 system calls reflected
// into its kernel, and a bt-mode one whose kernel returns from them through callouts; the TLB of a paused emulate-mode VM. Its picture of the compare view is
// docs/screenshots/compare.png (written with VMLAB_SCREENSHOTS=1; a test artifact otherwise).
import { expect, test, type Locator, type Page } from '@playwright/test';
import { docShot, newVm, openApp, removeVm, shot, vmRow } from './support';

/** Whether a chart's canvas has anything drawn on it (some pixel not fully transparent). */
const drawn = (chart: Locator): Promise<boolean> => chart.locator('canvas').evaluate((c: HTMLCanvasElement) => {
  const ctx = c.getContext('2d');
  if (!ctx || c.width === 0 || c.height === 0) return false;
  const px = ctx.getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
  return false;
});

async function expectChart(page: Page, name: string): Promise<void> {
  const chart = page.locator(`[data-chart="${name}"]`);
  await expect(chart).toBeVisible();
  await expect(chart).not.toHaveAttribute('data-points', '0');
  await expect.poll(() => drawn(chart)).toBe(true);
}

// Four comparisons and four VMs: more than the default time on a loaded machine.
test.setTimeout(180_000);

test('compare view, statistics of a trap-mode VM, and the TLB of a paused VM', async ({ page }, info) => {
  const errors = await openApp(page);

  // A comparison that would run for a long time is cancelled: the running indicator goes away.
  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> }; refreshFiles(): Promise<void> } }).__vmlabState;
    await app.lab.call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n' });
    await app.refreshFiles();
  });
  await page.locator('[data-view-tab="compare"]').click();
  const form = page.locator('form.cmp-form');
  await expect(form).toBeVisible();
  await expect(form.locator('select[name="kernel"] option[value="spin.S"]')).toHaveCount(1);
  await form.locator('select[name="kernel"]').selectOption('spin.S');
  await form.locator('select[name="maxSteps"]').selectOption(String(500_000_000));
  await page.locator('[data-action="compare-run"]').click();
  await expect(page.locator('[data-compare-running]')).toContainText('running spin.S in bare, emulate, trap, bt');
  await expect(page.locator('[data-action="compare-run"]')).toBeDisabled();
  await page.locator('[data-action="compare-cancel"]').click();
  await expect(page.locator('[data-compare-error]')).toHaveText('compare: cancelled');
  await expect(page.locator('[data-compare-running]')).toHaveCount(0);
  await expect(page.locator('[data-action="compare-run"]')).toBeEnabled();

  // The traps lab in every mode: one row per mode, all with bare's output, and the charts drawn.
  await form.locator('select[name="kernel"]').selectOption('traps/traps.S');
  await form.locator('select[name="maxSteps"]').selectOption(String(20_000_000));
  await page.locator('[data-action="compare-run"]').click();
  const rows = page.locator('[data-compare-row]');
  // bare and the VMM modes in their order (modes added later follow bt).
  await expect(rows.nth(3)).toBeVisible({ timeout: 60_000 });
  for (const [i, mode] of ['bare', 'emulate', 'trap', 'bt'].entries()) {
    await expect(rows.nth(i)).toHaveAttribute('data-compare-row', mode);
    await expect(rows.nth(i).locator('td').nth(1)).toHaveText('exit');
    await expect(rows.nth(i).locator('td').nth(2)).toHaveText('0');
    await expect(rows.nth(i).locator('[data-same-output]')).toHaveText('✓ same');
  }
  // The same instructions everywhere (1.00× bare); trap mode exits, bare does not; the VMM modes
  // cost more modeled cycles than bare.
  const figure = (i: number, name: string) => rows.nth(i).locator(`[data-figure="${name}"]`);
  for (let i = 0; i < 4; i++) await expect(figure(i, 'instructions').locator('[data-relative]')).toHaveText('1.00×');
  await expect(figure(0, 'exits')).toHaveText('0 –');
  await expect(figure(2, 'exits')).not.toHaveText(/^0 /);
  await expect(figure(0, 'modeledCycles').locator('[data-relative]')).toHaveText('1.00×');
  for (const i of [1, 2]) await expect(figure(i, 'modeledCycles').locator('[data-relative]')).toHaveText(/^\d{2,}×$/);
  await expect(page.locator('[data-compare-output="trap"]')).toContainText('[S] user program done after system calls: 8');
  for (const chart of ['compare-relative', 'compare-exits', 'compare-cost']) await expectChart(page, chart);
  await shot(page, info, '01-compare');
  // The README's picture: a taller window, so the buttons, the table and every chart fit, the view
  // scrolled to the buttons (else it is left where the charts' checks put it, a button cut in half on top).
  await page.setViewportSize({ width: 1440, height: 1240 });
  await page.locator('[data-action="compare-run"]').evaluate((run) => run.parentElement?.scrollIntoView({ block: 'start' }));
  await expectChart(page, 'compare-cost');
  await expect(page.locator('[data-chart="compare-cost"]')).toBeInViewport({ ratio: 1 });
  await docShot(page, info, 'compare');
  await page.setViewportSize({ width: 1440, height: 900 });

  // A trap-mode VM of the traps lab: its statistics count the 8 system calls, each an exit and a
  // trap reflected into the guest kernel.
  await newVm(page, 'traps/traps.S', 'trap', 'traps-vm');
  await expect(vmRow(page, 'traps-vm').locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
  await vmRow(page, 'traps-vm').click();
  await page.locator('[data-view-tab="statistics"]').click();
  const stat = (key: string) => page.locator(`[data-view="statistics"] [data-stat="${key}"] [data-value]`);
  await expect(stat('reflected.exception8')).toHaveText('8');
  await expect(stat('exits.exception8')).toHaveText('8');
  await expect(page.locator('[data-view="statistics"] [data-stat="reflected.exception8"]')).toContainText('ecall from U-mode (8)');
  await expect(stat('emulated.sret')).toHaveText('8');
  await expect(stat('instructions')).not.toHaveText('0');
  await expect(stat('modeledCycles')).not.toHaveText('0');
  await expectChart(page, 'cost-breakdown');
  await shot(page, info, '02-statistics');

  // A VM that keeps running: its ticks arrive about once a second and the view follows, with the
  // instructions per second over the last interval and the rate charts.
  await newVm(page, 'spin.S', 'trap', 'spin-vm');
  await expect(page.locator('[data-view="statistics"] select[aria-label="VM"] option:checked')).toHaveText('spin-vm (trap)');
  await expect(page.locator('[data-view="statistics"] [data-stat="instructions"] [data-rate]')).toHaveText(/^\d{1,3}(,\d{3}){2,}$/, { timeout: 20_000 });
  for (const series of ['instructions', 'exits', 'shadow', 'tlbMisses']) await expectChart(page, `rate-${series}`);
  await shot(page, info, '02-statistics-running');
  await removeVm(page, 'spin-vm');

  // The same lab in bt: the system calls still exit (user code runs directly), but the kernel's
  // sret and CSR accesses are callouts of its translated code.
  await newVm(page, 'traps/traps.S', 'bt', 'traps-bt');
  await expect(vmRow(page, 'traps-bt').locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
  await vmRow(page, 'traps-bt').click();
  await expect(page.locator('[data-view="statistics"] select[aria-label="VM"] option:checked')).toHaveText('traps-bt (bt)');
  await expect(stat('exits.exception8')).toHaveText('8');
  await expect(stat('translation.callouts.sret')).toHaveText('8');
  await expect(stat('exits.exception2')).toHaveCount(0);
  await expect(stat('translation.blocks')).not.toHaveText('0');
  await removeVm(page, 'traps-bt');
  await expect(vmRow(page, 'spin-vm')).toHaveCount(0);

  // An emulate-mode VM of hello, paused while it waits for input: its virtual hart's TLB.
  await newVm(page, 'hello/hello.S', 'emulate', 'hello-tlb');
  await expect(vmRow(page, 'hello-tlb').locator('[data-vm-state]')).toHaveText('waiting', { timeout: 30_000 });
  await vmRow(page, 'hello-tlb').locator('[data-vm-action="pause"]').click();
  await expect(vmRow(page, 'hello-tlb').locator('[data-vm-state]')).toHaveText('paused');
  await vmRow(page, 'hello-tlb').click();
  await page.locator('[data-view-tab="tlb"]').click();
  await expect(page.locator('[data-tlb-source]')).toContainText('virtual hart TLB · 4096 slots');
  await expect(page.locator('[data-tlb-note]')).toContainText('emulate');
  // hello runs in M-mode with translation off: its entries map each page to itself.
  const slots = page.locator('[data-tlb-slot]');
  await expect(slots.first()).toBeVisible();
  expect(await slots.count()).toBeGreaterThan(0);
  await expect(slots.first()).toContainText('M bare');
  const cells = await slots.first().locator('[role="cell"]').allTextContents();
  expect(cells[1]).toBe(cells[6]);
  const hits = page.locator('[data-tlb-counter="hits"] b');
  await expect(hits).not.toHaveText('0');
  await expect(page.locator('[data-tlb-counter="ratio"] b')).toHaveText(/%$/);
  await expect(page.locator('[data-tlb-counter="valid"] b')).toHaveText(String(await slots.count()));
  await expect(page.locator('[data-tlb-flush]').first()).toContainText('everything');
  await page.locator('[data-action="tlb-refresh"]').click();
  await expect(slots.first()).toBeVisible();
  await shot(page, info, '03-tlb');
  // An emulate VM's TLB is its virtual hart's: the Statistics view counts the same hits and misses.
  const tlbHits = await hits.textContent();
  const tlbMisses = await page.locator('[data-tlb-counter="misses"] b').textContent();
  await page.locator('[data-view-tab="statistics"]').click();
  await expect(stat('tlb.hits')).toHaveText(tlbHits!);
  await expect(stat('tlb.misses')).toHaveText(tlbMisses!);

  for (const name of ['hello-tlb', 'traps-vm']) {
    await removeVm(page, name);
    await expect(vmRow(page, name)).toHaveCount(0);
  }
  await page.locator('[data-view-tab="editor"]').click();
  expect(errors).toEqual([]);
});
