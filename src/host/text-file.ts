// Whether a workspace file is text that the editor may open. A file with a NUL byte among its first
// 8000 bytes is binary, as git decides (buffer_is_binary, xdiff-interface.c); a source in another
// encoding than UTF-8 (a Latin-1 comment) has no NUL and still opens. A binary file opened as text
// would be decoded with replacement characters, and saving it from the editor would destroy it.

/** How many leading bytes are searched for a NUL (git's FIRST_FEW_BYTES). */
const SNIFF = 8000;

/** Leading bytes of the binary files a workspace holds, with what each is and where the app uses it. */
const MAGICS: readonly { magic: readonly number[]; note: string }[] = [
  { magic: [0x7f, 0x45, 0x4c, 0x46], note: 'an ELF program, which “+ New VM” and the Compare view run' },
  { magic: [0x51, 0x46, 0x49, 0xfb], note: 'a qcow2 disk image, which the Disks view shows' },
  { magic: [...'VMLABSNP'].map((c) => c.charCodeAt(0)), note: 'a vmlab snapshot, which the Snapshots list restores' },
  { magic: [...'VMLABREC'].map((c) => c.charCodeAt(0)), note: 'a vmlab recording, which vmlab run --replay replays' },
];

/** What a binary file is by its name, when its bytes do not say. */
function noteByName(path: string): string {
  if (/\.(img|raw)$/i.test(path)) return 'a raw disk image, which the Disks view shows';
  if (/\.bin$/i.test(path)) return 'a raw kernel image, which “+ New VM” and the Compare view run';
  return 'binary data';
}

/** Undefined for a text file; for a binary one, what it is and where the app uses it. */
export function binaryFileNote(path: string, bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, SNIFF);
  if (!head.includes(0)) return undefined;
  const known = MAGICS.find((m) => m.magic.every((b, i) => head[i] === b));
  return known?.note ?? noteByName(path);
}
