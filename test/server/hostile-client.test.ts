// One hostile client must not end web mode: the frames and requests that once killed the server or
// answered 500 (issue 13), each sent to a server in a process of its own while another client's VM
// runs. Each must close only its own socket, with the RFC 6455 code the ws library gives
// (1002 protocol error, 1007 bad UTF-8, 1009 too big), or answer 400; the server lives on and the
// other VM keeps running and answering.
import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/shared/wire';
import { closePayload, encodeRawFrame, handshake, RawSocket, rawRequest, type RawFrame } from './raw-ws';
import { ApiClient, goodHeaders, startServerProcess, type ServerProcess } from './server-process';
import { startVictim, VICTIM_KERNEL, VICTIM_SOURCE, type Victim } from './victim';

let server: ServerProcess;
let victim: Victim;

beforeAll(async () => {
  server = await startServerProcess({ [VICTIM_KERNEL]: VICTIM_SOURCE });
  victim = await startVictim(server);
  await victim.probe();
});

afterAll(async () => {
  victim?.client.close();
  await server?.stop();
});

/** The server process lives, the victim VM runs and echoes, and a new client gets answers. */
async function serverServesOn(): Promise<void> {
  expect(server.exited(), 'the server process ended').toBeUndefined();
  await victim.probe();
  const fresh = await ApiClient.connect(server);
  expect(await fresh.call('workspace.info', {})).toMatchObject({ name: 'ws' });
  fresh.close();
}

/** Sends `bytes` on a fresh authorized socket; resolves with the server's close code. */
async function closeCodeFor(bytes: Uint8Array): Promise<number | undefined> {
  const raw = await RawSocket.open(server.port, goodHeaders(server));
  await raw.write(bytes);
  const outcome = await raw.finish(10_000);
  expect(outcome.ended, 'the server ended the connection').toBe(true);
  return outcome.closeCode;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const frame = (f: RawFrame): Buffer => encodeRawFrame(f);

describe('malformed WebSocket frames from a client with the token', () => {
  const samples: [string, () => Uint8Array, number][] = [
    ['a text frame that is not UTF-8 (81 83 00 00 00 00 ff fe 80)', () => Buffer.from('818300000000fffe80', 'hex'), 1007],
    ['an unmasked client frame', () => frame({ opcode: 1, mask: null, payload: text('{}') }), 1002],
    ['opcode 3 (reserved)', () => frame({ opcode: 3, payload: text('x') }), 1002],
    ['RSV1 set without an extension', () => frame({ opcode: 1, rsv: 4, payload: text('{}') }), 1002],
    ['a 256 MiB length header', () => frame({ opcode: 1, declaredLength: 256n << 20n }), 1009],
    ['close code 999', () => frame({ opcode: 8, payload: closePayload(999) }), 1002],
    ['a 100 MiB message in one frame', () => frame({ opcode: 1, payload: new Uint8Array(100 << 20).fill(0x20) }), 1009],
    [
      'a 100 MiB message in four fragments',
      () => {
        const part = new Uint8Array(25 << 20).fill(0x20);
        return Buffer.concat([0, 1, 2, 3].map((i) => frame({ opcode: i === 0 ? 1 : 0, fin: i === 3, payload: part })));
      },
      1009,
    ],
  ];
  for (const [name, bytes, code] of samples) {
    it(`${name}: closes that socket with ${code}, and the server serves on`, async () => {
      expect(await closeCodeFor(bytes())).toBe(code);
      await serverServesOn();
    });
  }

  it('clients that reset their connection in the middle of a handshake or of its refusal end nothing else', async () => {
    const { connect } = await import('node:net');
    const requests = [
      handshake(server.port, '/api', goodHeaders(server)),
      handshake(server.port, '/api', { origin: `http://127.0.0.1:${server.port}`, cookie: 'vmlab_token=wrong' }),
      handshake(server.port, '/api', { origin: 'http://evil.example', cookie: `vmlab_token=${server.token}` }),
    ];
    for (const request of requests) {
      for (let cut = 1; cut <= request.length; cut += Math.ceil(request.length / 7)) {
        await new Promise<void>((resolve) => {
          const s = connect(server.port, '127.0.0.1', () => {
            s.write(request.slice(0, cut), () => {
              s.resetAndDestroy();
              resolve();
            });
          });
          s.on('error', () => resolve());
        });
      }
      // The whole request, then a reset before the answer is read.
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve) => {
          const s = connect(server.port, '127.0.0.1', () => s.write(request + 'x'.repeat(1 << 16), () => {
            s.resetAndDestroy();
            resolve();
          }));
          s.on('error', () => resolve());
        });
      }
    }
    await serverServesOn();
  });
});

describe('malformed WebSocket handshakes with the token', () => {
  it('are refused with 400 (an extension offer is ignored), and the server serves on', async () => {
    const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const head = (): string => `GET /api HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: http://127.0.0.1:${server.port}\r\nCookie: vmlab_token=${server.token}\r\n`;
    const refused = /^HTTP\/1.1 (400|426)/;
    const variants: [string, string, RegExp][] = [
      ['no key', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n', refused],
      ['a key that is not 16 bytes', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n', refused],
      ['version 99', `Upgrade: websocket\r\nConnection: Upgrade\r\n${key}Sec-WebSocket-Version: 99\r\n`, refused],
      ['no version', `Upgrade: websocket\r\nConnection: Upgrade\r\n${key}`, refused],
      ['Upgrade: h2c', `Upgrade: h2c\r\nConnection: Upgrade\r\n${key}Sec-WebSocket-Version: 13\r\n`, refused],
      ['a broken subprotocol list', `Upgrade: websocket\r\nConnection: Upgrade\r\n${key}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a,,b, ,\r\n`, refused],
      // The server offers no extension, so an offer, broken or not, is ignored (RFC 6455 section 9.1).
      ['a broken extension offer', `Upgrade: websocket\r\nConnection: Upgrade\r\n${key}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99;;\r\n`, /^HTTP\/1.1 101/],
    ];
    for (const [name, headers, expected] of variants) {
      const status = await rawRequest(server.port, `${head()}${headers}\r\n`);
      expect(status, name).toMatch(expected);
    }
    await serverServesOn();
  });
});

describe('HTTP requests whose target is not a URL', () => {
  const cookie = (): string => `vmlab_token=${server.token}`;
  const request = (target: string, extra = ''): string =>
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nCookie: ${cookie()}\r\n${extra}Connection: close\r\n\r\n`;

  it('a bad percent-encoding answers 400, not 500', async () => {
    for (const target of ['/%', '/%zz', '/assets/%E0%A4%A', '/%C0%80', '/%ED%A0%80']) {
      expect(await rawRequest(server.port, request(target)), target).toBe('HTTP/1.1 400 Bad Request');
    }
    await serverServesOn();
  });

  it('an absolute-form target that is no URL answers 400', async () => {
    expect(await rawRequest(server.port, request('http://[/'))).toBe('HTTP/1.1 400 Bad Request');
    await serverServesOn();
  });

  it('a WebSocket upgrade whose target is no URL answers 400 (it used to end the process, before any token check)', async () => {
    const upgrade = handshake(server.port, 'http://[/api', { origin: `http://127.0.0.1:${server.port}` });
    expect(await rawRequest(server.port, upgrade)).toBe('HTTP/1.1 400 Bad Request');
    const badPercent = handshake(server.port, '/api?token=%', goodHeaders(server));
    expect(await rawRequest(server.port, badPercent)).toMatch(/^HTTP\/1.1 (101|401)/);
    await serverServesOn();
  });
});

describe('a client that does not read its replies', () => {
  it('is cut off once more than 128 MiB wait for it, and the server serves on', async () => {
    writeFileSync(join(server.workspace, 'big.txt'), 'x'.repeat(4 << 20));
    const raw = await RawSocket.open(server.port, goodHeaders(server));
    raw.pause();
    const calls = 60;
    for (let id = 1; id <= calls; id++) {
      await raw.write(frame({ opcode: 1, payload: text(encodeFrame({ t: 'call', id, method: 'fs.read', params: { path: 'big.txt' } })) }));
    }
    // The server reads and answers every call meanwhile (60 x 4 MiB); then the client reads again.
    await new Promise((r) => setTimeout(r, 8_000));
    raw.resume();
    const out = await raw.finish(30_000);
    expect(out.ended, 'the server cut the connection').toBe(true);
    expect(out.texts.length).toBeLessThan(calls);
    await serverServesOn();
  });
});

describe('static files', () => {
  it('a client that leaves in the middle of a download leaves no open file behind', async () => {
    mkdirSync(join(server.staticDir, 'assets'), { recursive: true });
    writeFileSync(join(server.staticDir, 'assets', 'big.js'), Buffer.alloc(32 << 20, 0x20));
    const before = (await server.memory()).fds;
    for (let i = 0; i < 16; i++) {
      await new Promise<void>((resolve) => {
        const req = get({ host: '127.0.0.1', port: server.port, path: '/assets/big.js', headers: { host: `127.0.0.1:${server.port}`, cookie: `vmlab_token=${server.token}` } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => resolve());
      });
    }
    // The server notices each reset when it next writes; give it the time to.
    await new Promise((r) => setTimeout(r, 500));
    expect((await server.memory()).fds - before).toBeLessThan(4);
    await serverServesOn();
  });
});
