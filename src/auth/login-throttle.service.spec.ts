import type { ConfigType } from '@nestjs/config';
import { ApiError } from '@app/common';
import type { authConfig } from '../config/auth.config';
import { AttemptCounter, LoginThrottleService, TOO_MANY_ATTEMPTS_MESSAGE } from './login-throttle.service';

/** In-memory counter with the store's contract (windows are the repository's business, tested e2e). */
class MemoryCounter implements AttemptCounter {
  readonly counts = new Map<string, number>();
  readonly windows = new Map<string, number>();

  async increment(key: string, windowMs: number): Promise<number> {
    const next = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, next);
    this.windows.set(key, windowMs);
    return next;
  }

  async decrement(key: string): Promise<void> {
    const current = this.counts.get(key) ?? 0;
    if (current > 0) this.counts.set(key, current - 1);
  }

  async reset(key: string): Promise<void> {
    this.counts.delete(key);
  }
}

const cfg = {
  loginMaxFailuresPerUser: 3,
  loginUserWindowMs: 900_000,
  loginMaxFailuresPerIp: 5,
  loginIpWindowMs: 60_000,
} as ConfigType<typeof authConfig>;

async function expectTooMany(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).getStatus()).toBe(429);
  expect((err as ApiError).getResponse()).toEqual({
    success: false,
    error: 'too_many_attempts',
    message: TOO_MANY_ATTEMPTS_MESSAGE,
  });
}

describe('LoginThrottleService', () => {
  let counter: MemoryCounter;
  let throttle: LoginThrottleService;

  beforeEach(() => {
    counter = new MemoryCounter();
    throttle = new LoginThrottleService(counter, cfg);
  });

  it('counts each check against the name (case-insensitive) and the IP with their own windows', async () => {
    await throttle.begin('employee', 'Alice', '10.0.0.1');
    await throttle.begin('employee', 'alice ', '10.0.0.1');
    expect(counter.counts.get('employee:alice')).toBe(2);
    expect(counter.counts.get('ip:10.0.0.1')).toBe(2);
    expect(counter.windows.get('employee:alice')).toBe(900_000);
    expect(counter.windows.get('ip:10.0.0.1')).toBe(60_000);
  });

  it('keeps admin and employee names apart', async () => {
    await throttle.begin('admin', 'boss@x.io', undefined);
    await throttle.begin('employee', 'boss@x.io', undefined);
    expect(counter.counts.get('admin:boss@x.io')).toBe(1);
    expect(counter.counts.get('employee:boss@x.io')).toBe(1);
  });

  it('refuses the check after the per-name limit and does not count the refused attempt', async () => {
    for (let i = 0; i < 3; i++) await throttle.begin('employee', 'bob', `10.0.0.${i}`);
    await expectTooMany(throttle.begin('employee', 'bob', '10.0.0.9'));
    expect(counter.counts.get('employee:bob')).toBe(3);
    expect(counter.counts.get('ip:10.0.0.9')).toBeUndefined();
    await expectTooMany(throttle.begin('employee', 'bob', '10.0.0.9'));
    expect(counter.counts.get('employee:bob')).toBe(3);
  });

  it('refuses after the per-IP limit across names and takes back the name count of the refused attempt', async () => {
    for (let i = 0; i < 5; i++) await throttle.begin('employee', `user${i}`, '10.0.0.7');
    await expectTooMany(throttle.begin('admin', 'new@x.io', '10.0.0.7'));
    expect(counter.counts.get('admin:new@x.io')).toBe(0);
    expect(counter.counts.get('ip:10.0.0.7')).toBe(5);
    // Another address is not affected.
    await expect(throttle.begin('employee', 'user0', '10.0.0.8')).resolves.toBeDefined();
  });

  it('a success forgets the name failures and is not held against the IP', async () => {
    await throttle.begin('employee', 'carol', '10.0.0.3');
    await throttle.begin('employee', 'carol', '10.0.0.3');
    const ticket = await throttle.begin('employee', 'carol', '10.0.0.3');
    await ticket.succeeded();
    expect(counter.counts.has('employee:carol')).toBe(false);
    expect(counter.counts.get('ip:10.0.0.3')).toBe(2);
    for (let i = 0; i < 3; i++) await throttle.begin('employee', 'carol', '10.0.0.4');
    await expectTooMany(throttle.begin('employee', 'carol', '10.0.0.4'));
  });

  it('works without a known client address (name limit only)', async () => {
    for (let i = 0; i < 3; i++) await throttle.begin('admin', 'a@x.io', undefined);
    await expectTooMany(throttle.begin('admin', 'a@x.io', undefined));
    expect([...counter.counts.keys()]).toEqual(['admin:a@x.io']);
  });
});
