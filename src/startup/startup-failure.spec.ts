import { ConfigValidationError } from '../config/env';
import { integrationNotices } from './integration-notices';
import { describeStartupFailure } from './startup-failure';

function listenError(code: string, port: number): Error {
  return Object.assign(new Error(`listen ${code}: address already in use 0.0.0.0:${port}`), { code, port });
}

describe('describeStartupFailure', () => {
  it('names the variable of a configuration error and its fix', () => {
    const line = describeStartupFailure(new ConfigValidationError('OP_REPLY_TIMEOUT', 'must be a duration'));
    expect(line).toBe(
      'Cannot start: invalid configuration: OP_REPLY_TIMEOUT must be a duration. Fix: correct OP_REPLY_TIMEOUT in the environment or .env (.env.example lists every variable with its default).',
    );
  });

  it('tells the HTTP port from the gateway port', () => {
    expect(describeStartupFailure(listenError('EADDRINUSE', 9090))).toMatch(/port 9090 for the HTTP API .* set PORT/);
    const gateway = new Error(
      'Terminal gateway cannot listen on 0.0.0.0:9091: listen EADDRINUSE: address already in use 0.0.0.0:9091',
    );
    expect(describeStartupFailure(gateway)).toMatch(/port 9091 for the terminal gateway .* set WS_PORT/);
    expect(describeStartupFailure(listenError('EACCES', 80))).toMatch(/not allowed to listen on port 80/);
  });

  it('recognises an unreachable database, refused credentials and a locked data directory', () => {
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), {
      name: 'MongooseServerSelectionError',
    });
    expect(describeStartupFailure(unreachable)).toMatch(/database is unreachable .*MONGODB_URI/);
    const auth = Object.assign(new Error('Authentication failed.'), { name: 'MongoServerError' });
    expect(describeStartupFailure(auth)).toMatch(/refused the credentials/);
    const locked = new Error('data directory /srv/data/db is in use by process 4242');
    expect(describeStartupFailure(locked)).toMatch(/data directory \/srv\/data\/db is in use by process 4242\. Fix:/);
  });

  it('keeps anything else to its first line, with a pointer to the stack', () => {
    expect(describeStartupFailure(new Error('odd\n    at somewhere'))).toBe(
      'Cannot start: odd. Fix: see the line above, or run with LOG_LEVEL=debug for the stack.',
    );
  });
});

describe('integrationNotices', () => {
  const all = {
    nodeEnv: 'development',
    forwardLogUrl: 'http://hr/logs',
    forwardFingerprintUrl: 'http://hr/fp',
    deviceAdmission: 'approve',
    allowListSize: 0,
    adminPasswordIsDefault: false,
    metricsToken: 'x'.repeat(16),
  };

  it('says nothing when every integration is set', () => {
    expect(integrationNotices(all)).toEqual([]);
  });

  it('gives one line per unset integration', () => {
    const notices = integrationNotices({
      ...all,
      forwardLogUrl: undefined,
      forwardFingerprintUrl: undefined,
      deviceAdmission: undefined,
      adminPasswordIsDefault: true,
      metricsToken: undefined,
    });
    expect(notices.map((n) => n.message.split(' ')[0])).toEqual([
      'FORWARD_LOG_URL',
      'FORWARD_FINGERPRINT_URL',
      'Terminal',
      'ADMIN_PASSWORD',
      'METRICS_TOKEN',
    ]);
  });

  it('counts an allow-list as admission control, and leaves the production password rule to auth', () => {
    const notices = integrationNotices({
      ...all,
      deviceAdmission: undefined,
      allowListSize: 2,
      adminPasswordIsDefault: true,
      nodeEnv: 'production',
    });
    expect(notices).toEqual([]);
  });
});
