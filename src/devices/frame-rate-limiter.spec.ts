import { FrameRateLimiter } from './frame-rate-limiter';

describe('FrameRateLimiter', () => {
  const opts = { ratePerSecond: 200, windowMs: 10_000, floodDrops: 2000 };

  function takeMany(limiter: FrameRateLimiter, n: number, now: number): Record<string, number> {
    const counts: Record<string, number> = { accept: 0, drop: 0, flood: 0 };
    for (let i = 0; i < n; i++) counts[limiter.take(now)]++;
    return counts;
  }

  it('accepts a burst of rate x window frames at once, then drops', () => {
    const limiter = new FrameRateLimiter(opts, 0);
    expect(takeMany(limiter, 2000, 0)).toEqual({ accept: 2000, drop: 0, flood: 0 });
    expect(limiter.take(0)).toBe('drop');
    expect(limiter.dropped).toBe(1);
  });

  it('refills at the configured rate', () => {
    const limiter = new FrameRateLimiter(opts, 0);
    takeMany(limiter, 2000, 0);
    // 1 s later, 200 more frames are allowed, not 201.
    expect(takeMany(limiter, 201, 1000)).toEqual({ accept: 200, drop: 1, flood: 0 });
  });

  it('lets a terminal sending at the average rate forever through', () => {
    const limiter = new FrameRateLimiter(opts, 0);
    let dropped = 0;
    for (let ms = 0; ms < 60_000; ms += 5) {
      if (limiter.take(ms) !== 'accept') dropped++;
    }
    expect(dropped).toBe(0);
  });

  it('never refills above the bucket capacity after a long silence', () => {
    const limiter = new FrameRateLimiter(opts, 0);
    const counts = takeMany(limiter, 2500, 3_600_000);
    expect(counts.accept).toBe(2000);
    expect(counts.drop).toBe(500);
  });

  it('reports a flood only when drops within one window reach the threshold', () => {
    const limiter = new FrameRateLimiter({ ratePerSecond: 10, windowMs: 1000, floodDrops: 5 }, 0);
    takeMany(limiter, 10, 0);
    expect(takeMany(limiter, 4, 0)).toEqual({ accept: 0, drop: 4, flood: 0 });
    expect(limiter.take(0)).toBe('flood');
  });

  it('forgets drops of an earlier window, so short bursts never close the socket', () => {
    const limiter = new FrameRateLimiter({ ratePerSecond: 10, windowMs: 1000, floodDrops: 5 }, 0);
    takeMany(limiter, 10, 0);
    expect(takeMany(limiter, 4, 0).drop).toBe(4);
    // A full window later the bucket is full again and the drop count starts over.
    expect(takeMany(limiter, 10, 1000).accept).toBe(10);
    expect(takeMany(limiter, 4, 1000)).toEqual({ accept: 0, drop: 4, flood: 0 });
  });

  it('accepts everything when the rate is 0 (limit off)', () => {
    const limiter = new FrameRateLimiter({ ratePerSecond: 0, windowMs: 1000, floodDrops: 1 }, 0);
    expect(takeMany(limiter, 10_000, 0).accept).toBe(10_000);
  });
});
