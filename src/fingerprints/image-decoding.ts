/** Punch photos: base64 JPEG or PNG, from the app (strict data URLs) and from terminals (lenient). */
export type PunchImageMime = 'image/jpeg' | 'image/png';

export type ImageDecoding =
  { ok: true; data: Buffer; mime: PunchImageMime } | { ok: false; tooLarge: boolean; size: number; reason: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The format the bytes really are, whatever the sender claimed. */
export function sniffImageMime(data: Buffer): PunchImageMime | null {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (data.length >= png.length && png.every((b, i) => data[i] === b)) return 'image/png';
  return null;
}

/**
 * Decodes base64 picture bytes. The decoded size is known before decoding, so a huge photo is refused
 * without being allocated. `lenient` (terminals) also takes the URL-safe alphabet and missing padding.
 */
export function decodeBase64Image(text: string, maxBytes: number, opts: { lenient: boolean }): ImageDecoding {
  let b64 = text.replace(/\s+/g, '');
  if (opts.lenient) b64 = b64.replace(/-/g, '+').replace(/_/g, '/');
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  const size = Math.floor((b64.length * 3) / 4) - padding;
  if (size > maxBytes) return { ok: false, tooLarge: true, size, reason: `exceeds ${maxBytes} bytes` };
  const badLength = opts.lenient ? b64.length % 4 === 1 : b64.length % 4 !== 0;
  if (b64.length === 0 || badLength || !BASE64.test(b64)) {
    return { ok: false, tooLarge: false, size, reason: 'is not valid base64' };
  }
  const data = Buffer.from(b64, 'base64');
  const mime = sniffImageMime(data);
  if (!mime) return { ok: false, tooLarge: false, size, reason: 'is not a JPEG or PNG picture' };
  return { ok: true, data, mime };
}
