// Number formatting for the inspectors and the status bar.

/** 0x-prefixed 8-digit hex. */
export function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** Two-digit hex byte. */
export function hex8(v: number): string {
  return v.toString(16).padStart(2, '0');
}

/** Privilege level name. */
export function privName(p: number): string {
  return ['U', 'S', 'H', 'M'][p] ?? String(p);
}

/** Parses a hex (0x...) or decimal address; undefined when invalid or outside 32 bits. */
export function parseAddress(text: string): number | undefined {
  const t = text.trim().replace(/_/g, '');
  const v = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^[0-9a-f]+$/i.test(t) && /[a-f]/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  return Number.isFinite(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
}

/** Thousands-grouped integer. */
export function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * A count in at most nine characters: grouped below ten million (`9,999,999`), above in millions or
 * billions to three digits (`12.3 M`, `1.19 G`), joined by a no-break space so a table cell keeps it
 * on one line.
 */
export function short(n: number): string {
  if (Math.abs(n) < 10_000_000) return grouped(n);
  let text = '';
  for (const [scale, unit] of [[1e6, 'M'], [1e9, 'G'], [1e12, 'T']] as const) {
    const v = Math.abs(n) / scale;
    text = `${n < 0 ? '-' : ''}${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)}\u00a0${unit}`;
    // 999.96 M reads 1.00 G, not 1000 M.
    if (Number(v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)) < 1000) break;
  }
  return text;
}
