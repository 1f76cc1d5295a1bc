import { Types } from 'mongoose';
import { waitFor } from '@app/testing';
import { FingerprintsService, TerminalPunchInput } from '../src/fingerprints';
import { HrSink } from './forwarding-hr-sink';
import { createTestApp, TestApp } from './support/test-app';

const pad = (n: number) => String(n).padStart(2, '0');
/** Distinct punches: one per second from 08:00:00 on 2025-11-08, terminal wall time. */
function records(count: number, enrollid = 7, offset = 0): TerminalPunchInput[] {
  return Array.from({ length: count }, (_, i) => {
    const s = offset + i;
    const time = `2025-11-08 ${pad(8 + Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
    return { enrollid, time, mode: 8, inout: 0, event: 0, raw: { enrollid, time } };
  });
}

describe('Forwarding outbox (real HR endpoint on 127.0.0.1)', () => {
  const hr = new HrSink();
  let t: TestApp;
  let service: FingerprintsService;

  beforeAll(async () => {
    await hr.start();
    t = await createTestApp({
      env: {
        FORWARD_LOG_URL: hr.url('/api/logs'),
        FORWARD_LOG_TOKEN: 'log-token',
        FORWARD_FINGERPRINT_URL: hr.url('/api/checkinout/save'),
        FORWARD_FINGERPRINT_TOKEN: 'fp-token',
        FORWARD_TIMEOUT: '500ms',
        FORWARD_RETRY_BASE: '100ms',
        FORWARD_RETRY_MAX: '400ms',
        FORWARD_POLL_INTERVAL: '100ms',
        FORWARD_BATCH_SIZE: '100',
      },
    });
    service = t.app.get(FingerprintsService);
  });
  afterAll(async () => {
    await t?.close();
    await hr.stop();
  });
  beforeEach(async () => {
    hr.reset('ok');
    await logs().deleteMany({});
  });

  const logs = () => t.connection.collection('fingerprintlogs');
  const pendingCount = () => logs().countDocuments({ forward_pending: true });
  const allDelivered = async () => (await pendingCount()) === 0;

  it('isolates a record the HR server always refuses, so the other punches of that terminal still arrive', async () => {
    hr.refuse = (record) => Number(record.enrollid) === 666;
    const batch = records(12, 7);
    batch.splice(4, 0, { enrollid: 666, time: '2025-11-08 08:00:04', mode: 8, inout: 1, event: 0, raw: {} });
    await service.storeTerminalPunches({ sn: 'POISON01', timeZone: 'UTC', source: 'sendlog', records: batch });

    await waitFor(async () => (await pendingCount()) === 1, {
      timeoutMs: 20_000,
      message: 'all but the poison delivered',
    });
    const poison = await logs().findOne({ enrollid: '666' });
    expect(poison).toMatchObject({
      forward_pending: true,
      forward_isolated: true,
      is_send: true,
      send_failed: true,
      last_attempt_error: 'Remote server did not confirm receipt',
    });
    const delivered = hr.deliveredRecords();
    expect(delivered).toHaveLength(12);
    expect(new Set(delivered).size).toBe(12);
    expect(delivered.some((r) => r.includes('|666|'))).toBe(false);
    // The punches before the poison were delivered in order, ahead of those after it.
    const times = delivered.map((r) => r.split('|')[2]);
    expect(times).toEqual([...times].sort());

    // Once the HR server accepts it, the isolated punch is delivered too.
    hr.refuse = undefined;
    await waitFor(allDelivered, { timeoutMs: 10_000, message: 'poison delivered after HR accepted it' });
    expect(hr.deliveredRecords().filter((r) => r.includes('|666|'))).toHaveLength(1);
  });

  it('forwards terminal punches in the background with the terminal wall time, token and idempotency key', async () => {
    const res = await service.storeTerminalPunches({
      sn: 'ZXRE06022863',
      timeZone: 'Asia/Baghdad',
      source: 'sendlog',
      records: [
        { enrollid: 2, time: '2025-11-08 09:00:00', event: 0, raw: {} },
        { enrollid: 3, time: '2025-11-8 9:0:5', event: 1, raw: {} },
      ],
    });
    await waitFor(allDelivered, { timeoutMs: 10_000, message: 'punches delivered' });
    expect(hr.requests).toHaveLength(1);
    const [req] = hr.requests;
    expect(req.path).toBe('/api/logs');
    expect(req.headers.authorization).toBe('Bearer log-token');
    expect(req.body).toEqual({
      sn: 'ZXRE06022863',
      record: [
        { enrollid: 2, time: '2025-11-08T09:00:00', event: 0 },
        { enrollid: 3, time: '2025-11-08T09:00:05', event: 1 },
      ],
    });
    const key = req.headers['idempotency-key'];
    expect(key).toMatch(/^[0-9a-f]{40}$/);
    const docs = await logs()
      .find({ _id: { $in: res.ids.map((id) => new Types.ObjectId(id)) } })
      .toArray();
    for (const doc of docs) {
      expect(doc).toMatchObject({ is_send: true, send_failed: false, forward_attempts: 1, claim_token: null });
      expect(doc.forwardedAt).toBeInstanceOf(Date);
      expect(doc.forwardResponse).toEqual({ success: true, forwarded: true });
    }
  });

  it('keeps punches while HR is down, counting attempts, and delivers them once HR is back, without duplicates', async () => {
    hr.mode = 'drop';
    await service.storeTerminalPunches({ sn: 'T-DOWN', timeZone: 'UTC', source: 'sendlog', records: records(30) });
    await waitFor(
      async () => (await logs().countDocuments({ device_sn: 'T-DOWN', forward_attempts: { $gte: 2 } })) === 30,
      {
        message: 'two failed attempts',
      },
    );
    const failed = await logs().findOne({ device_sn: 'T-DOWN' });
    expect(failed).toMatchObject({ is_send: true, send_failed: true, forward_pending: true, forwardedAt: null });
    expect(failed!.last_attempt_error).toEqual(expect.any(String));
    expect(failed!.last_attempt_error.length).toBeGreaterThan(0);
    expect(failed!.next_attempt_at).toBeInstanceOf(Date);

    hr.mode = 'ok';
    await waitFor(allDelivered, { timeoutMs: 10_000, message: 'delivered after recovery' });
    const delivered = hr.deliveredRecords();
    expect(delivered).toHaveLength(30);
    expect(new Set(delivered).size).toBe(30);
    const after = await logs().findOne({ device_sn: 'T-DOWN' });
    expect(after).toMatchObject({ is_send: true, send_failed: false, last_attempt_error: null });
    // Every attempt reused the key of the same batch of records.
    const keys = new Set(hr.requests.map((r) => r.headers['idempotency-key']));
    expect(keys.size).toBe(1);
  });

  it.each([
    ['a 200 answer that does not confirm', 'unconfirmed' as const, 'Remote server did not confirm receipt'],
    ['a 500 answer', 'error' as const, 'Remote server did not confirm receipt'],
    ['no answer within the timeout', 'hang' as const, 'timeout of 500ms exceeded'],
  ])('records %s as a failure and retries until confirmed', async (_name, mode, error) => {
    hr.mode = mode;
    const { ids } = await service.storeTerminalPunches({
      sn: `T-${mode}`,
      timeZone: 'UTC',
      source: 'sendlog',
      records: records(3),
    });
    const first = await waitFor(
      async () => {
        const doc = await logs().findOne({ _id: new Types.ObjectId(ids[0]) });
        return doc && doc.send_failed === true ? doc : null;
      },
      { message: 'first failure recorded' },
    );
    expect(first).toMatchObject({ is_send: true, send_failed: true, forward_pending: true, last_attempt_error: error });
    hr.mode = 'ok';
    await waitFor(allDelivered, { timeoutMs: 10_000, message: 'delivered after recovery' });
    expect(hr.deliveredRecords()).toHaveLength(3);
    const doc = await logs().findOne({ _id: new Types.ObjectId(ids[2]) });
    expect(doc).toMatchObject({ send_failed: false, last_attempt_error: null });
    expect(doc!.forward_attempts).toBeGreaterThanOrEqual(2);
  });

  it('delivers a burst of 5,000 terminal records in batches, in order per terminal, none lost or duplicated', async () => {
    const sns = ['BURST-A', 'BURST-B'];
    const expected = new Set<string>();
    const perTerminal = 2_500;
    const frame = 50;
    for (const sn of sns) {
      for (let offset = 0; offset < perTerminal; offset += frame) {
        const recs = records(frame, 11, offset);
        const res = await service.storeTerminalPunches({ sn, timeZone: 'UTC', source: 'sendlog', records: recs });
        expect(res.stored).toBe(frame);
        for (const r of recs) expected.add(`${sn}|11|${r.time.replace(' ', 'T')}|0`);
      }
    }
    // A resent frame adds nothing.
    const again = await service.storeTerminalPunches({
      sn: 'BURST-A',
      timeZone: 'UTC',
      source: 'getnewlog',
      records: records(frame, 11, 0),
    });
    expect(again).toMatchObject({ stored: 0, duplicates: frame });
    expect(await logs().countDocuments({})).toBe(5_000);

    await waitFor(allDelivered, { timeoutMs: 50_000, intervalMs: 100, message: '5,000 punches delivered' });
    const delivered = hr.deliveredRecords();
    expect(delivered).toHaveLength(5_000);
    expect(new Set(delivered)).toEqual(expected);
    for (const req of hr.requests) expect(req.body.record.length).toBeLessThanOrEqual(100);
    expect(hr.requests.length).toBeLessThan(5_000 / 10);
    const keys = hr.requests.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(keys.length);
    for (const sn of sns) {
      const times = hr.requests.filter((r) => r.body.sn === sn).flatMap((r) => r.body.record.map((rec) => rec.time));
      expect(times).toEqual([...times].sort());
    }
  }, 120_000);

  it('forwardNow makes one attempt at once and reports whether HR confirmed', async () => {
    const stored = await service.storeTerminalPunches({
      sn: 'DL-1',
      timeZone: 'UTC',
      source: 'device-log',
      records: [{ enrollid: 2, time: '2025-11-08T09:00:00', raw: {} }],
    });
    await expect(service.forwardNow(stored.ids)).resolves.toEqual({ forwarded: true });
    expect(hr.requests).toHaveLength(1);
    expect(hr.requests[0].body).toEqual({
      sn: 'DL-1',
      record: [{ enrollid: 2, time: '2025-11-08T09:00:00', event: 0 }],
    });
    // Already delivered: nothing is sent again.
    await expect(service.forwardNow(stored.ids)).resolves.toEqual({ forwarded: true });
    expect(hr.requests).toHaveLength(1);

    hr.mode = 'unconfirmed';
    const other = await service.storeTerminalPunches({
      sn: 'DL-1',
      timeZone: 'UTC',
      source: 'device-log',
      records: [{ enrollid: 3, time: '2025-11-08T09:01:00', raw: {} }],
    });
    await expect(service.forwardNow(other.ids)).resolves.toEqual({ forwarded: false });
    hr.mode = 'ok';
    await waitFor(allDelivered, { message: 'outbox took over' });
    expect(hr.deliveredRecords()).toEqual(['DL-1|2|2025-11-08T09:00:00|0', 'DL-1|3|2025-11-08T09:01:00|0']);
  });

  it("takes over punches whose claim's lease ran out (a crashed instance) but not live claims", async () => {
    hr.mode = 'ok';
    const now = Date.now();
    const base = {
      event: 0,
      device_type: 'terminal',
      device_name: null,
      source: 'sendlog',
      is_send: false,
      send_failed: false,
      forward_pending: true,
      forward_attempts: 0,
      next_attempt_at: new Date(now - 1_000),
    };
    const dead = new Types.ObjectId();
    const live = new Types.ObjectId();
    await logs().insertMany([
      {
        ...base,
        _id: dead,
        enrollid: '1',
        time: new Date('2025-11-08T09:00:00Z'),
        local_time: '2025-11-08T09:00:00',
        device_sn: 'CRASH-1',
        dedupe_key: 'test-dead',
        claim_token: 'instance-that-died',
        lease_until: new Date(now - 1),
      },
      {
        ...base,
        _id: live,
        enrollid: '1',
        time: new Date('2025-11-08T09:00:00Z'),
        local_time: '2025-11-08T09:00:00',
        device_sn: 'BUSY-1',
        dedupe_key: 'test-live',
        claim_token: 'instance-still-working',
        lease_until: new Date(now + 3_600_000),
      },
    ]);
    await waitFor(async () => (await logs().findOne({ _id: dead }))?.forward_pending === false, {
      message: 'expired claim taken over',
    });
    expect(hr.requests.map((r) => r.body.sn)).toEqual(['CRASH-1']);
    // The live claim's owner reports a failure late: it is its own claim, so it may.
    const liveDoc = await logs().findOne({ _id: live });
    expect(liveDoc).toMatchObject({ forward_pending: true, claim_token: 'instance-still-working', is_send: false });
  });
});
