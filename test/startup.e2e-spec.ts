import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { Child, LogLine, spawnApp } from './support/spawned-app';

const SECRET = 'startup-test-secret-0123456789';
// Each case starts a real process; on a busy machine that takes seconds.
jest.setTimeout(120_000);

/** A port held by another process-like listener, as when a second instance is started by mistake. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

function baseEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    WS_PORT: '0',
    DATA_DIR: dataDir,
    EMBEDDED_DB_IN_MEMORY: 'true',
    JWT_SECRET: SECRET,
    ADMIN_PASSWORD: 'startup-admin-password',
    LOG_FORMAT: 'json',
    SHUTDOWN_DRAIN_DELAY: '0',
    ...extra,
  };
}

/** The failed start's report: exactly one fatal line, naming cause and fix, and no stack trace anywhere. */
async function failedStart(child: Child): Promise<LogLine> {
  const exit = await child.exited;
  expect(exit.code).toBe(1);
  const fatal = child.lines.filter((l) => l.level === 'fatal');
  expect(fatal).toHaveLength(1);
  expect(fatal[0].msg).toMatch(/^Cannot start: .+\. Fix: .+/);
  expect(child.text.join('\n')).not.toMatch(/\n\s+at /);
  return fatal[0];
}

describe('Start-up that speaks (spawned app, e2e)', () => {
  const dirs: string[] = [];
  const children: Child[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'timmy-startup-'));
    dirs.push(dir);
    return dir;
  };
  const start = (env: Record<string, string>) => {
    const child = spawnApp(env);
    children.push(child);
    return child;
  };

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('names a bad variable and its fix in one line, without a stack trace', async () => {
    const fatal = await failedStart(start(baseEnv(dataDir(), { OP_REPLY_TIMEOUT: 'abc' })));
    expect(fatal.msg).toContain('OP_REPLY_TIMEOUT must be a duration');
    expect(fatal.msg).toContain('Fix: correct OP_REPLY_TIMEOUT');
  });

  it('says which port is taken, the gateway’s or the API’s, and which variable moves it', async () => {
    const ws = await holdPort();
    const http = await holdPort();
    try {
      const [gateway, api] = await Promise.all([
        failedStart(start(baseEnv(dataDir(), { WS_PORT: String(ws.port) }))),
        failedStart(start(baseEnv(dataDir(), { PORT: String(http.port) }))),
      ]);
      expect(gateway.msg).toContain(`port ${ws.port} for the terminal gateway is already in use`);
      expect(gateway.msg).toContain('set WS_PORT');
      expect(api.msg).toContain(`port ${http.port} for the HTTP API is already in use`);
      expect(api.msg).toContain('set PORT');
    } finally {
      ws.server.close();
      http.server.close();
    }
  });

  it('says the database is unreachable and how to fix it', async () => {
    const closed = await holdPort();
    closed.server.close();
    const fatal = await failedStart(
      start(
        baseEnv(dataDir(), {
          MONGODB_URI: `mongodb://127.0.0.1:${closed.port}/timmy?serverSelectionTimeoutMS=500`,
          MONGODB_CONNECT_RETRIES: '0',
        }),
      ),
    );
    expect(fatal.msg).toContain('the database is unreachable');
    expect(fatal.msg).toContain('MONGODB_URI');
  });

  describe('a running instance', () => {
    let app: Child;
    let http: string;
    let wsPort: number;
    let dir: string;

    beforeAll(async () => {
      dir = dataDir();
      app = start(
        baseEnv(dir, {
          EMBEDDED_DB_IN_MEMORY: 'false',
          LOG_LEVEL: 'debug',
          SHUTDOWN_DRAIN_DELAY: '1500ms',
        }),
      );
      const ready = await app.waitForLine((l) => typeof l.httpPort === 'number' && typeof l.wsPort === 'number');
      http = `http://127.0.0.1:${ready.httpPort as number}`;
      wsPort = ready.wsPort as number;
    }, 90_000);

    it('refuses a second instance on its data directory in one line', async () => {
      const fatal = await failedStart(start(baseEnv(dir, { EMBEDDED_DB_IN_MEMORY: 'false' })));
      expect(fatal.msg).toContain('data directory');
    });

    it('announces each unset integration once at boot', () => {
      const config = app.lines.filter((l) => l.context === 'Config').map((l) => l.msg);
      expect(config.filter((m) => m.startsWith('FORWARD_LOG_URL is not set'))).toHaveLength(1);
      expect(config.filter((m) => m.startsWith('FORWARD_FINGERPRINT_URL is not set'))).toHaveLength(1);
      expect(config.filter((m) => m.startsWith('Terminal admission is open'))).toHaveLength(1);
      expect(config.filter((m) => m.startsWith('METRICS_TOKEN is not set'))).toHaveLength(1);
      // ADMIN_PASSWORD is set here.
      expect(config.some((m) => m.startsWith('ADMIN_PASSWORD'))).toBe(false);
    });

    it('writes JSON lines with the request id on HTTP lines, sn on gateway lines and opId on queue lines', async () => {
      // Nest's route mapping is debug, never info.
      expect(app.lines.filter((l) => l.context === 'RouterExplorer' && l.level !== 'debug')).toEqual([]);

      const given = await request(http).get('/api/nope').set('X-Request-Id', 'probe-42').expect(404);
      expect(given.headers['x-request-id']).toBe('probe-42');
      const minted = await request(http).get('/api/health/ready').expect(200);
      expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const bogus = await request(http).get('/api/nope').set('X-Request-Id', 'x'.repeat(500)).expect(404);
      expect(bogus.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const line = await app.waitForLine((l) => l.requestId === 'probe-42');
      expect(line).toMatchObject({
        level: 'info',
        req: { method: 'GET', path: '/api/nope' },
        res: { statusCode: 404 },
      });
      expect(JSON.stringify(app.lines)).not.toMatch(/authorization/i);

      const vt = new VirtualTerminal({ sn: 'LOGSN0001', url: `ws://127.0.0.1:${wsPort}/pub/chat` });
      try {
        await vt.connect();
        await vt.punch();
        const login = await request(http)
          .post('/api/auth/login')
          .send({ email: 'admin@timmy.local', password: 'startup-admin-password' })
          .expect(200);
        const res = await request(http)
          .post('/api/device/LOGSN0001/command')
          .set('Authorization', `Bearer ${login.body.token as string}`)
          .send({ cmd: 'gettime', wait: true })
          .expect(200);
        const opId = (res.body.op?._id ?? res.body.opId) as string;
        expect(opId).toMatch(/^[0-9a-f]{24}$/);

        const registered = await app.waitForLine((l) => l.context === 'TerminalRequests' && /registered/.test(l.msg));
        expect(registered).toMatchObject({ sn: 'LOGSN0001', level: 'debug' });
        const queued = await app.waitForLine((l) => l.context === 'OperationDispatcher' && l.opId === opId);
        expect(queued).toMatchObject({ sn: 'LOGSN0001' });
        // Every line the gateway (and its request handling) wrote about this terminal names it in `sn`.
        const gatewayLines = app.lines.filter(
          (l) => (l.context === 'TerminalGateway' || l.context === 'TerminalRequests') && l.msg.startsWith('LOGSN0001'),
        );
        expect(gatewayLines.length).toBeGreaterThan(0);
        expect(gatewayLines.every((l) => l.sn === 'LOGSN0001')).toBe(true);
        // No colour codes in JSON output.
        expect(app.text.join('\n')).not.toContain('\u001b[');
        // The embedded database runs in this process, on disk: its journal is measured.
        const metrics = await request(http).get('/metrics').expect(200);
        expect(metrics.text).toMatch(/^timmy_embedded_journal_fsync_seconds_count [1-9]\d*$/m);
        expect(metrics.text).toMatch(/^timmy_embedded_journal_bytes [1-9]\d*$/m);
      } finally {
        await vt.close();
      }
    });

    it('turns readiness off on SIGTERM while the port still answers, then stops cleanly', async () => {
      await request(http).get('/api/health/ready').expect(200);
      app.kill('SIGTERM');
      const answers = await waitFor(
        async () => {
          const res = await request(http).get('/api/health/ready');
          return res.status === 503 ? res : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 20, message: 'readiness did not turn off' },
      );
      expect(answers.body).toMatchObject({ success: false, status: 'draining' });
      // Still serving while draining: liveness answers.
      await request(http).get('/api/health/live').expect(200);
      const exit = await app.exited;
      expect(exit.code).toBe(0);
      const order = app.lines.map((l) => l.msg);
      const draining = order.findIndex((m) => m.startsWith('SIGTERM received: readiness off'));
      const stopped = order.findIndex((m) => m === 'Terminal gateway stopped');
      expect(draining).toBeGreaterThanOrEqual(0);
      expect(stopped).toBeGreaterThan(draining);
    });
  });
});
