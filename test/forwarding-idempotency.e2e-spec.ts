import { waitFor } from '@app/testing';
import { FingerprintsService, TerminalPunchInput } from '../src/fingerprints';
import { FingerPrintLogRepository } from '../src/fingerprints/fingerprint-log.repository';
import { HrRequest, HrSink } from './forwarding-hr-sink';
import { createTestApp, TestApp } from './support/test-app';

const pad = (n: number) => String(n).padStart(2, '0');
function records(count: number, enrollid: number, offset = 0): TerminalPunchInput[] {
  return Array.from({ length: count }, (_, i) => {
    const s = offset + i;
    const time = `2025-11-08 ${pad(8 + Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
    return { enrollid, time, mode: 8, inout: 0, event: 0, raw: { enrollid, time } };
  });
}

const recordsOf = (r: HrRequest) => r.body.record.map((rec) => `${r.body.sn}|${rec.enrollid}|${rec.time}|${rec.event}`);

/** Every record under exactly one key, and every key always with exactly the same records. */
function expectOneKeyPerRecord(hr: HrSink): void {
  for (const [record, keys] of hr.keysByRecord()) expect([record, [...keys]]).toEqual([record, [expect.any(String)]]);
  const byKey = new Map<string, string>();
  for (const r of hr.requests) {
    const key = String(r.headers['idempotency-key']);
    const set = JSON.stringify(recordsOf(r).sort());
    expect([key, byKey.get(key) ?? set]).toEqual([key, set]);
    byKey.set(key, set);
  }
}

/**
 * Issue 20: a batch whose outcome is unknown (timeout, killed instance) is sent again with exactly
 * the same records under the same Idempotency-Key, never folded into a new batch.
 */
describe('Forwarding: one Idempotency-Key per set of records (e2e, real HR endpoint)', () => {
  const hr = new HrSink();
  beforeAll(async () => {
    await hr.start();
  });
  afterAll(async () => {
    await hr.stop();
  });
  beforeEach(() => hr.reset('ok'));

  const env = () => ({
    FORWARD_LOG_URL: hr.url('/api/logs'),
    FORWARD_TIMEOUT: '300ms',
    FORWARD_CLAIM_LEASE: '1s',
    FORWARD_RETRY_BASE: '100ms',
    FORWARD_RETRY_MAX: '300ms',
    FORWARD_POLL_INTERVAL: '100ms',
    FORWARD_BATCH_SIZE: '100',
  });

  it('an HR server that commits after the timeout gets the same records under the same key again, not re-batched', async () => {
    const t = await createTestApp({ env: env() });
    try {
      const logs = t.connection.collection('fingerprintlogs');
      const service = t.app.get(FingerprintsService);
      hr.delayMs = 700; // commits and answers after FORWARD_TIMEOUT: the product sees a timeout
      await service.storeTerminalPunches({ sn: 'SLOW-1', timeZone: 'UTC', source: 'sendlog', records: records(10, 7) });
      await waitFor(async () => (await logs.countDocuments({ device_sn: 'SLOW-1', send_failed: true })) === 10, {
        message: 'the first attempt timed out',
      });
      // More punches of the same terminal arrive while the outcome of the first batch is unknown.
      await service.storeTerminalPunches({
        sn: 'SLOW-1',
        timeZone: 'UTC',
        source: 'sendlog',
        records: records(50, 7, 10),
      });
      await waitFor(() => hr.committedRecords().length >= 10, { message: 'the late commit' });
      hr.delayMs = 0;
      await waitFor(async () => (await logs.countDocuments({ forward_pending: true })) === 0, {
        timeoutMs: 20_000,
        message: 'all delivered',
      });
      expect(new Set(hr.committedRecords()).size).toBe(60);
      expectOneKeyPerRecord(hr);
      // The first 10 went at least twice (late commit, then the retry), each time alone.
      const first = hr.requests.filter((r) => r.body.record.some((rec) => rec.time === '2025-11-08T08:00:00'));
      expect(first.length).toBeGreaterThanOrEqual(2);
      for (const r of first) expect(r.body.record).toHaveLength(10);
    } finally {
      await t.close();
    }
  }, 60_000);

  it('an instance killed right after the HR server committed: the next instance resends that batch under its key', async () => {
    const a = await createTestApp({ env: env() });
    const uri = a.env.MONGODB_URI;
    let b: TestApp | undefined;
    try {
      const repoA = a.app.get(FingerPrintLogRepository);
      // The HR server commits and the answer never arrives: A "dies" before it writes anything.
      hr.mode = 'commit-hang';
      let killed!: Promise<void>;
      hr.onCommit = () => {
        hr.onCommit = undefined;
        const dead = () => Promise.reject(new Error('instance killed'));
        jest.spyOn(repoA, 'recordResults').mockImplementation(dead);
        jest.spyOn(repoA, 'recordResultOf').mockImplementation(dead);
        jest.spyOn(repoA, 'claim').mockImplementation(dead);
        jest.spyOn(repoA, 'claimBatch').mockImplementation(dead);
        killed = a.close({ keepDatabase: true });
      };
      await a.app
        .get(FingerprintsService)
        .storeTerminalPunches({ sn: 'KILL-1', timeZone: 'UTC', source: 'sendlog', records: records(40, 9) });
      await waitFor(() => hr.onCommit === undefined, { message: 'the HR server committed' });
      await killed;
      expect(hr.committedRecords().filter((r) => r.startsWith('KILL-1|'))).toHaveLength(40);

      hr.mode = 'ok';
      b = await createTestApp({ env: { ...env(), MONGODB_URI: uri } });
      // New punches of the same terminal, stored by the new instance before it takes the old batch over.
      await b.app
        .get(FingerprintsService)
        .storeTerminalPunches({ sn: 'KILL-1', timeZone: 'UTC', source: 'sendlog', records: records(30, 9, 40) });
      const logs = b.connection.collection('fingerprintlogs');
      await waitFor(async () => (await logs.countDocuments({ forward_pending: true })) === 0, {
        timeoutMs: 20_000,
        message: 'all delivered by the new instance',
      });
      expect(new Set(hr.committedRecords().filter((r) => r.startsWith('KILL-1|'))).size).toBe(70);
      expectOneKeyPerRecord(hr);
      // The first request for this terminal (a late request of the previous case may come first).
      const firstKey = hr.requests.find((r) => r.body.sn === 'KILL-1')!.headers['idempotency-key'];
      const again = hr.requests.filter((r) => r.headers['idempotency-key'] === firstKey);
      expect(again.length).toBe(2);
      expect(recordsOf(again[1])).toEqual(recordsOf(again[0]));
    } finally {
      jest.restoreAllMocks();
      await b?.close();
    }
  }, 60_000);

  it('a definite refusal splits the batch, and only then do its parts get new keys', async () => {
    const t = await createTestApp({ env: env() });
    try {
      const logs = t.connection.collection('fingerprintlogs');
      hr.refuse = (rec) => Number(rec.enrollid) === 666;
      const batch = records(7, 3);
      batch.splice(3, 0, { enrollid: 666, time: '2025-11-08 08:00:03', mode: 8, inout: 1, event: 0, raw: {} });
      await t.app
        .get(FingerprintsService)
        .storeTerminalPunches({ sn: 'SPLIT-1', timeZone: 'UTC', source: 'sendlog', records: batch });
      await waitFor(async () => (await logs.countDocuments({ forward_pending: true })) === 1, {
        timeoutMs: 20_000,
        message: 'all but the refused record delivered',
      });
      // A key that was refused is never reused for other records; accepted keys have one record set.
      expectOneKeyPerRecord({
        keysByRecord: () => new Map(),
        requests: hr.requests,
      } as unknown as HrSink);
      const delivered = hr.requests.filter((r) => r.answered === 'ok');
      for (const r of delivered) expect(recordsOf(r).some((x) => x.includes('|666|'))).toBe(false);
      expect(new Set(hr.deliveredRecords()).size).toBe(7);
    } finally {
      await t.close();
    }
  }, 60_000);
});
