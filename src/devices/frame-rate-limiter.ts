export type RateDecision = 'accept' | 'drop' | 'flood';

export interface FrameRateLimitOptions {
  /** Average frames per second allowed; 0 disables the limit. */
  ratePerSecond: number;
  /** The average is taken over this window: a burst of rate × window frames is accepted at once. */
  windowMs: number;
  /** Dropped frames within one window that make the flood a sustained one (the socket is closed). */
  floodDrops: number;
}

/**
 * Token bucket for the frames a terminal sends on its own. Replies to our commands never go
 * through it: a user list legitimately arrives as hundreds of them.
 */
export class FrameRateLimiter {
  private readonly capacity: number;
  private readonly refillPerMs: number;
  private tokens: number;
  private refilledAt: number;
  private dropWindowStart = 0;
  private dropsInWindow = 0;
  private droppedTotal = 0;

  constructor(
    private readonly opts: FrameRateLimitOptions,
    now: number = Date.now(),
  ) {
    this.capacity = Math.max(1, (opts.ratePerSecond * opts.windowMs) / 1000);
    this.refillPerMs = opts.ratePerSecond / 1000;
    this.tokens = this.capacity;
    this.refilledAt = now;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  take(now: number = Date.now()): RateDecision {
    if (this.opts.ratePerSecond <= 0) return 'accept';
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.refillPerMs);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'accept';
    }
    this.droppedTotal++;
    if (now - this.dropWindowStart >= this.opts.windowMs) {
      this.dropWindowStart = now;
      this.dropsInWindow = 0;
    }
    this.dropsInWindow++;
    return this.dropsInWindow >= this.opts.floodDrops ? 'flood' : 'drop';
  }
}
