import { ConfigValidationError } from './env';
import { operationsConfig } from './operations.config';

describe('operationsConfig', () => {
  const saved = { ...process.env };

  beforeEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('OP_')) delete process.env[key];
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('has the documented defaults', () => {
    expect(operationsConfig()).toEqual({
      replyTimeoutMs: 10_000,
      pageTimeoutMs: 60_000,
      catchUpPageTimeoutMs: 15_000,
      retryBaseMs: 2_000,
      retryMaxMs: 60_000,
      maxAttempts: 5,
      waitTimeoutMs: 60_000,
      retentionDays: 90,
      pollIntervalMs: 1_000,
      leaseTtlMs: 30_000,
      registeredCheckIntervalMs: 100,
      retentionIntervalMs: 3_600_000,
    });
  });

  it('reads OP_REGISTERED_CHECK_INTERVAL (0 = every registration checked at once) and refuses a bad one', () => {
    process.env.OP_REGISTERED_CHECK_INTERVAL = '0';
    expect(operationsConfig().registeredCheckIntervalMs).toBe(0);
    process.env.OP_REGISTERED_CHECK_INTERVAL = '1m';
    expect(() => operationsConfig()).toThrow(/OP_REGISTERED_CHECK_INTERVAL/);
    process.env.OP_REGISTERED_CHECK_INTERVAL = 'soon';
    expect(() => operationsConfig()).toThrow(/OP_REGISTERED_CHECK_INTERVAL/);
  });

  it('reads durations with units', () => {
    process.env.OP_POLL_INTERVAL = '250ms';
    process.env.OP_LEASE_TTL = '2m';
    process.env.OP_RETENTION_INTERVAL = '30m';
    expect(operationsConfig()).toMatchObject({
      pollIntervalMs: 250,
      leaseTtlMs: 120_000,
      retentionIntervalMs: 1_800_000,
    });
  });

  it.each([
    ['OP_POLL_INTERVAL', 'often'],
    ['OP_POLL_INTERVAL', '10ms'],
    ['OP_LEASE_TTL', '100ms'],
    ['OP_MAX_ATTEMPTS', '0'],
    ['OP_RETENTION_DAYS', 'forever'],
    ['OP_CATCHUP_PAGE_TIMEOUT', 'soon'],
    ['OP_CATCHUP_PAGE_TIMEOUT', '10ms'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    process.env[name] = value;
    expect(() => operationsConfig()).toThrow(ConfigValidationError);
    expect(() => operationsConfig()).toThrow(name);
  });
});
