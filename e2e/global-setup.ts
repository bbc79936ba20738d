// Starts web mode the way a user does (`npm run web`) on a fresh workspace seeded with the labs,
// and hands its URL to the tests. A missing Chromium is a failure naming the Debian package.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHROMIUM = '/usr/bin/chromium';

export default async function globalSetup(): Promise<() => Promise<void>> {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(`Chromium not found at ${CHROMIUM}: install the Debian package chromium (apt-get install chromium)`);
  }
  const workspace = join(mkdtempSync(join(tmpdir(), 'vmlab-e2e-')), 'workspace');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'src/server/main.ts', '--workspace', workspace, '--no-open'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`web mode did not start: ${out}`)), 180_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`web mode exited with ${code}: ${out}`)));
  });
  process.env.VMLAB_URL = url;
  process.env.VMLAB_WORKSPACE = workspace;
  return async () => {
    child.kill('SIGTERM');
  };
}
