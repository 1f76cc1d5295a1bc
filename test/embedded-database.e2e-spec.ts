import { promises as fsp, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { MongoClient } from 'mongodb';
import { VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { embeddedDatabase, embeddedDatabaseMemory, stopEmbeddedDatabase } from '../src/database/embedded-database';
import { PunchRetentionService } from '../src/fingerprints/punch-retention.service';
import { createTestApp, TestApp } from './support/test-app';

/** TCP ports this process listens on (Linux: its socket inodes matched against /proc/net/tcp{,6}). */
function ownListeningTcpPorts(): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // The descriptor closed meanwhile.
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      if (inodes.has(cols[9])) ports.add(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

const describeLinux = process.platform === 'linux' ? describe : describe.skip;

describeLinux('Embedded database in the app (e2e)', () => {
  let t: TestApp;
  let dataDir: string;
  let portsBefore: number[];
  const sims: VirtualTerminal[] = [];

  beforeAll(async () => {
    // Ports this process listened on before the app (the harness's database, earlier test files).
    portsBefore = ownListeningTcpPorts();
    // MONGODB_URI empty: the app starts its own embedded database, as on a fresh install.
    t = await createTestApp({ env: { MONGODB_URI: '', DEVICE_DEFAULT_TIMEZONE: 'UTC' } });
    dataDir = t.env.DATA_DIR;
  });

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()));
    await t?.close();
    await stopEmbeddedDatabase();
    await fsp.rm(dataDir, { recursive: true, force: true });
  });

  it('is private: a Unix socket inside DATA_DIR (mode 0700), and no TCP port', async () => {
    const db = embeddedDatabase()!;
    const socket = path.join(dataDir, 'db', 'mongod.sock');
    expect(db.socketPath).toBe(socket);
    expect(db.tcpUri).toBeUndefined();
    expect((await fsp.stat(socket)).isSocket()).toBe(true);
    expect((await fsp.stat(path.join(dataDir, 'db'))).mode & 0o777).toBe(0o700);
    // Mongoose talks to it through the socket.
    expect(t.connection.getClient().options.hosts.map((h) => h.socketPath)).toEqual([socket]);
    // The app opened exactly two TCP ports: the HTTP API and the terminal gateway.
    const httpPort = (t.httpServer.address() as { port: number }).port;
    const wsPort = Number(new URL(t.wsUrl).port);
    const opened = ownListeningTcpPorts().filter((p) => !portsBefore.includes(p));
    expect(opened).toEqual([httpPort, wsPort].sort((a, b) => a - b));
    // The owner of the directory can still reach it with the plain driver, through the socket.
    const client = await MongoClient.connect(db.uri);
    expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    await client.close();
  });

  it('past 95% of its memory budget refuses writes (HTTP 507 storage_full, no sendlog ack), keeps reads, and accepts writes again once the budget is raised', async () => {
    const token = await t.adminToken();
    const auth = { Authorization: `Bearer ${token}` };
    const sim = new VirtualTerminal({
      sn: 'BUDGET-1',
      url: `${t.wsUrl}/pub/chat`,
      users: 2,
      resendUnackedAfterMs: 300,
    });
    sim.on('warning', () => undefined);
    sims.push(sim);
    await sim.connect();
    await expect(sim.sendLogs([{ enrollid: 1, inout: 0 }])).resolves.toMatchObject({ result: true });

    const db = embeddedDatabase()!;
    const original = db.budget.limitBytes;
    // A budget far below what the process holds: the database is "full".
    db.budget.setLimit(1048576);
    expect(embeddedDatabaseMemory()).toMatchObject({ state: 'full', degraded: true });

    const created = await request(t.httpServer)
      .post('/api/employees')
      .set(auth)
      .send({ enroll_id: '501', username: 'full-budget', password: 'strongPassword', fullName: 'Budget' });
    expect(created.status).toBe(507);
    expect(created.body).toEqual({
      success: false,
      error: 'storage_full',
      message: expect.stringMatching(/budget is exhausted.*Reads still work/),
    });
    // Reads keep working.
    const list = await request(t.httpServer).get('/api/employees').set(auth);
    expect(list.status).toBe(200);
    // The operator sees why: health is degraded with the figures, and the metric says the same.
    const health = await request(t.httpServer).get('/api/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'degraded',
      checks: { embeddedDatabaseMemory: 'full' },
      embeddedDatabase: { state: 'full', limitMB: 1 },
    });
    const metrics = await request(t.httpServer).get('/metrics');
    expect(metrics.text).toMatch(/^timmy_embedded_memory_ratio \d+(\.\d+)?(e\+\d+)?$/m);
    expect(metrics.text).toMatch(/^timmy_embedded_memory_bytes\{kind="limit"\} 1048576$/m);

    // A terminal's punches are not acknowledged (result:false): it keeps them and resends.
    const ackedBefore = sim.stats.logsAcked;
    const framesBefore = sim.stats.logFramesSent;
    await expect(sim.sendLogs([{ enrollid: 2, inout: 1 }])).resolves.toMatchObject({ result: false });
    await waitFor(() => sim.stats.logFramesSent >= framesBefore + 3, { timeoutMs: 10_000 });
    expect(sim.stats.logsAcked).toBe(ackedBefore);
    expect(sim.unackedFrames).toBe(1);

    // The operator raises the budget: the resent frame is acknowledged and HTTP writes succeed.
    db.budget.setLimit(original);
    expect(embeddedDatabaseMemory()?.state).not.toBe('full');
    await waitFor(() => sim.unackedFrames === 0, { timeoutMs: 10_000 });
    expect(sim.stats.logsAcked).toBe(ackedBefore + 1);
    const again = await request(t.httpServer)
      .post('/api/employees')
      .set(auth)
      .send({ enroll_id: '502', username: 'after-budget', password: 'strongPassword', fullName: 'Budget' });
    expect(again.status).toBe(201);
    const stored = await t.connection.collection('fingerprintlogs').countDocuments({ device_sn: 'BUDGET-1' });
    expect(stored).toBe(2);
  });
});

describe('PUNCH_RETENTION_DAYS (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { PUNCH_RETENTION_DAYS: '30' } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('removes delivered punches older than the retention, never undelivered or recent ones', async () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const day = 86_400_000;
    const punch = (key: string, ageDays: number, delivered: boolean, type = 'terminal'): Record<string, unknown> => ({
      dedupe_key: key,
      device_type: type,
      device_sn: 'RET-1',
      enrollid: '7',
      time: new Date(now.getTime() - ageDays * day),
      is_send: delivered,
      send_failed: false,
      forward_pending: !delivered,
    });
    const retention = t.app.get(PunchRetentionService);
    // The sweep the app runs at start (on an empty database) is over before the data goes in.
    await retention.sweep();
    const logs = t.connection.collection('fingerprintlogs');
    await logs.insertMany([
      ...Array.from({ length: 1500 }, (_, i) => punch(`old-sent-${i}`, 31 + (i % 300), true)),
      punch('old-sent-app', 40, true, 'mobile_app'),
      punch('old-unsent', 400, false),
      { ...punch('old-failed', 400, true), send_failed: true },
      punch('recent-sent', 29, true),
    ]);
    const removed = await retention.sweep(now);
    expect(removed).toBe(1501);
    const left = (await logs.find({}, { projection: { dedupe_key: 1 } }).toArray()).map((d) => d.dedupe_key as string);
    expect(left.sort()).toEqual(['old-failed', 'old-unsent', 'recent-sent']);
  });
});
