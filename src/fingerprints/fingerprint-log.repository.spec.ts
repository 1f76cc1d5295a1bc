import { type Model, Types } from 'mongoose';
import { databasePerTest } from '@app/testing/embedded-database';
import { FingerPrintLogRepository, type NewFingerPrintLog, outboxPunchOf } from './fingerprint-log.repository';
import { appDedupeKey } from './punch-record';
import {
  FINGERPRINT_LOG_MODEL,
  FingerPrintLog,
  FingerPrintLogSchema,
  PunchDeviceType,
} from './schemas/fingerprint-log.schema';

jest.setTimeout(30_000);

function appPunch(): NewFingerPrintLog {
  const _id = new Types.ObjectId();
  return {
    _id,
    enrollid: '121',
    event: 1,
    time: new Date('2026-12-01T08:00:00.000Z'),
    device_sn: 'App',
    device_name: null,
    device_type: PunchDeviceType.MobileApp,
    employee: new Types.ObjectId(),
    owner: 'owner-1',
    location: { latitude: 33.3, longitude: 44.4 },
    macs: null,
    imageId: null,
    raw_time: null,
    local_time: null,
    time_zone: null,
    mode: null,
    inout: null,
    verifymode: null,
    temp: null,
    logindex: null,
    source: 'app',
    raw: null,
    dedupe_key: appDedupeKey(_id.toHexString()),
  };
}

describe('FingerPrintLogRepository outbox state (embedded database)', () => {
  const db = databasePerTest('punch_repo');
  let model: Model<FingerPrintLog>;
  let repo: FingerPrintLogRepository;

  beforeEach(async () => {
    model = db.conn.model<FingerPrintLog>(FINGERPRINT_LOG_MODEL, FingerPrintLogSchema);
    await model.init();
    repo = new FingerPrintLogRepository(model);
  });

  const stored = (id: Types.ObjectId) => model.collection.findOne({ _id: id });

  it('stores a claimed punch in one write and returns the row as stored', async () => {
    const doc = appPunch();
    const leaseUntil = new Date(Date.now() + 60_000);
    const row = await repo.insertPunch(doc, { token: 'tok-1', key: 'batch-1', leaseUntil });

    expect(row).toMatchObject({
      ...doc,
      forward_pending: true,
      is_send: false,
      send_failed: false,
      forward_attempts: 0,
      claim_token: 'tok-1',
      forward_key: 'batch-1',
      lease_until: leaseUntil,
    });
    expect(await stored(doc._id)).toEqual(row);
    expect(outboxPunchOf(row)).toEqual((await repo.findOutboxPunches([doc._id.toHexString()]))[0]);
  });

  it('a claimed punch is no one else’s: the drain neither sees it due nor claims it', async () => {
    const doc = appPunch();
    await repo.insertPunch(doc, { token: 'tok-1', key: 'batch-1', leaseUntil: new Date(Date.now() + 60_000) });
    const now = new Date();
    expect(await repo.dueStreams([PunchDeviceType.MobileApp], now, 10)).toEqual([]);
    expect(await repo.claim([doc._id.toHexString()], 'tok-2', now, new Date(now.getTime() + 1_000))).toEqual([]);
  });

  it('stores an unclaimed punch due now, which the drain can claim', async () => {
    const doc = appPunch();
    const row = await repo.insertPunch(doc);
    expect(row).toMatchObject({ forward_pending: true, claim_token: null, forward_key: null });
    expect(row.lease_until.getTime()).toBe(0);
    const now = new Date(Date.now() + 1);
    expect(await repo.dueStreams([PunchDeviceType.MobileApp], now, 10)).toEqual([
      { deviceType: PunchDeviceType.MobileApp, sn: 'App' },
    ]);
    const won = await repo.claim([doc._id.toHexString()], 'tok-2', now, new Date(now.getTime() + 1_000));
    expect(won.map((p) => [p._id, p.claim_token])).toEqual([[doc._id.toHexString(), 'tok-2']]);
  });

  it('records one attempt’s result and returns the punch as that write left it', async () => {
    const doc = appPunch();
    await repo.insertPunch(doc, { token: 'tok-1', key: 'batch-1', leaseUntil: new Date(Date.now() + 60_000) });
    const at = new Date();
    const after = await repo.recordResultOf({
      kind: 'delivered',
      ids: [doc._id.toHexString()],
      token: 'tok-1',
      response: { success: true },
      at,
    });
    expect(after).toMatchObject({
      is_send: true,
      send_failed: false,
      forward_pending: false,
      forwardedAt: at,
      forwardResponse: { success: true },
      forward_attempts: 1,
    });
    // The listing projection: no claim machinery, no raw record.
    expect(after).not.toHaveProperty('claim_token');
    expect(after).not.toHaveProperty('raw');
    expect(await stored(doc._id)).toMatchObject({ forward_pending: false, claim_token: null, forward_attempts: 1 });
  });

  it('records a failure with its backoff, and nothing for a token that no longer holds the punch', async () => {
    const doc = appPunch();
    await repo.insertPunch(doc, { token: 'tok-1', key: 'batch-1', leaseUntil: new Date(Date.now() + 60_000) });
    const at = new Date();
    const failure = {
      kind: 'failed' as const,
      ids: [doc._id.toHexString()] as [string],
      error: 'HTTP 503',
      response: null,
      at,
      nextAttemptAt: new Date(at.getTime() + 5_000),
    };
    expect(await repo.recordResultOf({ ...failure, token: 'someone-else' })).toBeNull();
    expect(await stored(doc._id)).toMatchObject({ forward_attempts: 0, claim_token: 'tok-1' });

    const after = await repo.recordResultOf({ ...failure, token: 'tok-1' });
    expect(after).toMatchObject({
      is_send: true,
      send_failed: true,
      forward_pending: true,
      last_attempt_error: 'HTTP 503',
      next_attempt_at: failure.nextAttemptAt,
      forward_attempts: 1,
    });
    // The outcome is unknown after a 503: the batch keeps its key for the next attempt.
    expect(await stored(doc._id)).toMatchObject({ claim_token: null, forward_key: 'batch-1' });
  });

  it('fills the forwarding state of a terminal frame too', async () => {
    const doc = { ...appPunch(), device_type: PunchDeviceType.Terminal, device_sn: 'T-1', source: 'sendlog' as const };
    await repo.insertManyDeduplicated([doc]);
    expect(await stored(doc._id)).toMatchObject({
      forward_pending: true,
      is_send: false,
      forward_attempts: 0,
      claim_token: null,
      forward_key: null,
      lease_until: new Date(0),
    });
  });

  describe('insertFramesDeduplicated (the punches of several frames in one insert)', () => {
    const terminalPunch = (dedupeKey?: string): NewFingerPrintLog => {
      const doc = {
        ...appPunch(),
        device_type: PunchDeviceType.Terminal,
        device_sn: 'T-1',
        source: 'sendlog' as const,
      };
      return dedupeKey ? { ...doc, dedupe_key: dedupeKey } : doc;
    };

    it('answers each frame with the duplicates at its own positions, within the batch and against stored rows', async () => {
      const known = terminalPunch('T-1|known');
      await repo.insertManyDeduplicated([known]);
      const a = terminalPunch('T-1|a');
      const frames = [
        [a, terminalPunch('T-1|b')],
        [terminalPunch('T-1|c'), terminalPunch('T-1|a'), terminalPunch('T-1|known')],
        [],
        [terminalPunch('T-1|known')],
      ];
      const results = await repo.insertFramesDeduplicated(frames);
      expect(results.map((r) => (r instanceof Error ? r : [...r.duplicateIndexes]))).toEqual([[], [1, 2], [], [0]]);
      expect(await model.collection.countDocuments()).toBe(4);
      expect(await stored(a._id)).toMatchObject({ dedupe_key: 'T-1|a', forward_pending: true });
    });

    it('fails only the frame whose punch hit another write error; the whole batch when nothing is known written', async () => {
      const bulkError = (writeErrors: unknown[], extra: Record<string, unknown> = {}) =>
        Object.assign(new Error('bulk write failed'), { writeErrors, ...extra });
      let fail: Error = new Error('unset');
      const fake = {
        collection: {
          insertMany: () => Promise.reject(fail),
        },
      } as unknown as Model<FingerPrintLog>;
      const faked = new FingerPrintLogRepository(fake);
      const frames = () => [[terminalPunch(), terminalPunch()], [terminalPunch(), terminalPunch()], [terminalPunch()]];

      fail = bulkError([
        { index: 1, code: 11000, errmsg: 'dup' },
        { index: 3, code: 121, errmsg: 'Document failed validation' },
      ]);
      const results = await faked.insertFramesDeduplicated(frames());
      expect(results[0]).toEqual({ duplicateIndexes: new Set([1]) });
      expect(results[1]).toBeInstanceOf(Error);
      expect((results[1] as Error).message).toMatch(/punch 1 not stored: Document failed validation/);
      expect(results[2]).toEqual({ duplicateIndexes: new Set() });

      fail = bulkError([{ index: 0, code: 11000 }], { writeConcernErrors: [{ code: 64 }] });
      await expect(faked.insertFramesDeduplicated(frames())).rejects.toBe(fail);
      fail = new Error('connection closed');
      await expect(faked.insertFramesDeduplicated(frames())).rejects.toBe(fail);
      fail = bulkError([{ index: 99, code: 11000 }]);
      await expect(faked.insertFramesDeduplicated(frames())).rejects.toBe(fail);
    });
  });
});
