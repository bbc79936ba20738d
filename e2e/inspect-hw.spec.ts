// The inspectors on a hw-mode VM in web mode: the paging lab in hw mode with the lecture's explicit
// placement (guest pages 0xA1, 0xA2, 0xA3 in host frames 0xC0, 0xC1, 0xC4), run to its end. The
// translate box shows the two-dimensional walk the physical hart makes on a TLB miss, reference by
// reference (each guest PTE located through the pmap, then the final pmap walk: 8 reads), and the
// TLB view lists the hart's combined entries with a VMID column.
import { expect, test } from '@playwright/test';
import { openApp, removeVm, shot, vmRow } from './support';

test('hw mode: the two-dimensional walk step by step, and TLB entries with their VMID', async ({ page }, info) => {
  const errors = await openApp(page);
  await page.locator('[data-action="new-vm"]').click();
  const form = page.locator('form.vm-form');
  await form.locator('select[name="kernel"]').selectOption('paging/paging.S');
  await form.locator('select[name="mode"]').selectOption('hw');
  await form.locator('select[name="placement"]').selectOption('explicit');
  await form.locator('input[name="explicit"]').fill('a1:c0 a2:c1 a3:c4');
  await form.locator('input[name="name"]').fill('hw2d');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(vmRow(page, 'hw2d')).toBeVisible();
  await expect(vmRow(page, 'hw2d').locator('[data-vm-state]')).toHaveText('halted', { timeout: 30_000 });
  await vmRow(page, 'hw2d').click();

  await page.locator('[data-view-tab="page-tables"]').click();
  const view = page.locator('[data-view="page-tables"]');
  await expect(view.locator('[data-satp]')).toHaveText('0x800800a1');
  await expect(view.locator('[data-column="combined"] .pt-title')).toContainText('Combined (hardware walk)');

  const box = page.locator('[data-translate]');
  await box.locator('input[name="address"]').fill('0x1000');
  await box.locator('select[name="access"]').selectOption('load');
  await box.locator('select[name="priv"]').selectOption('1');
  await box.getByRole('button', { name: 'Translate' }).click();
  const steps = box.locator('.tr-steps[data-walk="0x1000"]');
  await expect(steps.locator('[data-kind="summary"]')).toHaveText('→ gpa 0x800a2000 → hpa 0x800c1000');
  await expect(steps.locator('[data-kind="head"]').nth(1)).toHaveText('what the hardware walks: the two-dimensional walk (vsatp over hgatp)');
  const refs = steps.locator('[data-kind="ref"]');
  await expect(refs).toHaveCount(8);
  // 1-2: the pmap locates the guest root PTE (gpa 0x800a1000, in host frame c0); 3: the guest root PTE itself.
  await expect(refs.nth(0)).toContainText('pmap (G-stage) locating the guest PTE, pmap level 1 for gpa 0x800a1000');
  await expect(refs.nth(1)).toContainText('a leaf → hpa 0x800c0000 (frame c0)');
  await expect(refs.nth(2)).toContainText('guest table (VS-stage), guest level 1 for gva 0x00001000: entry at gpa 0x800a1000 = hpa 0x800c0000 = 0x20028001');
  await expect(refs.nth(5)).toContainText('guest level 0 for gva 0x00001000: entry at gpa 0x800a0004');
  await expect(refs.nth(5)).toContainText('a leaf → gpa 0x800a2000 (page a2)');
  // 7-8: the final guest-physical address through the pmap, to host frame c1.
  await expect(refs.nth(6)).toContainText('pmap (G-stage) of the final address, pmap level 1 for gpa 0x800a2000');
  await expect(refs.nth(7)).toContainText('a leaf → hpa 0x800c1000 (frame c1)');
  await expect(refs.nth(7).locator('.tr-no')).toHaveText('8.');
  await expect(steps).toContainText('8 memory references by the hart (8 PTE reads, 0 A/D writes; at most 12 for Sv32 over Sv32x4)');
  await shot(page, info, '01-hw-2d-walk');

  await page.locator('[data-view-tab="tlb"]').click();
  const tlb = page.locator('[data-view="tlb"]');
  await expect(tlb.locator('[data-tlb-source]')).toContainText('physical hart TLB');
  await expect(tlb.locator('[data-tlb-note]')).toContainText('tagged with this VM\'s VMID');
  await expect(tlb.locator('[role="columnheader"]', { hasText: 'VMID' })).toBeVisible();
  const cells = tlb.locator('[data-vmid]');
  await expect(cells.first()).toBeVisible();
  const vmids = new Set(await cells.allTextContents());
  expect(vmids.size).toBe(1);
  expect([...vmids][0]).toMatch(/^\d+$/);
  await shot(page, info, '02-hw-tlb');

  await removeVm(page, 'hw2d');
  expect(errors).toEqual([]);
});
