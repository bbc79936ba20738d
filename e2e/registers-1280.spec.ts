// At 1280x720 the registers pane showed the x registers down to a7 and left t6 and every CSR to be
// scrolled to (185 px of 808). Now the x registers take four columns and the trap CSRs three, and the
// memory view under them leaves the pane room for all of them (its six rows kept): the pc, all 32 x
// registers and the trap CSRs of M and S mode are in sight together, none cut, at 1280x720 and
// 1920x1080.
import { expect, test, type Page } from '@playwright/test';
import { openApp, shot } from './support';

const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];
const TRAP_CSRS = ['mstatus', 'mtvec', 'mepc', 'mcause', 'mtval', 'mie', 'mip', 'medeleg', 'mideleg', 'sstatus', 'stvec', 'sepc', 'scause', 'stval', 'satp'];

/** The registers and CSRs of `names` not wholly inside the registers pane's visible part, or cut short. */
const hidden = (page: Page): Promise<string[]> => page.evaluate(([abi, csrs]) => {
  const pane = document.querySelector('.inspect-scroll')!;
  const box = pane.getBoundingClientRect();
  const sel = ['[data-reg="pc"]', ...abi.map((n) => `[data-reg="${n}"]`), ...csrs.map((n) => `[data-csr="${n}"]`)];
  return sel.filter((s) => {
    const value = document.querySelector(s);
    if (!value) return true;
    const cell = value.closest('.reg')!;
    const b = cell.getBoundingClientRect();
    return b.top < box.top || b.bottom > box.bottom || b.left < box.left || b.right > box.right || cell.scrollWidth > cell.clientWidth + 0.5;
  }).concat(pane.scrollTop > 0 ? ['(scrolled)'] : []);
}, [ABI, TRAP_CSRS] as const);

for (const [width, height] of [[1280, 720], [1920, 1080]]) {
  test(`the x registers and the trap CSRs in sight together at ${width}x${height}`, async ({ page }, info) => {
    await page.setViewportSize({ width, height });
    const errors = await openApp(page);
    await page.locator('[data-path="traps/traps.S"]').click();
    await expect(page.locator('.monaco-editor .view-lines')).toContainText('M-mode boot');
    await page.keyboard.press('F10');
    await expect(page.locator('[data-reg="pc"]')).toBeVisible({ timeout: 20_000 });
    await expect(page.locator('[data-csr="satp"]')).toHaveCount(1);
    expect(await hidden(page)).toEqual([]);
    // An x register keeps its number in its tooltip.
    await expect(page.locator('[data-reg="t6"]').locator('xpath=..')).toHaveAttribute('title', /^x31 \(t6\) = /);
    // The memory view under it keeps six rows.
    const rows = await page.evaluate(() => {
      const pane = document.querySelector('.memory-pane')!.getBoundingClientRect();
      return [...document.querySelectorAll('.mem-row')].filter((r) => r.getBoundingClientRect().bottom <= pane.bottom + 0.5).length;
    });
    expect(rows).toBeGreaterThanOrEqual(6);
    await shot(page, info, `registers-${width}x${height}`);
    expect(errors).toEqual([]);
  });
}
