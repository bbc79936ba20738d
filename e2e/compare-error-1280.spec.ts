// The compare view at 1280x720 with an error beside its buttons (a disk image larger than a comparison
// copies; a damaged image is no longer offered, disk-choices.ts):
// before, the error took the row's width and "▶ Run" and "■ Cancel" wrapped onto two lines each. Now
// the buttons keep their one line and the error wraps beside them, whole and readable.
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { labCall, openApp, shot } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('an error beside the compare buttons leaves Run and Cancel on one line at 1280x720', async ({ page }, info) => {
  // A sparse raw image of 65 MiB: the host refuses the comparison (at most 64 MiB), naming it.
  const fd = openSync(join(process.env.VMLAB_WORKSPACE!, 'cmp-big.img'), 'w');
  ftruncateSync(fd, 65 << 20);
  closeSync(fd);
  const errors = await openApp(page);
  await labCall(page, 'fs.list', {});
  await page.locator('[data-view-tab="compare"]').click();
  const form = page.locator('form.cmp-form');
  const run = page.locator('[data-action="compare-run"]');
  const cancel = page.locator('[data-action="compare-cancel"]');
  // One line of a button: its height with no error beside it.
  const oneLine = (await run.boundingBox())!.height;
  await form.locator('select[name="kernel"]').selectOption('hello/hello.S');
  await form.locator('select[name="disk"]').selectOption('cmp-big.img');
  await run.click();
  const error = page.locator('[data-compare-error]');
  await expect(error).toContainText(/^compare: disk cmp-big\.img: a comparison copies at most 64 MiB of disk into memory, the image has 68157440 bytes$/);
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

  await labCall(page, 'fs.delete', { path: 'cmp-big.img' });
  expect(errors).toEqual([]);
});
