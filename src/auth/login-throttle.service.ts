import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '@app/common';
import { authConfig } from '../config/auth.config';
import { LoginAttemptsRepository } from './login-attempts.repository';

export type LoginKind = 'admin' | 'employee';

/** The part of the counter store the throttle needs. */
export type AttemptCounter = Pick<LoginAttemptsRepository, 'increment' | 'decrement' | 'reset'>;

export interface LoginAttemptTicket {
  /** The credentials were right: the attempt is not held against the name or the address. */
  succeeded(): Promise<void>;
}

export const TOO_MANY_ATTEMPTS_MESSAGE = 'Too many failed login attempts; try again later';

export function tooManyAttempts(): ApiError {
  return new ApiError(429, 'too_many_attempts', TOO_MANY_ATTEMPTS_MESSAGE);
}

interface Limit {
  key: string;
  max: number;
  windowMs: number;
}

/** Delay before checking a name's credentials after `failures` failures of that name from any address. */
export function slowdownMs(failures: number, cfg: { after: number; baseMs: number; maxMs: number }): number {
  if (failures < cfg.after) return 0;
  const doublings = Math.min(failures - cfg.after, 30);
  return Math.min(cfg.baseMs * 2 ** doublings, cfg.maxMs);
}

/**
 * Brute-force protection for both logins and change-password.
 * - Refusals (429) only where the attacker is: failures of one name from one address
 *   (LOGIN_MAX_FAILURES_PER_USER in LOGIN_USER_WINDOW) and failures from one address
 *   (LOGIN_MAX_FAILURES_PER_IP in LOGIN_IP_WINDOW). Strangers failing from elsewhere never lock
 *   the owner out.
 * - A name's failures from all addresses together only slow its further checks down: from
 *   LOGIN_SLOWDOWN_AFTER failures on, each check first waits LOGIN_SLOWDOWN_BASE, doubling per
 *   failure, at most LOGIN_SLOWDOWN_MAX.
 * Every check is counted *before* it runs and taken back when it succeeds, so the counters hold
 * exactly the failures (plus checks in flight) and parallel guesses cannot slip past a limit.
 */
@Injectable()
export class LoginThrottleService {
  constructor(
    @Inject(LoginAttemptsRepository) private readonly counter: AttemptCounter,
    @Inject(authConfig.KEY) private readonly cfg: ConfigType<typeof authConfig>,
  ) {}

  /** The slow-down wait (a timer: it holds no CPU); replaced in unit tests. */
  pause(ms: number): Promise<unknown> {
    return sleep(ms);
  }

  static nameKey(kind: LoginKind, name: string): string {
    return `${kind}:${name.trim().toLowerCase()}`;
  }

  /** Counts one credential check of `name` from `ip`; throws 429 when a limit is passed, waits when the name is under attack. */
  async begin(kind: LoginKind, name: string, ip: string | undefined): Promise<LoginAttemptTicket> {
    const nameKey = LoginThrottleService.nameKey(kind, name);
    const address = ip ?? 'unknown';
    const limits: Limit[] = [
      { key: `${nameKey}|ip:${address}`, max: this.cfg.loginMaxFailuresPerUser, windowMs: this.cfg.loginUserWindowMs },
      { key: `ip:${address}`, max: this.cfg.loginMaxFailuresPerIp, windowMs: this.cfg.loginIpWindowMs },
    ];
    const now = new Date();
    const counted: string[] = [];
    for (const limit of limits) {
      const count = await this.counter.increment(limit.key, limit.windowMs, now);
      counted.push(limit.key);
      if (count > limit.max) {
        // A refused attempt checks no credentials, so it must not count as a failure either.
        await Promise.all(counted.map((key) => this.counter.decrement(key)));
        throw tooManyAttempts();
      }
    }
    const nameCount = await this.counter.increment(nameKey, this.cfg.loginUserWindowMs, now);
    const delay = slowdownMs(nameCount - 1, {
      after: this.cfg.loginSlowdownAfter,
      baseMs: this.cfg.loginSlowdownBaseMs,
      maxMs: this.cfg.loginSlowdownMaxMs,
    });
    if (delay > 0) await this.pause(delay);
    const [pairKey, ipKey] = counted;
    return {
      succeeded: async () => {
        await this.counter.reset(pairKey);
        await Promise.all([this.counter.decrement(ipKey), this.counter.decrement(nameKey)]);
      },
    };
  }
}
