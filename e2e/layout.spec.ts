// The window's layout at 1280×720, 1600×1000 and 1920×1080 (issue #14, item 12): page-table
// columns show whole addresses, the console keeps a useful width and height, the memory view
// fills its pane with the ASCII column visible, five VMs' console tabs scroll with the selected one
// in view, and the panes are resizable with their sizes remembered. Screenshots go to test-results.
import { expect, test, type Page } from '@playwright/test';
import { openApp, removeMachines, shot, vmRow } from './support';

/** Creates a VM through the New VM form (started), with an optional explicit placement. */
async function vm(page: Page, kernel: string, mode: string, name: string, explicit?: string): Promise<void> {
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption(kernel);
  await form.locator('select[name="mode"]').selectOption(mode);
  if (explicit) {
    await form.locator('select[name="placement"]').selectOption('explicit');
    await form.locator('input[name="explicit"]').fill(explicit);
  }
  await form.locator('input[name="name"]').fill(name);
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, name)).toBeVisible({ timeout: 30_000 });
}

/** Elements matching `selector` whose text is cut (content wider than the box). */
const clipped = (page: Page, selector: string): Promise<string[]> => page.locator(selector).evaluateAll((els) =>
  els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => `${e.className}: ${e.textContent} (${e.scrollWidth} > ${e.clientWidth})`));

/** The selected console's size in character cells. */
const consoleSize = (page: Page): Promise<{ cols: number; rows: number }> => page.evaluate(() => {
  const id = document.querySelector<HTMLElement>('.console:not(.hidden)')?.dataset.machine ?? '';
  const term = (window as unknown as { __vmlabTerms: Record<string, { cols: number; rows: number }> }).__vmlabTerms[id];
  return { cols: term.cols, rows: term.rows };
});

/** Memory rows wholly inside the memory pane, and whether every row's ASCII column and the scroll bar are too. */
const memoryRows = (page: Page): Promise<{ rows: number; asciiInside: boolean; scrollInside: boolean }> => page.evaluate(() => {
  const pane = document.querySelector('.memory-pane')!.getBoundingClientRect();
  const rows = [...document.querySelectorAll('.mem-row')].map((r) => r.getBoundingClientRect()).filter((r) => r.top >= pane.top && r.bottom <= pane.bottom + 0.5);
  const ascii = [...document.querySelectorAll('.mem-ascii')].map((a) => a.getBoundingClientRect());
  const scroll = document.querySelector('.mem-scroll')?.getBoundingClientRect();
  return {
    rows: rows.length,
    asciiInside: ascii.length > 0 && ascii.every((a) => a.right <= pane.right && a.width > 0),
    scrollInside: scroll !== undefined && scroll.width > 0 && scroll.right <= pane.right + 0.5,
  };
});

/** Whether the selected console tab lies wholly inside the tab strip. */
const activeTabVisible = (page: Page): Promise<boolean> => page.evaluate(() => {
  const strip = document.querySelector('.console-tabs')!.getBoundingClientRect();
  const tab = document.querySelector('.console-tabs .tab.active')!.getBoundingClientRect();
  return tab.left >= strip.left - 0.5 && tab.right <= strip.right + 0.5;
});

const SIZES = [
  { width: 1280, height: 720, cols: 80, memRows: 6 },
  { width: 1600, height: 1000, cols: 100, memRows: 14 },
  { width: 1920, height: 1080, cols: 120, memRows: 16 },
];

// Five machines on a loaded host take a while; the next test starts without them.
test.describe.configure({ timeout: 240_000 });
test.afterEach(async ({ page }) => removeMachines(page).catch(() => undefined));

for (const size of SIZES) {
  test(`layout at ${size.width}×${size.height}`, async ({ page }, info) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    const errors = await openApp(page);
    await page.locator('[data-path="traps/traps.S"]').click();
    await vm(page, 'paging/paging.S', 'trap', 'lecture', 'a1:c0 a2:c1 a3:c4');
    await expect(vmRow(page, 'lecture').locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
    for (const name of ['hello-a', 'hello-b', 'hello-c', 'hello-d']) await vm(page, 'hello/hello.S', 'emulate', name);
    await vmRow(page, 'hello-d').click();
    await expect(page.locator('.console:not(.hidden) .xterm-rows')).toContainText('Hello from vmlab', { timeout: 20_000 });

    // The console: wide enough for a lab's longest lines, tall enough to follow them.
    const term = await consoleSize(page);
    expect(term.cols).toBeGreaterThanOrEqual(size.cols);
    expect(term.rows).toBeGreaterThanOrEqual(8);

    // Five machines' tabs: the strip scrolls (it does not wrap or squeeze) and shows the selected one.
    await vmRow(page, 'lecture').click();
    await expect.poll(() => activeTabVisible(page)).toBe(true);
    await vmRow(page, 'hello-d').click();
    await expect.poll(() => activeTabVisible(page)).toBe(true);
    expect(await clipped(page, '.console-tabs .tab-name')).toEqual([]);
    // The VM manager shows every row with its buttons.
    expect(await clipped(page, '.vm-manager')).toEqual([]);

    // The memory view fills its pane, the ASCII column included.
    await vmRow(page, 'lecture').click();
    await expect.poll(async () => (await memoryRows(page)).rows).toBeGreaterThanOrEqual(size.memRows);
    expect((await memoryRows(page)).asciiInside).toBe(true);
    expect((await memoryRows(page)).scrollInside).toBe(true);
    await shot(page, info, `editor-${size.width}x${size.height}`);

    // Page tables: whole addresses in every column.
    await page.locator('[data-view-tab="page-tables"]').click();
    await expect(page.locator('[data-column="shadow"] .pt-row').first()).toBeVisible();
    for (let i = 0; i < 12; i++) {
      const expand = page.locator('.pt-toggle button[aria-expanded="false"]:visible').first();
      if ((await expand.count()) === 0) break;
      await expand.click();
    }
    await expect(page.locator('.pt-row[data-level="0"]').first()).toBeVisible();
    expect(await clipped(page, '.pt-row')).toEqual([]);
    expect(await clipped(page, '.pt-root')).toEqual([]);
    await shot(page, info, `page-tables-${size.width}x${size.height}`);
    expect(errors).toEqual([]);
  });
}

test('panes are resizable and keep their sizes after a reload', async ({ page }) => {
  await page.setViewportSize({ width: 1600, height: 1000 });
  await openApp(page);
  const width = (selector: string) => page.locator(selector).evaluate((e) => e.getBoundingClientRect().width);
  const height = (selector: string) => page.locator(selector).evaluate((e) => e.getBoundingClientRect().height);
  const drag = async (pane: string, dx: number, dy: number): Promise<void> => {
    const box = (await page.locator(`[data-splitter="${pane}"]`).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + dx, box.y + box.height / 2 + dy, { steps: 5 });
    await page.mouse.up();
  };
  const right = await width('.right');
  const bottom = await height('.bottom');
  const left = await width('.left');
  await drag('right', -120, 0);
  await drag('bottom', 0, -80);
  await drag('left', 40, 0);
  expect(Math.round(await width('.right'))).toBe(Math.round(right + 120));
  expect(Math.round(await height('.bottom'))).toBe(Math.round(bottom + 80));
  expect(Math.round(await width('.left'))).toBe(Math.round(left + 40));
  await page.reload();
  await expect(page.locator('.app.ready')).toBeVisible();
  expect(Math.round(await width('.right'))).toBe(Math.round(right + 120));
  expect(Math.round(await height('.bottom'))).toBe(Math.round(bottom + 80));
  expect(Math.round(await width('.left'))).toBe(Math.round(left + 40));
  // A double click gives a pane its default size back.
  await page.locator('[data-splitter="right"]').dblclick();
  expect(Math.round(await width('.right'))).toBe(Math.round(right));
});
