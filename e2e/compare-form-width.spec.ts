// The compare view's form at the smallest supported window, 1280×720, and at 1920×1080: every field
// (kernel, compared with, pv kernel, disk, memory, step budget, CPU, firmware, initrd, command line,
// the modes and the console input) lies wholly inside the view, none cut at its right edge or pushed
// out of sight.
import { expect, test, type Page } from '@playwright/test';
import { openApp, shot } from './support';

/** The form's controls that reach past the view's right edge, and how far the view scrolls sideways. */
const outside = (page: Page): Promise<{ controls: string[]; overflow: number }> => page.evaluate(() => {
  const view = document.querySelector<HTMLElement>('.view-pane')!;
  const right = view.getBoundingClientRect().left + view.clientWidth;
  const controls = [...document.querySelectorAll<HTMLElement>('form.cmp-form select, form.cmp-form input, form.cmp-form textarea, form.cmp-form fieldset')]
    .filter((c) => c.getBoundingClientRect().right > right + 0.5)
    .map((c) => `${c.getAttribute('name') ?? c.tagName.toLowerCase()} ends at ${Math.round(c.getBoundingClientRect().right)} > ${Math.round(right)}`);
  return { controls, overflow: view.scrollWidth - view.clientWidth };
});

for (const size of [{ width: 1280, height: 720 }, { width: 1920, height: 1080 }]) {
  test(`compare form at ${size.width}×${size.height}: every field inside the view`, async ({ page }, info) => {
    await page.setViewportSize(size);
    const errors = await openApp(page);
    await page.locator('[data-view-tab="compare"]').click();
    await expect(page.locator('form.cmp-form select[name="memory"]')).toBeAttached();
    await shot(page, info, `compare-form-${size.width}`);
    expect(await outside(page)).toEqual({ controls: [], overflow: 0 });
    for (const name of ['kernel', 'kernel2', 'pvKernel', 'disk', 'memory', 'maxSteps', 'bios', 'initrd', 'append', 'input']) {
      await expect(page.locator(`form.cmp-form [name="${name}"]`)).toBeInViewport();
    }
    expect(errors).toEqual([]);
  });
}
