// Builds the app (electron-vite: main, preload, renderer) when its output is missing or older than
// its sources, and finds the pieces web mode and Electron need.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { newestSource, projectRoot } from '../host/worker-build';

/** Folder of the built renderer. */
export function rendererDir(root = projectRoot()): string {
  return join(root, 'out', 'renderer');
}

function newestAny(dir: string): number {
  // Svelte components count as sources too.
  return Math.max(newestSource(dir), newestSvelte(dir));
}

function newestSvelte(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) newest = Math.max(newest, newestSvelte(path));
    else if (/\.(svelte|css|html)$/.test(name)) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

const require = createRequire(import.meta.url);

/** Whether out/ is older than src/renderer, src/shared, src/main or src/preload. */
export function appIsStale(root = projectRoot()): boolean {
  const index = join(rendererDir(root), 'index.html');
  const mainOut = join(root, 'out', 'main', 'index.js');
  if (!existsSync(index) || !existsSync(mainOut)) return true;
  const built = Math.min(statSync(index).mtimeMs, statSync(mainOut).mtimeMs);
  const sources = ['renderer', 'shared', 'main', 'preload'].map((d) => newestAny(join(root, 'src', d)));
  sources.push(statSync(join(root, 'electron.vite.config.ts')).mtimeMs);
  return Math.max(...sources) > built;
}

/** Runs `electron-vite build` when the output is stale; resolves when done. */
export async function ensureAppBuilt(root = projectRoot(), log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<void> {
  if (!appIsStale(root)) return;
  if (!existsSync(join(root, 'src', 'renderer'))) throw new Error(`the app is not built and its sources are missing (${rendererDir(root)})`);
  log('vmlab: building the app (electron-vite build)...');
  const bin = join(dirname(require.resolve('electron-vite/package.json', { paths: [root] })), 'bin', 'electron-vite.js');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`electron-vite build failed (exit ${code})`))));
  });
}

/**
 * Path of the Electron executable when its runtime is installed, else undefined. Never triggers the
 * download that `require('electron')` would: it reads path.txt beside electron/package.json.
 */
export function electronRuntime(root = projectRoot()): string | undefined {
  let dir: string;
  try {
    dir = dirname(require.resolve('electron/package.json', { paths: [root] }));
  } catch {
    return undefined;
  }
  const pathFile = join(dir, 'path.txt');
  const rel = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const exe = override ? join(override, rel ?? 'electron') : rel ? join(dir, 'dist', rel) : undefined;
  return exe && existsSync(exe) ? exe : undefined;
}
