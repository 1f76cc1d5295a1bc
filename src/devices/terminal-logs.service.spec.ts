import { decodeTerminalPhoto } from './terminal-logs.service';
import { storable, storableObject } from './storable';

describe('decodeTerminalPhoto', () => {
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(96, 1)]);

  it('decodes base64 JPEG, bare or as a data URL, with line breaks', () => {
    const b64 = jpeg.toString('base64');
    for (const text of [b64, `data:image/jpeg;base64,${b64}`, b64.replace(/(.{20})/g, '$1\n')]) {
      const photo = decodeTerminalPhoto(text, 1024);
      expect(photo).toEqual({ ok: true, data: jpeg, mime: 'image/jpeg' });
    }
  });

  it('refuses a photo over the limit before decoding it', () => {
    const photo = decodeTerminalPhoto(jpeg.toString('base64'), 99);
    expect(photo.ok).toBe(false);
    expect(!photo.ok && photo.reason).toMatch(/exceeds DEVICE_LOG_IMAGE_MAX \(99\)/);
    expect(decodeTerminalPhoto(jpeg.toString('base64'), 100).ok).toBe(true);
  });

  it('refuses what is not base64 or not a picture', () => {
    expect(decodeTerminalPhoto('***', 1024)).toEqual({ ok: false, reason: 'photo is not valid base64' });
    expect(decodeTerminalPhoto('', 1024).ok).toBe(false);
    expect(decodeTerminalPhoto(Buffer.from('plain text, no image').toString('base64'), 1024)).toEqual({
      ok: false,
      reason: 'photo is not a JPEG or PNG picture',
    });
  });
});

describe('storable', () => {
  it('keeps ordinary values and drops keys MongoDB must not store', () => {
    expect(
      storableObject({
        a: 1,
        b: 'x',
        c: [1, { d: true }],
        $where: 'evil',
        'x.y': 1,
        n: null,
        inf: Infinity,
        f: () => 1,
      }),
    ).toEqual({ a: 1, b: 'x', c: [1, { d: true }], n: null, inf: null });
  });

  it('cuts runaway nesting and huge strings', () => {
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    expect(storable(deep)).toEqual({ a: { b: { c: { d: {} } } } });
    expect((storable('x'.repeat(10_000)) as string).length).toBe(4096);
    expect(storableObject('not an object')).toEqual({});
  });
});
