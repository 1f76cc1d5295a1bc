import { parseFrame } from './frame-parser';

describe('parseFrame', () => {
  it('classifies a terminal request by cmd', () => {
    const [frame] = parseFrame('{"cmd":"reg","sn":"ZX1"}');
    expect(frame).toEqual({ kind: 'request', cmd: 'reg', msg: { cmd: 'reg', sn: 'ZX1' } });
  });

  it('classifies a reply by ret and normalises the name', () => {
    const [frame] = parseFrame(Buffer.from(' {"ret":" GetUserList ","result":true} '));
    expect(frame).toMatchObject({ kind: 'reply', ret: 'getuserlist' });
  });

  it('prefers ret when a frame carries both cmd and ret', () => {
    expect(parseFrame('{"cmd":"x","ret":"gettime"}')[0]).toMatchObject({ kind: 'reply', ret: 'gettime' });
  });

  it('returns nothing for an empty or whitespace frame', () => {
    expect(parseFrame('')).toEqual([]);
    expect(parseFrame(' \n\t ')).toEqual([]);
    expect(parseFrame(Buffer.alloc(0))).toEqual([]);
  });

  it('accepts ArrayBuffer and fragmented Buffer[] data', () => {
    const bytes = Buffer.from('{"cmd":"sendlog","sn":"A"}');
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    expect(parseFrame(ab)[0]).toMatchObject({ kind: 'request', cmd: 'sendlog' });
    expect(parseFrame([bytes.subarray(0, 5), bytes.subarray(5)])[0]).toMatchObject({ kind: 'request' });
  });

  it('decodes invalid UTF-8 with replacement characters instead of failing', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"cmd":"senduser","name":"A'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('B"}'),
    ]);
    const [frame] = parseFrame(bytes);
    expect(frame.kind).toBe('request');
    expect(frame.kind === 'request' && frame.msg.name).toBe('A\uFFFD\uFFFDB');
  });

  it('keeps multi-byte UTF-8 names intact', () => {
    const [frame] = parseFrame(Buffer.from('{"cmd":"senduser","name":"张伟 Müller"}', 'utf8'));
    expect(frame.kind === 'request' && frame.msg.name).toBe('张伟 Müller');
  });

  it('strips a byte-order mark', () => {
    expect(parseFrame('\uFEFF{"cmd":"reg"}')[0]).toMatchObject({ kind: 'request', cmd: 'reg' });
  });

  it('splits concatenated top-level objects', () => {
    const frames = parseFrame(
      '{"cmd":"sendlog","record":[{"name":"a}{b"}]}{"ret":"getdevinfo","result":true}\n{"cmd":"reg"}',
    );
    expect(frames.map((f) => f.kind)).toEqual(['request', 'reply', 'request']);
    expect(frames[0].kind === 'request' && frames[0].msg.record).toEqual([{ name: 'a}{b' }]);
  });

  it('splits objects separated by commas and handles escaped quotes in strings', () => {
    const frames = parseFrame('{"cmd":"a","s":"x\\"}{"},{"cmd":"b"}');
    expect(frames).toHaveLength(2);
    expect(frames[0]).toMatchObject({ kind: 'request', cmd: 'a', msg: { s: 'x"}{' } });
    expect(frames[1]).toMatchObject({ kind: 'request', cmd: 'b' });
  });

  it('reports garbage next to a valid object without losing the object', () => {
    const frames = parseFrame('{"cmd":"reg","sn":"A"}trailing');
    expect(frames[0]).toMatchObject({ kind: 'request', cmd: 'reg' });
    expect(frames[1]).toMatchObject({ kind: 'invalid', reason: 'text outside any JSON object', excerpt: 'trailing' });
  });

  it('reports a truncated object after a complete one', () => {
    const frames = parseFrame('{"cmd":"a"}{"cmd":"sendlog","record":[');
    expect(frames.map((f) => f.kind)).toEqual(['request', 'invalid']);
  });

  it('rejects text that is not JSON with the parser reason', () => {
    const [frame] = parseFrame('hello terminal');
    expect(frame.kind).toBe('invalid');
    expect(frame.kind === 'invalid' && frame.reason).toMatch(/^not JSON: /);
  });

  it('rejects a truncated single object', () => {
    const [frame] = parseFrame('{"cmd":"sendlog","record":[{"enrollid":1');
    expect(frame).toMatchObject({ kind: 'invalid' });
  });

  it.each([
    ['[1,2]', 'an array'],
    ['42', 'a number'],
    ['"reg"', 'a string'],
    ['null', 'null'],
    ['true', 'a boolean'],
  ])('rejects non-object JSON %s', (text, what) => {
    expect(parseFrame(text)).toEqual([
      { kind: 'invalid', reason: `JSON value is ${what}, not an object`, excerpt: text },
    ]);
  });

  it('rejects objects without cmd or ret, or with a non-string name', () => {
    expect(parseFrame('{"sn":"A"}')[0]).toMatchObject({
      kind: 'invalid',
      reason: 'object has neither "cmd" nor "ret"',
    });
    expect(parseFrame('{"cmd":5}')[0]).toMatchObject({ kind: 'invalid', reason: '"cmd" is not a non-empty string' });
    expect(parseFrame('{"ret":""}')[0]).toMatchObject({ kind: 'invalid', reason: '"ret" is not a non-empty string' });
  });

  it('rejects an array among concatenated values', () => {
    const frames = parseFrame('{"cmd":"a"}[1]');
    expect(frames[1]).toMatchObject({ kind: 'invalid', reason: 'JSON value is an array, not an object' });
  });

  it('keeps the excerpt of an invalid frame short', () => {
    const [frame] = parseFrame('x'.repeat(5000));
    expect(frame.kind === 'invalid' && frame.excerpt.length).toBeLessThanOrEqual(203);
  });
});

describe('parseFrame limits', () => {
  const limits = { maxObjects: 3, maxDepth: 4, maxValues: 50 };

  it('keeps the first maxObjects objects of a concatenated frame and reports the rest once', () => {
    const frames = parseFrame('{"ret":"x"}'.repeat(10), limits);
    expect(frames.map((f) => f.kind)).toEqual(['reply', 'reply', 'reply', 'invalid']);
    expect(frames[3]).toMatchObject({ reason: 'more than 3 objects in one frame: the rest dropped' });
  });

  it('counts stray words as pieces too', () => {
    const frames = parseFrame(`{"cmd":"a"} ${'x '.repeat(1000)}`, limits);
    expect(frames).toHaveLength(4);
  });

  it('refuses a frame nested deeper than maxDepth without parsing it', () => {
    expect(parseFrame('{"cmd":"a","x":[[[1]]]}', limits)[0]).toMatchObject({ kind: 'request' });
    expect(parseFrame('{"cmd":"a","x":[[[[1]]]]}', limits)).toEqual([
      expect.objectContaining({ kind: 'invalid', reason: 'frame refused: nested deeper than 4 levels' }),
    ]);
    // A million open brackets cost one linear scan, not a parse.
    expect(parseFrame('['.repeat(1_000_000))[0]).toMatchObject({
      reason: 'frame refused: nested deeper than 32 levels',
    });
  });

  it('refuses a frame holding more than maxValues values', () => {
    const many = JSON.stringify({ cmd: 'sendlog', record: Array.from({ length: 60 }, (_, i) => i) });
    expect(parseFrame(many, limits)[0]).toMatchObject({
      kind: 'invalid',
      reason: 'frame refused: more than 50 values',
    });
  });

  it('does not count brackets, commas or quotes inside strings', () => {
    const frames = parseFrame(JSON.stringify({ cmd: 'a', s: '[[[[[,,,,,,"\\\\' + ','.repeat(100) }), limits);
    expect(frames[0]).toMatchObject({ kind: 'request', cmd: 'a' });
  });
});
