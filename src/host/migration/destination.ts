// The receiving side of a migration (docs/migration.md): HELLO, then PAGES (round after round; a
// later copy of a page replaces an earlier one), then the STATE as a vmlab snapshot without RAM.
// The state is checked and the VM's configuration accepted (PREPARED) before the source closes its
// disk images (RELEASED); only then is the VM built, restored and started (RESUMED). Whatever the
// peer sends that does not fit ends the migration with an ERROR naming it; nothing is built.

import { decodeSnapshot, type Snapshot } from '../snapshot-file';
import type { Peer } from './peer';
import { Hello, jsonFrame, messageName, MessageType, parseJson, PROTOCOL_VERSION, readPages } from './protocol';

/** What the destination does with an incoming VM. */
export interface IncomingHandlers {
  /** Checks that this vmlab can continue the snapshot; throws (or rejects with) one line when not. */
  prepare(snapshot: Snapshot): void | Promise<void>;
  /** Builds the VM from the snapshot (its disks now released) and starts it; throws one line when it cannot. */
  resume(snapshot: Snapshot): void;
}

/** How long the source may stay silent between two frames. */
const SOURCE_TIMEOUT_MS = 60_000;

/** Modes a migration may carry. */
const MODES = new Set(['bare', 'emulate', 'trap', 'bt', 'pv', 'hw']);

/**
 * Receives one VM over `peer` and resumes it through `handlers`; resolves with the snapshot it
 * continued. On any problem the peer gets an ERROR, the connection is dropped and the promise
 * rejects with the one-line reason.
 */
export async function receiveMigration(peer: Peer, handlers: IncomingHandlers): Promise<Snapshot> {
  try {
    const first = await peer.next();
    if (first.type !== MessageType.HELLO) throw new Error(`the first message is ${messageName(first.type)}, not HELLO`);
    const hello = parseJson(first, Hello);
    if (hello.version !== PROTOCOL_VERSION) throw new Error(`migration protocol version ${hello.version}; this vmlab speaks version ${PROTOCOL_VERSION}`);
    if (!MODES.has(hello.mode)) throw new Error(`no such mode '${hello.mode}'`);
    peer.send(jsonFrame(MessageType.READY, {}));
    const pages = new Map<number, Uint8Array>();
    let snapshot: Snapshot | undefined;
    while (snapshot === undefined) {
      // A slow link's pre-copy round may keep the source quiet for a while.
      const f = await peer.next(SOURCE_TIMEOUT_MS);
      if (f.type === MessageType.PAGES) {
        for (const p of readPages(f.payload, hello.ramPages)) pages.set(p.index, Uint8Array.from(p.bytes));
      } else if (f.type === MessageType.STATE) {
        snapshot = decodeSnapshot(f.payload, `from ${peer.name}`);
      } else {
        throw new Error(`a ${messageName(f.type)} message where pages or the state belong`);
      }
    }
    const c = snapshot.header.config;
    if (c.mode !== hello.mode) throw new Error(`the state is of mode ${c.mode}, HELLO announced ${hello.mode}`);
    if (c.ramSize !== hello.ramPages * 4096) throw new Error(`the state's RAM is ${c.ramSize} bytes, HELLO announced ${hello.ramPages} pages`);
    for (const [index, bytes] of snapshot.ram) pages.set(index, bytes);
    snapshot.ram = pages;
    await handlers.prepare(snapshot);
    peer.send(jsonFrame(MessageType.PREPARED, {}));
    await peer.expect(MessageType.RELEASED);
    const t = performance.now();
    handlers.resume(snapshot);
    peer.send(jsonFrame(MessageType.RESUMED, { restoreMs: Math.round((performance.now() - t) * 100) / 100 }));
    return snapshot;
  } catch (err) {
    const message = (err as Error).message;
    if (peer.error === undefined) {
      peer.send(jsonFrame(MessageType.ERROR, { message: message.slice(0, 1000) }));
      peer.close();
    } else {
      peer.destroy();
    }
    throw err;
  }
}
