// Explicit placement as text: `page:frame` pairs in hex (`a1:c0 a2:c1 a3:c4`), guest pages counted
// from the start of guest RAM and host frames from the start of host RAM, as the lecture writes
// them. One reader for the New VM form and `vmlab run --place`; the host checks the frames against
// host RAM again.

import type { VmPlacement } from './lab-api';

/** The last 4 KiB frame of a 32-bit physical space (the host checks each frame against its RAM too). */
const MAX_FRAME = 0xfffff;

/** A parsed placement: the pairs, or what is wrong with the text, in words. */
export type ExplicitPlacementText = { readonly pairs: [number, number][] } | { readonly error: string };

/**
 * Parses `page:frame` pairs in hex (an optional 0x each), separated by spaces or commas, for a VM
 * of `pages` guest pages: every page inside the VM, no page or frame twice, at least one pair.
 */
export function parseExplicitPlacement(text: string, pages: number): ExplicitPlacementText {
  const items = text.split(/[\s,]+/).filter((t) => t !== '');
  if (items.length === 0) return { error: 'give page:frame pairs in hex, e.g. a1:c0 a2:c1 a3:c4' };
  const pairs: [number, number][] = [];
  const pagesSeen = new Set<number>();
  const framesSeen = new Set<number>();
  for (const item of items) {
    // Up to 8 digits each (a 32-bit number), so that a page too large is named as outside the VM.
    const m = /^(?:0x)?([0-9a-f]{1,8}):(?:0x)?([0-9a-f]{1,8})$/i.exec(item);
    if (!m) return { error: `'${item}' is not page:frame in hex (e.g. a1:c0)` };
    const page = parseInt(m[1], 16);
    const frame = parseInt(m[2], 16);
    if (page >= pages) return { error: `guest page 0x${m[1]} is outside the VM's ${pages} pages (0x0-0x${(pages - 1).toString(16)})` };
    if (frame > MAX_FRAME) return { error: `host frame 0x${m[2]} does not exist (a 32-bit host has frames 0x0-0x${MAX_FRAME.toString(16)})` };
    if (pagesSeen.has(page)) return { error: `guest page 0x${page.toString(16)} is placed twice` };
    if (framesSeen.has(frame)) return { error: `host frame 0x${frame.toString(16)} is used twice` };
    pagesSeen.add(page);
    framesSeen.add(frame);
    pairs.push([page, frame]);
  }
  return { pairs };
}

/**
 * A placement as `vmlab run --place` takes it: `contiguous`, `scattered`, or explicit pairs (the
 * other pages contiguous). Throws an Error saying what is wrong.
 */
export function parsePlacement(text: string, pages: number): VmPlacement {
  const t = text.trim();
  if (t === 'contiguous' || t === 'scattered') return t;
  const parsed = parseExplicitPlacement(t, pages);
  if ('error' in parsed) throw new Error(`expected contiguous, scattered or page:frame pairs in hex (a1:c0,a2:c1,a3:c4): ${parsed.error}`);
  return { explicit: parsed.pairs };
}
