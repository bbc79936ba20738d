// Workspace confinement: every path the API receives stays inside the open folder.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Workspace } from '../../src/host/workspace';

let base: string;
let root: string;
let outside: string;
let ws: Workspace;

beforeEach(async () => {
  base = mkdtempSync(join(tmpdir(), 'vmlab-ws-'));
  root = join(base, 'ws');
  outside = join(base, 'outside');
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'secret');
  writeFileSync(join(root, 'src', 'a.S'), 'nop\n');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'leak.txt'));
  symlinkSync(outside, join(root, 'outdir'));
  symlinkSync(join(root, 'src', 'a.S'), join(root, 'inner-link.S'));
  symlinkSync(join(outside, 'missing.txt'), join(root, 'dangling.txt'));
  ws = await Workspace.open(root);
});

describe('Workspace confinement', () => {
  it.each([
    ['..', 'outside-workspace'],
    ['../outside/secret.txt', 'outside-workspace'],
    ['src/../../outside/secret.txt', 'outside-workspace'],
    ['/etc/passwd', 'outside-workspace'],
    ['C:/Windows/win.ini', 'outside-workspace'],
    ['src\\..\\..\\x', 'outside-workspace'],
    ['leak.txt', 'outside-workspace'],
    ['outdir/secret.txt', 'outside-workspace'],
    ['outdir/new.txt', 'outside-workspace'],
    ['dangling.txt', 'outside-workspace'],
    ['', 'bad-request'],
    ['.', 'bad-request'],
    ['a\0b', 'bad-request'],
  ])('refuses %j (%s) for read, write, create, delete and rename', async (path, code) => {
    await expect(ws.readText(path)).rejects.toMatchObject({ code });
    await expect(ws.write(path, 'x')).rejects.toMatchObject({ code });
    await expect(ws.create(path, 'file')).rejects.toMatchObject({ code });
    await expect(ws.delete(path)).rejects.toMatchObject({ code });
    await expect(ws.rename('src/a.S', path)).rejects.toMatchObject({ code });
    await expect(ws.rename(path, 'src/b.S')).rejects.toMatchObject({ code });
    // Nothing changed on either side.
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(root, 'src', 'a.S'), 'utf8')).toBe('nop\n');
  });

  it('follows a symlink that stays inside', async () => {
    expect(await ws.readText('inner-link.S')).toBe('nop\n');
    await ws.write('inner-link.S', 'ret\n');
    expect(readFileSync(join(root, 'src', 'a.S'), 'utf8')).toBe('ret\n');
  });

  it('lists files and folders without links that lead out', async () => {
    const list = await ws.list();
    expect(list).toContainEqual({ path: 'src', kind: 'dir' });
    expect(list).toContainEqual({ path: 'src/a.S', kind: 'file' });
    expect(list).toContainEqual({ path: 'inner-link.S', kind: 'file' });
    expect(list.map((e) => e.path)).not.toContain('leak.txt');
    expect(list.map((e) => e.path)).not.toContain('outdir');
  });

  it("lists each folder's subfolders before its files, each sorted by name", async () => {
    // Before, one order for both: a README.md or a disk image at the top sat between the lab folders.
    mkdirSync(join(root, 'zeta'));
    writeFileSync(join(root, 'zeta', 'b.S'), '');
    mkdirSync(join(root, 'zeta', 'sub'));
    writeFileSync(join(root, 'README.md'), '');
    writeFileSync(join(root, 'boot.qcow2'), '');
    const paths = (await ws.list()).map((e) => e.path);
    expect(paths).toEqual(['src', 'src/a.S', 'zeta', 'zeta/sub', 'zeta/b.S', 'boot.qcow2', 'inner-link.S', 'README.md']);
  });

  it('leaves out the temporary file of a write in flight, which a listing taken mid-write would keep showing', async () => {
    // write() puts the bytes in `.NAME.PID.SEQ.tmp` beside the file and renames it; an assembly
    // rewriting an ELF that exists sends no fs.changed, so a tree read meanwhile must not show it.
    writeFileSync(join(root, 'src', `.a.elf.${process.pid}.7.tmp`), 'half');
    writeFileSync(join(root, 'src', '.a.elf.12345.3.tmp'), 'half');
    writeFileSync(join(root, 'src', '.notes.tmp'), 'mine');
    const paths = (await ws.list()).map((e) => e.path);
    expect(paths.filter((p) => p.endsWith('.tmp'))).toEqual(['src/.notes.tmp']);
  });

  it('creates, renames and deletes inside, refusing to overwrite', async () => {
    await ws.create('labs', 'dir');
    await ws.create('labs/b.S', 'file');
    await expect(ws.create('labs/b.S', 'file')).rejects.toMatchObject({ code: 'exists' });
    // A new file's missing folders are made with it, as a new folder's are ('+file' with
    // 'mine/first.S' in the app was refused before: "the folder of 'mine/first.S' does not exist").
    await ws.create('nofolder/deeper/c.S', 'file');
    expect(readFileSync(join(root, 'nofolder', 'deeper', 'c.S'), 'utf8')).toBe('');
    await expect(ws.create('labs/b.S/c.S', 'file')).rejects.toMatchObject({ message: expect.stringMatching(/labs\/b\.S/) });
    expect(readFileSync(join(root, 'labs', 'b.S'), 'utf8')).toBe('');
    await ws.write('labs/b.S', 'li a0, 1\n');
    await expect(ws.rename('labs/b.S', 'src/a.S')).rejects.toMatchObject({ code: 'exists' });
    await ws.rename('labs/b.S', 'src/b.S');
    expect(readFileSync(join(root, 'src', 'b.S'), 'utf8')).toBe('li a0, 1\n');
    await ws.delete('src');
    expect(existsSync(join(root, 'src'))).toBe(false);
    await expect(ws.readText('src/b.S')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('deleting a link removes the link, never its target', async () => {
    await ws.delete('inner-link.S');
    expect(readFileSync(join(root, 'src', 'a.S'), 'utf8')).toBe('nop\n');
  });

  it('writes atomically (no temporary file left behind)', async () => {
    await ws.write('src/a.S', 'x'.repeat(100_000));
    expect(readdirSync(join(root, 'src'))).toEqual(['a.S']);
  });

  it('writes one file from concurrent requests (two VMs built from one source at once): the last one wins', async () => {
    await Promise.all(['first', 'second', 'third'].map((t) => ws.write('src/a.S', t.repeat(50_000))));
    expect(readFileSync(join(root, 'src', 'a.S'), 'utf8')).toMatch(/^(first|second|third)+$/);
    expect(readdirSync(join(root, 'src'))).toEqual(['a.S']);
  });
});

describe('Workspace text files', () => {
  // A binary file read as text came back with replacement characters: the editor showed it and its
  // Save wrote those back, so an ELF of 1,916 bytes became 2,140 bytes of garbage.
  it.each([
    ['hello.elf', [0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0, 0, 0], /^'hello\.elf' is not a text file: an ELF program, which “\+ New VM” and the Compare view run$/],
    ['boot.qcow2', [0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3], /^'boot\.qcow2' is not a text file: a qcow2 disk image, which the Disks view shows$/],
    ['disk.img', [0, 0, 0, 0], /^'disk\.img' is not a text file: a raw disk image, which the Disks view shows$/],
    ['kernel.bin', [0x13, 0, 0, 0], /^'kernel\.bin' is not a text file: a raw kernel image/],
    ['s.snap', [...Buffer.from('VMLABSNP'), 1, 0, 0, 0], /a vmlab snapshot, which the Snapshots list restores$/],
    ['notes.txt', [0x68, 0x69, 0], /^'notes\.txt' is not a text file: binary data$/],
  ])('refuses %s, saying what it is, and leaves it as it was', async (name, bytes, message) => {
    const data = Buffer.from(bytes);
    writeFileSync(join(root, name), data);
    await expect(ws.readText(name)).rejects.toMatchObject({ code: 'bad-request', message: expect.stringMatching(message) });
    expect(readFileSync(join(root, name))).toEqual(data);
  });

  it('reads a source with a NUL only past its first 8000 bytes, and one in Latin-1, as text', async () => {
    writeFileSync(join(root, 'long.S'), Buffer.concat([Buffer.from('#'.repeat(8000)), Buffer.from([0])]));
    expect(await ws.readText('long.S')).toHaveLength(8001);
    writeFileSync(join(root, 'latin1.S'), Buffer.from('# caf\xe9\nnop\n', 'latin1'));
    expect(await ws.readText('latin1.S')).toBe('# caf\ufffd\nnop\n');
  });
});
