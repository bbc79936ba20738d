// The same event in the same words for a bare machine and a VM: a guest that ended read "exited with
// code 0" in the status bar and "exited" in the VM manager when it ran bare, "halted, exit code 0" and
// "halted" in a VM; one waiting for input read "idle" in the VM manager bare, "waiting" in a VM.
import { expect, test } from '@playwright/test';
import { newVm, openApp, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });
test.setTimeout(120_000);

test('a bare machine and a VM that halt, or wait for input, read alike in the status bar and the VM manager', async ({ page }) => {
  const errors = await openApp(page);
  const state = page.locator('[data-status="state"]');
  for (const mode of ['bare', 'trap']) {
    const name = `ended-${mode}`;
    await newVm(page, 'traps/traps.S', mode, name);
    await expect(vmRow(page, name).locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
    await vmRow(page, name).click();
    await expect(state).toHaveText(`${name} (${mode}): halted, exit code 0`);
  }
  for (const mode of ['bare', 'emulate']) {
    const name = `input-${mode}`;
    await newVm(page, 'hello/hello.S', mode, name);
    await expect(vmRow(page, name).locator('[data-vm-state]')).toHaveText('waiting', { timeout: 30_000 });
    await vmRow(page, name).click();
    await expect(state).toHaveText(`${name} (${mode}): waiting for input (wfi)`);
  }
  expect(errors).toEqual([]);
});
