// Web mode (docs/app.md): the built renderer and the LabApi over a WebSocket, on 127.0.0.1 only.
// Access needs the per-launch token (given once in the URL, then kept in a SameSite=Strict cookie),
// a Host header naming this server (no DNS rebinding) and, for the WebSocket, a matching Origin.
// Whatever a client sends, with or without the token, only its own request or socket ends: a bad
// request target answers 400, a frame that breaks RFC 6455 closes that socket with the code `ws`
// picks (1002 protocol error, 1007 bad UTF-8, 1009 too big), and every socket, stream and promise
// here has its error handled, so no 'error' event or rejection can end the process and its VMs.
// A client that stops reading loses console output past MAX_BACKLOG and is cut off past MAX_UNREAD,
// so its queue cannot grow without end.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LabService } from '../host/lab-service';
import { LabError, toErrorInfo } from '../host/errors';
import { contentSecurityPolicy } from '../host/policy';
import { LAB_METHODS, type LabEvents, type LabMethod } from '../shared/lab-api';
import { decodeFrame, encodeFrame, type HostFrame } from '../shared/wire';
import { faviconIco } from './favicon';

/** How the web server is set up. */
export interface WebServerOptions {
  service: LabService;
  /** Folder of the built renderer (index.html and assets). */
  staticDir: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Fixed token (tests); default: 32 random bytes. */
  token?: string;
  /** Console backlog per client before output is skipped; default MAX_BACKLOG. */
  maxBacklog?: number;
  /** Unread bytes per client before it is cut off; default MAX_UNREAD. */
  maxUnread?: number;
}

/** A running web server. */
export interface WebServer {
  /** URL to open, token included. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

const COOKIE = 'vmlab_token';
/** Largest WebSocket frame accepted from a client. */
export const MAX_FRAME = 96 << 20;
/** Console output a slow client may have queued before more is skipped (bytes). */
export const MAX_BACKLOG = 8 << 20;
/** Replies and events a client may leave unread before it is cut off (bytes): above the largest reply. */
export const MAX_UNREAD = 128 << 20;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/**
 * Bounds what one WebSocket client may have queued: console output beyond `limit` queued bytes is
 * skipped (counted per machine), and the next chunk that fits is preceded by a note saying so.
 */
export class ConsoleBacklog {
  private readonly skipped = new Map<string, number>();
  constructor(private readonly limit: number) {}

  /** false: skip this chunk; true: send it; bytes: send this note first, then the chunk. */
  admit(id: string, length: number, queued: number): boolean | Uint8Array {
    if (queued > this.limit) {
      this.skipped.set(id, (this.skipped.get(id) ?? 0) + length);
      return false;
    }
    const n = this.skipped.get(id);
    if (!n) return true;
    this.skipped.delete(id);
    return new TextEncoder().encode(`\r\n[vmlab: ${n} bytes of output skipped: this console could not keep up]\r\n`);
  }
}

function sameToken(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

/** A request target: its URL and its decoded path; undefined when it is no URL or its percent-encoding is bad. */
function parseTarget(target: string | undefined): { url: URL; path: string } | undefined {
  try {
    const url = new URL(target ?? '/', 'http://127.0.0.1');
    return { url, path: decodeURIComponent(url.pathname) };
  } catch {
    return undefined;
  }
}

/** Starts the server on 127.0.0.1. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const favicon = faviconIco();
  let port = 0;
  const hosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];
  const origins = (): string[] => hosts().map((h) => `http://${h}`);

  const http: Server = createServer((req, res) => {
    void serveHttp(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  async function serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hosts().includes(req.headers.host ?? '')) return void res.writeHead(421, { 'content-type': 'text/plain' }).end('wrong host\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    const target = parseTarget(req.url);
    if (!target) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request target\n');
    const { url } = target;
    const security = {
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'content-security-policy': contentSecurityPolicy(`'self' ws://${req.headers.host}`),
    };
    if (url.pathname === '/favicon.ico') {
      return void res.writeHead(200, { ...security, 'content-type': 'image/x-icon', 'cache-control': 'max-age=86400' }).end(favicon);
    }
    const queryToken = url.searchParams.get('token');
    if (sameToken(queryToken, token)) {
      // Trade the URL token for a cookie, and drop it from the address bar.
      url.searchParams.delete('token');
      const cookie = `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
      return void res.writeHead(303, { ...security, 'set-cookie': cookie, location: url.pathname + url.search }).end();
    }
    if (!sameToken(cookieToken(req), token)) {
      return void res.writeHead(403, { ...security, 'content-type': 'text/plain' }).end('vmlab: open the URL printed by `npm run web` (it carries the access token)\n');
    }
    const rel = normalize(target.path === '/' ? '/index.html' : target.path).replace(/^([/\\])+/, '');
    const file = join(options.staticDir, rel);
    if (rel.split(/[/\\]/).includes('..') || !file.startsWith(options.staticDir + sep)) return void res.writeHead(404).end();
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) return void res.writeHead(404, security).end();
    res.writeHead(200, {
      ...security,
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': st.size,
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    // pipeline, not pipe: a read error or a client that goes away closes the file and the response.
    pipeline(createReadStream(file), res, () => {});
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME });
  const clients = new Map<WebSocket, ConsoleBacklog>();
  const unsubscribe = options.service.subscribe((event, payload) => {
    if (clients.size === 0) return;
    const text = encodeFrame({ t: 'event', event, payload });
    for (const [ws, skipped] of clients) {
      if (event !== 'vm.console') {
        deliver(ws, text);
        continue;
      }
      const { id, data } = payload as LabEvents['vm.console'];
      const verdict = skipped.admit(id, data.length, ws.bufferedAmount);
      if (verdict === false) continue;
      if (verdict !== true) ws.send(encodeFrame({ t: 'event', event: 'vm.console', payload: { id, data: verdict } }));
      ws.send(text);
    }
  });

  /** Sends `text`, or cuts the client off when it leaves more than MAX_UNREAD unread: its queue would grow without end. */
  function deliver(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > (options.maxUnread ?? MAX_UNREAD)) return void ws.terminate();
    ws.send(text);
  }

  http.on('upgrade', (req, socket, head) => {
    // Node hands the socket over without an error listener: a reset during the refusal or the
    // handshake would otherwise be an unhandled 'error' event.
    socket.on('error', () => socket.destroy());
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!hosts().includes(req.headers.host ?? '')) return refuse('421 Misdirected Request');
    const target = parseTarget(req.url);
    if (!target) return refuse('400 Bad Request');
    if (!origins().includes(req.headers.origin ?? '')) return refuse('403 Forbidden');
    if (target.url.pathname !== '/api') return refuse('404 Not Found');
    if (!sameToken(cookieToken(req), token) && !sameToken(target.url.searchParams.get('token'), token)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.set(ws, new ConsoleBacklog(options.maxBacklog ?? MAX_BACKLOG));
      // A frame that breaks RFC 6455 makes `ws` close this socket with its status code, then report
      // it here; that is the whole of the response.
      ws.on('error', () => {});
      ws.on('close', () => clients.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return ws.close(1003, 'text frames only');
        handleFrame(ws, data.toString()).catch(() => ws.close(1011, 'internal error'));
      });
    });
  });

  async function handleFrame(ws: WebSocket, text: string): Promise<void> {
    let frame: unknown;
    try {
      frame = decodeFrame(text);
    } catch {
      return ws.close(1007, 'malformed frame: not JSON, or $bytes not base64');
    }
    const f = frame as { t?: unknown; id?: unknown; method?: unknown; params?: unknown };
    if (f === null || typeof f !== 'object' || f.t !== 'call' || typeof f.id !== 'number' || !Number.isSafeInteger(f.id)) {
      return ws.close(1008, 'expected {t: "call", id, method, params}');
    }
    const id = f.id;
    let reply: HostFrame;
    try {
      if (typeof f.method !== 'string' || !LAB_METHODS.includes(f.method as LabMethod)) throw new LabError('bad-request', `unknown method '${String(f.method)}'`);
      reply = { t: 'result', id, result: await options.service.call(f.method, f.params) };
    } catch (err) {
      reply = { t: 'error', id, error: toErrorInfo(err) };
    }
    deliver(ws, encodeFrame(reply));
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE'
      ? new Error(`port ${options.port} of 127.0.0.1 is in use; give another --port, or none for a free one`)
      : err));
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  // After listen, a server error (an accept that fails for want of file descriptors) is reported, not fatal.
  http.on('error', (err) => process.stderr.write(`vmlab web server: ${err.message}\n`));
  const addr = http.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of clients.keys()) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
