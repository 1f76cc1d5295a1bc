import { appDedupeKey, readPunchTime, terminalDedupeKey } from './punch-record';
import { sniffImageMime } from './image-decoding';
import { decodeImageDataUrl } from './punch-images.service';

describe('readPunchTime', () => {
  it("reads the terminal's wall time in its zone and keeps it padded for HR", () => {
    expect(readPunchTime('2025-11-08 09:00:00', 'Asia/Baghdad')).toEqual({
      instant: new Date('2025-11-08T06:00:00.000Z'),
      localTime: '2025-11-08T09:00:00',
    });
    expect(readPunchTime('2025-1-8 9:5:7', 'UTC')?.localTime).toBe('2025-01-08T09:05:07');
    expect(readPunchTime('2025-11-08T09:00:00', 'UTC')?.localTime).toBe('2025-11-08T09:00:00');
  });

  it("re-expresses a time that names its own zone in the terminal's zone", () => {
    expect(readPunchTime('2025-11-08T06:00:00Z', 'Asia/Baghdad')).toEqual({
      instant: new Date('2025-11-08T06:00:00.000Z'),
      localTime: '2025-11-08T09:00:00',
    });
  });

  it('takes the instant a caller already read from the text instead of converting it again', () => {
    const known = new Date('2025-11-08T06:00:00.000Z');
    const time = readPunchTime('2025-11-08 09:00:00', 'Asia/Baghdad', known);
    expect(time).toEqual({ instant: known, localTime: '2025-11-08T09:00:00' });
    expect(time?.instant).toBe(known);
    expect(readPunchTime(12345, 'UTC', known)).toBeNull();
  });

  it('refuses what is not a time', () => {
    expect(readPunchTime('2025-02-30 10:00:00', 'UTC')).toBeNull();
    expect(readPunchTime('yesterday', 'UTC')).toBeNull();
    expect(readPunchTime(12345, 'UTC')).toBeNull();
  });
});

describe('dedupe keys', () => {
  const base = { sn: 'S1', enrollid: '7', instant: new Date(1_000), mode: 8, inout: 0, event: 0 };

  it('is the same for the same punch and differs in any identifying field', () => {
    expect(terminalDedupeKey({ ...base })).toBe(terminalDedupeKey(base));
    for (const change of [
      { sn: 'S2' },
      { enrollid: '8' },
      { instant: new Date(2_000) },
      { mode: 1 },
      { inout: 1 },
      { event: 1 },
    ]) {
      expect(terminalDedupeKey({ ...base, ...change })).not.toBe(terminalDedupeKey(base));
    }
    expect(terminalDedupeKey({ ...base, mode: null })).not.toBe(terminalDedupeKey({ ...base, mode: 0 }));
  });

  it('cannot be confused by separators inside the serial number', () => {
    expect(terminalDedupeKey({ ...base, sn: 'a","7' })).not.toBe(
      terminalDedupeKey({ ...base, sn: 'a', enrollid: '7' }),
    );
  });

  it('never lets an app punch collide with a terminal punch', () => {
    expect(appDedupeKey('6925d3b4c8227c3a1972328b').startsWith('a:')).toBe(true);
    expect(terminalDedupeKey(base).startsWith('t:')).toBe(true);
  });
});

describe('decodeImageDataUrl', () => {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70]);
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
  const url = (mime: string, data: Buffer) => `data:${mime};base64,${data.toString('base64')}`;
  const status = (fn: () => unknown): number => {
    try {
      fn();
    } catch (err) {
      return (err as { getStatus(): number }).getStatus();
    }
    return 0;
  };

  it('accepts JPEG and PNG data URLs whose bytes are what they claim', () => {
    expect(decodeImageDataUrl(url('image/jpeg', jpeg), 1024)).toEqual({ data: jpeg, mime: 'image/jpeg' });
    expect(decodeImageDataUrl(url('image/png', png), 1024).mime).toBe('image/png');
  });

  it('answers 400 for other types, bad base64, or bytes that are not a picture', () => {
    expect(status(() => decodeImageDataUrl(url('image/gif', jpeg), 1024))).toBe(400);
    expect(status(() => decodeImageDataUrl('not a data url', 1024))).toBe(400);
    expect(status(() => decodeImageDataUrl('data:image/jpeg;base64,@@@@', 1024))).toBe(400);
    expect(status(() => decodeImageDataUrl(url('image/jpeg', Buffer.from('hello world')), 1024))).toBe(400);
  });

  it('answers 413 above the decoded size limit', () => {
    expect(status(() => decodeImageDataUrl(url('image/jpeg', Buffer.concat([jpeg, Buffer.alloc(2000)])), 1024))).toBe(
      413,
    );
    expect(status(() => decodeImageDataUrl(url('image/jpeg', Buffer.concat([jpeg, Buffer.alloc(1016)])), 1024))).toBe(
      0,
    );
  });

  it('sniffs formats from the magic bytes', () => {
    expect(sniffImageMime(jpeg)).toBe('image/jpeg');
    expect(sniffImageMime(png)).toBe('image/png');
    expect(sniffImageMime(Buffer.from('GIF89a'))).toBeNull();
  });
});
