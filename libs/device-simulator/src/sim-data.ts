/** Deterministic test data for virtual terminals: users with realistic credential records. */

export interface SimCredential {
  backupnum: number;
  record: string | number;
}

export interface SimUser {
  enrollid: number;
  name: string;
  admin: number;
  credentials: SimCredential[];
  /** false after `enableuser` with enflag 0 */
  enabled?: boolean;
}

export type Rng = () => number;

/** Small seeded PRNG (mulberry32): the same sn always gets the same users. */
export function createRng(seed: number | string): Rng {
  let a = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const int = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));

const HEX = '0123456789ABCDEF';

/**
 * A fingerprint template the way terminals send them: hex bytes where runs of zero bytes are
 * written `(N)`. Around `approxChars` long (templates are < 1620 chars on THbio3.0).
 */
export function makeFingerprintTemplate(rng: Rng, approxChars = 1000): string {
  let out = '4D53';
  while (out.length < approxChars) {
    if (rng() < 0.12) {
      out += `(${int(rng, 2, 200)})`;
    } else {
      const bytes = int(rng, 4, 40);
      for (let i = 0; i < bytes; i++) out += HEX[int(rng, 1, 15)] + HEX[int(rng, 0, 15)];
    }
  }
  return out;
}

/** A base64 "JPEG": real SOI/JFIF header and EOI marker around random bytes (starts with /9j/). */
export function makePhoto(rng: Rng, bytes = 6000): string {
  const header = [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01];
  const body = Array.from({ length: Math.max(0, bytes - header.length - 2) }, () => int(rng, 0, 255));
  return Buffer.from([...header, ...body, 0xff, 0xd9]).toString('base64');
}

export function makeCardNumber(rng: Rng): number {
  return int(rng, 1_000_000, 4_000_000_000);
}

export function makePassword(rng: Rng): number {
  return int(rng, 1000, 999_999);
}

/** A record for a credential slot, as a terminal would capture it. */
export function makeCredentialRecord(rng: Rng, backupnum: number): string | number {
  if (backupnum === 10) return makePassword(rng);
  if (backupnum === 11) return makeCardNumber(rng);
  if (backupnum === 50) return makePhoto(rng);
  if (backupnum >= 20 && backupnum <= 27) return makePhoto(rng, 1500);
  return makeFingerprintTemplate(rng, int(rng, 900, 1200));
}

const FIRST = [
  'Amira',
  'Ben',
  'Chen',
  'Dalia',
  'Emil',
  'Fatima',
  'Goran',
  'Hana',
  'Ivan',
  'Jana',
  'Karim',
  'Lena',
  'Musa',
  'Nora',
  'Omar',
  'Petra',
  'Rami',
  'Sara',
  'Tarek',
  'Ulla',
  'Vera',
  'Yusuf',
  'Zara',
  'Ali',
];
const LAST = [
  'Haddad',
  'Schmidt',
  'Wang',
  'Kovac',
  'Rahman',
  'Novak',
  'Silva',
  'Jafari',
  'Meyer',
  'Okafor',
  'Larsen',
  'Saleh',
  'Dubois',
  'Tanaka',
];

/**
 * `count` users numbered from `firstId`: each has one or two fingerprints, and some have a card,
 * a password or a photo. User `firstId` is an administrator.
 */
export function generateUsers(count: number, seed: number | string = 1, firstId = 1): SimUser[] {
  const rng = createRng(seed);
  const users: SimUser[] = [];
  for (let i = 0; i < count; i++) {
    const credentials: SimCredential[] = [];
    const fingers = rng() < 0.4 ? 2 : 1;
    for (let f = 0; f < fingers; f++) credentials.push({ backupnum: f, record: makeCredentialRecord(rng, f) });
    if (rng() < 0.2) credentials.push({ backupnum: 10, record: makePassword(rng) });
    if (rng() < 0.3) credentials.push({ backupnum: 11, record: makeCardNumber(rng) });
    if (rng() < 0.25) credentials.push({ backupnum: 50, record: makePhoto(rng) });
    users.push({
      enrollid: firstId + i,
      name: `${FIRST[int(rng, 0, FIRST.length - 1)]} ${LAST[int(rng, 0, LAST.length - 1)]}`,
      admin: i === 0 ? 1 : 0,
      credentials,
    });
  }
  return users;
}
