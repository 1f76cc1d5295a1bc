/**
 * Stored documents are kept as their BSON bytes (one Buffer each) and decoded when read: a decoded
 * punch costs about three times its BSON size in objects, strings and property maps. Index keys
 * are read from the bytes of the few top-level fields an index needs, without decoding the rest.
 */
import { deserialize, ObjectId, serialize } from 'bson';
import type { Doc } from './values';

export function encodeDoc(doc: Doc): Buffer {
  const bytes = serialize(doc);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeDoc(buf: Buffer): Doc {
  return deserialize(buf);
}

const INTERN_MAX_LENGTH = 24;
const INTERN_MAX_ENTRIES = 100_000;
let interned = new Map<string, string>();

/**
 * One shared copy of a short string (terminal serials, statuses, types, enroll ids repeat across
 * millions of index entries). The table is bounded: when full it starts over, which only costs
 * sharing, never correctness.
 */
export function intern(s: string): string {
  if (s.length > INTERN_MAX_LENGTH) return s;
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  if (interned.size >= INTERN_MAX_ENTRIES) interned = new Map();
  interned.set(s, s);
  return s;
}

function cstringEnd(buf: Buffer, off: number): number {
  // Names are short: a loop is cheaper than a native search per element.
  const n = buf.length;
  for (let i = off; i < n; i++) if (buf[i] === 0) return i;
  throw new Error('corrupt BSON: unterminated name');
}

/** Byte length of an element's value of BSON type `t` starting at `off`. */
function valueLength(buf: Buffer, t: number, off: number): number {
  switch (t) {
    case 0x01:
    case 0x09:
    case 0x11:
    case 0x12:
      return 8;
    case 0x02:
    case 0x0d:
    case 0x0e:
      return 4 + buf.readInt32LE(off);
    case 0x03:
    case 0x04:
    case 0x0f:
      return buf.readInt32LE(off);
    case 0x05:
      return 5 + buf.readInt32LE(off);
    case 0x06:
    case 0x0a:
    case 0x7f:
    case 0xff:
      return 0;
    case 0x07:
      return 12;
    case 0x08:
      return 1;
    case 0x0b: {
      const a = cstringEnd(buf, off);
      return cstringEnd(buf, a + 1) + 1 - off;
    }
    case 0x0c:
      return 4 + buf.readInt32LE(off) + 12;
    case 0x10:
      return 4;
    case 0x13:
      return 16;
    default:
      throw new Error(`corrupt BSON: unknown element type ${t}`);
  }
}

const NOT_SIMPLE = Symbol('not simple');

/** Decodes a scalar of the types index keys mostly hold; other types answer NOT_SIMPLE. */
function simpleValue(buf: Buffer, t: number, off: number): unknown {
  switch (t) {
    case 0x01:
      return buf.readDoubleLE(off);
    case 0x02: {
      const len = buf.readInt32LE(off);
      return intern(buf.toString('utf8', off + 4, off + 4 + len - 1));
    }
    case 0x07:
      return new ObjectId(Buffer.from(buf.subarray(off, off + 12)));
    case 0x08:
      return buf[off] === 1;
    case 0x09:
      return new Date(Number(buf.readBigInt64LE(off)));
    case 0x0a:
      return null;
    case 0x10:
      return buf.readInt32LE(off);
    default:
      return NOT_SIMPLE;
  }
}

/** Quick filter over element names: (byte length, first byte) pairs of the wanted names. */
const nameFilters = new WeakMap<ReadonlySet<string>, Set<number>>();

function nameFilter(names: ReadonlySet<string>): Set<number> {
  let f = nameFilters.get(names);
  if (!f) {
    f = new Set<number>();
    for (const n of names) {
      const b = Buffer.from(n, 'utf8');
      f.add((b.length << 8) | (b[0] ?? 0));
    }
    nameFilters.set(names, f);
  }
  return f;
}

/**
 * The named top-level fields of a BSON document (missing ones absent), or undefined when one of
 * them holds a type this reader does not decode (the caller then decodes the whole document).
 * Embedded documents and arrays among them are decoded on their own. Names that cannot be wanted
 * (by length and first byte) are skipped without being read.
 */
export function extractTop(buf: Buffer, names: ReadonlySet<string>): Doc | undefined {
  const out: Doc = {};
  const filter = nameFilter(names);
  let found = 0;
  let off = 4;
  const end = buf.length - 1;
  while (off < end && found < names.size) {
    const t = buf[off];
    const nameEnd = cstringEnd(buf, off + 1);
    const vOff = nameEnd + 1;
    const len = nameEnd - off - 1;
    if (filter.has((len << 8) | (len > 0 ? buf[off + 1] : 0))) {
      const name = buf.toString('utf8', off + 1, nameEnd);
      if (names.has(name)) {
        let v = simpleValue(buf, t, vOff);
        if (v === NOT_SIMPLE && (t === 0x03 || t === 0x04)) {
          const sub = deserialize(buf.subarray(vOff, vOff + buf.readInt32LE(vOff)));
          v = t === 0x04 ? Object.values(sub) : sub;
        }
        if (v === NOT_SIMPLE) return undefined;
        out[name] = v;
        found++;
      }
    }
    off = vOff + valueLength(buf, t, vOff);
  }
  return out;
}

/** Wanted element names, compiled for `visitTop`. */
export class NameTable {
  /** By (byte length, first byte), for lengths below 256: the candidates' position in `lists`, or -1. */
  private readonly slot = new Int32Array(1 << 16).fill(-1);
  private readonly lists: Array<Array<{ bytes: Buffer; i: number }>> = [];

  constructor(readonly names: readonly string[]) {
    names.forEach((n, i) => {
      const bytes = Buffer.from(n, 'utf8');
      const key = (Math.min(bytes.length, 255) << 8) | (bytes[0] ?? 0);
      if (this.slot[key] < 0) {
        this.slot[key] = this.lists.length;
        this.lists.push([]);
      }
      this.lists[this.slot[key]].push({ bytes, i });
    });
  }

  /** Index of the name stored in buf[from, to), or -1 (no string is made). */
  find(buf: Buffer, from: number, to: number): number {
    const len = to - from;
    const s = this.slot[(Math.min(len, 255) << 8) | (len > 0 ? buf[from] : 0)];
    if (s < 0) return -1;
    for (const { bytes, i } of this.lists[s]) {
      if (bytes.length !== len) continue;
      let k = 1;
      while (k < len && buf[from + k] === bytes[k]) k++;
      if (k >= len) return i;
    }
    return -1;
  }
}

/**
 * Calls `visit(i, type, offset)` for each top-level element whose name is `table.names[i]`, with
 * the offset of its value: nothing is decoded, so a caller reads only the values it wants.
 */
export function visitTop(buf: Buffer, table: NameTable, visit: (i: number, t: number, off: number) => void): void {
  let off = 4;
  const end = buf.length - 1;
  let left = table.names.length;
  while (off < end && left > 0) {
    const t = buf[off];
    const nameEnd = cstringEnd(buf, off + 1);
    const vOff = nameEnd + 1;
    const i = table.find(buf, off + 1, nameEnd);
    if (i >= 0) {
      visit(i, t, vOff);
      left--;
    }
    off = vOff + valueLength(buf, t, vOff);
  }
}

/** Decodes one element's value (any type) by wrapping it in a one-field document. */
export function decodeElement(buf: Buffer, t: number, off: number): unknown {
  const len = valueLength(buf, t, off);
  const doc = Buffer.allocUnsafe(4 + 1 + 1 + len + 1);
  doc.writeInt32LE(doc.length, 0);
  doc[4] = t;
  doc[5] = 0;
  buf.copy(doc, 6, off, off + len);
  doc[doc.length - 1] = 0;
  return deserialize(doc)[''];
}

const ID_NAMES = new Set(['_id']);

/** The `_id` of a stored document. */
export function readId(buf: Buffer): unknown {
  const top = extractTop(buf, ID_NAMES);
  return top ? top._id : decodeDoc(buf)._id;
}

/** Bytes of a BSON string element `name: value` (type, name, length, value, terminator). */
function stringElementLength(name: string, value: string): number {
  return 1 + Buffer.byteLength(name) + 1 + 4 + Buffer.byteLength(value) + 1;
}

function writeStringElement(out: Buffer, off: number, name: string, value: string): number {
  out[off++] = 0x02;
  off += out.write(name, off, 'utf8');
  out[off++] = 0;
  const len = out.write(value, off + 4, 'utf8');
  out.writeInt32LE(len + 1, off);
  off += 4 + len;
  out[off++] = 0;
  return off;
}

/**
 * The BSON of `{ op: 'put', db, c, d }` with `d` copied from stored bytes (no re-encoding), written
 * into one buffer at `headroom` bytes from its start (room for a record header).
 */
export function encodePutEntry(db: string, c: string, doc: Uint8Array, headroom = 0): Buffer {
  const bodyLen =
    4 +
    stringElementLength('op', 'put') +
    stringElementLength('db', db) +
    stringElementLength('c', c) +
    1 +
    2 +
    doc.length +
    1;
  const out = Buffer.allocUnsafe(headroom + bodyLen);
  let off = headroom;
  out.writeInt32LE(bodyLen, off);
  off += 4;
  off = writeStringElement(out, off, 'op', 'put');
  off = writeStringElement(out, off, 'db', db);
  off = writeStringElement(out, off, 'c', c);
  out[off++] = 0x03;
  out[off++] = 0x64; // 'd'
  out[off++] = 0;
  out.set(doc, off);
  off += doc.length;
  out[off] = 0;
  return out;
}

/**
 * Reads a `{ op: 'put', db, c, d }` entry without decoding `d`: returns a view of its bytes inside
 * `body` (the receiver copies what it keeps, so the file buffer is not kept alive), or undefined
 * for any other entry.
 */
export function parsePutEntry(body: Buffer): { db: string; c: string; d: Buffer } | undefined {
  let off = 4;
  const end = body.length - 1;
  let op = false;
  let db: string | undefined;
  let c: string | undefined;
  let d: Buffer | undefined;
  while (off < end) {
    const t = body[off];
    const nameEnd = cstringEnd(body, off + 1);
    const nameLen = nameEnd - off - 1;
    const n0 = body[off + 1];
    const n1 = nameLen === 2 ? body[off + 2] : 0;
    const vOff = nameEnd + 1;
    const len = valueLength(body, t, vOff);
    if (t === 0x02 && nameLen === 2 && n0 === 0x6f && n1 === 0x70) {
      // op: only 'put' is read here.
      if (len !== 8 || body[vOff + 4] !== 0x70 || body[vOff + 5] !== 0x75 || body[vOff + 6] !== 0x74) return undefined;
      op = true;
    } else if (t === 0x02 && nameLen === 2 && n0 === 0x64 && n1 === 0x62) {
      db = cachedString(body, vOff + 4, vOff + len - 1, 0);
    } else if (t === 0x02 && nameLen === 1 && n0 === 0x63) {
      c = cachedString(body, vOff + 4, vOff + len - 1, 1);
    } else if (t === 0x03 && nameLen === 1 && n0 === 0x64) {
      d = body.subarray(vOff, vOff + len);
    } else return undefined;
    off = vOff + len;
  }
  return op && db !== undefined && c !== undefined && d ? { db, c, d } : undefined;
}

/** The last database and collection names read (a snapshot repeats them a million times). */
const lastNames: Array<{ bytes: Buffer; value: string } | undefined> = [undefined, undefined];

function cachedString(buf: Buffer, from: number, to: number, slot: number): string {
  const last = lastNames[slot];
  if (last && last.bytes.length === to - from && buf.compare(last.bytes, 0, last.bytes.length, from, to) === 0) {
    return last.value;
  }
  const value = buf.toString('utf8', from, to);
  lastNames[slot] = { bytes: Buffer.from(buf.subarray(from, to)), value };
  return value;
}
