// The Disks view's New image form with sizes a newcomer may type: more than vmlab's largest disk is
// refused in words that name the limit (not the request schema's two clauses), and a size below one
// sector is rounded up to whole sectors, as `vmlab disk create` rounds it. At 1280×720 the image table
// fits the view, its Overlay… button in sight.
import { expect, test } from '@playwright/test';
import { openApp } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('new image: a size over 64 GiB is refused naming the limit; 0.1 KiB makes one sector', async ({ page }) => {
  const errors = await openApp(page);
  await page.locator('[data-view-tab="disks"]').click();
  await page.locator('[data-action="new-disk"]').click();
  const form = page.locator('form.disk-form');
  const message = page.locator('[data-status="message"]');

  await form.locator('input[name="path"]').fill('huge.qcow2');
  await form.locator('input[name="size"]').fill('99999999');
  await form.locator('select[name="unit"]').selectOption('MiB');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(message).toHaveText("size: 99999999 MiB is larger than vmlab's largest disk, 64 GiB");
  await expect(page.locator('tr[data-disk-image="huge.qcow2"]')).toHaveCount(0);

  await form.locator('input[name="path"]').fill('tiny.img');
  await form.locator('select[name="format"]').selectOption('raw');
  await form.locator('input[name="size"]').fill('0.1');
  await form.locator('select[name="unit"]').selectOption('KiB');
  await form.getByRole('button', { name: 'Create' }).click();
  const tiny = page.locator('tr[data-disk-image="tiny.img"]');
  await expect(tiny.locator('[data-col="virtual"]')).toHaveText('512 B');
  await expect(message).toContainText('tiny.img: created (raw, 512 B)');
  // At 1280×720 the image table fits the view: its row's last action, Overlay…, is in sight.
  const fit = await page.evaluate(() => {
    const pane = document.querySelector<HTMLElement>('.view-pane')!;
    const overlay = document.querySelector('tr[data-disk-image="tiny.img"] [data-disk-action="overlay"]')!.getBoundingClientRect();
    return { scroll: pane.scrollWidth - pane.clientWidth, inside: overlay.right <= pane.getBoundingClientRect().left + pane.clientWidth };
  });
  expect(fit).toEqual({ scroll: 0, inside: true });

  await page.evaluate(async () => {
    const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
    await app.lab.call('fs.delete', { path: 'tiny.img' });
  });
  expect(errors).toEqual([]);
});
