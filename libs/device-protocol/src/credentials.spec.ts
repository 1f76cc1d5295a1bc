import {
  BACKUPNUM,
  isCredentialSlot,
  isDeleteSlot,
  isFingerprintSlot,
  normaliseCredentialRecord,
  readCredentialRecord,
} from './credentials';
import { ProtocolError } from './protocol-error';

describe('credential slots', () => {
  it('classifies backupnum values', () => {
    expect(isFingerprintSlot(0) && isFingerprintSlot(9)).toBe(true);
    expect(isFingerprintSlot(10)).toBe(false);
    for (const b of [0, 9, 10, 11, 20, 27, 30, 37, 40, 41, 50, 51]) expect(isCredentialSlot(b)).toBe(true);
    for (const b of [12, 13, 19, 28, 38, 42, 49, 52, -1, 1.5]) expect(isCredentialSlot(b)).toBe(false);
    for (const b of [0, 12, 13, 50]) expect(isDeleteSlot(b)).toBe(true);
    for (const b of [14, 20, 51]) expect(isDeleteSlot(b)).toBe(false);
  });

  it('normalises card and password to numbers and keeps templates as strings', () => {
    expect(normaliseCredentialRecord(BACKUPNUM.CARD, ' 123 ')).toBe(123);
    expect(normaliseCredentialRecord(BACKUPNUM.PASSWORD, 99_999_999)).toBe(99_999_999);
    expect(() => normaliseCredentialRecord(BACKUPNUM.PASSWORD, 100_000_000)).toThrow(ProtocolError);
    expect(() => normaliseCredentialRecord(BACKUPNUM.CARD, 1.5)).toThrow(ProtocolError);
    expect(normaliseCredentialRecord(3, 'AB(200)CD')).toBe('AB(200)CD');
    expect(() => normaliseCredentialRecord(12, 'x')).toThrow(/not a credential slot/);
  });

  it('reads card and password leniently, leaves other records alone', () => {
    expect(readCredentialRecord(11, '42')).toBe(42);
    expect(readCredentialRecord(10, 'abc')).toBe('abc');
    expect(readCredentialRecord(0, '42')).toBe('42');
    expect(readCredentialRecord(undefined, 7)).toBe(7);
    expect(readCredentialRecord(0, {})).toBeUndefined();
  });
});
