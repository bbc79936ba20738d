// Field-by-field state of engine objects for snapshots. A component's state is its own fields that
// hold plain data: numbers, booleans, strings, typed arrays, arrays of those, and plain records of
// numbers. Fields holding other objects (the bus, IRQ lines, callbacks, caches) are wiring that a
// freshly built machine already has, and are never saved; nested components that do hold state are
// named as children and saved the same way. A field that only lives within one run call (slice
// counters, scratch buffers) is named transient. Restoring checks that the saved fields are exactly
// the fields the object has, so a snapshot of another engine version is refused, not half-applied.

/** A saved value. */
export type FieldValue =
  | number | boolean | string | null
  | { readonly typed: string; readonly b64: string }
  | readonly FieldValue[]
  | { readonly [key: string]: FieldValue };

/** A component's saved fields. */
export type FieldState = { [key: string]: FieldValue };

/** A snapshot that cannot be applied (wrong shape, other engine version). */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** How one class is saved: fields it skips, and fields that are nested components. */
export interface FieldRules {
  readonly transient?: readonly string[];
  /** Transient fields that earlier versions saved: a snapshot that has them still loads, without them. */
  readonly retired?: readonly string[];
  readonly children?: Readonly<Record<string, FieldRules>>;
}

type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Int16Array | Int8Array | Float64Array | Float32Array;

const TYPED: Record<string, new (buffer: ArrayBuffer) => TypedArray> = {
  Uint8Array, Uint16Array, Uint32Array, Int32Array, Int16Array, Int8Array, Float64Array, Float32Array,
};

function isTyped(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function isPlainRecord(v: unknown): v is Record<string, number | boolean> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v).every((x) => typeof x === 'number' || typeof x === 'boolean');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Bytes as base64 (the engine has no Buffer). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[n >>> 18] + B64[(n >>> 12) & 63] + (i + 1 < bytes.length ? B64[(n >>> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return out;
}

/** base64 as bytes; throws SnapshotError on text that is not base64. */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new SnapshotError('a typed array is not base64');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const n = (B64.indexOf(text[i]) << 18) | (B64.indexOf(text[i + 1]) << 12) | ((B64.indexOf(text[i + 2]) & 63) << 6) | (B64.indexOf(text[i + 3]) & 63);
    if (o < out.length) out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

function saveValue(v: unknown): FieldValue | undefined {
  // An optional field that is not set (exitCode before the guest ends) is saved as null.
  if (v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' || v === null) return v;
  if (isTyped(v)) return { typed: v.constructor.name, b64: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  if (Array.isArray(v)) {
    const items = v.map(saveValue);
    return items.every((x) => x !== undefined) ? (items as FieldValue[]) : undefined;
  }
  if (isPlainRecord(v)) return { ...v };
  return undefined;
}

/** The saved fields of `obj` by `rules`. */
export function saveFields(obj: object, rules: FieldRules = {}): FieldState {
  const out: FieldState = {};
  const transient = new Set(rules.transient ?? []);
  const o = obj as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (transient.has(key)) continue;
    const child = rules.children?.[key];
    const value = o[key];
    if (child !== undefined) {
      if (Array.isArray(value)) out[key] = value.map((item) => saveFields(item as object, child));
      else if (value === undefined || value === null) out[key] = null;
      else out[key] = saveFields(value as object, child);
      continue;
    }
    const saved = saveValue(value);
    if (saved !== undefined) out[key] = saved;
  }
  return out;
}

/**
 * Applies saved fields to `obj`, built the same way as the object they were saved from. `where`
 * names the component in errors. Throws SnapshotError when the fields differ from the object's.
 */
export function loadFields(obj: object, state: FieldState, rules: FieldRules = {}, where = 'state'): void {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw new SnapshotError(`${where} is not an object`);
  const expected = saveFields(obj, rules);
  const o = obj as Record<string, unknown>;
  for (const key of Object.keys(state)) {
    if (rules.retired?.includes(key)) continue;
    if (!Object.prototype.hasOwnProperty.call(o, key) || (rules.transient ?? []).includes(key)) {
      throw new SnapshotError(`${where}.${key} is not part of this vmlab's ${where}`);
    }
  }
  for (const key of Object.keys(expected)) {
    if (!(key in state)) {
      // An optional reference (unset here, set when saved) is wiring, not state.
      if (o[key] === undefined) continue;
      throw new SnapshotError(`${where}.${key} is missing`);
    }
    const child = rules.children?.[key];
    const saved = state[key];
    if (child !== undefined) {
      const value = o[key];
      if (Array.isArray(value)) {
        if (!Array.isArray(saved) || saved.length !== value.length) throw new SnapshotError(`${where}.${key} has another length`);
        value.forEach((item, i) => loadFields(item as object, saved[i] as FieldState, child, `${where}.${key}[${i}]`));
      } else if (value !== undefined && value !== null) {
        loadFields(value as object, saved as FieldState, child, `${where}.${key}`);
      } else if (saved !== null) throw new SnapshotError(`${where}.${key} should be empty`);
      continue;
    }
    o[key] = loadValue(o[key], saved, `${where}.${key}`);
  }
}

function loadValue(current: unknown, saved: FieldValue, where: string): unknown {
  if (isTyped(current)) {
    const t = saved as { typed?: unknown; b64?: unknown } | null;
    if (typeof t !== 'object' || t === null || Array.isArray(t) || t.typed !== current.constructor.name || typeof t.b64 !== 'string') {
      throw new SnapshotError(`${where} should be a ${current.constructor.name}`);
    }
    const bytes = fromBase64(t.b64);
    if (bytes.byteLength === current.byteLength) {
      new Uint8Array(current.buffer, current.byteOffset, current.byteLength).set(bytes);
      return current;
    }
    const Ctor = TYPED[current.constructor.name];
    if (bytes.byteLength % (current as TypedArray).BYTES_PER_ELEMENT !== 0) throw new SnapshotError(`${where} has a partial element`);
    return new Ctor(bytes.slice().buffer);
  }
  if (Array.isArray(current)) {
    if (!Array.isArray(saved)) throw new SnapshotError(`${where} should be a list`);
    // Arrays are updated in place: other objects may hold the same array.
    const items = saved.map((item, i) => loadValue(current[i], item, `${where}[${i}]`));
    current.length = 0;
    current.push(...items);
    return current;
  }
  if (isPlainRecord(current)) {
    if (typeof saved !== 'object' || saved === null || Array.isArray(saved) || 'typed' in saved) throw new SnapshotError(`${where} should be a record`);
    for (const k of Object.keys(current)) delete current[k];
    for (const [k, v] of Object.entries(saved)) {
      if (typeof v !== 'number' && typeof v !== 'boolean') throw new SnapshotError(`${where}.${k} should be a number`);
      current[k] = v;
    }
    return current;
  }
  // Unset when saved; a reference the fresh object holds stays (it was wiring, not state).
  if (saved === null) return current === null || typeof current === 'object' ? current : undefined;
  if (current === undefined || current === null) {
    if (typeof saved === 'object') throw new SnapshotError(`${where} should be a plain value`);
    return saved;
  }
  if (typeof saved !== typeof current) {
    throw new SnapshotError(`${where} should be a ${typeof current}`);
  }
  return saved;
}
