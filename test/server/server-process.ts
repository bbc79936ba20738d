// Starts web mode in a child process (server-child.ts) over a fresh workspace, and gives the tests
// what they need to attack it from outside: port, token, whether the process still lives, its
// memory and file descriptors, and a LabApi client over the ws library.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { decodeFrame, encodeFrame } from '../../src/shared/wire';
import type { ChildMemory } from './server-child';

/** A web server running in a child process. */
export interface ServerProcess {
  readonly port: number;
  readonly token: string;
  /** Workspace folder of its lab service. */
  readonly workspace: string;
  /** Renderer folder it serves. */
  readonly staticDir: string;
  /** How the process ended, if it did (exit code or signal, and its stderr). */
  exited(): string | undefined;
  memory(): Promise<ChildMemory>;
  stop(): Promise<void>;
}

/** Headers a legitimate browser tab of this server sends. */
export function goodHeaders(server: ServerProcess): Record<string, string> {
  return { origin: `http://127.0.0.1:${server.port}`, cookie: `vmlab_token=${server.token}` };
}

/** Starts the server over a new workspace holding `files` (workspace path → text). */
export async function startServerProcess(files: Record<string, string> = {}): Promise<ServerProcess> {
  const base = mkdtempSync(join(tmpdir(), 'vmlab-serve-'));
  const workspace = join(base, 'ws');
  const staticDir = join(base, 'static');
  mkdirSync(workspace);
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>vmlab</title>');
  for (const [path, text] of Object.entries(files)) writeFileSync(join(workspace, path), text);
  const child: ChildProcess = fork(join(import.meta.dirname, 'server-child.ts'), [workspace, staticDir], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  let ended: string | undefined;
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('exit', (code, signal) => (ended = `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(0, 8).join('\n')}`));
  const { port, token } = await new Promise<{ port: number; token: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number; token: string }));
    child.once('exit', () => reject(new Error(`the server process ended before it listened: ${ended}`)));
  });
  return {
    port,
    token,
    workspace,
    staticDir,
    exited: () => ended,
    memory: () =>
      new Promise((resolve, reject) => {
        if (ended) return reject(new Error(`the server process ended: ${ended}`));
        const onMessage = (m: unknown): void => {
          const r = m as { memory?: ChildMemory };
          if (!r.memory) return;
          child.off('message', onMessage);
          resolve(r.memory);
        };
        child.on('message', onMessage);
        child.send('memory', (err) => err && reject(new Error(`the server process ended: ${ended ?? err.message}`)));
      }),
    stop: () =>
      new Promise((resolve) => {
        if (ended) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        if (!child.connected) return void child.kill('SIGKILL');
        child.send('stop', (err) => err && child.kill('SIGKILL'));
      }),
  };
}

/** A LabApi client over the ws library, as the app's web-mode client talks. */
export class ApiClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (frame: Record<string, unknown>) => void; reject: (err: Error) => void }>();
  /** Console bytes by machine id, as text. */
  readonly console = new Map<string, string>();
  /** Set once the server closed the socket. */
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const f = decodeFrame(data.toString()) as Record<string, unknown>;
      if (f.t === 'event' && f.event === 'vm.console') {
        const p = f.payload as { id: string; data: Uint8Array };
        this.console.set(p.id, (this.console.get(p.id) ?? '') + Buffer.from(p.data).toString('latin1'));
      } else if (typeof f.id === 'number') {
        this.pending.get(f.id)?.resolve(f);
        this.pending.delete(f.id);
      }
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      this.closeCode = code;
      for (const p of this.pending.values()) p.reject(new Error(`the server closed the socket (${code}) before it answered`));
      this.pending.clear();
    });
  }

  /** Connects with the token and a matching Origin. */
  static connect(server: ServerProcess): Promise<ApiClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, { headers: goodHeaders(server) });
      ws.once('open', () => resolve(new ApiClient(ws)));
      ws.once('error', reject);
    });
  }

  /** Sends one call; resolves with the reply frame ({t: 'result' | 'error', ...}). */
  send(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) return reject(new Error(`socket closed (${this.closeCode})`));
      this.pending.set(id, { resolve, reject });
      this.ws.send(encodeFrame({ t: 'call', id, method: method as never, params }));
    });
  }

  /** Sends `text` as one text frame; resolves with the reply to call `id`. */
  sendText(text: string, id: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) return reject(new Error(`socket closed (${this.closeCode})`));
      this.pending.set(id, { resolve, reject });
      this.ws.send(text);
    });
  }

  /** Resolves with the close code once the server has closed the socket. */
  closed(): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve) => this.ws.once('close', (code) => resolve(code)));
  }

  /** Sends one call; resolves with its result, rejects with the host's message. */
  async call<T = unknown>(method: string, params: unknown): Promise<T> {
    const r = await this.send(method, params);
    if (r.t !== 'result') throw new Error(`${method}: ${JSON.stringify(r.error)}`);
    return r.result as T;
  }

  close(): void {
    this.ws.close();
  }
}
