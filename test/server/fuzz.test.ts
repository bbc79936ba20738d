// Protocol fuzzer of web mode (issue 13): a server in a process of its own takes raw WebSocket
// frames over TCP (every opcode, RSV bits, masks and missing masks, lengths that lie in every
// length form, bad UTF-8, close codes, fragmentation, truncation, bit flips) and LabApi messages
// (random JSON and text, calls with random and with mutated valid parameters) while a second
// client's VM runs. Every case must end in a reply or in the close code RFC 6455 and the ws library
// give; the server stays up, the other VM keeps running and answering, and the server's heap, RSS
// and open files stay bounded. The cases come from fast-check with a fixed seed, so a failure names
// the case that reproduces it. A short slice in CI; `npm run test:fuzz:server` runs the long one.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_METHODS, type LabErrorCode, type MachineStatus } from '../../src/shared/lab-api';
import { decodeFrame, encodeFrame } from '../../src/shared/wire';
import { closePayload, encodeRawFrame, RawSocket, type RawFrame } from './raw-ws';
import type { ChildMemory } from './server-child';
import { ApiClient, goodHeaders, startServerProcess, type ServerProcess } from './server-process';
import { startVictim, VICTIM_KERNEL, VICTIM_SOURCE, type Victim } from './victim';

const LONG = process.env.VMLAB_FUZZ_LONG === '1';
const SEED = Number(process.env.VMLAB_FUZZ_SEED ?? 13);
/** Raw-frame cases: byte streams sent on one fresh authorized socket each. */
const RAW_CASES = LONG ? 6000 : 400;
/** LabApi cases: one message each, over the ws library. */
const API_CASES = LONG ? 6000 : 400;
/** Cases between two checks that the server lives and the victim VM runs and echoes. */
const PROBE_EVERY = 100;
/** Sockets the raw fuzzer keeps open at once. */
const PARALLEL = 6;
/** How long a raw case may leave its socket open before the fuzzer drops it. */
const RAW_WAIT_MS = 250;
/** Time one fuzzer may take. */
const TIMEOUT_MS = LONG ? 3_600_000 : 600_000;
/** Growth allowed between the warmed-up server and the server after every case. */
const HEAP_GROWTH = 24 << 20;
const RSS_GROWTH = 160 << 20;
const FD_GROWTH = 8;

/** The fuzzer's own kernel: prints one line and powers off through the test finisher. */
const HALT_SOURCE = `
        .text
        .globl _start
_start:
        li      t0, 0x10000000
        li      t1, 'o'
        sb      t1, 0(t0)
        li      t1, 'k'
        sb      t1, 0(t0)
        li      t0, 0x100000
        li      t1, 0x5555
        sw      t1, 0(t0)
1:      j       1b
`;

let server: ServerProcess;
let victim: Victim;

beforeAll(async () => {
  server = await startServerProcess({ [VICTIM_KERNEL]: VICTIM_SOURCE, 'halt.S': HALT_SOURCE });
  victim = await startVictim(server);
  await victim.probe();
});

afterAll(async () => {
  victim?.client.close();
  await server?.stop();
});

async function checkServer(): Promise<void> {
  expect(server.exited(), 'the server process ended').toBeUndefined();
  await victim.probe();
}

/** Counts outcomes by name, for the summary line. */
function tally(): { add(key: string): void; total(): number; text(): string } {
  const counts = new Map<string, number>();
  return {
    add: (key) => counts.set(key, (counts.get(key) ?? 0) + 1),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    text: () => [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', '),
  };
}

/** Runs `cases` with at most `parallel` in flight, checking the server every PROBE_EVERY cases. */
async function runAll<T>(cases: T[], parallel: number, run: (c: T, index: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < cases.length; start += PROBE_EVERY) {
    const batch = cases.slice(start, start + PROBE_EVERY);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const i = next++;
        await run(batch[i], start + i);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    await checkServer();
  }
}

// ---- Raw frames ----

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const VALID_CALL = enc(encodeFrame({ t: 'call', id: 1, method: 'workspace.info', params: {} }));
/** Byte sequences that are not UTF-8: lone continuation, overlong, surrogate, beyond U+10FFFF, truncated. */
const BAD_UTF8 = [[0xff], [0xfe], [0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98], [0xc3]];
/** Status codes around every boundary of RFC 6455 section 7.4. */
const CLOSE_CODES = [0, 999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1011, 1014, 1015, 1016, 2999, 3000, 4999, 5000, 65535];

const payloadArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 160 }),
  fc.string({ maxLength: 80, unit: 'grapheme' }).map(enc),
  fc.constant(VALID_CALL),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...BAD_UTF8), fc.string({ maxLength: 20 })).map(([a, bad, b]) => Uint8Array.from([...enc(a), ...bad, ...enc(b)])),
  fc.tuple(fc.oneof(fc.constantFrom(...CLOSE_CODES), fc.integer({ min: 0, max: 65535 })), fc.oneof(fc.string({ maxLength: 40 }).map(enc), fc.constantFrom(...BAD_UTF8).map((b) => Uint8Array.from(b)))).map(([code, reason]) => closePayload(code, reason)),
  fc.constant(new Uint8Array(1)),
  fc.constantFrom(124, 125, 126, 127, 65535, 65536, 70_000).map((n) => new Uint8Array(n).fill(0x61)),
);

const frameArb: fc.Arbitrary<RawFrame> = fc.record({
  fin: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.boolean(), weight: 1 }),
  rsv: fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.integer({ min: 1, max: 7 }), weight: 1 }),
  opcode: fc.oneof({ arbitrary: fc.constantFrom(0, 1, 2, 8, 9, 10), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 15 }), weight: 2 }),
  mask: fc.oneof(
    { arbitrary: fc.constant(new Uint8Array(4)), weight: 3 },
    { arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }), weight: 2 },
    { arbitrary: fc.constant(null), weight: 1 },
  ),
  payload: payloadArb,
  declaredLength: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 6 },
    { arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), weight: 1 },
    { arbitrary: fc.constantFrom(0n, 1n, 125n, 126n, 65535n, 65536n, 96n << 20n, (96n << 20n) + 1n, 1n << 53n, 1n << 63n), weight: 1 },
  ),
  lengthBits: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: fc.constantFrom(7 as const, 16 as const, 64 as const), weight: 1 }),
}, { requiredKeys: ['opcode'] });

/** Fragmented messages: text or binary starts, continuations, control frames between them. */
const fragmentsArb: fc.Arbitrary<RawFrame[]> = fc.array(
  fc.record({
    kind: fc.constantFrom('start-text', 'start-binary', 'continue', 'end', 'ping', 'pong', 'close'),
    payload: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constant(VALID_CALL.subarray(0, 10)), fc.constant(VALID_CALL.subarray(10))),
    longControl: fc.boolean(),
  }).map(({ kind, payload, longControl }): RawFrame => {
    if (kind === 'start-text') return { opcode: 1, fin: false, payload };
    if (kind === 'start-binary') return { opcode: 2, fin: false, payload };
    if (kind === 'continue') return { opcode: 0, fin: false, payload };
    if (kind === 'end') return { opcode: 0, fin: true, payload };
    const control = longControl ? new Uint8Array(126) : payload.subarray(0, 8);
    return { opcode: kind === 'ping' ? 9 : kind === 'pong' ? 10 : 8, fin: !longControl || kind !== 'ping', payload: kind === 'close' ? closePayload(1000) : control };
  }),
  { minLength: 2, maxLength: 8 },
);

/** One raw case: the bytes and what made them. */
interface RawCase {
  kind: string;
  bytes: Uint8Array;
  /** Status codes of the close frames in it (1005 for one without a code), which the server may echo. */
  closes: number[];
}

/**
 * A case made of whole frames. A frame whose header lies about its length makes the server read the
 * next bytes as its payload, or a payload as frames, so such a case may carry any close code.
 */
function framesCase(kind: string, frames: RawFrame[]): RawCase {
  const lies = frames.some((f) => f.declaredLength !== undefined);
  const closes = frames.filter((f) => (f.opcode & 15) === 8).map((f) => (f.payload && f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : 1005));
  return { kind: lies ? `${kind}, lying lengths` : kind, bytes: Buffer.concat(frames.map(encodeRawFrame)), closes };
}

const rawCaseArb: fc.Arbitrary<RawCase> = fc.oneof(
  { arbitrary: fc.array(frameArb, { minLength: 1, maxLength: 4 }).map((fs) => framesCase('frames', fs)), weight: 6 },
  { arbitrary: fragmentsArb.map((fs) => framesCase('fragments', fs)), weight: 3 },
  { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({ kind: 'garbage', bytes, closes: [] })), weight: 1 },
  {
    arbitrary: fc.tuple(fc.array(frameArb, { minLength: 1, maxLength: 2 }), fc.nat()).map(([fs, cut]) => {
      const all = Buffer.concat(fs.map(encodeRawFrame));
      return { kind: 'truncated', bytes: all.subarray(0, cut % all.length), closes: [] };
    }),
    weight: 1,
  },
  {
    arbitrary: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }).map((flips) => {
      const bytes = Buffer.from(encodeRawFrame({ opcode: 1, payload: VALID_CALL, mask: Uint8Array.of(1, 2, 3, 4) }));
      for (const f of flips) bytes[f % bytes.length] ^= 1 << (f % 8);
      return { kind: 'bit-flips', bytes, closes: [] };
    }),
    weight: 2,
  },
);

/**
 * Close codes the server may answer a raw case with: protocol error, unacceptable data, bad UTF-8,
 * policy (not a LabApi call), too big; or the echo of the client's own valid close (RFC 6455
 * section 5.5.1). A case cut short or with flipped bits may carry a close frame the generator did
 * not make, so its echo is any code a client may send.
 */
function allowedCloseCodes(c: RawCase): Set<number> {
  const codes = new Set([1002, 1003, 1007, 1008, 1009, ...c.closes]);
  if (/truncated|bit-flips|garbage|lying/.test(c.kind)) {
    for (const code of [1000, 1001, 1005, 1010, 1011, 1012, 1013, 1014]) codes.add(code);
    for (let code = 3000; code <= 4999; code++) codes.add(code);
  }
  return codes;
}

describe('web mode under a protocol fuzzer', () => {
  it(`raw WebSocket frames: ${RAW_CASES} cases (seed ${SEED})`, async () => {
    const cases = fc.sample(rawCaseArb, { seed: SEED, numRuns: RAW_CASES });
    const outcomes = tally();
    const warm = await server.memory();
    await runAll(cases, PARALLEL, async (c, index) => {
      const what = `raw case ${index} (${c.kind}, seed ${SEED}): ${Buffer.from(c.bytes.subarray(0, 64)).toString('hex')}`;
      const raw = await RawSocket.open(server.port, goodHeaders(server)).catch((err: Error) => {
        throw new Error(`connecting after ${index} cases: ${server.exited() ?? err.message}`);
      });
      await raw.write(c.bytes);
      const out = await raw.finish(RAW_WAIT_MS);
      if (out.closeCode !== undefined) expect(allowedCloseCodes(c).has(out.closeCode), `${what}: close code ${out.closeCode}`).toBe(true);
      for (const t of out.texts) {
        const f = decodeFrame(t) as { t?: string; error?: { message: string } };
        expect(['result', 'error', 'event'], `${what}: server frame ${t.slice(0, 100)}`).toContain(f.t);
      }
      outcomes.add(out.closeCode !== undefined ? `close ${out.closeCode}` : out.ended ? 'ended' : 'left open');
    });
    const end = await server.memory();
    console.log(`raw frames: ${outcomes.total()} cases: ${outcomes.text()}; ${growth(warm, end)}`);
    expect(outcomes.total()).toBe(RAW_CASES);
    expectBounded(warm, end);
  }, TIMEOUT_MS);
});

// ---- LabApi messages ----

/** Stands for the fuzzer's own VM in the catalog; replaced by its id when sent. */
const OWN = 'FUZZVM';
const RAM = 0x8000_0000;
/** A valid request of every method, on the fuzzer's own VM and files. */
const VALID: [string, Record<string, unknown>][] = [
  ['workspace.info', {}], ['fs.list', {}], ['fs.read', { path: 'halt.S' }], ['fs.write', { path: 'f.txt', text: 'hi' }],
  ['fs.create', { path: 'dir', kind: 'dir' }], ['fs.rename', { from: 'f.txt', to: 'g.txt' }], ['fs.delete', { path: 'g.txt' }],
  ['isa.info', {}], ['asm.check', { path: 'halt.S', text: HALT_SOURCE }], ['asm.build', { path: 'halt.S' }], ['asm.withoutStart', {}],
  ['vm.kernelInfo', { kernel: 'halt.S', mode: 'trap', bios: 'sbi' }],
  ['vm.create', { kernel: 'halt.S', mode: 'trap', memSize: 1 << 20, placement: 'scattered', cpu: { pmp: false }, disks: [{ path: 'd.qcow2' }] }],
  ['vm.list', {}], ['vm.run', { id: OWN }], ['vm.pause', { id: OWN }], ['vm.step', { id: OWN, count: 3 }], ['vm.stepOver', { id: OWN }], ['vm.reverseStep', { id: OWN }], ['vm.reverseContinue', { id: OWN }],
  ['vm.runTo', { id: OWN, address: RAM + 8 }], ['vm.reset', { id: OWN }], ['vm.stop', { id: OWN }], ['vm.destroy', { id: OWN }],
  ['vm.input', { id: OWN, data: enc('abc') }], ['vm.setBreakpoints', { id: OWN, addresses: [RAM] }], ['vm.registers', { id: OWN }],
  ['vm.readMemory', { id: OWN, address: RAM, length: 64, space: 'guest-physical' }],
  ['vm.writeMemory', { id: OWN, address: RAM + 0x1000, bytes: enc('xyz'), space: 'guest-physical' }],
  ['vm.translate', { id: OWN, address: RAM }], ['vm.locate', { id: OWN, address: RAM, space: 'guest-physical' }],
  ['vm.disassemble', { id: OWN, address: RAM, count: 4 }], ['vm.stats', { id: OWN }],
  ['disk.list', {}], ['disk.create', { path: 'd.qcow2', format: 'qcow2', size: 1 << 20 }], ['disk.convert', { from: 'd.qcow2', to: 'e.img', format: 'raw' }],
  ['vm.disks', { id: OWN }], ['vm.attachDisk', { id: OWN, disk: { path: 'e.img', readOnly: true } }], ['vm.detachDisk', { id: OWN, index: 0 }],
  ['vm.readSector', { id: OWN, index: 0, sector: 0 }], ['vm.pageTables', { id: OWN }], ['vm.tablePage', { id: OWN, table: 'pmap', index: 0 }],
  ['vm.walk', { id: OWN, address: RAM, access: 'load', priv: 1 }], ['vm.tlb', { id: OWN }],
  ['vm.translations', { id: OWN }], ['vm.translationBlock', { id: OWN, gpa: RAM, priv: 1 }],
  ['compare.run', { kernel: 'halt.S', maxSteps: 10_000, modes: ['bare', 'trap'] }], ['compare.cancel', {}], ['compare.state', {}],
  ['vm.consoleLog', { id: OWN }], ['vm.program', { id: OWN }],
  ['vm.gdb', { id: OWN, enabled: false }], ['snapshot.list', {}], ['snapshot.save', { id: OWN, name: 'fz' }],
  ['snapshot.restore', { path: 'snapshots/fz.snap', mode: 'trap' }],
  ['vm.migrate', { id: OWN, to: '127.0.0.1:1', live: true }],
];

/** Values that sit on a boundary of some schema, or are of the wrong kind. */
const ODD_VALUES: unknown[] = [
  null, true, 0, -1, 0.5, -0, 1e308, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53, -(2 ** 53), 4095, 4096, 1 << 20, (1 << 30) + 4096,
  '', ' ', '.', '..', '../halt.S', '../../etc/passwd', '/etc/passwd', 'a/../../b', 'halt.S\u0000.txt', 'dir/', 'C:\\x', '\\\\host\\share',
  'x'.repeat(300), 'y'.repeat(5000), '\u202e', '\ud800', 'm0', 'bare', 'pmap', [], [0], [[0, 0]], {}, { $bytes: 'AAAA' }, { $bytes: '' },
];

const jsonish: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...ODD_VALUES));
/** Values of the kind a field already holds, so more mutated requests pass validation and reach the handlers. */
const NUMBERS = [0, 1, 2, 3, 7, 8, 255, 4095, 4096, 0xfff, RAM - 1, RAM, RAM + 0xffc, RAM + (1 << 20), 0xffff_fffc, 0xffff_ffff, 1 << 20, 16 << 20, 1 << 30, 500_000_000, 1_000_000];
const STRINGS = ['halt.S', 'd.qcow2', 'e.img', 'f.txt', 'dir', 'dir/x.S', 'new.qcow2', 'new.raw', 'emulate', 'trap', 'bare', 'qcow2', 'raw', 'pmap', 'guest', 'shadow', 'guest-virtual', 'host-physical', 'physical'];
const sameKind = (old: unknown, at: number): unknown =>
  typeof old === 'number' ? NUMBERS[at % NUMBERS.length] : typeof old === 'string' ? STRINGS[at % STRINGS.length] : typeof old === 'boolean' ? at % 2 === 0 : old;

/** A valid request changed in 1 to 3 places: a value replaced, a key dropped or added, a method swapped. */
const mutatedArb = fc.tuple(fc.nat(VALID.length - 1), fc.array(fc.tuple(fc.nat(4), fc.nat(), jsonish, fc.string({ maxLength: 12 })), { minLength: 1, maxLength: 3 }))
  .map(([base, edits]) => {
    let [method, params] = VALID[base];
    params = structuredClone(params);
    for (const [op, at, value, key] of edits) {
      const keys = Object.keys(params);
      if (op === 0 && keys.length) params[keys[at % keys.length]] = at % 2 ? value : sameKind(params[keys[at % keys.length]], at >> 1);
      else if (op === 1 && keys.length) delete params[keys[at % keys.length]];
      else if (op === 2) params[key || 'extra'] = value;
      else if (op === 3) method = VALID[at % VALID.length][0];
      else if (keys.length) {
        // One level down: a field of a nested object or an element of an array.
        const inner = params[keys[at % keys.length]];
        if (inner && typeof inner === 'object' && !(inner instanceof Uint8Array)) (inner as Record<string, unknown>)[Array.isArray(inner) ? at % 3 : key || 'x'] = value;
        else params[keys[at % keys.length]] = value;
      }
    }
    return { kind: 'mutated', method, params };
  });

/** One LabApi case: the exact text of one frame. */
interface ApiCase {
  kind: string;
  text: string;
}

const callArb = (id: fc.Arbitrary<unknown>): fc.Arbitrary<ApiCase> =>
  fc.tuple(fc.oneof(mutatedArb, fc.record({ kind: fc.constant('random-call'), method: fc.oneof(fc.constantFrom(...LAB_METHODS), fc.string({ maxLength: 20 })), params: jsonish })), id)
    .map(([c, callId]) => ({ kind: c.kind, text: encodeFrame({ t: 'call', id: callId as number, method: c.method as never, params: c.params }) }));

const apiCaseArb: fc.Arbitrary<ApiCase> = fc.oneof(
  { arbitrary: callArb(fc.integer({ min: 1, max: 2 ** 31 })), weight: 12 },
  {
    arbitrary: fc.tuple(fc.nat(VALID.length - 1), fc.integer({ min: 1, max: 2 ** 31 })).map(([i, id]) => ({ kind: 'valid', text: encodeFrame({ t: 'call', id, method: VALID[i][0] as never, params: VALID[i][1] }) })),
    weight: 3,
  },
  { arbitrary: callArb(fc.constantFrom(-1, 0.5, 2 ** 53, '7', null)).map((c) => ({ ...c, kind: 'bad-id' })), weight: 1 },
  { arbitrary: fc.jsonValue().map((v) => ({ kind: 'json', text: JSON.stringify(v) ?? 'null' })), weight: 1 },
  { arbitrary: fc.string({ maxLength: 60, unit: 'grapheme' }).map((text) => ({ kind: 'text', text })), weight: 1 },
  {
    arbitrary: fc.tuple(fc.constantFrom(100, 5000, 200_000), fc.boolean()).map(([depth, arrays]) => {
      const [open, close] = arrays ? ['[', ']'] : ['{"a":', '}'];
      return { kind: 'deep', text: `{"t":"call","id":1,"method":"fs.list","params":${open.repeat(depth)}0${close.repeat(depth)}}` };
    }),
    weight: 1,
  },
  {
    arbitrary: fc.string({ maxLength: 12 }).map((b64) => ({ kind: 'bad-bytes', text: `{"t":"call","id":2,"method":"vm.input","params":{"id":"${OWN}","data":{"$bytes":${JSON.stringify(b64 + '!')}}}}` })),
    weight: 1,
  },
);

/** What the server must do with a frame: answer call `id`, or close with `code`. */
function expectation(text: string): { reply: number } | { close: number } {
  let frame: unknown;
  try {
    frame = decodeFrame(text);
  } catch {
    return { close: 1007 };
  }
  const f = frame as { t?: unknown; id?: unknown } | null;
  if (f === null || typeof f !== 'object' || f.t !== 'call' || !Number.isSafeInteger(f.id)) return { close: 1008 };
  return { reply: f.id as number };
}

const ERROR_CODES: LabErrorCode[] = ['bad-request', 'not-found', 'outside-workspace', 'exists', 'bad-state', 'failed'];

/** Within `ms`, or a failure naming `what`. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('web mode under a LabApi fuzzer', () => {
  it('has a valid request of every LabApi method to mutate', () => {
    expect(new Set(VALID.map(([m]) => m))).toEqual(new Set(LAB_METHODS));
  });

  it(`LabApi messages: ${API_CASES} cases (seed ${SEED})`, async () => {
    const cases = fc.sample(apiCaseArb, { seed: SEED + 1, numRuns: API_CASES });
    const outcomes = tally();
    let client = await ApiClient.connect(server);
    let own = '';
    /** Leaves only the victim and one paused VM of the fuzzer's own, on its kernel. */
    const tidy = async (): Promise<void> => {
      if (client.closeCode !== undefined) client = await ApiClient.connect(server);
      await client.call('compare.cancel', {});
      for (const m of await client.call<MachineStatus[]>('vm.list', {})) {
        if (m.id !== victim.id && m.id !== own) await client.call('vm.destroy', { id: m.id });
      }
      if (!(await client.call<MachineStatus[]>('vm.list', {})).some((m) => m.id === own)) {
        await client.call('fs.write', { path: 'halt.S', text: HALT_SOURCE });
        own = (await client.call<MachineStatus>('vm.create', { kernel: 'halt.S', mode: 'trap', memSize: 1 << 20 })).id;
      }
    };
    await tidy();
    const warm = await server.memory();
    await runAll(cases, 1, async (c, index) => {
      const text = c.text.replaceAll(`"${OWN}"`, JSON.stringify(own)).replaceAll(`"${victim.id}"`, JSON.stringify(own));
      const what = `api case ${index} (${c.kind}, seed ${SEED + 1}): ${text.slice(0, 300)}`;
      const expected = expectation(text);
      if ('close' in expected) {
        const fresh = await ApiClient.connect(server);
        fresh.ws.send(text);
        expect(await within(30_000, what, fresh.closed()), what).toBe(expected.close);
        outcomes.add(`close ${expected.close}`);
        return;
      }
      const reply = (await within(60_000, what, client.sendText(text, expected.reply))) as { t: string; error?: { code: LabErrorCode; message: string } };
      expect(['result', 'error'], what).toContain(reply.t);
      if (reply.error) {
        expect(ERROR_CODES, what).toContain(reply.error.code);
        expect(reply.error.message, what).toMatch(/^[^\n]+$/);
        expect(reply.error.message, what).not.toMatch(/\n\s+at |node:internal|\bat [^ ]+ \(/);
        // Files are named as the workspace names them, never by their host path.
        expect(reply.error.message, what).not.toContain(server.workspace);
      }
      outcomes.add(reply.error ? `error ${reply.error.code}` : 'result');
      await tidy();
    });
    const end = await server.memory();
    client.close();
    console.log(`LabApi messages: ${outcomes.total()} cases: ${outcomes.text()}; ${growth(warm, end)}`);
    expect(outcomes.total()).toBe(API_CASES);
    expectBounded(warm, end);
  }, TIMEOUT_MS);
});

const mib = (n: number): string => (n / (1 << 20)).toFixed(1);

function growth(warm: ChildMemory, end: ChildMemory): string {
  return `heap ${mib(warm.heapUsed)} -> ${mib(end.heapUsed)} MiB, rss ${mib(warm.rss)} -> ${mib(end.rss)} MiB, open files ${warm.fds} -> ${end.fds}`;
}

/** The server after the cases holds about what it held before them. */
function expectBounded(warm: ChildMemory, end: ChildMemory): void {
  expect(end.heapUsed - warm.heapUsed, `heap growth: ${growth(warm, end)}`).toBeLessThan(HEAP_GROWTH);
  expect(end.rss - warm.rss, `RSS growth: ${growth(warm, end)}`).toBeLessThan(RSS_GROWTH);
  expect(end.fds - warm.fds, `open files: ${growth(warm, end)}`).toBeLessThan(FD_GROWTH);
}
