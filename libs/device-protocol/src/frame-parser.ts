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

/**
 * Splits text holding several top-level JSON values written back to back (`{..}{..}`, or separated
 * by whitespace / commas). Anything that is not inside a `{}` or `[]` value becomes a garbage piece,
 * and so does an unterminated value at the end.
 */
function splitTopLevel(text: string): Piece[] {
  const pieces: Piece[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let garbageStart = -1;
  const flushGarbage = (end: number): void => {
    if (garbageStart >= 0) {
      pieces.push({ kind: 'garbage', text: text.slice(garbageStart, end) });
      garbageStart = -1;
    }
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (depth > 0) {
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) pieces.push({ kind: 'json', text: text.slice(start, i + 1) });
      }
      continue;
    }
    if (ch === '{' || ch === '[') {
      flushGarbage(i);
      depth = 1;
      start = i;
    } else if (/[\s,]/.test(ch)) {
      flushGarbage(i);
    } else if (garbageStart < 0) {
      garbageStart = i;
    }
  }
  flushGarbage(text.length);
  if (depth > 0) pieces.push({ kind: 'garbage', text: text.slice(start) });
  return pieces;
}

/**
 * Turns one WebSocket message into frames. Normally one; several when objects were concatenated;
 * none for an empty message. Bytes that are not UTF-8 become U+FFFD. Never throws.
 */
export function parseFrame(data: FrameData): ParsedFrame[] {
  let text: string;
  try {
    text = decode(data);
  } catch {
    return [{ kind: 'invalid', reason: 'frame could not be decoded', excerpt: '' }];
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const trimmed = text.trim();
  if (trimmed.length === 0) return [];

  let firstError: string;
  try {
    return [classify(JSON.parse(trimmed), trimmed)];
  } catch (err) {
    firstError = err instanceof Error ? err.message : String(err);
  }

  const pieces = splitTopLevel(trimmed);
  const jsonPieces = pieces.filter((p) => p.kind === 'json').length;
  if (jsonPieces === 0 || pieces.length === 1) {
    return [invalid(`not JSON: ${firstError}`, trimmed)];
  }
  return pieces.map((piece) => {
    if (piece.kind === 'garbage') return invalid('text outside any JSON object', piece.text);
    try {
      return classify(JSON.parse(piece.text), piece.text);
    } catch (err) {
      return invalid(`not JSON: ${err instanceof Error ? err.message : String(err)}`, piece.text);
    }
  });
}
