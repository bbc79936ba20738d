// `vmlab disk create|info|convert|check` as a shell sees them, against qemu-img on the same files.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockPathFor } from '../../src/host/disk-files';
import { REPO_ROOT } from '../support/build';
import { pattern, qemuCheck, qemuImg, qemuImgOk, qemuIo, scratch } from './support';

const dir = scratch('cli');
// The CLI bundled once for this file, as bin/vmlab.mjs bundles it (without its rebuild-when-stale check,
// which other work on the tree would trigger on every run); it sits under node_modules to find packages.
const cache = join(REPO_ROOT, 'node_modules', '.cache', `vmlab-disk-cli-${process.pid}`);
const ENTRY = join(cache, 'vmlab.mjs');

beforeAll(async () => {
  mkdirSync(cache, { recursive: true });
  await build({ entryPoints: [join(REPO_ROOT, 'src', 'cli', 'main.ts')], outfile: join(cache, 'cli.mjs'), bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
  writeFileSync(ENTRY, "import { main } from './cli.mjs';\nprocess.exitCode = await main(process.argv.slice(2));\n");
});

afterAll(() => rmSync(cache, { recursive: true, force: true }));

function vmlab(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ENTRY, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function qemuInfo(file: string): Record<string, unknown> {
  return JSON.parse(qemuImgOk(['info', '--output=json', file], dir)) as Record<string, unknown>;
}

/** Bytes of the virtual disk the image itself maps (qemu-img map: depth 0 and present). */
function qemuAllocated(file: string): number {
  const map = JSON.parse(qemuImgOk(['map', '--output=json', file], dir)) as { length: number; depth: number; present: boolean }[];
  return map.filter((m) => m.depth === 0 && m.present).reduce((n, m) => n + m.length, 0);
}

describe('vmlab disk create', () => {
  it.each([
    [['q64.qcow2', '64M'], { format: 'qcow2', 'virtual-size': 64 << 20, 'cluster-size': 65536 }],
    [['q1g.qcow2', '1G', '--cluster-size', '4K'], { format: 'qcow2', 'virtual-size': 1 << 30, 'cluster-size': 4096 }],
    [['r512.img', '512K', '--format', 'raw'], { format: 'raw', 'virtual-size': 512 << 10 }],
    [['odd.qcow2', '1000'], { format: 'qcow2', 'virtual-size': 1024 }],
  ])('%j gives what qemu-img info reads', (args, expected) => {
    const r = vmlab(['disk', 'create', ...args]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(qemuInfo(args[0])).toMatchObject(expected);
    if (expected.format === 'qcow2') expect(qemuCheck(join(dir, args[0])).code).toBe(0);
  });

  it('creates an overlay of its backing file\'s size, named relative to the overlay', () => {
    qemuImgOk(['create', '-q', '-f', 'qcow2', 'cbase.qcow2', '3M'], dir);
    qemuIo(join(dir, 'cbase.qcow2'), ['write -P 0x44 0 3M']);
    const r = vmlab(['disk', 'create', 'cover.qcow2', '--backing', 'cbase.qcow2']);
    expect(r.code).toBe(0);
    expect(qemuInfo('cover.qcow2')).toMatchObject({ 'virtual-size': 3 << 20, 'backing-filename': 'cbase.qcow2', 'backing-filename-format': 'qcow2' });
    expect(qemuImg(['compare', 'cover.qcow2', 'cbase.qcow2'], dir).code).toBe(0);
  });

  it('exits 2 with a message on bad input', () => {
    for (const args of [['x.img', '12Q'], ['x.img', '1M', '--format', 'vmdk'], ['x.img', '1M', '--cluster-size', '3000'], ['x.img', '--backing', 'missing.qcow2'], ['x.img', '1M', '--format', 'raw', '--backing', 'cbase.qcow2']]) {
      const r = vmlab(['disk', 'create', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/size|raw or qcow2|cluster size|missing\.qcow2|backing/);
    }
  });
});

describe('vmlab disk info', () => {
  it('reports what qemu-img info and qemu-img map report', () => {
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=16384', 'ibase.qcow2', '8M'], dir);
    qemuIo(join(dir, 'ibase.qcow2'), ['write -P 1 0 2M']);
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-b', 'ibase.qcow2', '-F', 'qcow2', 'itop.qcow2'], dir);
    qemuIo(join(dir, 'itop.qcow2'), ['write -P 2 1M 100k', 'write -z 4M 64k', 'write -P 3 7M 16k']);
    for (const file of ['ibase.qcow2', 'itop.qcow2']) {
      const r = vmlab(['disk', 'info', '--json', file]);
      expect(r.code).toBe(0);
      const ours = JSON.parse(r.stdout) as Record<string, unknown>;
      const theirs = qemuInfo(file);
      // JSON leaves out absent fields (no backing file), in both outputs.
      expect(ours).toEqual(JSON.parse(JSON.stringify({
        filename: file,
        version: 3,
        fullBackingFile: theirs['backing-filename'] === undefined ? undefined : join(dir, theirs['backing-filename'] as string),
        format: theirs.format,
        virtualSize: theirs['virtual-size'],
        diskSize: theirs['actual-size'],
        clusterSize: theirs['cluster-size'],
        backingFile: theirs['backing-filename'],
        backingFormat: theirs['backing-filename-format'],
        allocatedBytes: qemuAllocated(file),
      })));
    }
    const text = vmlab(['disk', 'info', 'itop.qcow2']).stdout;
    expect(text).toContain('virtual size: 8 MiB (8388608 bytes)');
    expect(text).toContain('backing file: ibase.qcow2');
  });

  it('gives a raw file of part of a sector the virtual size qemu-img gives it (rounded up to whole sectors)', () => {
    for (const [file, bytes] of [['five.img', 5], ['six-hundred.img', 600], ['empty.img', 0]] as const) {
      writeFileSync(join(dir, file), new Uint8Array(bytes).fill(0x61));
      const r = vmlab(['disk', 'info', '--json', file]);
      expect(r.code).toBe(0);
      const ours = JSON.parse(r.stdout) as Record<string, unknown>;
      expect({ virtualSize: ours.virtualSize, allocatedBytes: ours.allocatedBytes }).toEqual({ virtualSize: qemuInfo(file)['virtual-size'], allocatedBytes: qemuAllocated(file) });
    }
    expect(qemuInfo('five.img')['virtual-size']).toBe(512);
  });

  it('exits 2 for a missing file', () => {
    const r = vmlab(['disk', 'info', 'nothing.qcow2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nothing.qcow2');
  });
});

describe('vmlab disk convert', () => {
  it('flattens a chain to raw as qemu-img convert does, and to qcow2 without its zero clusters', () => {
    writeFileSync(join(dir, 'vbase.raw'), Buffer.from(pattern(2 << 20, 4)));
    qemuImgOk(['create', '-q', '-f', 'qcow2', '-b', 'vbase.raw', '-F', 'raw', 'vtop.qcow2', '4M'], dir);
    qemuIo(join(dir, 'vtop.qcow2'), ['write -P 9 1M 64k', 'write -z 0 128k']);
    let r = vmlab(['disk', 'convert', '-O', 'raw', 'vtop.qcow2', 'vout.raw']);
    expect(r.code).toBe(0);
    qemuImgOk(['convert', '-O', 'raw', 'vtop.qcow2', 'vqemu.raw'], dir);
    expect(readFileSync(join(dir, 'vout.raw')).equals(readFileSync(join(dir, 'vqemu.raw')))).toBe(true);
    r = vmlab(['disk', 'convert', 'vtop.qcow2', 'vout.qcow2']);
    expect(r.code).toBe(0);
    expect(qemuImg(['compare', '-f', 'qcow2', '-F', 'raw', 'vout.qcow2', 'vqemu.raw'], dir).code).toBe(0);
    const check = qemuCheck(join(dir, 'vout.qcow2'));
    expect(check.code).toBe(0);
    // 2 MiB of pattern less the zeroed 128 KiB, in 64 KiB clusters; the empty upper half is not written.
    expect(check.report['allocated-clusters']).toBe(30);
  });

  it('refuses an output another writer holds', () => {
    writeFileSync(join(dir, 'held.qcow2'), '');
    writeFileSync(lockPathFor(join(dir, 'held.qcow2')), `${process.ppid}\n`);
    const r = vmlab(['disk', 'convert', 'vbase.raw', 'held.qcow2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('already open for writing');
  });
});

describe('vmlab disk check', () => {
  it('exit codes and counts as qemu-img check: clean 0, leaks 3, corruption 2, raw 63', () => {
    qemuImgOk(['create', '-q', '-f', 'qcow2', 'k.qcow2', '4M'], dir);
    qemuIo(join(dir, 'k.qcow2'), ['write -P 5 0 256k', 'write -P 6 1M 64k', 'discard 0 64k']);
    const bytes = readFileSync(join(dir, 'k.qcow2'));
    const leak = Buffer.from(bytes);
    const corrupt = Buffer.from(bytes);
    // qemu-img's layout: refcount block at 0x20000; the discard freed a cluster inside the file.
    const free = [...Array(bytes.length / 65536).keys()].find((c) => bytes.readUInt16BE(0x20000 + c * 2) === 0)!;
    leak.writeUInt16BE(1, 0x20000 + free * 2);
    corrupt.writeUInt16BE(0, 0x20000 + (bytes.length / 65536 - 1) * 2);
    writeFileSync(join(dir, 'k-leak.qcow2'), leak);
    writeFileSync(join(dir, 'k-corrupt.qcow2'), corrupt);
    for (const [file, code] of [['k.qcow2', 0], ['k-leak.qcow2', 3], ['k-corrupt.qcow2', 2]] as const) {
      const text = vmlab(['disk', 'check', file]);
      expect(text.code).toBe(code);
      const theirs = qemuCheck(join(dir, file));
      expect(theirs.code).toBe(code);
      const json = vmlab(['disk', 'check', '--json', file]);
      expect(json.code).toBe(code);
      const ours = JSON.parse(json.stdout) as Record<string, number>;
      expect([ours.corruptions, ours.leaks, ours.allocatedClusters, ours.imageEndOffset]).toEqual([
        theirs.report.corruptions ?? 0, theirs.report.leaks ?? 0, theirs.report['allocated-clusters'], theirs.report['image-end-offset'],
      ]);
      if (code === 0) expect(text.stdout).toContain('No errors were found on the image.');
      if (code === 3) expect(text.stdout).toContain('leaked clusters were found');
      if (code === 2) expect(text.stdout).toContain('errors were found on the image');
    }
    expect(vmlab(['disk', 'check', 'vbase.raw']).code).toBe(qemuImg(['check', 'vbase.raw'], dir).code);
    writeFileSync(join(dir, 'k-bad.qcow2'), Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(20)]));
    const bad = vmlab(['disk', 'check', 'k-bad.qcow2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/k-bad\.qcow2: qcow2: .*truncated/);
  });
});
