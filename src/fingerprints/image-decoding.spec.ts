import { decodeBase64Image } from './image-decoding';

const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(10, 7)]);

describe('decodeBase64Image', () => {
  it('decodes strict base64 in both modes', () => {
    for (const lenient of [false, true]) {
      expect(decodeBase64Image(jpeg.toString('base64'), 1024, { lenient })).toEqual({
        ok: true,
        data: jpeg,
        mime: 'image/jpeg',
      });
    }
  });

  it('takes the URL-safe alphabet and missing padding only when lenient', () => {
    const urlSafe = jpeg.toString('base64url');
    expect(decodeBase64Image(urlSafe, 1024, { lenient: true }).ok).toBe(true);
    expect(decodeBase64Image(urlSafe, 1024, { lenient: false })).toMatchObject({ ok: false, tooLarge: false });
  });

  it('refuses by size before decoding, and refuses bytes that are no picture', () => {
    expect(decodeBase64Image(jpeg.toString('base64'), 8, { lenient: false })).toMatchObject({
      ok: false,
      tooLarge: true,
      size: jpeg.length,
    });
    expect(decodeBase64Image(Buffer.from('GIF89a-------').toString('base64'), 1024, { lenient: true })).toMatchObject({
      ok: false,
      reason: 'is not a JPEG or PNG picture',
    });
    expect(decodeBase64Image('', 1024, { lenient: true })).toMatchObject({ ok: false, reason: 'is not valid base64' });
  });
});
