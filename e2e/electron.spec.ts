// The Electron app itself: the window, its hardening and window.lab. Needs the Electron runtime,
// which an offline machine cannot download; without it these tests are skipped and say why.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { _electron as electron, expect, test } from '@playwright/test';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The Electron executable when installed, found without triggering its download. */
function electronRuntime(): string | undefined {
  const dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const exe = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(dir, 'dist'), readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : undefined;
}

const runtime = electronRuntime();

test.describe('Electron app', () => {
  test.skip(!runtime, 'the Electron runtime is not installed (its binary cannot be downloaded on this offline machine)');

  test('opens a hardened window exposing only window.lab', async () => {
    const workspace = join(mkdtempSync(join(tmpdir(), 'vmlab-electron-')), 'ws');
    const app = await electron.launch({ executablePath: runtime, args: [root, '--workspace', workspace] });
    const win = await app.firstWindow();
    await expect(win.locator('.app.ready')).toBeVisible();
    expect(await win.title()).toBe('vmlab');
    const probe = await win.evaluate(async () => {
      const w = window as unknown as Record<string, unknown> & { lab: { call: (m: string, p: unknown) => Promise<unknown> } };
      const unknown = await w.lab.call('process.exit', {}).then(() => 'accepted', (e: Error) => e.message);
      return {
        require: typeof w.require,
        process: typeof w.process,
        labKeys: Object.keys(w.lab).sort(),
        // contextBridge hands the page a frozen copy: the page cannot patch the API.
        frozen: Object.isFrozen(w.lab),
        info: await w.lab.call('workspace.info', {}),
        unknown,
        popup: window.open('https://example.com') === null,
      };
    });
    expect(probe).toMatchObject({ require: 'undefined', process: 'undefined', labKeys: ['call', 'on'], frozen: true, unknown: "unknown LabApi method 'process.exit'", popup: true });
    await win.evaluate(() => {
      location.href = 'https://example.com/';
    });
    await win.waitForTimeout(500);
    expect(win.url()).toMatch(/^app:\/\/vmlab\//);
    await app.close();
  });
});
