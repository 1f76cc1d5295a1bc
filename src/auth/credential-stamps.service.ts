import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig } from '../config/auth.config';
import { Role } from './role.enum';

/**
 * Where the password stamp of one role's accounts is read: the time of the subject's last password
 * change or reset in ms (0 = never changed), or null when the subject no longer exists.
 */
export type PasswordStampSource = (sub: string) => Promise<number | null>;

/** Past this many cached stamps, a miss first drops the expired ones. */
const PRUNE_AT = 4096;

/**
 * The password stamp every token carries is compared with the account's current one on each
 * authenticated request, so a password change or reset revokes older tokens on every instance.
 * Stamps are cached for TOKEN_CHECK_CACHE at most; the instance that makes a change forgets the
 * subject's stamp at once, the others within that time.
 */
@Injectable()
export class CredentialStampsService {
  private readonly sources = new Map<Role, PasswordStampSource>();
  private readonly cache = new Map<string, { readAt: number; stamp: Promise<number | null> }>();

  constructor(@Inject(authConfig.KEY) private readonly cfg: ConfigType<typeof authConfig>) {}

  /** Each account module registers how its stamps are read (auth for admins, employees for employees). */
  register(role: Role, source: PasswordStampSource): void {
    this.sources.set(role, source);
  }

  /** The current stamp of `sub`, or null when it no longer exists; undefined when its role has no source. */
  current(role: Role, sub: string, now = Date.now()): Promise<number | null> | undefined {
    const source = this.sources.get(role);
    if (!source) return undefined;
    const key = `${role}:${sub}`;
    const hit = this.cache.get(key);
    if (hit && now - hit.readAt < this.cfg.tokenCheckCacheMs) return hit.stamp;
    if (this.cache.size >= PRUNE_AT) this.prune(now);
    const stamp = source(sub);
    if (this.cfg.tokenCheckCacheMs > 0) {
      this.cache.set(key, { readAt: now, stamp });
      // A failed read is not remembered.
      stamp.catch(() => {
        if (this.cache.get(key)?.stamp === stamp) this.cache.delete(key);
      });
    }
    return stamp;
  }

  /** Called by the instance that changed `sub`'s password: its next request reads the new stamp. */
  forget(role: Role, sub: string): void {
    this.cache.delete(`${role}:${sub}`);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.cache) {
      if (now - entry.readAt >= this.cfg.tokenCheckCacheMs) this.cache.delete(key);
    }
  }
}

/** The stamp stored in tokens and compared with the account's: ms of the last change, 0 for never. */
export function passwordStampOf(passwordChangedAt: Date | null | undefined): number {
  return passwordChangedAt instanceof Date ? passwordChangedAt.getTime() : 0;
}
