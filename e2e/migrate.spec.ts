// Migration in the VM manager (web mode, 1280x720): a running VM of the migration lab moves live to
// a real `vmlab host` the spec starts, its rounds appearing in the table and the chart while it is
// still moving, then shows where it went with the figures; a host that drops the connection in the
// middle is named in the form, and that VM runs on here. The view is docs/screenshots/migration.png
// (written with VMLAB_SCREENSHOTS=1; a test artifact otherwise).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { docShot, newVm, openApp, removeVm, shot, vmRow } from './support';

test.use({ viewport: { width: 1280, height: 720 } });

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VMLAB = `${ROOT}bin/vmlab.mjs`;
/** The migration lab's kernel running for hours (100,000,000 bursts), so it still runs whenever the form is used. */
const LONG = readFileSync(`${ROOT}labs/migration/dirty.S`, 'utf8').replace(/\.equ BURSTS, 2000\b/, '.equ BURSTS, 100000000');
const port = 45000 + Math.floor(Math.random() * 2000);

test('VM manager: migrate a running VM to a vmlab host, rounds as they happen; a dropped connection leaves the VM here', async ({ page }, info) => {
  test.setTimeout(180_000);
  expect(LONG).toContain('.equ BURSTS, 100000000');
  const host = spawn(process.execPath, [VMLAB, 'host', '--port', String(port), '--once'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let hostErr = '';
  host.stderr.setEncoding('utf8').on('data', (d: string) => { hostErr += d; });
  const drop = createServer((s: Socket) => {
    let received = 0;
    s.on('data', (d: Buffer) => {
      // HELLO first: answer READY (length 3, type 10, "{}"), then drop after some pages.
      if (received === 0) s.write(Buffer.from([3, 0, 0, 0, 10, 0x7b, 0x7d]));
      received += d.length;
      if (received > 100_000) s.destroy();
    });
  });
  await new Promise<void>((r) => drop.listen(port + 1, '127.0.0.1', () => r()));
  try {
    const errors = await openApp(page);
    // A taller console panel and a wider VM manager, as a user makes room for the rounds (the splitters' keys).
    await page.locator('[data-splitter="bottom"]').focus();
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowUp');
    await page.locator('[data-splitter="vms"]').focus();
    for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowLeft');
    await page.evaluate(async (text) => {
      const app = (window as unknown as { __vmlabState: { lab: { call(m: string, p: unknown): Promise<unknown> } } }).__vmlabState;
      await app.lab.call('fs.write', { path: 'migration/long.S', text });
    }, LONG);
    await expect.poll(() => hostErr, { timeout: 60_000 }).toMatch(/host listening on 127\.0\.0\.1:\d+/);

    await newVm(page, 'migration/long.S', 'trap', 'mover');
    const row = vmRow(page, 'mover');
    if ((await row.locator('[data-vm-state]').textContent()) === 'paused') await row.locator('[data-vm-action="run"]').click();
    await expect(row.locator('[data-vm-state]')).toHaveText('running', { timeout: 20_000 });

    await row.locator('[data-vm-action="migrate"]').click();
    const form = page.locator('[data-migrate="mover"]');
    await form.locator('[data-migrate-to]').fill(`127.0.0.1:${port}`);
    await form.locator('[data-migrate-live]').check();
    // At 1 MiB/s a round of the working set (129 pages) lasts half a second: long enough to watch.
    await form.locator('[data-migrate-bandwidth]').selectOption({ label: '1 MiB/s' });
    await form.locator('[data-migrate-start]').click();
    // Rounds show while the VM is still moving: a row of the table and the state at the same moment.
    await page.waitForFunction(() => {
      const state = document.querySelector('tr[data-vm="mover"] [data-vm-state]')?.textContent;
      return state === 'moving' && document.querySelectorAll('[data-migrate="mover"] tr[data-round]').length >= 2;
    }, undefined, { timeout: 60_000, polling: 10 });
    await shot(page, info, '01-moving');
    await expect(form.locator('[data-migrate-figures]')).toContainText(`moved to 127.0.0.1:${port} (live pre-copy):`, { timeout: 120_000 });
    await expect(row.locator('[data-vm-state]')).toHaveText('moved');
    await expect(page.locator('[data-vm-moved="mover"]')).toContainText(`moved to 127.0.0.1:${port}`);
    const rounds = form.locator('tr[data-round]');
    const n = await rounds.count();
    expect(n).toBeGreaterThanOrEqual(2);
    await expect(rounds.last()).toContainText('final');
    expect(await form.locator('[data-migrate-figures]').textContent()).toContain(`${n} rounds`);
    // The chart draws two points per round: pages sent and dirty pages left.
    await expect(form.locator('[data-chart="migration-rounds"]')).toHaveAttribute('data-points', String(2 * n));
    expect(hostErr).toMatch(/a trap VM arrived from 127\.0\.0\.1:\d+/);
    // Nothing in the VM manager is wider than its pane at 1280x720, nor the page than the window.
    expect(await page.locator('.vm-manager').evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await expect(vmRow(page, 'mover').locator('[data-vm-action="remove"]')).toBeInViewport();
    await form.scrollIntoViewIfNeeded();
    await docShot(page, info, 'migration');

    // A host that drops the connection mid-migration: named in the form, and the VM runs on here.
    await newVm(page, 'migration/long.S', 'trap', 'stayer');
    const stay = vmRow(page, 'stayer');
    if ((await stay.locator('[data-vm-state]').textContent()) === 'paused') await stay.locator('[data-vm-action="run"]').click();
    await expect(stay.locator('[data-vm-state]')).toHaveText('running', { timeout: 20_000 });
    await stay.locator('[data-vm-action="migrate"]').click();
    const form2 = page.locator('[data-migrate="stayer"]');
    await form2.locator('[data-migrate-to]').fill(String(port + 1));
    await form2.locator('[data-migrate-start]').click();
    await expect(form2.locator('[data-migrate-problem]')).toHaveText(
      new RegExp(`^migration of VM stayer to 127\\.0\\.0\\.1:${port + 1} failed: (127\\.0\\.0\\.1:${port + 1} closed the connection|the connection to 127\\.0\\.0\\.1:${port + 1} broke \\(\\w+\\)); the VM runs on here$`),
      { timeout: 60_000 },
    );
    await expect(stay.locator('[data-vm-state]')).toHaveText('running');
    await expect(page.locator('[data-vm-moved="stayer"]')).toHaveCount(0);
    await shot(page, info, '02-dropped');
    await removeVm(page, 'stayer');
    await removeVm(page, 'mover');
    expect(errors).toEqual([]);
  } finally {
    host.kill('SIGKILL');
    drop.close();
  }
});
