import { ProtocolError } from './protocol-error';

/** Credential slots (`backupnum`), reference §5. */
export const BACKUPNUM = {
  FIRST_FINGER: 0,
  LAST_FINGER: 9,
  PASSWORD: 10,
  CARD: 11,
  /** deleteuser only */
  ALL_FINGERS: 12,
  /** deleteuser only */
  WHOLE_USER: 13,
  PHOTO: 50,
  /** face feature template, one source only */
  FACE_FEATURE: 51,
} as const;

export const MAX_PASSWORD = 99_999_999;

export type CredentialKind = 'fingerprint' | 'password' | 'card' | 'face' | 'palm' | 'photo' | 'other';

/** What a slot holds, by the reference's backupnum table (§5). */
export function credentialKind(backupnum: number): CredentialKind {
  if (isFingerprintSlot(backupnum)) return 'fingerprint';
  if (backupnum === BACKUPNUM.PASSWORD) return 'password';
  if (backupnum === BACKUPNUM.CARD) return 'card';
  if (backupnum >= 20 && backupnum <= 27) return 'face';
  if ((backupnum >= 30 && backupnum <= 37) || backupnum === 40 || backupnum === 41) return 'palm';
  if (backupnum === BACKUPNUM.PHOTO) return 'photo';
  return 'other';
}

export function isFingerprintSlot(backupnum: number): boolean {
  return Number.isInteger(backupnum) && backupnum >= 0 && backupnum <= 9;
}

/**
 * Slots that hold a credential record. Palm vein is 40-41 in the latest spec but 30-37 in older
 * revisions; both ranges are accepted so a template read from a terminal can be written back.
 */
export function isCredentialSlot(backupnum: number): boolean {
  if (!Number.isInteger(backupnum)) return false;
  return (
    (backupnum >= 0 && backupnum <= 11) ||
    (backupnum >= 20 && backupnum <= 27) ||
    (backupnum >= 30 && backupnum <= 37) ||
    backupnum === 40 ||
    backupnum === 41 ||
    backupnum === 50 ||
    backupnum === 51
  );
}

/** Slots whose record is a JSON number on the wire (password, card). */
export function isNumericSlot(backupnum: number): boolean {
  return backupnum === BACKUPNUM.PASSWORD || backupnum === BACKUPNUM.CARD;
}

/** Whether `deleteuser` accepts this backupnum: 0-9 one finger, 10, 11, 12 all fingers, 13 user, 50 photo. */
export function isDeleteSlot(backupnum: number): boolean {
  return Number.isInteger(backupnum) && ((backupnum >= 0 && backupnum <= 13) || backupnum === BACKUPNUM.PHOTO);
}

function digitsToNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string' && /^\s*\d{1,16}\s*$/.test(v)) {
    const n = Number(v.trim());
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

const DATA_URL_PREFIX = /^data:image\/[a-z+.-]+;base64,/i;

/**
 * Strict form of a credential record for the wire: password (≤ 8 digits) and card as JSON numbers,
 * every other slot a non-empty string (a photo's data-URL prefix is removed). Throws ProtocolError.
 */
export function normaliseCredentialRecord(backupnum: number, record: unknown): string | number {
  if (!isCredentialSlot(backupnum)) {
    throw new ProtocolError(`backupnum ${backupnum} is not a credential slot`, 'backupnum');
  }
  if (backupnum === BACKUPNUM.PASSWORD) {
    const n = digitsToNumber(record);
    if (n === undefined || n > MAX_PASSWORD) {
      throw new ProtocolError('password record must be a number of at most 8 digits', 'record');
    }
    return n;
  }
  if (backupnum === BACKUPNUM.CARD) {
    const n = digitsToNumber(record);
    if (n === undefined) throw new ProtocolError('card record must be a non-negative card number', 'record');
    return n;
  }
  if (typeof record !== 'string' || record.trim().length === 0) {
    throw new ProtocolError(`record for backupnum ${backupnum} must be a non-empty string`, 'record');
  }
  if (backupnum === BACKUPNUM.PHOTO) {
    const body = record.replace(DATA_URL_PREFIX, '').replace(/\s+/g, '');
    if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
      throw new ProtocolError('photo record must be base64 text', 'record');
    }
    return body;
  }
  return record;
}

/**
 * Lenient reading of a record a terminal sent: card and password become numbers when they are
 * digits (some firmware quotes them), everything else is kept as it came.
 */
export function readCredentialRecord(backupnum: number | undefined, record: unknown): string | number | undefined {
  if (backupnum !== undefined && isNumericSlot(backupnum)) {
    const n = digitsToNumber(record);
    if (n !== undefined) return n;
  }
  if (typeof record === 'string') return record;
  if (typeof record === 'number' && Number.isFinite(record)) return record;
  return undefined;
}
