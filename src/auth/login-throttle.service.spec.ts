import type { ConfigType } from '@nestjs/config';
import { ApiError } from '@app/common';
import type { authConfig } from '../config/auth.config';
import { AttemptCounter, LoginThrottleService, slowdownMs, TOO_MANY_ATTEMPTS_MESSAGE } from './login-throttle.service';

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
  loginSlowdownAfter: 2,
  loginSlowdownBaseMs: 100,
  loginSlowdownMaxMs: 350,
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

describe('slowdownMs', () => {
  const c = { after: 3, baseMs: 1000, maxMs: 8000 };
  it.each([
    [0, 0],
    [2, 0],
    [3, 1000],
    [4, 2000],
    [5, 4000],
    [6, 8000],
    [7, 8000],
    [10_000, 8000],
  ])('%i failures -> %i ms', (failures, ms) => {
    expect(slowdownMs(failures, c)).toBe(ms);
  });
});

describe('LoginThrottleService', () => {
  let counter: MemoryCounter;
  let throttle: LoginThrottleService;
  let waits: number[];

  beforeEach(() => {
    counter = new MemoryCounter();
    throttle = new LoginThrottleService(counter, cfg);
    waits = [];
    jest.spyOn(throttle, 'pause').mockImplementation((ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    });
  });

  it('counts each check against (name, address), the address and the name, each with its window', async () => {
    await throttle.begin('employee', 'Alice', '10.0.0.1');
    await throttle.begin('employee', 'alice ', '10.0.0.1');
    expect(counter.counts.get('employee:alice|ip:10.0.0.1')).toBe(2);
    expect(counter.counts.get('ip:10.0.0.1')).toBe(2);
    expect(counter.counts.get('employee:alice')).toBe(2);
    expect(counter.windows.get('employee:alice|ip:10.0.0.1')).toBe(900_000);
    expect(counter.windows.get('ip:10.0.0.1')).toBe(60_000);
    expect(counter.windows.get('employee:alice')).toBe(900_000);
  });

  it('keeps admin and employee names apart', async () => {
    await throttle.begin('admin', 'boss@x.io', '10.0.0.1');
    await throttle.begin('employee', 'boss@x.io', '10.0.0.1');
    expect(counter.counts.get('admin:boss@x.io')).toBe(1);
    expect(counter.counts.get('employee:boss@x.io')).toBe(1);
  });

  it('refuses a name from the address that failed too often, and does not count the refused attempt', async () => {
    for (let i = 0; i < 3; i++) await throttle.begin('employee', 'bob', '10.0.0.9');
    await expectTooMany(throttle.begin('employee', 'bob', '10.0.0.9'));
    expect(counter.counts.get('employee:bob|ip:10.0.0.9')).toBe(3);
    expect(counter.counts.get('ip:10.0.0.9')).toBe(3);
    expect(counter.counts.get('employee:bob')).toBe(3);
  });

  it('never refuses a name because of failures from other addresses: it slows it down, growing and capped', async () => {
    for (let i = 0; i < 6; i++) await throttle.begin('employee', 'dave', `10.0.1.${i}`);
    // failures before each check: 0,1 -> none; 2 -> 100; 3 -> 200; 4 -> 350 (cap); 5 -> 350
    expect(waits).toEqual([100, 200, 350, 350]);
    const ticket = await throttle.begin('employee', 'dave', '10.0.2.1');
    expect(waits.at(-1)).toBe(350);
    await ticket.succeeded();
    expect(counter.counts.get('employee:dave')).toBe(6);
  });

  it('refuses after the per-address limit across names and takes back the counts of the refused attempt', async () => {
    for (let i = 0; i < 5; i++) await throttle.begin('employee', `user${i}`, '10.0.0.7');
    await expectTooMany(throttle.begin('admin', 'new@x.io', '10.0.0.7'));
    expect(counter.counts.get('admin:new@x.io|ip:10.0.0.7')).toBe(0);
    expect(counter.counts.get('admin:new@x.io')).toBeUndefined();
    expect(counter.counts.get('ip:10.0.0.7')).toBe(5);
    // Another address is not affected.
    await expect(throttle.begin('employee', 'user0', '10.0.0.8')).resolves.toBeDefined();
  });

  it('a success forgets the (name, address) failures and counts against neither the address nor the name', async () => {
    await throttle.begin('employee', 'carol', '10.0.0.3');
    await throttle.begin('employee', 'carol', '10.0.0.3');
    const ticket = await throttle.begin('employee', 'carol', '10.0.0.3');
    await ticket.succeeded();
    expect(counter.counts.has('employee:carol|ip:10.0.0.3')).toBe(false);
    expect(counter.counts.get('ip:10.0.0.3')).toBe(2);
    expect(counter.counts.get('employee:carol')).toBe(2);
    for (let i = 0; i < 3; i++) await throttle.begin('employee', 'carol', '10.0.0.4');
    await expectTooMany(throttle.begin('employee', 'carol', '10.0.0.4'));
  });
});
