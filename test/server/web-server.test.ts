// Web mode's gatekeeping: 127.0.0.1 only, the per-launch token, Host and Origin checks, static files
// confined to the renderer folder, and the LabApi over the WebSocket with errors as frames.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LabService } from '../../src/host/lab-service';
import { ConsoleBacklog, startWebServer, type WebServer } from '../../src/server/web-server';
import { decodeFrame, encodeFrame } from '../../src/shared/wire';

let server: WebServer;
let service: LabService;
let base: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'vmlab-web-'));
  mkdirSync(join(base, 'static', 'assets'), { recursive: true });
  writeFileSync(join(base, 'static', 'index.html'), '<!doctype html><title>vmlab</title>');
  writeFileSync(join(base, 'static', 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(base, 'secret.txt'), 'secret');
  service = await LabService.create({ workspace: join(base, 'ws') });
  server = await startWebServer({ service, staticDir: join(base, 'static') });
});

afterAll(async () => {
  await server.close();
  await service.dispose();
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const cookie = (): string => `vmlab_token=${server.token}`;
const origin = (): string => `http://127.0.0.1:${server.port}`;

describe('HTTP', () => {
  it('listens on 127.0.0.1 and prints a URL with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(40);
  });

  it('is bound to 127.0.0.1 alone: other addresses of the machine, even 127.0.0.2 and ::1 on the loopback, are refused', async () => {
    const external = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4');
    const others = ['127.0.0.2', '::1', ...external.map((a) => a!.address)];
    for (const host of others) {
      const code = await new Promise<string>((resolve) => {
        const s = tcpConnect({ host, port: server.port }, () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      expect(code, host).toMatch(/^(ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH|EHOSTUNREACH)$/);
    }
  });

  it('refuses pages without the token, or with a wrong one', async () => {
    expect((await get('/')).status).toBe(403);
    expect((await get('/?token=nope')).status).toBe(403);
    expect((await get('/', { cookie: 'vmlab_token=nope' })).status).toBe(403);
  });

  it('trades the URL token for a strict HttpOnly cookie, then serves the app with a CSP', async () => {
    const r = await get(`/?token=${server.token}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
    expect(String(r.headers['set-cookie'])).toMatch(/vmlab_token=.*HttpOnly; SameSite=Strict/);
    const page = await get('/', { cookie: cookie() });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>vmlab</title>');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'.*script-src 'self';/);
    expect((await get('/assets/app.js', { cookie: cookie() })).headers['content-type']).toMatch(/javascript/);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    expect((await get('/', { cookie: cookie(), host: `evil.example:${server.port}` })).status).toBe(421);
  });

  it('never serves files outside the renderer folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/..%2fsecret.txt']) {
      const r = await get(p, { cookie: cookie() });
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('secret');
    }
  });

  it('serves /favicon.ico without a token', async () => {
    const r = await get('/favicon.ico');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('image/x-icon');
  });
});

function connect(headers: Record<string, string>, query = ''): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number, method: string, params: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer): void => {
      const f = decodeFrame(data.toString()) as Record<string, unknown>;
      if (f.id === id) {
        ws.off('message', onMessage);
        resolve(f);
      }
    };
    ws.on('message', onMessage);
    ws.send(encodeFrame({ t: 'call', id, method: method as never, params }));
  });
}

describe('WebSocket', () => {
  it('refuses a missing or foreign Origin, and a missing token', async () => {
    await expect(connect({ cookie: cookie() })).rejects.toThrow('HTTP 403');
    await expect(connect({ cookie: cookie(), origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect({ cookie: cookie(), origin: `http://127.0.0.1:${server.port + 1}` })).rejects.toThrow('HTTP 403');
    await expect(connect({ origin: origin() })).rejects.toThrow('HTTP 401');
    await expect(connect({ origin: origin() }, '?token=wrong')).rejects.toThrow('HTTP 401');
  });

  it('carries LabApi calls, results, errors and events', async () => {
    const ws = await connect({ cookie: cookie(), origin: origin() });
    const events: unknown[] = [];
    ws.on('message', (d: Buffer) => {
      const f = decodeFrame(d.toString()) as { t: string; event?: string };
      if (f.t === 'event') events.push(f.event);
    });
    expect(await call(ws, 1, 'fs.create', { path: 'a.S', kind: 'file' })).toEqual({ t: 'result', id: 1, result: {} });
    expect(events).toContain('fs.changed');
    expect(await call(ws, 2, 'fs.list', {})).toMatchObject({ result: [{ path: 'a.S', kind: 'file' }] });
    expect(await call(ws, 3, 'fs.read', { path: '../secret.txt' })).toMatchObject({ t: 'error', error: { code: 'outside-workspace' } });
    expect(await call(ws, 4, 'fs.write', { path: 'a.S' })).toMatchObject({ t: 'error', error: { code: 'bad-request' } });
    expect(await call(ws, 5, 'process.exit', {})).toMatchObject({ t: 'error', error: { code: 'bad-request', message: "unknown method 'process.exit'" } });
    ws.close();
  });

  it('accepts the token in the query string (first connection before the cookie)', async () => {
    const ws = await connect({ origin: origin() }, `?token=${server.token}`);
    expect(await call(ws, 1, 'workspace.info', {})).toMatchObject({ result: { name: 'ws' } });
    ws.close();
  });

  it('closes the socket on malformed frames', async () => {
    for (const bad of ['{not json', JSON.stringify({ t: 'call', method: 'fs.list' }), JSON.stringify([1, 2])]) {
      const ws = await connect({ cookie: cookie(), origin: origin() });
      const code = await new Promise<number>((resolve) => {
        ws.once('close', (c) => resolve(c));
        ws.send(bad);
      });
      expect(code === 1007 || code === 1008, bad).toBe(true);
    }
  });
});

describe('ConsoleBacklog', () => {
  it('skips output past the limit per machine and notes how much, once', () => {
    const b = new ConsoleBacklog(1000);
    expect(b.admit('m1', 100, 0)).toBe(true);
    expect(b.admit('m1', 300, 1001)).toBe(false);
    expect(b.admit('m2', 50, 5000)).toBe(false);
    expect(b.admit('m1', 200, 2000)).toBe(false);
    const note = b.admit('m1', 10, 999);
    expect(new TextDecoder().decode(note as Uint8Array)).toBe('\r\n[vmlab: 500 bytes of output skipped: this console could not keep up]\r\n');
    expect(b.admit('m1', 10, 0)).toBe(true);
    expect(new TextDecoder().decode(b.admit('m2', 1, 0) as Uint8Array)).toContain('50 bytes');
  });
});
