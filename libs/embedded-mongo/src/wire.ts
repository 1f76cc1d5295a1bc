import { deserialize, serialize } from 'bson';
import type { Doc } from './values';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MSG_CHECKSUM_PRESENT = 1 << 0;
export const MSG_MORE_TO_COME = 1 << 1;
export const MSG_EXHAUST_ALLOWED = 1 << 16;
const KNOWN_MSG_FLAGS = MSG_CHECKSUM_PRESENT | MSG_MORE_TO_COME | MSG_EXHAUST_ALLOWED;

export const HEADER_SIZE = 16;

/** A framing error after which the connection cannot be trusted: it gets closed. */
export class ProtocolError extends Error {}

export interface Header {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export function readHeader(buf: Buffer): Header {
  return {
    length: buf.readInt32LE(0),
    requestId: buf.readInt32LE(4),
    responseTo: buf.readInt32LE(8),
    opCode: buf.readInt32LE(12),
  };
}

/** Slicing-by-8 tables: CRC_TABLES[k][b] is the CRC of byte b followed by k zero bytes. */
const CRC_TABLES = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[0][i] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    for (let i = 0; i < 256; i++) t[k][i] = (t[k - 1][i] >>> 8) ^ t[0][t[k - 1][i] & 0xff];
  }
  return t;
})();

/**
 * CRC-32C (Castagnoli), the checksum OP_MSG and the journal's records use. Eight bytes a step
 * (slicing-by-8): about four times the byte-at-a-time loop, which loading a gigabyte snapshot feels.
 */
export function crc32c(buf: Uint8Array, seed = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let c = ~seed >>> 0;
  let i = 0;
  const end8 = buf.length - (buf.length % 8);
  for (; i < end8; i += 8) {
    const lo = (c ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24))) >>> 0;
    const hi = (buf[i + 4] | (buf[i + 5] << 8) | (buf[i + 6] << 16) | (buf[i + 7] << 24)) >>> 0;
    c =
      t7[lo & 0xff] ^
      t6[(lo >>> 8) & 0xff] ^
      t5[(lo >>> 16) & 0xff] ^
      t4[lo >>> 24] ^
      t3[hi & 0xff] ^
      t2[(hi >>> 8) & 0xff] ^
      t1[(hi >>> 16) & 0xff] ^
      t0[hi >>> 24];
  }
  for (; i < buf.length; i++) c = t0[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function readDoc(buf: Buffer, offset: number, end: number): { doc: Doc; next: number } {
  if (offset + 5 > end) throw new ProtocolError('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new ProtocolError('BSON document length out of bounds');
  // Garbage inside a well-framed document is a client error, answered without closing.
  const doc = deserialize(buf.subarray(offset, offset + size));
  return { doc, next: offset + size };
}

function readCString(buf: Buffer, offset: number, end: number): { str: string; next: number } {
  const zero = buf.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new ProtocolError('unterminated string');
  return { str: buf.toString('utf8', offset, zero), next: zero + 1 };
}

export interface OpMsg {
  flags: number;
  command: Doc;
}

/** Parses a whole OP_MSG (header included). Document sequences are attached to the body. */
export function parseOpMsg(msg: Buffer): OpMsg {
  if (msg.length < HEADER_SIZE + 5) throw new ProtocolError('OP_MSG too short');
  const flags = msg.readUInt32LE(HEADER_SIZE);
  if (flags & 0xffff & ~KNOWN_MSG_FLAGS) throw new ProtocolError('OP_MSG has unknown required flag bits');
  let end = msg.length;
  if (flags & MSG_CHECKSUM_PRESENT) {
    end -= 4;
    if (end < HEADER_SIZE + 5) throw new ProtocolError('OP_MSG too short for its checksum');
    const expected = msg.readUInt32LE(end);
    if (crc32c(msg.subarray(0, end)) !== expected) throw new ProtocolError('OP_MSG checksum mismatch');
  }
  let off = HEADER_SIZE + 4;
  let body: Doc | undefined;
  const sequences: Array<[string, Doc[]]> = [];
  while (off < end) {
    const kind = msg[off++];
    if (kind === 0) {
      if (body) throw new ProtocolError('OP_MSG has more than one body section');
      const r = readDoc(msg, off, end);
      body = r.doc;
      off = r.next;
    } else if (kind === 1) {
      if (off + 4 > end) throw new ProtocolError('truncated document sequence');
      const size = msg.readInt32LE(off);
      const secEnd = off + size;
      if (size < 5 || secEnd > end) throw new ProtocolError('document sequence length out of bounds');
      const id = readCString(msg, off + 4, secEnd);
      const docs: Doc[] = [];
      let p = id.next;
      while (p < secEnd) {
        const r = readDoc(msg, p, secEnd);
        docs.push(r.doc);
        p = r.next;
      }
      sequences.push([id.str, docs]);
      off = secEnd;
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new ProtocolError('OP_MSG has no body section');
  for (const [id, docs] of sequences) {
    if (id in body) throw new ProtocolError(`duplicate field '${id}' in body and document sequence`);
    body[id] = docs;
  }
  return { flags, command: body };
}

export interface OpQuery {
  flags: number;
  ns: string;
  skip: number;
  limit: number;
  query: Doc;
}

export function parseOpQuery(msg: Buffer): OpQuery {
  const end = msg.length;
  if (end < HEADER_SIZE + 4 + 1 + 8 + 5) throw new ProtocolError('OP_QUERY too short');
  const flags = msg.readInt32LE(HEADER_SIZE);
  const ns = readCString(msg, HEADER_SIZE + 4, end);
  if (ns.next + 8 > end) throw new ProtocolError('OP_QUERY truncated');
  const skip = msg.readInt32LE(ns.next);
  const limit = msg.readInt32LE(ns.next + 4);
  const q = readDoc(msg, ns.next + 8, end);
  return { flags, ns: ns.str, skip, limit, query: q.doc };
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_SIZE);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

export function encodeOpMsg(requestId: number, responseTo: number, doc: Doc): Buffer {
  const body = serialize(doc);
  const len = HEADER_SIZE + 4 + 1 + body.length;
  const pre = Buffer.allocUnsafe(5);
  pre.writeUInt32LE(0, 0);
  pre[4] = 0;
  return Buffer.concat([header(len, requestId, responseTo, OP_MSG), pre, body], len);
}

export function encodeOpReply(requestId: number, responseTo: number, docs: Doc[], flags = 0): Buffer {
  const bodies = docs.map((d) => serialize(d));
  const size = bodies.reduce((a, b) => a + b.length, 0);
  const len = HEADER_SIZE + 20 + size;
  const pre = Buffer.alloc(20);
  pre.writeInt32LE(flags, 0);
  // cursorID (int64) stays 0, startingFrom stays 0.
  pre.writeInt32LE(docs.length, 16);
  return Buffer.concat([header(len, requestId, responseTo, OP_REPLY), pre, ...bodies], len);
}
