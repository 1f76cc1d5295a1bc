import { Types } from 'mongoose';
import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { FingerprintsService } from '../src/fingerprints';
import { ForwardOutboxService } from '../src/fingerprints/forward-outbox.service';
import { HrSink } from './forwarding-hr-sink';
import { createTestApp, TestApp } from './support/test-app';

const pad = (n: number) => String(n).padStart(2, '0');
/** A distinct wall time per call: one second apart from 2025-11-08 07:00:00. */
const timeOf = (n: number) =>
  `2025-11-08T${pad(7 + Math.floor(n / 3600))}:${pad(Math.floor(n / 60) % 60)}:${pad(n % 60)}`;

/**
 * Issue 19: the inline attempt of POST /api/device-log finds its punches already claimed by the
 * outbox (this instance's or another instance's). It must answer with that attempt's outcome.
 */
describe('POST /api/device-log when another attempt holds the punches (e2e, real HR endpoint)', () => {
  const hr = new HrSink();
  let a: TestApp;
  let b: TestApp;
  let seq = 0;

  beforeAll(async () => {
    await hr.start();
    const env = {
      FORWARD_LOG_URL: hr.url('/api/logs'),
      FORWARD_TIMEOUT: '2s',
      // A failed attempt is not retried during the few hundred ms a forced race below lasts.
      FORWARD_RETRY_BASE: '2s',
      FORWARD_RETRY_MAX: '2s',
      // The forced races below trigger the outboxes themselves; the poll stays out of the way.
      FORWARD_POLL_INTERVAL: '5s',
      // Who may post is tested in security-edge.e2e-spec.ts; here any serial may.
      DEVICE_LOG_ALLOW_UNKNOWN: 'true',
    };
    a = await createTestApp({ env });
    // A second instance on the same database: its outbox is "another instance".
    b = await createTestApp({ env: { ...env, MONGODB_URI: a.env.MONGODB_URI } });
  });
  afterAll(async () => {
    await b?.close({ keepDatabase: true });
    await a?.close();
    await hr.stop();
  });
  beforeEach(() => {
    hr.reset('ok');
    jest.restoreAllMocks();
  });

  const logs = () => a.connection.collection('fingerprintlogs');
  const post = (sn: string, n: number) =>
    request(a.httpServer)
      .post('/api/device-log')
      .send({ sn, record: [{ enrollid: 5, time: timeOf(n) }] });

  /**
   * Makes the race happen every time: after the route stored its punches and before its inline
   * attempt, `claimer`'s outbox runs and claims them (its request is still in flight, the HR
   * server answering after `hr.delayMs`).
   */
  function forceOutboxFirst(claimer: TestApp): { raced: () => number } {
    const fingerprints = a.app.get(FingerprintsService);
    const outbox = claimer.app.get(ForwardOutboxService);
    const forwardNow = fingerprints.forwardNow.bind(fingerprints);
    let raced = 0;
    jest.spyOn(fingerprints, 'forwardNow').mockImplementation(async (ids: string[]) => {
      void outbox.drain();
      await waitFor(
        async () => {
          const docs = await logs()
            .find({ _id: { $in: ids.map((id) => new Types.ObjectId(id)) } })
            .toArray();
          return docs.length === ids.length && docs.every((d) => d.claim_token && d.lease_until > new Date());
        },
        { timeoutMs: 5_000, intervalMs: 2, message: 'the outbox claimed the punches first' },
      );
      raced++;
      return forwardNow(ids);
    });
    return { raced: () => raced };
  }

  it('answers forwarded:true from the outbox attempt of the same instance that confirmed, 25 times running', async () => {
    hr.delayMs = 60;
    const race = forceOutboxFirst(a);
    for (let i = 0; i < 25; i++) {
      const n = seq++;
      const res = await post('RACE-SAME', n);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, forwarded: true, retryLater: false });
      // Delivered once, by the outbox: the inline attempt did not send it again.
      expect(hr.committedRecords().filter((r) => r === `RACE-SAME|5|${timeOf(n)}|0`)).toHaveLength(1);
    }
    expect(race.raced()).toBe(25);
    expect(hr.requests).toHaveLength(25);
  }, 60_000);

  it('answers from an attempt of another instance on the same database, 15 times running', async () => {
    hr.delayMs = 60;
    const race = forceOutboxFirst(b);
    for (let i = 0; i < 15; i++) {
      const n = seq++;
      const res = await post('RACE-OTHER', n);
      expect(res.body).toEqual({ success: true, forwarded: true, retryLater: false });
    }
    expect(race.raced()).toBe(15);
    expect(hr.committedRecords()).toHaveLength(15);
    expect(await logs().countDocuments({ device_sn: 'RACE-OTHER', forward_pending: true })).toBe(0);
  }, 60_000);

  it('answers retryLater when the attempt holding the punches failed, 10 times running', async () => {
    // Long enough that the outbox's attempt is still in flight when the inline one starts, even on a
    // busy machine (had it already failed, the inline attempt would rightly try once more itself).
    hr.delayMs = 400;
    hr.mode = 'error';
    const race = forceOutboxFirst(a);
    for (let i = 0; i < 10; i++) {
      const res = await post(`RACE-FAIL-${i}`, seq++);
      expect(res.body).toEqual({ success: true, forwarded: false, retryLater: true });
      // The answer came from the outbox's failed attempt, not from a second request of its own.
      expect(hr.requests.filter((r) => r.body.sn === `RACE-FAIL-${i}`)).toHaveLength(1);
    }
    expect(race.raced()).toBe(10);
    jest.restoreAllMocks();
    hr.reset('ok');
    a.app.get(ForwardOutboxService).wake();
    await waitFor(async () => (await logs().countDocuments({ forward_pending: true })) === 0, {
      timeoutMs: 20_000,
      message: 'the outbox delivered them afterwards',
    });
  }, 60_000);

  it('answers forwarded:true to 200 consecutive calls while virtual terminals punch', async () => {
    const terminals = Array.from(
      { length: 4 },
      (_, i) => new VirtualTerminal({ sn: `RACE-VT-${i}`, url: `${a.wsUrl}/pub/chat`, users: 5 }),
    );
    await Promise.all(terminals.map((t) => t.connect()));
    let punching = true;
    const pumps = terminals.map(async (t) => {
      while (punching) await t.punch();
    });
    try {
      const answers: unknown[] = [];
      for (let i = 0; i < 200; i++) {
        const res = await post('RACE-LOAD', seq++);
        answers.push(res.body);
      }
      expect(
        answers.filter(
          (x) => JSON.stringify(x) !== JSON.stringify({ success: true, forwarded: true, retryLater: false }),
        ),
      ).toEqual([]);
    } finally {
      punching = false;
      await Promise.all(pumps);
      await Promise.all(terminals.map((t) => t.close()));
    }
    await waitFor(async () => (await logs().countDocuments({ forward_pending: true })) === 0, {
      message: 'terminal punches delivered too',
    });
    expect(await logs().countDocuments({ device_sn: /^RACE-VT-/ })).toBeGreaterThan(0);
    // (Terminal punches of one user in the same second differ only in inout, which HR does not get.)
    const loadKeys = [...hr.keysByRecord()].filter(([record]) => record.startsWith('RACE-LOAD|'));
    expect(loadKeys).toHaveLength(200);
    for (const [record, keys] of loadKeys) expect([record, keys.size]).toEqual([record, 1]);
  }, 120_000);
});
