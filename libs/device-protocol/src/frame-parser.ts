import { type Json, isPlainObject } from './coerce';

export type ParsedFrame =
  | { kind: 'request'; cmd: string; msg: Json }
  | { kind: 'reply'; ret: string; msg: Json }
  | { kind: 'invalid'; reason: string; excerpt: string };

export type FrameData = string | Buffer | ArrayBuffer | Uint8Array | Buffer[];

const EXCERPT_CHARS = 200;

function decode(data: FrameData): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  // Buffer#toString('utf8') replaces invalid sequences with U+FFFD instead of throwing.
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}

function excerptOf(text: string): string {
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}...` : text;
}

function invalid(reason: string, text: string): ParsedFrame {
  return { kind: 'invalid', reason, excerpt: excerptOf(text) };
}

function classify(value: unknown, text: string): ParsedFrame {
  if (!isPlainObject(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return invalid(`JSON value is ${what}, not an object`, text);
  }
  // A reply wins over a request if a frame carries both: replies are what a command waits for.
  if (value.ret !== undefined) {
    const ret = typeof value.ret === 'string' ? value.ret.trim().toLowerCase() : '';
    return ret ? { kind: 'reply', ret, msg: value } : invalid('"ret" is not a non-empty string', text);
  }
  if (value.cmd !== undefined) {
    const cmd = typeof value.cmd === 'string' ? value.cmd.trim().toLowerCase() : '';
    return cmd ? { kind: 'request', cmd, msg: value } : invalid('"cmd" is not a non-empty string', text);
  }
  return invalid('object has neither "cmd" nor "ret"', text);
}

type Piece = { kind: 'json'; text: string } | { kind: 'garbage'; text: string };

/** Bounds on the work one message may cause (a frame is untrusted input on the event loop). */
export interface FrameLimits {
  /** top-level objects written back to back in one message; the rest is reported as one invalid piece */
  maxObjects: number;
  /** nesting depth of `{}` / `[]` */
  maxDepth: number;
  /** values in the whole message (objects, arrays and their members, counted by their separators) */
  maxValues: number;
}

export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxObjects: 64,
  maxDepth: 32,
  maxValues: 20_000,
});

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index just past the string whose opening quote is at `open`, or -1 when it never ends. */
function endOfString(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    // indexOf is native: a long base64 photo is skipped without a JavaScript loop over its characters.
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let backslashes = 0;
    for (let k = q - 1; k > open && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

type Scan = { ok: true; pieces: Piece[]; truncated: string | undefined } | { ok: false; reason: string };

/**
 * One linear pass over the message that finds its top-level JSON values (`{..}{..}`, or separated
 * by whitespace / commas) and enforces the limits before anything is parsed. Text outside any
 * `{}` / `[]` value becomes a garbage piece, and so does an unterminated value at the end.
 */
function scan(text: string, limits: FrameLimits): Scan {
  const pieces: Piece[] = [];
  let depth = 0;
  let values = 0;
  let start = -1;
  let garbageStart = -1;
  // Garbage pieces count too: a message of a million stray words must not become a million frames.
  const full = (): boolean => pieces.length >= limits.maxObjects;
  const rest = (from: number): Scan => {
    const left = text.slice(from).trim();
    return { ok: true, pieces, truncated: left.length > 0 ? left : undefined };
  };
  const flushGarbage = (end: number): void => {
    if (garbageStart >= 0) {
      pieces.push({ kind: 'garbage', text: text.slice(garbageStart, end) });
      garbageStart = -1;
    }
  };
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (depth > 0) {
      if (c === QUOTE) {
        const end = endOfString(text, i);
        if (end < 0) break;
        i = end;
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (++depth > limits.maxDepth) return { ok: false, reason: `nested deeper than ${limits.maxDepth} levels` };
        values++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) {
          pieces.push({ kind: 'json', text: text.slice(start, i + 1) });
          if (full()) return rest(i + 1);
        }
      } else if (c === COMMA || c === COLON) {
        values++;
      }
      if (values > limits.maxValues) return { ok: false, reason: `more than ${limits.maxValues} values` };
      i++;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      flushGarbage(i);
      if (full()) return rest(i);
      depth = 1;
      values++;
      start = i;
    } else if (isSpace(c) || c === COMMA) {
      flushGarbage(i);
      if (full()) return rest(i);
    } else if (garbageStart < 0) {
      garbageStart = i;
    }
    i++;
  }
  flushGarbage(text.length);
  if (depth > 0) pieces.push({ kind: 'garbage', text: text.slice(start) });
  return { ok: true, pieces, truncated: undefined };
}

function parsePiece(text: string): ParsedFrame {
  try {
    return classify(JSON.parse(text), text);
  } catch (err) {
    return invalid(`not JSON: ${err instanceof Error ? err.message : String(err)}`, text);
  }
}

/**
 * Turns one WebSocket message into frames. Normally one; several when objects were concatenated
 * (at most `limits.maxObjects`); none for an empty message. A message nested too deep or holding
 * too many values is one invalid frame and is never handed to JSON.parse. Bytes that are not UTF-8
 * become U+FFFD. Never throws.
 */
export function parseFrame(data: FrameData, limits: FrameLimits = DEFAULT_FRAME_LIMITS): ParsedFrame[] {
  let text: string;
  try {
    text = decode(data);
  } catch {
    return [{ kind: 'invalid', reason: 'frame could not be decoded', excerpt: '' }];
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const trimmed = text.trim();
  if (trimmed.length === 0) return [];

  const scanned = scan(trimmed, limits);
  if (!scanned.ok) return [invalid(`frame refused: ${scanned.reason}`, trimmed)];
  const { pieces, truncated } = scanned;
  if (pieces.length === 1 || !pieces.some((p) => p.kind === 'json')) {
    // One value (or one run of garbage): the parser's own message says best what is wrong with it.
    return [parsePiece(trimmed)];
  }
  const frames = pieces.map((piece) =>
    piece.kind === 'garbage' ? invalid('text outside any JSON object', piece.text) : parsePiece(piece.text),
  );
  if (truncated !== undefined) {
    frames.push(invalid(`more than ${limits.maxObjects} objects in one frame: the rest dropped`, truncated));
  }
  return frames;
}
