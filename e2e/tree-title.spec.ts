// At 1280×720 the workspace pane's title shows only the first letters of the folder's name beside
// its four buttons ("WOR…"); pointing at it names the folder.
import { expect, test } from '@playwright/test';
import { basename } from 'node:path';
import { openApp } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

test('the workspace pane\'s cut title names the whole folder on hover', async ({ page }) => {
  const errors = await openApp(page);
  const name = page.locator('[data-workspace-name]');
  await expect(name).toHaveText(basename(process.env.VMLAB_WORKSPACE!));
  expect(await name.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  await expect(name).toHaveAttribute('title', `workspace: ${basename(process.env.VMLAB_WORKSPACE!)}`);
  expect(errors).toEqual([]);
});
