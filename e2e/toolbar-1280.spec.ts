// The toolbar at the smallest supported window, 1280×720: every button's label on one line, the run
// configuration inside the window and the workspace pane's buttons on one line; Step Back and
// Reverse are on for a paused VM as for a bare machine (e2e/reverse-vm.spec.ts clicks them).
import { expect, test } from '@playwright/test';
import { newVm, openApp, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('toolbar at 1280×720: one line per button, nothing past the edge; reverse buttons on for a paused VM', async ({ page }) => {
  const errors = await openApp(page);
  const layout = await page.evaluate(() => {
    const bar = document.querySelector('.toolbar')!;
    const lineHeight = (b: Element): number => parseFloat(getComputedStyle(b).lineHeight) || 16;
    const wrapped = [...bar.querySelectorAll('button')]
      .filter((b) => b.getBoundingClientRect().height > 2 * lineHeight(b))
      .map((b) => b.textContent?.trim());
    const config = bar.querySelector('.run-config')!.getBoundingClientRect();
    return { wrapped, overflow: bar.scrollWidth - bar.clientWidth, configRight: Math.round(config.right), width: window.innerWidth };
  });
  expect(layout.wrapped).toEqual([]);
  expect(layout.overflow).toBeLessThanOrEqual(0);
  expect(layout.configRight).toBeLessThanOrEqual(layout.width);
  // The workspace pane's title keeps its four buttons on one line beside the folder's name.
  const tops = await page.locator('.tree .tree-actions button').evaluateAll((bs) => bs.map((b) => Math.round(b.getBoundingClientRect().top)));
  expect(tops).toHaveLength(4);
  expect(new Set(tops).size).toBe(1);

  await newVm(page, 'traps/traps.S', 'trap', 'rev');
  await vmRow(page, 'rev').locator('[data-vm-action="reset"]').click();
  await expect(vmRow(page, 'rev').locator('[data-vm-state]')).toHaveText('paused', { timeout: 20_000 });
  await vmRow(page, 'rev').click();
  for (const action of ['reverse-step', 'reverse-continue']) {
    const button = page.locator(`[data-action="${action}"]`);
    await expect(button).toBeEnabled();
    await expect(button).not.toHaveAttribute('title', /gdb/);
  }
  expect(errors).toEqual([]);
});
