import type { AuthUser } from './auth-user';
import { isRole } from './role.enum';

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Checks the shape of a verified token's payload. A correctly signed token with a shape we never
 * issue (no role, unknown role, no subject) is refused like a forged one.
 */
export function toAuthUser(payload: unknown): AuthUser | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  if (!nonEmptyString(p.sub) || !nonEmptyString(p.owner) || !isRole(p.role)) return null;
  const user: AuthUser = { sub: p.sub, role: p.role, owner: p.owner };
  if (p.enrollId !== undefined) {
    if (!nonEmptyString(p.enrollId)) return null;
    user.enrollId = p.enrollId;
  }
  if (p.username !== undefined) {
    if (!nonEmptyString(p.username)) return null;
    user.username = p.username;
  }
  if (p.pws !== undefined) {
    if (typeof p.pws !== 'number' || !Number.isSafeInteger(p.pws) || p.pws < 0) return null;
    user.passwordStamp = p.pws;
  }
  if (p.pco !== undefined) {
    if (p.pco !== true) return null;
    user.passwordChangeOnly = true;
  }
  return user;
}
