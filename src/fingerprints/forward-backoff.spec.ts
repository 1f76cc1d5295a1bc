import { forwardRetryDelayMs } from './forward-backoff';

describe('forwardRetryDelayMs', () => {
  const policy = { baseMs: 2_000, maxMs: 60_000 };
  const noJitter = () => 0;

  it('starts at the base and doubles per failure', () => {
    expect([1, 2, 3, 4, 5].map((n) => forwardRetryDelayMs(n, policy, noJitter))).toEqual([
      2_000, 4_000, 8_000, 16_000, 32_000,
    ]);
  });

  it('is capped, however many failures (no attempt limit means huge counts)', () => {
    expect(forwardRetryDelayMs(6, policy, noJitter)).toBe(60_000);
    expect(forwardRetryDelayMs(10_000, policy, noJitter)).toBe(60_000);
  });

  it('takes off at most the jitter fraction, never adding to the cap', () => {
    expect(forwardRetryDelayMs(1, policy, () => 1)).toBe(1_600);
    expect(forwardRetryDelayMs(50, policy, () => 0.999999)).toBeGreaterThanOrEqual(48_000);
    expect(forwardRetryDelayMs(50, policy, () => 0.999999)).toBeLessThanOrEqual(60_000);
    expect(forwardRetryDelayMs(3, { ...policy, jitter: 0.5 }, () => 1)).toBe(4_000);
  });

  it('treats a first attempt (0 failures) like the first retry', () => {
    expect(forwardRetryDelayMs(0, policy, noJitter)).toBe(2_000);
  });
});
