/**
 * Whether raw JSON text nests objects/arrays deeper than `max`, by one linear pass over the bytes
 * (no parse, no recursion), stopping as soon as the limit is passed. Brackets inside strings do
 * not count. In UTF-8 the bytes of `"`, `\`, `[`, `]`, `{`, `}` never occur inside multi-byte
 * characters, so scanning bytes is exact.
 */
export function jsonNestsDeeperThan(body: Buffer | string, max: number): boolean {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const length = bytes.length;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
