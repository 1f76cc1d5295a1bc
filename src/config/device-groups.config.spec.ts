import { deviceGroupsConfig } from './device-groups.config';
import { ConfigValidationError } from './env';

describe('deviceGroupsConfig', () => {
  const saved = { ...process.env };

  beforeEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('GROUP_')) delete process.env[key];
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('has the documented defaults: drift every 6 h', () => {
    expect(deviceGroupsConfig()).toEqual({
      driftIntervalMs: 6 * 3_600_000,
      driftReadTimeoutMs: 600_000,
      reconcileIntervalMs: 5_000,
    });
  });

  it('turns the drift check off with 0 and reads units', () => {
    process.env.GROUP_DRIFT_INTERVAL = '0';
    process.env.GROUP_SYNC_RECONCILE_INTERVAL = '250ms';
    expect(deviceGroupsConfig()).toMatchObject({ driftIntervalMs: 0, reconcileIntervalMs: 250 });
  });

  it.each([
    ['GROUP_DRIFT_INTERVAL', 'often'],
    ['GROUP_DRIFT_READ_TIMEOUT', '10ms'],
    ['GROUP_SYNC_RECONCILE_INTERVAL', '-1'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    process.env[name] = value;
    expect(() => deviceGroupsConfig()).toThrow(ConfigValidationError);
    expect(() => deviceGroupsConfig()).toThrow(name);
  });
});
