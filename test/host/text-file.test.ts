// binaryFileNote: which workspace files the editor refuses, and what it says each one is.
import { describe, expect, it } from 'vitest';
import { binaryFileNote } from '../../src/host/text-file';

const bytes = (head: number[] | string, rest = [0, 1, 2]): Uint8Array =>
  new Uint8Array([...(typeof head === 'string' ? [...head].map((c) => c.charCodeAt(0)) : head), ...rest]);

describe('binaryFileNote', () => {
  it('opens text, in UTF-8 or Latin-1, with no NUL among its first 8000 bytes', () => {
    expect(binaryFileNote('a.S', new TextEncoder().encode('  li a0, 1 # é\n'))).toBeUndefined();
    expect(binaryFileNote('b.S', new Uint8Array([0x23, 0x20, 0xe9, 0x0a]))).toBeUndefined();
    expect(binaryFileNote('c.txt', new Uint8Array([...new Uint8Array(8000).fill(0x41), 0]))).toBeUndefined();
  });

  it('names the binary files a workspace holds by their leading bytes', () => {
    expect(binaryFileNote('x', bytes([0x7f, 0x45, 0x4c, 0x46]))).toMatch(/^an ELF program/);
    expect(binaryFileNote('x', bytes([0x51, 0x46, 0x49, 0xfb]))).toMatch(/^a qcow2 disk image/);
    expect(binaryFileNote('x', bytes('VMLABSNP'))).toMatch(/^a vmlab snapshot/);
    expect(binaryFileNote('x', bytes('VMLABREC'))).toMatch(/^a vmlab recording/);
  });

  it('names the others by their file names', () => {
    expect(binaryFileNote('disk.img', bytes([1, 2]))).toMatch(/^a raw disk image/);
    expect(binaryFileNote('k.bin', bytes([1, 2]))).toMatch(/^a raw kernel image/);
    expect(binaryFileNote('data', bytes([1, 2]))).toBe('binary data');
  });
});
