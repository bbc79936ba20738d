// A hostile workspace: symlinks in every position, '..' and absolute backing names, FIFOs, devices,
// folders and sockets where images, kernels and backing files are expected. Through the lab service
// nothing may leave the workspace, hang, or answer with an internal message.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDisk } from '../../src/host/disk-tools';
import { LabService } from '../../src/host/lab-service';
import type { LabErrorInfo } from '../../src/shared/lab-api';

const MiB = 1 << 20;
const base = mkdtempSync(join(tmpdir(), 'vmlab-hostile-'));
const root = join(base, 'ws');
const SECRET = 'SECRET-OUTSIDE-THE-WORKSPACE';
const DECOY = 'DECOY-INSIDE-THE-WORKSPACE';
let lab: LabService;

/** A raw image whose first sector starts with `text`. */
function rawWith(path: string, text: string): void {
  const bytes = new Uint8Array(MiB);
  bytes.set(new TextEncoder().encode(text));
  writeFileSync(path, bytes);
}

/** The error a request fails with (and fails the test when it succeeds). */
async function refusal(method: string, params: unknown): Promise<LabErrorInfo> {
  try {
    await lab.call(method, params);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { code: (e.code ?? 'failed') as LabErrorInfo['code'], message: e.message ?? String(err) };
  }
  throw new Error(`${method} ${JSON.stringify(params)} succeeded`);
}

beforeAll(async () => {
  mkdirSync(join(base, 'outside'), { recursive: true });
  mkdirSync(join(root, 'outside'), { recursive: true });
  mkdirSync(join(root, 'x'));
  rawWith(join(base, 'outside', 'secret.img'), SECRET);
  rawWith(join(root, 'outside', 'secret.img'), DECOY);
  lab = await LabService.create({ workspace: root });
  await lab.call('fs.write', { path: 'spin.S', text: '.globl _start\n_start:\n  j _start\n' });
});

afterAll(() => lab?.dispose());

describe('symlinks and backing chains', () => {
  it('refuses a linked image whose backing file, seen from the link target, lies outside', async () => {
    // From the link's folder x/ the name ../outside/secret.img is the decoy inside the workspace; from the
    // real image's folder it is the secret outside. The image is opened as the real file, so the real folder counts.
    createDisk(join(root, 'real.qcow2'), MiB, { format: 'qcow2', backing: '../outside/secret.img' });
    symlinkSync('../real.qcow2', join(root, 'x', 'link.qcow2'));
    const err = await refusal('vm.create', { kernel: 'spin.S', mode: 'emulate', disks: [{ path: 'x/link.qcow2' }] });
    expect(err.code).toBe('outside-workspace');
    expect(err.message).toMatch(/^x\/link\.qcow2: .*backing file \.\.\/outside\/secret\.img .*outside the workspace/);
    expect(err.message).not.toContain(base);
  });
});
