import { Role } from './role.enum';
import { expiryOf, VerifiedTokens } from './verified-tokens';

const user = { sub: 'a1', role: Role.Admin, owner: 'a1' };

function header(payload: object, scheme = 'Bearer'): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${scheme} ${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}.c2ln`;
}

describe('VerifiedTokens', () => {
  const T = 1_800_000_000; // seconds

  it('reads exp from the bearer token of a header', () => {
    expect(expiryOf(header({ exp: T }))).toBe(T);
    expect(expiryOf(header({ exp: T }, 'bearer'))).toBe(T);
    expect(expiryOf(header({ sub: 'x' }))).toBeUndefined();
    expect(expiryOf(header({ exp: 'soon' }))).toBeUndefined();
    expect(expiryOf('Bearer not-a-jwt')).toBeUndefined();
    expect(expiryOf('Bearer a.%%%.c')).toBeUndefined();
    expect(expiryOf('Bearer')).toBeUndefined();
  });

  it('answers a remembered header with a copy of its user until the second its token expires', () => {
    const tokens = new VerifiedTokens();
    const h = header({ exp: T });
    tokens.remember(h, user, (T - 10) * 1000);
    const got = tokens.get(h, (T - 1) * 1000 + 999);
    expect(got).toEqual(user);
    expect(got).not.toBe(user);
    expect(tokens.get(`${h}x`, (T - 1) * 1000)).toBeUndefined();
    expect(tokens.get(h, T * 1000)).toBeUndefined();
    // Dropped once found expired.
    expect(tokens.size).toBe(0);
  });

  it('does not remember a token without exp or already expired', () => {
    const tokens = new VerifiedTokens();
    tokens.remember(header({ sub: 'x' }), user, 0);
    tokens.remember(header({ exp: T }), user, T * 1000);
    expect(tokens.size).toBe(0);
  });

  it('stays bounded: expired entries go first, then everything', () => {
    const tokens = new VerifiedTokens();
    for (let i = 0; i < 2048; i++) tokens.remember(header({ exp: i < 100 ? T : T + 100, n: i }), user, (T - 50) * 1000);
    expect(tokens.size).toBe(2048);
    tokens.remember(header({ exp: T + 100, n: 'next' }), user, (T + 1) * 1000);
    expect(tokens.size).toBe(2048 - 100 + 1);
    for (let i = 0; i < 100; i++) tokens.remember(header({ exp: T + 100, m: i }), user, (T + 1) * 1000);
    expect(tokens.size).toBe(1);
  });
});
