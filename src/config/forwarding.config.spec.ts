import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devicesConfig } from './devices.config';
import { forwardingConfig } from './forwarding.config';

describe('load-sharing settings (issue 20)', () => {
  const saved = { ...process.env };
  let dataDir: string;
  beforeEach(() => {
    // devicesConfig keeps this instance's id in a file under DATA_DIR.
    dataDir = mkdtempSync(join(tmpdir(), 'timmy-fwdcfg-'));
    process.env.DATA_DIR = dataDir;
    for (const key of Object.keys(process.env)) {
      if (/^(FORWARD_|PUNCH_|WS_MAX_PENDING)/.test(key)) delete process.env[key];
    }
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('defaults: 16 frames stored at once, 1000 connections registering at once', () => {
    expect(forwardingConfig().storeConcurrency).toBe(16);
    expect(devicesConfig().wsMaxPendingRegistrations).toBe(1000);
  });

  it('reads them, and stops the boot on a bad value naming the variable', () => {
    process.env.PUNCH_STORE_CONCURRENCY = '4';
    process.env.WS_MAX_PENDING_REGISTRATIONS = '0';
    expect(forwardingConfig().storeConcurrency).toBe(4);
    expect(devicesConfig().wsMaxPendingRegistrations).toBe(0);
    process.env.PUNCH_STORE_CONCURRENCY = '0';
    expect(() => forwardingConfig()).toThrow(/PUNCH_STORE_CONCURRENCY/);
    process.env.WS_MAX_PENDING_REGISTRATIONS = 'many';
    expect(() => devicesConfig()).toThrow(/WS_MAX_PENDING_REGISTRATIONS/);
  });
});
