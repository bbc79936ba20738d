// The compare view at 1280x720 with an error beside its buttons (a kernel that does not assemble; a
// damaged image or one larger than a comparison copies is no longer offered, disk-choices.ts):
// before, the error took the row's width and "▶ Run" and "■ Cancel" wrapped onto two lines each. Now
// the buttons keep their one line and the error wraps beside them, whole and readable.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { labCall, openApp, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('an error beside the compare buttons leaves Run and Cancel on one line at 1280x720', async ({ page }, info) => {
  // A kernel with an unknown instruction: the host refuses the comparison, naming the file and the line.
  writeFileSync(join(process.env.VMLAB_WORKSPACE!, 'cmp-bad-kernel-with-an-unknown-instruction.S'), '_start:\n  frobnicate a0, a1, a2\n');
  const errors = await openApp(page);
  await labCall(page, 'fs.list', {});
  await page.locator('[data-view-tab="compare"]').click();
  const form = page.locator('form.cmp-form');
  const run = page.locator('[data-action="compare-run"]');
  const cancel = page.locator('[data-action="compare-cancel"]');
  // One line of a button: its height with no error beside it.
  const oneLine = (await run.boundingBox())!.height;
  await form.locator('select[name="kernel"]').selectOption('cmp-bad-kernel-with-an-unknown-instruction.S');
  await run.click();
  const error = page.locator('[data-compare-error]');
  await expect(error).toHaveText("cmp-bad-kernel-with-an-unknown-instruction.S does not assemble: line 2: unknown instruction 'frobnicate'");
  await shot(page, info, 'compare-error-1280');

  for (const button of [run, cancel]) {
    const box = (await button.boundingBox())!;
    expect(box.height).toBe(oneLine);
    // Each label on one line: its text's client rects all on one row.
    const rows = await button.evaluate((b) => {
      const range = document.createRange();
      range.selectNodeContents(b);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    expect(rows).toBe(1);
  }
  const runBox = (await run.boundingBox())!;
  const cancelBox = (await cancel.boundingBox())!;
  const errorBox = (await error.boundingBox())!;
  expect(cancelBox.y).toBe(runBox.y);
  // The error beside them, right of Cancel, inside the view, with all its text shown.
  expect(errorBox.x).toBeGreaterThanOrEqual(cancelBox.x + cancelBox.width);
  const pane = (await page.locator('.view-pane').boundingBox())!;
  expect(errorBox.x + errorBox.width).toBeLessThanOrEqual(pane.x + pane.width);
  expect(errorBox.width).toBeGreaterThan(200);
  expect(await error.evaluate((e) => e.scrollHeight <= e.clientHeight)).toBe(true);
  // The error is long enough to wrap: it takes more than one line beside the buttons.
  expect(errorBox.height).toBeGreaterThan(oneLine);

  await labCall(page, 'fs.delete', { path: 'cmp-bad-kernel-with-an-unknown-instruction.S' });
  expect(errors).toEqual([]);
});
