// The V8 flags of the processes that run machines (src/host/v8-flags.ts), checked by asking V8
// itself whether it compiles in the background (`%IsConcurrentRecompilationSupported`): the `vmlab`
// command as npx, `npm link` and an installed command start it (bin/vmlab.mjs's shebang) and as the
// bench starts it (in the background: its one machine runs on the main thread), and the worker
// threads that run the app's and the server's machines (on their own thread).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { MACHINE_V8_FLAGS, NODE_V8_FLAGS, TURBOFAN_FLAGS, WORKER_V8_FLAGS, setMachineV8Flags } from '../../src/host/v8-flags';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const PROBE = pathToFileURL(join(REPO_ROOT, 'test', 'support', 'v8-probe.mjs')).href;
const HELLO = join(REPO_ROOT, 'labs', 'hello', 'hello.S');
const CLI_CACHE = pathToFileURL(join(REPO_ROOT, 'scripts', 'cli-cache.mjs')).href;

/** Runs `vmlab run hello.S` as `cmd args` with the probe loaded; returns what the probe saw. */
function concurrentIn(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, [...args, 'run', HELLO], {
    encoding: 'utf8', timeout: 120_000, input: '',
    env: { ...process.env, NODE_OPTIONS: `--import=${PROBE}` },
  });
  expect(r.stdout).toContain('Hello');
  const seen = /v8-probe: concurrent recompilation (true|false)/.exec(r.stderr);
  expect(seen, r.stderr).not.toBeNull();
  return seen![1] === 'true';
}

describe('V8 compiles in the background for the CLI\'s machine, on the machine\'s thread in workers', () => {
  it('in the vmlab command started by its shebang (npx vmlab, npm link, ./bin/vmlab.mjs), as the bench starts it', () => {
    expect(concurrentIn(VMLAB, [])).toBe(true);
    expect(concurrentIn(process.execPath, [...NODE_V8_FLAGS, VMLAB])).toBe(true);
    // The probe tells the two apart: node with the workers' flag on its command line compiles on the main thread.
    expect(concurrentIn(process.execPath, [...WORKER_V8_FLAGS, VMLAB])).toBe(false);
  }, 180_000);

  it('in worker threads started after setMachineV8Flags (the app and the web-mode server run machines in them)', async () => {
    setMachineV8Flags();
    const source = `require('node:v8').setFlagsFromString('--allow-natives-syntax');
      require('node:worker_threads').parentPort.postMessage(new Function('return %IsConcurrentRecompilationSupported()')());`;
    const worker = new Worker(source, { eval: true });
    const concurrent = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(concurrent).toBe(false);
  });
});

describe('the flags the CLI sets before it loads its code cache', () => {
  it('are every flag setMachineV8Flags sets, TurboFan\'s among them (V8 rejects a cache made under other flags)', async () => {
    const { MACHINE_FLAGS } = (await import(CLI_CACHE)) as { MACHINE_FLAGS: string[] };
    expect(MACHINE_FLAGS).toEqual([...MACHINE_V8_FLAGS]);
    for (const flag of [...WORKER_V8_FLAGS, ...TURBOFAN_FLAGS]) expect(MACHINE_FLAGS).toContain(flag);
  });
});
