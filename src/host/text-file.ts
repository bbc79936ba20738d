// Whether a workspace file is text that the editor may open. A file with a NUL byte among its first
// 8000 bytes is binary, as git decides (buffer_is_binary, xdiff-interface.c); a source in another
// encoding than UTF-8 (a Latin-1 comment) has no NUL and still opens. A binary file opened as text
// would be decoded with replacement characters, and saving it from the editor would destroy it.

import { QCOW2_MAGIC } from '../engine/disk/qcow2-format';
import { isElf } from '../engine/machine/elf';
import { RECORD_FILE } from './replay/record-file';
import { SNAPSHOT_FILE } from './snapshot-file';

/** How many leading bytes are searched for a NUL (git's FIRST_FEW_BYTES). */
const SNIFF = 8000;

/** The binary files a workspace holds, told by the formats' own tests of their leading bytes, with what each is and where the app uses it. */
const KINDS: readonly { is: (head: Uint8Array) => boolean; note: string }[] = [
  { is: isElf, note: 'an ELF program, which “+ New VM” and the Compare view run' },
  { is: (head) => head.length >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0) === QCOW2_MAGIC, note: 'a qcow2 disk image, which the Disks view shows' },
  { is: envelopeOf(SNAPSHOT_FILE.magic), note: 'a vmlab snapshot, which the Snapshots list restores' },
  { is: envelopeOf(RECORD_FILE.magic), note: 'a vmlab recording, which vmlab run --replay replays' },
];

/** Whether a file begins with an envelope's ASCII magic (envelope-file.ts). */
function envelopeOf(magic: string): (head: Uint8Array) => boolean {
  return (head) => head.length >= magic.length && [...magic].every((c, i) => head[i] === c.charCodeAt(0));
}

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
  const known = KINDS.find((k) => k.is(head));
  return known?.note ?? noteByName(path);
}
