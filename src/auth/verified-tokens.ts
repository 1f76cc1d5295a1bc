import type { AuthUser } from './auth-user';

/** Past this many remembered tokens, the expired ones are dropped (and all of them if none had). */
const MAX_ENTRIES = 2048;

interface Entry {
  user: AuthUser;
  /** The token's `exp` (seconds since the epoch). */
  exp: number;
}

/** `exp` of a token in an `Authorization: Bearer <token>` header; undefined when it has none. */
export function expiryOf(authorization: string): number | undefined {
  // The same split as passport-jwt's bearer extractor: scheme, whitespace, token.
  const token = /(\S+)\s+(\S+)/.exec(authorization)?.[2];
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bearer tokens whose signature and shape were verified, by the exact Authorization header, until
 * they expire: a client sending the same token again skips the signature check (its HMAC and JSON
 * parsing were a visible share of each API call). Only what cannot change for a given token is
 * remembered; whether the token was revoked since (password change) is checked on every request.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>();

  /** The verified user of this header, if it was verified before and has not expired at `nowMs`. */
  get(authorization: string, nowMs = Date.now()): AuthUser | undefined {
    const entry = this.entries.get(authorization);
    if (!entry) return undefined;
    if (isExpired(entry.exp, nowMs)) {
      this.entries.delete(authorization);
      return undefined;
    }
    return { ...entry.user };
  }

  /** Remembers a header whose token was just verified; a token without `exp` is not remembered. */
  remember(authorization: string, user: AuthUser, nowMs = Date.now()): void {
    const exp = expiryOf(authorization);
    if (exp === undefined || isExpired(exp, nowMs)) return;
    if (this.entries.size >= MAX_ENTRIES && !this.entries.has(authorization)) this.prune(nowMs);
    this.entries.set(authorization, { user: { ...user }, exp });
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(nowMs: number): void {
    for (const [key, entry] of this.entries) if (isExpired(entry.exp, nowMs)) this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
  }
}

/** As jsonwebtoken decides: expired from the second `exp` names (no clock tolerance is configured). */
function isExpired(exp: number, nowMs: number): boolean {
  return Math.floor(nowMs / 1000) >= exp;
}
