// Web mode end to end: workspace (default ./workspace, seeded with the bundled labs), build,
// lab service, server, the URL on stdout and a browser when one can be opened.

import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LabService } from '../host/lab-service';
import { seedWorkspace } from '../host/policy';
import { projectRoot } from '../host/worker-build';
import { ensureAppBuilt, rendererDir } from './app-build';
import { startWebServer, type WebServer } from './web-server';

/** Options of `npm run web` and `vmlab serve`. */
export interface WebModeOptions {
  /** Workspace folder; default ./workspace. */
  workspace?: string;
  /** Port on 127.0.0.1; default: a free one. */
  port?: number;
  /** Try to open a browser (default true; never under CI). */
  open?: boolean;
}

/** The text of `--port` as a port number of 127.0.0.1 (0: a free one); bad text is one line naming it. */
export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port <= 65535)) throw new Error(`--port ${text}: expected a TCP port number (0 to 65535)`);
  return port;
}

/** Starts web mode; resolves once the server listens. Bad options are refused with a one-line Error. */
export async function runWebMode(options: WebModeOptions = {}): Promise<{ server: WebServer; service: LabService }> {
  const root = projectRoot();
  const given = options.workspace ?? 'workspace';
  const folder = resolve(given);
  if (existsSync(folder) && !statSync(folder).isDirectory()) throw new Error(`workspace ${given}: not a folder`);
  seedWorkspace(folder, root);
  await ensureAppBuilt(root);
  const service = await LabService.create({ workspace: folder });
  const server = await startWebServer({ service, staticDir: rendererDir(root), port: options.port }).catch(async (err: unknown) => {
    await service.dispose();
    throw err;
  });
  process.stdout.write(`vmlab web mode: ${server.url}\n(workspace ${service.root}; Ctrl+C to stop)\n`);
  for (const problem of service.restoreProblems) process.stderr.write(`vmlab: a stored VM was not recreated: ${problem}\n`);
  if (options.open !== false && !process.env.CI && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) openBrowser(server.url);
  const stop = (): void => {
    void Promise.all([server.close(), service.dispose()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { server, service };
}

function openBrowser(url: string): void {
  try {
    const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener: the printed URL is enough.
  }
}
