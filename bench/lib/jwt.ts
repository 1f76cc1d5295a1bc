import { createHmac, timingSafeEqual } from 'node:crypto';

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** HS256 token, the shape the product's admin tokens have (used by the baselines and as a fallback). */
export function signHs256(payload: Record<string, unknown>, secret: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** The peer checks the bearer token as the product does: signature, algorithm, expiry, role. */
export function verifyHs256(token: string, secret: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const head = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    if (head.alg !== 'HS256') return null;
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof payload.exp === 'number' && payload.exp * 1000 < Date.now()) return null;
    return payload;
  } catch {
    return null;
  }
}

export const BENCH_JWT_SECRET = 'bench-only-secret-0123456789abcdef';
export const BENCH_ADMIN = { email: 'bench@timmy.local', password: 'bench-password-123' };

export function benchAdminToken(): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256(
    { sub: '000000000000000000000001', role: 'ADMIN', owner: '000000000000000000000001', iat: now, exp: now + 3600 },
    BENCH_JWT_SECRET,
  );
}
