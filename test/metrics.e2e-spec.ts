import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { HrSink } from './forwarding-hr-sink';
import { createTestApp, TestApp } from './support/test-app';

/** The value of one sample of the exposition text; 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const m of (match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[m[1]] = m[2];
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[4]);
  }
  return 0;
}

const FAMILIES = [
  'timmy_terminal_sockets',
  'timmy_terminals_online',
  'timmy_terminal_connections',
  'timmy_punch_frames_waiting',
  'timmy_terminal_frames_received_total',
  'timmy_terminal_frames_sent_total',
  'timmy_punches_total',
  'timmy_terminal_ack_seconds',
  'timmy_operations',
  'timmy_operations_finished_total',
  'timmy_operation_queue_depth',
  'timmy_operation_queue_oldest_pending_seconds',
  'timmy_operation_dispatch_seconds',
  'timmy_forward_backlog',
  'timmy_forward_backlog_oldest_seconds',
  'timmy_forward_attempts_total',
  'timmy_http_request_duration_seconds',
  'nodejs_eventloop_lag_seconds',
  'timmy_embedded_journal_fsync_seconds',
  'timmy_embedded_journal_bytes',
];

describe('GET /metrics (e2e)', () => {
  let t: TestApp;
  const hr = new HrSink();
  const terminals: VirtualTerminal[] = [];

  beforeAll(async () => {
    await hr.start();
    t = await createTestApp({ env: { FORWARD_LOG_URL: hr.url('/api/logs'), METRICS_DB_REFRESH: '1s' } });
  });

  afterAll(async () => {
    await Promise.all(terminals.map((vt) => vt.close()));
    await t?.close();
    await hr.stop();
  });

  const scrape = async () => {
    const res = await request(t.httpServer).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
    return res.text;
  };

  it('is served outside /api, without a token when METRICS_TOKEN is unset, with every family', async () => {
    const text = await scrape();
    for (const family of FAMILIES) expect(text).toContain(`# TYPE ${family} `);
    await request(t.httpServer).get('/api/metrics').expect(404);
  });

  it('moves when a terminal punches, a punch is resent, a command runs and the HR server confirms', async () => {
    const before = await scrape();
    const vt = new VirtualTerminal({ sn: 'METRICS001', url: `${t.wsUrl}/pub/chat` });
    terminals.push(vt);
    await vt.connect();
    const records = [
      { enrollid: 7, time: '2025-03-01 08:00:00', inout: 0, event: 0, mode: 1 },
      { enrollid: 8, time: '2025-03-01 08:01:00', inout: 0, event: 0, mode: 1 },
    ];
    await vt.sendLogs(records);
    await vt.sendLogs([records[0]]);
    const token = await t.adminToken();
    await request(t.httpServer)
      .post('/api/device/METRICS001/command')
      .set('Authorization', `Bearer ${token}`)
      .send({ cmd: 'gettime', wait: true })
      .expect(200);
    await waitFor(() => hr.deliveredRecords().length >= 2, { message: 'punches not forwarded' });

    const after = await waitFor(
      async () => {
        const text = await scrape();
        // The database gauges refresh at most every METRICS_DB_REFRESH (1 s here).
        return sample(text, 'timmy_operations', { status: 'success', type: 'gettime' }) >= 1 ? text : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250, message: 'operations gauge did not move' },
    );
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);

    expect(delta('timmy_punches_total', { source: 'sendlog', outcome: 'stored' })).toBe(2);
    expect(delta('timmy_punches_total', { source: 'sendlog', outcome: 'duplicate' })).toBe(1);
    expect(delta('timmy_terminal_frames_received_total', { cmd: 'sendlog' })).toBe(2);
    expect(delta('timmy_terminal_frames_received_total', { cmd: 'reg' })).toBeGreaterThanOrEqual(1);
    expect(delta('timmy_terminal_frames_sent_total', { cmd: 'gettime' })).toBe(1);
    expect(delta('timmy_terminal_frames_received_total', { cmd: 'gettime' })).toBe(1);
    expect(delta('timmy_terminal_ack_seconds_count', { cmd: 'sendlog' })).toBe(2);
    expect(delta('timmy_operation_dispatch_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(delta('timmy_operations_finished_total', { type: 'gettime', status: 'success' })).toBe(1);
    expect(delta('timmy_forward_attempts_total', { target: 'log', outcome: 'delivered' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'timmy_terminals_online')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'timmy_terminal_sockets')).toBeGreaterThanOrEqual(1);
    expect(delta('timmy_terminal_connections', { state: 'accepted' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'timmy_terminal_connections', { state: 'shed' })).toBe(0);
    expect(
      delta('timmy_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/device/:sn/command',
        status: '200',
      }),
    ).toBe(1);
  });

  it('never turns what a terminal sends into a new label', async () => {
    const vt = new VirtualTerminal({ sn: 'METRICS002', url: `${t.wsUrl}/pub/chat` });
    terminals.push(vt);
    await vt.connect();
    const before = await scrape();
    vt.sendRaw(JSON.stringify({ cmd: 'made-up-command-1234', sn: 'METRICS002' }));
    const after = await waitFor(
      async () => {
        const text = await scrape();
        return sample(text, 'timmy_terminal_frames_received_total', { cmd: 'other' }) >
          sample(before, 'timmy_terminal_frames_received_total', { cmd: 'other' })
          ? text
          : undefined;
      },
      { message: 'unknown cmd not counted as other' },
    );
    expect(after).not.toContain('made-up-command-1234');
  });
});

describe('GET /metrics with METRICS_TOKEN, and the forwarding backlog in /api/health (e2e)', () => {
  let t: TestApp;
  const TOKEN = 'metrics-token-0123456789';

  beforeAll(async () => {
    // No FORWARD_LOG_URL: punches stay in the outbox.
    t = await createTestApp({ env: { METRICS_TOKEN: TOKEN, HEALTH_FORWARD_BACKLOG_MAX_AGE: '1s' } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses a scrape without the token, or with another one', async () => {
    const none = await request(t.httpServer).get('/metrics').expect(401);
    expect(none.body).toMatchObject({ success: false, error: 'unauthorized' });
    await request(t.httpServer).get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789').expect(401);
    await request(t.httpServer).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
  });

  it('answers live and ready, and says degraded (still 200) once the oldest unforwarded punch is too old', async () => {
    await request(t.httpServer).get('/api/health/live').expect(200, { success: true, status: 'live' });
    const ready = await request(t.httpServer).get('/api/health/ready').expect(200);
    expect(ready.body).toMatchObject({ success: true, status: 'ok', checks: { database: 'up', gateway: 'up' } });
    const fresh = await request(t.httpServer).get('/api/health').expect(200);
    expect(fresh.body).toMatchObject({
      status: 'ok',
      forwarding: { backlog: 0, oldestAgeSeconds: 0, maxAgeSeconds: 1 },
    });

    const vt = new VirtualTerminal({ sn: 'BACKLOG01', url: `${t.wsUrl}/pub/chat` });
    try {
      await vt.connect();
      await vt.punch();
    } finally {
      await vt.close();
    }
    const degraded = await waitFor(
      async () => {
        const res = await request(t.httpServer).get('/api/health');
        return res.body.status === 'degraded' ? res : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, message: 'health did not report the stale backlog' },
    );
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({
      success: true,
      checks: { database: 'up', gateway: 'up', forwarding: 'behind' },
      forwarding: { backlog: 1, maxAgeSeconds: 1 },
    });
    expect(degraded.body.forwarding.oldestAgeSeconds).toBeGreaterThanOrEqual(1);
    // Readiness is about this instance, not the HR server.
    await request(t.httpServer).get('/api/health/ready').expect(200);
  });
});
