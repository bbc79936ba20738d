// Web mode's bad input as a user meets it: `npm run web` (src/server/main.ts), `npm start` where no
// Electron runtime is installed (src/server/start.ts) and `vmlab serve` refuse a workspace that is a
// file, a bad port and a port another program holds in one line on stderr with exit code 2: no stack
// trace, no internal error code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

const dir = mkdtempSync(join(tmpdir(), 'vmlab-web-input-'));
const file = join(dir, 'notes.txt');
writeFileSync(file, 'not a folder\n');

const TSX = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const LAUNCHERS: Record<string, (args: string[]) => string[]> = {
  'npm run web': (args) => [TSX, 'src/server/main.ts', ...args, '--no-open'],
  'vmlab serve': (args) => [join(REPO_ROOT, 'bin', 'vmlab.mjs'), 'serve', ...args.filter((a) => a !== '--workspace'), '--no-open'],
};

function launch(how: string, args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, LAUNCHERS[how](args), { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, CI: '1' } });
  return { code: r.status, stderr: r.stderr.replace(/^vmlab: building the app.*\n/gm, '') };
}

let holder: Server;
let held: number;
beforeAll(async () => {
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  held = (holder.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

describe.each(Object.keys(LAUNCHERS))('%s', (how) => {
  it('refuses a workspace that is a file in one line', () => {
    expect(launch(how, ['--workspace', file])).toEqual({ code: 2, stderr: `vmlab: workspace ${file}: not a folder\n` });
  }, 240_000);

  it('refuses a port another program listens on in one line', () => {
    expect(launch(how, ['--workspace', join(dir, `ws-${how.replace(/\W/g, '')}`), '--port', String(held)]))
      .toEqual({ code: 2, stderr: `vmlab: port ${held} of 127.0.0.1 is in use; give another --port, or none for a free one\n` });
  }, 240_000);
});

describe('npm run web and npm start', () => {
  it.each(['src/server/main.ts', 'src/server/start.ts'])('%s refuses a port that is no port number in one line', (script) => {
    for (const port of ['abc', '99999', '1.5', '']) {
      const r = spawnSync(process.execPath, [TSX, script, '--workspace', join(dir, 'ws-port'), '--port', port, '--no-open'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
      expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 2, stderr: `vmlab: --port ${port}: expected a TCP port number (0 to 65535)\n` });
    }
  }, 240_000);
});
