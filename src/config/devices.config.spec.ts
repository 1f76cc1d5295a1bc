import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devicesConfig } from './devices.config';

describe('devicesConfig', () => {
  let dataDir: string;
  const saved = { ...process.env };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'timmy-devcfg-'));
    for (const key of Object.keys(process.env)) {
      if (/^(WS_|DEVICE_|INSTANCE_ID$|DATA_DIR$|HOST$)/.test(key)) delete process.env[key];
    }
    process.env.DATA_DIR = dataDir;
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has working defaults', () => {
    const cfg = devicesConfig();
    expect(cfg).toMatchObject({
      wsPort: 9091,
      wsHost: '0.0.0.0',
      wsMaxPayloadBytes: 8 * 1024 * 1024,
      pingIntervalMs: 10_000,
      livenessTimeoutMs: 30_000,
      lastSeenWriteIntervalMs: 15_000,
      onlineLeaseMs: 90_000,
      allowList: [],
      noSendUser: false,
      cmdRatePerSecond: 200,
      cmdRateWindowMs: 10_000,
      floodCloseDrops: 2000,
      logImageMaxBytes: 2 * 1024 * 1024,
      maxFutureSkewMs: 86_400_000,
      qrcodeAccess: false,
      deviceLogToken: undefined,
      regReadIntervalMs: 10,
      regWriteIntervalMs: 50,
    });
    expect(cfg.instanceId).toBe(readFileSync(join(dataDir, 'instance-id'), 'utf8').trim());
    expect(devicesConfig().instanceId).toBe(cfg.instanceId);
  });

  it('reads sizes, lists and an explicit instance id', () => {
    Object.assign(process.env, {
      WS_MAX_PAYLOAD: '512kb',
      DEVICE_LOG_IMAGE_MAX: '65536',
      DEVICE_ALLOWLIST: ' A1, B2 ,,',
      INSTANCE_ID: 'node-1',
      HOST: '127.0.0.1',
      DEVICE_CMD_RATE_LIMIT: '50',
      DEVICE_CMD_RATE_WINDOW: '2s',
      DEVICE_REG_READ_INTERVAL: '0',
      DEVICE_REG_WRITE_INTERVAL: '100ms',
      DEVICE_FRAME_CONTEXT_TTL: '5s',
    });
    expect(devicesConfig()).toMatchObject({
      wsMaxPayloadBytes: 512 * 1024,
      logImageMaxBytes: 65536,
      allowList: ['A1', 'B2'],
      instanceId: 'node-1',
      wsHost: '127.0.0.1',
      floodCloseDrops: 100,
      regReadIntervalMs: 0,
      regWriteIntervalMs: 100,
      frameContextTtlMs: 5000,
    });
  });

  it.each([
    [{ WS_MAX_PAYLOAD: '8 gigabytes' }, 'WS_MAX_PAYLOAD'],
    [{ WS_MAX_PAYLOAD: '10' }, 'WS_MAX_PAYLOAD'],
    [{ WS_PING_INTERVAL: '10s', WS_LIVENESS_TIMEOUT: '5s' }, 'WS_LIVENESS_TIMEOUT'],
    [{ DEVICE_ONLINE_LEASE: '20s' }, 'DEVICE_ONLINE_LEASE'],
    [{ INSTANCE_ID: 'has spaces' }, 'INSTANCE_ID'],
    [{ DEVICE_NOSENDUSER: 'maybe' }, 'DEVICE_NOSENDUSER'],
    [{ DEVICE_CMD_RATE_LIMIT: '-1' }, 'DEVICE_CMD_RATE_LIMIT'],
    [{ DEVICE_DEFAULT_TIMEZONE: 'Mars/Olympus' }, 'DEVICE_DEFAULT_TIMEZONE'],
    [{ DEVICE_MAX_FUTURE_SKEW: 'a while' }, 'DEVICE_MAX_FUTURE_SKEW'],
    [{ DEVICE_REG_READ_INTERVAL: '2s' }, 'DEVICE_REG_READ_INTERVAL'],
    [{ DEVICE_REG_WRITE_INTERVAL: '-5ms' }, 'DEVICE_REG_WRITE_INTERVAL'],
    [{ DEVICE_FRAME_CONTEXT_TTL: '2m' }, 'DEVICE_FRAME_CONTEXT_TTL'],
  ])('refuses %j naming the variable', (env, variable) => {
    Object.assign(process.env, env);
    expect(() => devicesConfig()).toThrow(new RegExp(`Invalid configuration: ${variable}`));
  });
});
