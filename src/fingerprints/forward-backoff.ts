export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Fraction of the delay taken off at random, so instances and terminals do not retry in step. */
  jitter?: number;
}

/**
 * Delay before the next forward after `failedAttempts` failures: base, doubling, capped; a random
 * part of up to `jitter` of it is taken off (never added, so the cap holds).
 */
export function forwardRetryDelayMs(failedAttempts: number, policy: BackoffPolicy, random: () => number = Math.random) {
  const exponent = Math.max(0, Math.min(failedAttempts - 1, 30));
  const delay = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jitter = policy.jitter ?? 0.2;
  return Math.round(delay * (1 - jitter * random()));
}
