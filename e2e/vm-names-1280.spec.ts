// The VM manager at 1280x720 shows whole names of the length the labs use: before, the spaces
// between the row's eight inline buttons took 28 px of the name column, and hello-vm, paging-vm and
// scribble-vm (the VM manager's README picture) showed as "hel…", "pa…" and "scr…". The buttons are a
// flex row now; a long name is still cut with an ellipsis (e2e/vm-panel-width.spec.ts).
import { expect, test, type Page } from '@playwright/test';
import { newVm, openApp, removeVm, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

/** Whether the name cell shows its whole text (nothing cut by the ellipsis). */
const whole = (page: Page, name: string): Promise<boolean> =>
  vmRow(page, name).locator('.vm-name').evaluate((el) => el.scrollWidth <= el.clientWidth);

test('VM names of 8-11 characters show whole beside all eight buttons', async ({ page }, info) => {
  const errors = await openApp(page);
  await newVm(page, 'hello/hello.S', 'emulate', 'hello-vm');
  await newVm(page, 'paging/paging.S', 'trap', 'paging-vm', 'scattered');
  await newVm(page, 'scribble/scribble.S', 'trap', 'scribble-vm');
  await expect(vmRow(page, 'hello-vm').locator('[data-vm-state]')).toHaveText('waiting', { timeout: 20_000 });
  await shot(page, info, 'vm-names');
  for (const name of ['hello-vm', 'paging-vm', 'scribble-vm']) expect(await whole(page, name), name).toBe(true);
  // Every button stays inside the panel.
  const past = await page.evaluate(() => {
    const panel = document.querySelector('.vm-manager')!;
    const right = panel.getBoundingClientRect().right;
    return [...panel.querySelectorAll('.vm-actions button')].filter((b) => b.getBoundingClientRect().right > right + 0.5).length;
  });
  expect(past).toBe(0);
  for (const name of ['hello-vm', 'paging-vm', 'scribble-vm']) await removeVm(page, name);
  expect(errors).toEqual([]);
});
