import { jsonNestsDeeperThan } from './json-depth';

describe('jsonNestsDeeperThan', () => {
  const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it('allows exactly the limit and refuses one more level', () => {
    expect(jsonNestsDeeperThan(nested(32), 32)).toBe(false);
    expect(jsonNestsDeeperThan(nested(33), 32)).toBe(true);
    expect(jsonNestsDeeperThan(`{"a":${nested(31)}}`, 32)).toBe(false);
    expect(jsonNestsDeeperThan(`{"a":${nested(32)}}`, 32)).toBe(true);
  });

  it('counts depth, not the number of brackets', () => {
    const wide = JSON.stringify({ record: Array.from({ length: 5000 }, () => ({ a: [1] })) });
    expect(jsonNestsDeeperThan(wide, 4)).toBe(false);
    expect(jsonNestsDeeperThan(wide, 3)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonNestsDeeperThan(JSON.stringify({ s: '[[[[[[{{{{' }), 2)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ s: 'a\\"[[[[[["' }), 2)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from(JSON.stringify({ s: 'é"[[[' })), 1)).toBe(false);
  });

  it('handles a 100,000-level body without recursion', () => {
    expect(jsonNestsDeeperThan(Buffer.from(nested(100_000)), 32)).toBe(true);
  });
});
