// A hostile workspace: symlinks in every position (file, folder, backing file, the middle of a chain),
// '..' and absolute backing names, FIFOs, devices, folders and sockets where images, kernels and backing
// files are expected. Through the lab service (the LabApi) and through the CLI's disk and run commands,
// nothing may leave the workspace, hang, or answer with an internal message. A FIFO that vmlab waited on
// would block its thread for good, so helper processes open every FIFO for writing after 15 seconds:
// an open that blocked ends then, and the elapsed time gives it away.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDisk } from '../../src/host/disk-tools';
import { LabService } from '../../src/host/lab-service';
import type { DiskImageInfo, LabErrorInfo, MachineStatus, SectorBlock } from '../../src/shared/lab-api';
import { REPO_ROOT } from '../support/build';

const MiB = 1 << 20;
const base = mkdtempSync(join(tmpdir(), 'vmlab-hostile-'));
const root = join(base, 'ws');
const outside = join(base, 'outside');
const SECRET = 'SECRET-OUTSIDE-THE-WORKSPACE';
const DECOY = 'DECOY-INSIDE-THE-WORKSPACE';
/** Seconds before the helper opens the FIFOs for writing: any call taking longer waited on one. */
const UNJAM_AFTER = 15;
/** What no answer may contain: the host's errno names, JavaScript's internals, stack frames. */
const INTERNAL = /undefined|TypeError|RangeError|ReferenceError|ENOENT|ENOTDIR|EISDIR|ENAMETOOLONG|ELOOP|ENXIO|EACCES|Array buffer|null bytes|at .*\.ts|\bfd\b/;

let lab: LabService;
let unjammer: ChildProcess | undefined;
let socketServer: Server | undefined;
const fifos: string[] = [];

/** A raw image whose first sector starts with `text`. */
function rawWith(path: string, text: string): void {
  const bytes = new Uint8Array(MiB);
  bytes.set(new TextEncoder().encode(text));
  writeFileSync(path, bytes);
}

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo ${path} failed (coreutils): ${r.stderr}`);
  fifos.push(path);
}

/** The outcome of one request: its error, or its result; with the time it took. */
async function attempt(method: string, params: unknown): Promise<{ error?: LabErrorInfo; value?: unknown; ms: number }> {
  const t0 = Date.now();
  try {
    const value = await lab.call(method, params);
    return { value, ms: Date.now() - t0 };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { error: { code: (e.code ?? 'failed') as LabErrorInfo['code'], message: e.message ?? String(err) }, ms: Date.now() - t0 };
  }
}

/** The error a request fails with (the test fails when it succeeds); it came quickly and reads well. */
async function refusal(method: string, params: unknown): Promise<LabErrorInfo> {
  const r = await attempt(method, params);
  if (!r.error) throw new Error(`${method} ${JSON.stringify(params)} succeeded`);
  expectClean(r.error.message, `${method} ${JSON.stringify(params)}`);
  expect(r.ms, `${method} ${JSON.stringify(params)} took ${r.ms} ms (it waited on a FIFO?)`).toBeLessThan(UNJAM_AFTER * 1000 - 2000);
  return r.error;
}

/** A one-line message without host paths, errno names or internals. */
function expectClean(message: string, what: string): void {
  expect(message, what).not.toContain(base);
  expect(message, what).not.toMatch(INTERNAL);
  expect(message, what).not.toContain('\n');
  expect(message.length, what).toBeGreaterThan(10);
}

beforeAll(async () => {
  mkdirSync(outside, { recursive: true });
  mkdirSync(join(root, 'outside'), { recursive: true });
  mkdirSync(join(root, 'x'));
  mkdirSync(join(root, 'deep', 'er'), { recursive: true });
  rawWith(join(outside, 'secret.img'), SECRET);
  createDisk(join(outside, 'secret.qcow2'), MiB, { format: 'qcow2', backing: 'secret.img' });
  rawWith(join(root, 'outside', 'secret.img'), DECOY);
  rawWith(join(root, 'plain.img'), 'PLAIN');

  // Item 2 of the report: a link in x/ to an image whose backing name leads out from the image's real folder.
  createDisk(join(root, 'real.qcow2'), MiB, { format: 'qcow2', backing: '../outside/secret.img' });
  symlinkSync('../real.qcow2', join(root, 'x', 'link.qcow2'));
  // Links as the file, as a folder, as a backing file and in the middle of a chain.
  symlinkSync(join(outside, 'secret.img'), join(root, 'leak.img'));
  symlinkSync(outside, join(root, 'outdir'));
  symlinkSync(join(outside, 'secret.img'), join(root, 'back-link.img'));
  createDisk(join(root, 'via-link.qcow2'), MiB, { format: 'qcow2', backing: 'back-link.img' });
  symlinkSync(join(outside, 'secret.qcow2'), join(root, 'mid-out.qcow2'));
  createDisk(join(root, 'chain-out.qcow2'), MiB, { format: 'qcow2', backing: 'mid-out.qcow2' });
  // The middle link leads to an image inside whose backing name, from its real folder, leads out.
  createDisk(join(root, 'deep', 'er', 'mid-real.qcow2'), MiB, { format: 'qcow2', backing: '../../../outside/secret.img' });
  symlinkSync('deep/er/mid-real.qcow2', join(root, 'mid-in.qcow2'));
  createDisk(join(root, 'chain-mid.qcow2'), MiB, { format: 'qcow2', backing: 'mid-in.qcow2' });
  // '..' and absolute backing names.
  createDisk(join(root, 'dotdot.qcow2'), MiB, { format: 'qcow2', backing: '../outside/secret.img' });
  createDisk(join(root, 'absolute.qcow2'), MiB, { format: 'qcow2', backing: join(outside, 'secret.img') });
  // Loops and dangling links.
  symlinkSync('loop-b.img', join(root, 'loop-a.img'));
  symlinkSync('loop-a.img', join(root, 'loop-b.img'));
  symlinkSync(join(outside, 'gone.img'), join(root, 'dangling.img'));
  // Devices (through links: they lie outside, and the CLI names them directly).
  symlinkSync('/dev/zero', join(root, 'zero.img'));
  symlinkSync('/dev/null', join(root, 'null.elf'));
  // FIFOs, a folder and a socket as images, kernels and backing files.
  mkfifo(join(root, 'fifo.img'));
  mkfifo(join(root, 'fifo.elf'));
  mkfifo(join(root, 'fifo.S'));
  mkfifo(join(root, 'fifo.vm.json'));
  createDisk(join(root, 'plain-base.img'), MiB, { format: 'raw' });
  createDisk(join(root, 'fifo-backed.qcow2'), MiB, { format: 'qcow2', backing: 'plain-base.img' });
  // Retarget the backing name at the FIFO after creation (createDisk opens the backing file to take its size).
  rmSync(join(root, 'plain-base.img'));
  mkfifo(join(root, 'plain-base.img'));
  mkdirSync(join(root, 'dir.img'));
  mkdirSync(join(root, 'dir-base'));
  createDisk(join(root, 'dir-backed.qcow2'), MiB, { format: 'qcow2', backing: 'plain.img' });
  patchBacking(join(root, 'dir-backed.qcow2'), 'plain.img', 'dir-base');
  socketServer = createServer();
  await new Promise<void>((done) => socketServer!.listen(join(root, 'sock.img'), done));
  // Kernels: empty, and a raw image of 2 GiB - 1 bytes (sparse).
  writeFileSync(join(root, 'empty.elf'), '');
  writeFileSync(join(root, 'big.img'), '');
  truncateSync(join(root, 'big.img'), 2 ** 31 - 1);

  // One writer loop per FIFO (a write blocks until that FIFO has a reader), in a process group of their own.
  const loops = fifos.map((f) => `(while :; do printf x > '${f}'; done) &`).join(' ');
  unjammer = spawn('sh', ['-c', `sleep ${UNJAM_AFTER}; ${loops} wait`], { stdio: 'ignore', detached: true });
  lab = await LabService.create({ workspace: root });
  await lab.call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  j _start\n' });
});

afterAll(async () => {
  if (unjammer?.pid !== undefined) process.kill(-unjammer.pid, 'SIGTERM');
  socketServer?.close();
  await lab?.dispose();
});

/** Rewrites a backing file name of the same length in place (qemu-img would check the new name). */
function patchBacking(image: string, from: string, to: string): void {
  const bytes = readFileSync(image);
  const at = bytes.indexOf(Buffer.from(from));
  if (at < 0 || to.length > from.length) throw new Error(`cannot patch ${image}`);
  const name = Buffer.alloc(from.length);
  name.write(to);
  name.copy(bytes, at);
  // The name's length field (offset 16) shrinks to the new name.
  bytes.writeUInt32BE(to.length, 16);
  writeFileSync(image, bytes);
}

describe('symlinks and backing chains through the lab service', () => {
  it('refuses a linked image whose backing file, seen from the link target, lies outside', async () => {
    // From the link's folder x/ the name ../outside/secret.img is the decoy inside the workspace; from the
    // real image's folder it is the secret outside. The image is opened as the real file, so the real folder counts.
    const err = await refusal('vm.create', { kernel: 'spin.S', mode: 'emulate', disks: [{ path: 'x/link.qcow2' }] });
    expect(err.code).toBe('outside-workspace');
    expect(err.message).toMatch(/^x\/link\.qcow2: .*backing file \.\.\/outside\/secret\.img .*outside the workspace/);
  });

  const escapes: [string, RegExp][] = [
    ['x/link.qcow2', /backing file \.\.\/outside\/secret\.img lies outside/],
    ['leak.img', /'leak\.img' lies outside the workspace/],
    ['outdir/secret.img', /'outdir\/secret\.img' lies outside the workspace/],
    ['via-link.qcow2', /backing file back-link\.img lies outside/],
    ['chain-out.qcow2', /backing file mid-out\.qcow2 lies outside/],
    ['chain-mid.qcow2', /deep\/er\/mid-real\.qcow2: its backing file \.\.\/\.\.\/\.\.\/outside\/secret\.img lies outside/],
    ['dotdot.qcow2', /backing file \.\.\/outside\/secret\.img lies outside/],
    ['absolute.qcow2', /backing file, an absolute path, lies outside/],
    ['dangling.img', /link to a missing target/],
    ['zero.img', /'zero\.img' lies outside the workspace/],
  ];
  for (const [path, message] of escapes) {
    it(`${path}: vm.create, vm.attachDisk, disk.create --backing and disk.convert refuse it as outside the workspace`, async () => {
      for (const readOnly of [false, true]) {
        const err = await refusal('vm.create', { kernel: 'spin.S', mode: 'trap', disks: [{ path, readOnly }] });
        expect(err).toMatchObject({ code: 'outside-workspace' });
        expect(err.message).toMatch(message);
      }
      const vm = (await lab.call('vm.create', { kernel: 'spin.S', mode: 'emulate' })) as MachineStatus;
      expect((await refusal('vm.attachDisk', { id: vm.id, disk: { path, readOnly: true } })).code).toBe('outside-workspace');
      await lab.call('vm.destroy', { id: vm.id });
      expect((await refusal('disk.create', { path: 'new.qcow2', format: 'qcow2', backing: path })).code).toBe('outside-workspace');
      expect((await refusal('disk.convert', { from: path, to: 'copy.img', format: 'raw' })).code).toBe('outside-workspace');
      expect((await lab.call('fs.list', {})) as { path: string }[]).not.toContainEqual(expect.objectContaining({ path: 'new.qcow2' }));
    });
  }

  it('a link loop is refused with words, not ELOOP', async () => {
    const err = await refusal('vm.create', { kernel: 'spin.S', mode: 'trap', disks: [{ path: 'loop-a.img' }] });
    expect(err).toMatchObject({ code: 'bad-request', message: expect.stringMatching(/too many symbolic links/) });
  });

  it('a link inside to an image inside works, and its guest reads the image, not anything outside', async () => {
    symlinkSync('../plain.img', join(root, 'x', 'plain-link.img'));
    symlinkSync('../outside', join(root, 'x', 'inner-dir'));
    for (const name of ['plain.img', 'x/plain-link.img', 'x/inner-dir/secret.img']) {
      const vm = (await lab.call('vm.create', { kernel: 'spin.S', mode: 'trap', disks: [{ path: name, readOnly: true }] })) as MachineStatus;
      const bytes = ((await lab.call('vm.readSector', { id: vm.id, index: 0, sector: 0 })) as SectorBlock).bytes;
      const text = new TextDecoder().decode(bytes.subarray(0, 30));
      expect(text).toMatch(name.includes('secret') ? DECOY : 'PLAIN');
      expect(text).not.toContain(SECRET);
      await lab.call('vm.destroy', { id: vm.id });
    }
  });
});

describe('special files through the lab service', () => {
  const notRegular: [string, RegExp][] = [
    ['fifo.img', /'fifo\.img' is a FIFO \(named pipe\), not a regular file/],
    ['dir.img', /'dir\.img' is a folder, not a regular file/],
    ['sock.img', /'sock\.img' is a socket, not a regular file/],
    ['fifo-backed.qcow2', /fifo-backed\.qcow2: .*'plain-base\.img' is a FIFO/],
    ['dir-backed.qcow2', /dir-backed\.qcow2: .*'dir-base' is a folder/],
  ];
  for (const [path, message] of notRegular) {
    it(`${path} as a disk, a backing file and a copy's source is refused at once`, async () => {
      const err = await refusal('vm.create', { kernel: 'spin.S', mode: 'trap', disks: [{ path, readOnly: true }] });
      expect(err).toMatchObject({ code: 'bad-request', message: expect.stringMatching(message) });
      expect((await refusal('disk.convert', { from: path, to: 'copy.img', format: 'raw' })).message).toMatch(message);
      const backed = await refusal('disk.create', { path: 'on-special.qcow2', format: 'qcow2', backing: path });
      expect(backed.code).toBe('bad-request');
    });
  }

  it('lists a FIFO, a folder and a socket named like images with the reason, without waiting', async () => {
    const t0 = Date.now();
    const list = (await lab.call('disk.list', {})) as DiskImageInfo[];
    expect(Date.now() - t0).toBeLessThan(UNJAM_AFTER * 1000 - 2000);
    expect(list.find((d) => d.path === 'fifo.img')?.error).toMatch(/FIFO/);
    expect(list.find((d) => d.path === 'sock.img')?.error).toMatch(/socket/);
    for (const d of list) if (d.error !== undefined) expectClean(d.error, `disk.list ${d.path}`);
  });

  it.each([
    ['fifo.elf', 'bad-request', /could not load kernel: 'fifo\.elf' is a FIFO/],
    ['fifo.S', 'bad-request', /'fifo\.S' is a FIFO/],
    ['empty.elf', 'bad-request', /could not load kernel 'empty\.elf': the file is empty/],
    ['null.elf', 'outside-workspace', /'null\.elf' lies outside the workspace/],
    ['dir.img', 'bad-request', /'dir\.img' is a folder/],
    ['big.img', 'bad-request', /could not load kernel: 'big\.img' is 2 GiB, larger than the 64 MiB vmlab reads as a kernel/],
  ])('kernel %s is refused (%s) before anything is read', async (kernel, code, message) => {
    for (const mode of ['bare', 'trap']) {
      const err = await refusal('vm.create', { kernel, mode });
      expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
    }
  });

  it('the 2 GiB - 1 raw image opens as a disk without being read: its last sector is there at once', async () => {
    const t0 = Date.now();
    const vm = (await lab.call('vm.create', { kernel: 'spin.S', mode: 'trap', disks: [{ path: 'big.img', readOnly: true }] })) as MachineStatus;
    const disks = (await lab.call('vm.disks', { id: vm.id })) as { size: number }[];
    // A raw disk is whole sectors, rounded up as QEMU rounds it (qemu-img info: virtual size
    // 2147483648): the last sector holds the file's last 511 bytes and one past its end, read as zero.
    expect(disks[0].size).toBe(2 ** 31);
    const last = ((await lab.call('vm.readSector', { id: vm.id, index: 0, sector: 2 ** 31 / 512 - 1 })) as SectorBlock).bytes;
    expect(last).toEqual(new Uint8Array(512));
    await lab.call('vm.destroy', { id: vm.id });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('fs.read of a FIFO, a socket or a device link, and .incbin of a FIFO, answer at once', async () => {
    for (const path of ['fifo.img', 'sock.img', 'zero.img', 'big.img']) await refusal('fs.read', { path });
    const r = await attempt('asm.check', { path: 'inc.S', text: '.incbin "fifo.img"\n' });
    expect(r.ms).toBeLessThan(UNJAM_AFTER * 1000 - 2000);
    expect(JSON.stringify(r.value)).toMatch(/fifo\.img/);
  });
});

describe('file-API names', () => {
  it('too long names and paths under a file get a worded error, no errno and no host path', async () => {
    writeFileSync(join(root, 'notes.txt'), 'hello');
    const long = 'n'.repeat(300);
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['fs.create', { path: long, kind: 'file' }, 'bad-request', /is too long/],
      ['fs.create', { path: `x/${long}`, kind: 'dir' }, 'bad-request', /is too long/],
      ['fs.write', { path: long, text: 'x' }, 'bad-request', /is too long/],
      ['fs.read', { path: long }, 'bad-request', /is too long/],
      ['fs.rename', { from: 'notes.txt', to: long }, 'bad-request', /is too long/],
      ['fs.read', { path: 'notes.txt/inner' }, 'not-found', /'notes\.txt\/inner' does not exist: 'notes\.txt' is a file, not a folder/],
      ['fs.create', { path: 'notes.txt/inner', kind: 'file' }, 'not-found', /'notes\.txt' is a file, not a folder/],
      ['fs.write', { path: 'notes.txt/inner', text: 'x' }, 'not-found', /'notes\.txt' is a file, not a folder/],
      ['fs.delete', { path: 'notes.txt/inner' }, 'not-found', /is a file, not a folder/],
      ['disk.create', { path: 'notes.txt/d.img', format: 'raw', size: MiB }, 'not-found', /notes\.txt/],
    ];
    for (const [method, params, code, message] of cases) {
      const err = await refusal(method, params);
      expect(err, `${method} ${JSON.stringify(params).slice(0, 60)}`).toMatchObject({ code, message: expect.stringMatching(message) });
    }
    expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('hello');
    // The longest name a file may have is written (its temporary name is shortened, not refused).
    await lab.call('fs.write', { path: `x/${'m'.repeat(251)}.txt`, text: 'kept' });
    expect(readFileSync(join(root, 'x', `${'m'.repeat(251)}.txt`), 'utf8')).toBe('kept');
  });
});

describe('the CLI on the same files', { timeout: 300_000 }, () => {
  // The CLI bundled once for this file, as bin/vmlab.mjs bundles it; it sits under node_modules to find packages.
  const cache = join(REPO_ROOT, 'node_modules', '.cache', `vmlab-hostile-cli-${process.pid}`);
  const entry = join(cache, 'vmlab.mjs');

  beforeAll(async () => {
    mkdirSync(cache, { recursive: true });
    await build({ entryPoints: [join(REPO_ROOT, 'src', 'cli', 'main.ts')], outfile: join(cache, 'cli.mjs'), bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
    writeFileSync(entry, "import { main } from './cli.mjs';\nprocess.exitCode = await main(process.argv.slice(2));\n");
  });

  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  /** Runs vmlab in the workspace folder; asynchronous, so the FIFO helper keeps running. */
  function vmlab(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
    const t0 = Date.now();
    return new Promise((done) => {
      const child = spawn(process.execPath, [entry, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        done({ code, stderr, ms: Date.now() - t0 });
      });
    });
  }

  /** vmlab fails quickly with one clean line matching `message`. */
  async function fails(args: string[], message: RegExp): Promise<void> {
    const r = await vmlab(args);
    const what = `vmlab ${args.join(' ')}`;
    expect(r.code, `${what}: ${r.stderr}`).not.toBe(0);
    expect(r.code, what).not.toBeNull();
    // No time limit here (a loaded machine starts node slowly): a CLI that waited on a FIFO would read
    // the helpers' bytes after 15 s and fail differently.
    expect(r.stderr, what).toMatch(message);
    expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
    expect(r.stderr, what).not.toMatch(INTERNAL);
  }

  it('vmlab run refuses FIFOs, devices, folders, an empty file and a 2 GiB - 1 raw image as kernels', async () => {
    await fails(['run', 'fifo.elf'], /'fifo\.elf' is a FIFO \(named pipe\)/);
    await fails(['run', '/dev/null'], /'\/dev\/null' is a character device/);
    await fails(['run', 'null.elf'], /'null\.elf' is a character device/);
    await fails(['run', 'empty.elf'], /empty/);
    await fails(['run', 'sock.img'], /'sock\.img' is a socket/);
    await fails(['run', 'big.img'], /'big\.img' is 2 GiB, larger than the 256 MiB vmlab reads as a kernel/);
  });

  it('vmlab run --disk and vmlab disk refuse FIFOs, devices, folders and sockets as images and backing files', async () => {
    await lab.call('asm.build', { path: 'spin.S' });
    const cases: [string, RegExp][] = [
      ['fifo.img', /'fifo\.img' is a FIFO/], ['zero.img', /'zero\.img' is a character device/], ['/dev/zero', /is a character device/],
      ['dir.img', /'dir\.img' is a folder|is a directory/], ['sock.img', /'sock\.img' is a socket/],
      ['fifo-backed.qcow2', /'plain-base\.img' is a FIFO/], ['dir-backed.qcow2', /'dir-base' is a folder/],
    ];
    // Every file through one disk opener of run and of disk; info, check and create --backing on a few.
    for (const [file, message] of cases) {
      await fails(['run', 'spin.elf', '--max-insns', '1000', '--disk', `${file},readonly`], message);
      await fails(['disk', 'convert', file, 'copy.img'], message);
    }
    await fails(['disk', 'info', 'fifo.img'], cases[0][1]);
    await fails(['disk', 'check', 'sock.img'], cases[4][1]);
    await fails(['disk', 'info', '/dev/zero'], cases[2][1]);
    await fails(['disk', 'create', 'over.qcow2', '--backing', 'fifo.img'], cases[0][1]);
  });

  it('vmlab disk create and convert refuse a FIFO or a device as the output, and leave no lock file beside it', async () => {
    await fails(['disk', 'create', 'fifo.img', '1M'], /'fifo\.img' is a FIFO/);
    await fails(['disk', 'convert', 'plain.img', 'fifo.img'], /'fifo\.img' is a FIFO/);
    await fails(['disk', 'create', 'zero.img', '1M'], /'zero\.img' is a character device/);
    expect(existsSync(join(root, 'fifo.img.lock'))).toBe(false);
    expect(existsSync('/dev/zero.lock')).toBe(false);
  });

  it('vmlab vms: two VMs given one writable image hear which VM has it open', async () => {
    mkdirSync(join(root, 'pair'));
    createDisk(join(root, 'pair', 'shared.img'), MiB, { format: 'raw' });
    for (const name of ['alpha', 'beta']) {
      writeFileSync(join(root, 'pair', `${name}.vm.json`), JSON.stringify({ name, kernel: '../spin.elf', mode: 'trap', disks: ['shared.img'] }));
    }
    const r = await vmlab(['vms', 'pair/alpha.vm.json', 'pair/beta.vm.json', '--max-insns', '1000']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pair\/beta\.vm\.json: .*shared\.img is already open for writing by VM 'alpha'; attach it read-only/);
    expect(r.stderr).not.toMatch(/process \d+|the other writer/);
  });

  it('vmlab vms refuses a FIFO as a VM file at once', async () => {
    await fails(['vms', 'fifo.vm.json'], /'fifo\.vm\.json' is a FIFO/);
  });
});
