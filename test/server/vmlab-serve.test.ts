// `vmlab serve` runs machines as `npm start` does. The CLI's bundle runs as a vm.Script (bin/vmlab.mjs
// loads it through a V8 code cache), where an import() of a package fails: the worker's build
// (host/worker-build.ts) imported esbuild so, and every machine the served app created failed with
// "A dynamic import callback was not specified" once a source was newer than the worker (a fresh
// clone, a pull, an edit).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MachineStatus } from '../../src/shared/lab-api';
import { REPO_ROOT } from '../support/build';
import { ApiClient, type ServerProcess } from './server-process';

const WORKER = join(REPO_ROOT, 'out', 'worker', 'machine-worker.mjs');
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGTERM');
});

/** Starts `vmlab serve` over a new workspace; resolves with its port and token from the URL it prints. */
function serve(): Promise<Pick<ServerProcess, 'port' | 'token'>> {
  const workspace = join(mkdtempSync(join(tmpdir(), 'vmlab-serve-cli-')), 'ws');
  child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'vmlab.mjs'), 'serve', workspace, '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), token: m[2] });
    });
    child!.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child!.on('exit', (code) => reject(new Error(`vmlab serve ended (${code}) before it listened: ${err}`)));
  });
}

describe('vmlab serve', () => {
  it('runs a VM when the machine worker must be rebuilt first', async () => {
    // The worker older than every source: the first machine rebuilds it.
    if (existsSync(WORKER)) utimesSync(WORKER, new Date(0), new Date(0));
    const server = await serve();
    const client = await ApiClient.connect(server as ServerProcess);
    const vm = await client.call<MachineStatus>('vm.create', { kernel: 'hello/hello.S', mode: 'trap', name: 'hello' });
    await client.call('vm.run', { id: vm.id });
    const deadline = Date.now() + 60_000;
    while (!(client.console.get(vm.id) ?? '').includes('Hello') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(client.console.get(vm.id) ?? '').toContain('Hello');
    expect(readFileSync(WORKER, 'utf8').length).toBeGreaterThan(0);
  }, 240_000);
});
