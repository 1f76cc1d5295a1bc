import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiError } from '@app/common';
import { authConfig } from '../config/auth.config';
import { LoginAttemptsRepository } from './login-attempts.repository';

export type LoginKind = 'admin' | 'employee';

/** The part of the counter store the throttle needs. */
export type AttemptCounter = Pick<LoginAttemptsRepository, 'increment' | 'decrement' | 'reset'>;

export interface LoginAttemptTicket {
  /** The credentials were right: the name's failures are forgotten and the attempt is not held against the IP. */
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

/**
 * Brute-force protection for both logins. Every credential check is counted *before* it runs and
 * taken back when it succeeds, so the counters hold exactly the failures (plus checks in flight) and
 * a burst of parallel guesses cannot slip past the limit between a check and its record.
 * Validation errors never get here: they are refused before the handler runs.
 */
@Injectable()
export class LoginThrottleService {
  constructor(
    @Inject(LoginAttemptsRepository) private readonly counter: AttemptCounter,
    @Inject(authConfig.KEY) private readonly cfg: ConfigType<typeof authConfig>,
  ) {}

  static nameKey(kind: LoginKind, name: string): string {
    return `${kind}:${name.trim().toLowerCase()}`;
  }

  /** Counts one credential check of `name` from `ip`; throws 429 when either is past its limit. */
  async begin(kind: LoginKind, name: string, ip: string | undefined): Promise<LoginAttemptTicket> {
    const nameLimit: Limit = {
      key: LoginThrottleService.nameKey(kind, name),
      max: this.cfg.loginMaxFailuresPerUser,
      windowMs: this.cfg.loginUserWindowMs,
    };
    const limits = [nameLimit];
    if (ip) limits.push({ key: `ip:${ip}`, max: this.cfg.loginMaxFailuresPerIp, windowMs: this.cfg.loginIpWindowMs });

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
    const otherKeys = counted.filter((key) => key !== nameLimit.key);
    return {
      succeeded: async () => {
        await this.counter.reset(nameLimit.key);
        await Promise.all(otherKeys.map((key) => this.counter.decrement(key)));
      },
    };
  }
}
