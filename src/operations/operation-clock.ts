/** Time, timers and randomness of the queue, replaceable by a fake in tests. */
export interface OperationClock {
  now(): Date;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
  /** A number in [0, 1) for retry jitter. */
  random(): number;
}

export const OPERATION_CLOCK = Symbol('OPERATION_CLOCK');

export const systemClock: OperationClock = {
  now: () => new Date(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    // Queue timers never keep a process alive on their own.
    handle.unref();
    return () => clearTimeout(handle);
  },
  random: () => Math.random(),
};

/**
 * Backoff before send number `attempt + 1`: `base` doubling per send already made, capped at
 * `max`, then spread by +/-20% so terminals that failed together do not retry together.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const exponent = Math.max(0, attempt - 1);
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(exponent, 30));
  return Math.max(1, Math.round(Math.min(maxMs, raw * (0.8 + 0.4 * random))));
}
