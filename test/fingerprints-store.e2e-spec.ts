import request from 'supertest';
import { Types } from 'mongoose';
import { FingerprintsService, InvalidPunchError, PunchImagesService } from '../src/fingerprints';
import { FingerPrintLogRepository } from '../src/fingerprints/fingerprint-log.repository';
import { createTestApp, TestApp } from './support/test-app';

describe('FingerprintsService.storeTerminalPunches (service level, real database)', () => {
  let t: TestApp;
  let service: FingerprintsService;

  beforeAll(async () => {
    t = await createTestApp();
    service = t.app.get(FingerprintsService);
  });
  afterAll(async () => {
    await t?.close();
  });

  const logs = () => t.connection.collection('fingerprintlogs');

  it('stores a frame, reads the time in the terminal zone and keeps the raw text', async () => {
    const res = await service.storeTerminalPunches({
      sn: 'ST-1',
      deviceName: 'Front door',
      timeZone: 'Asia/Baghdad',
      source: 'sendlog',
      records: [
        { enrollid: 7, time: '2025-11-08 09:00:00', mode: 8, inout: 0, event: 0, raw: { enrollid: 7, image: 'xx' } },
        { enrollid: 8, time: '2025-11-8 9:1:2', raw: { enrollid: 8, $odd: 1, 'a.b': 2 } },
      ],
    });
    expect(res.stored).toBe(2);
    expect(res.duplicates).toBe(0);
    expect(res.ids).toHaveLength(2);
    const first = await logs().findOne({ _id: new Types.ObjectId(res.ids[0]) });
    expect(first).toMatchObject({
      enrollid: '7',
      event: 0,
      device_sn: 'ST-1',
      device_name: 'Front door',
      device_type: 'terminal',
      raw_time: '2025-11-08 09:00:00',
      local_time: '2025-11-08T09:00:00',
      time_zone: 'Asia/Baghdad',
      mode: 8,
      inout: 0,
      source: 'sendlog',
      is_send: false,
      send_failed: false,
      forward_pending: true,
      raw: { enrollid: 7 },
    });
    expect((first!.time as Date).toISOString()).toBe('2025-11-08T06:00:00.000Z');
    const second = await logs().findOne({ _id: new Types.ObjectId(res.ids[1]) });
    expect(second).toMatchObject({ enrollid: '8', local_time: '2025-11-08T09:01:02', mode: null, event: 0 });
    expect(second!.raw).toEqual({ enrollid: 8, _odd: 1, a_b: 2 });
  });

  it('stores a punch sent twice once and returns the id already stored', async () => {
    const frame = {
      sn: 'ST-2',
      timeZone: 'UTC',
      source: 'sendlog' as const,
      records: [{ enrollid: 3, time: '2025-11-08 10:00:00', mode: 1, inout: 0, event: 0, raw: {} }],
    };
    const a = await service.storeTerminalPunches(frame);
    const b = await service.storeTerminalPunches({
      ...frame,
      source: 'getnewlog',
      records: [...frame.records, { enrollid: 3, time: '2025-11-08 10:00:05', mode: 1, inout: 0, event: 0, raw: {} }],
    });
    expect(a).toMatchObject({ stored: 1, duplicates: 0 });
    expect(b).toMatchObject({ stored: 1, duplicates: 1 });
    expect(b.ids[0]).toBe(a.ids[0]);
    expect(await logs().countDocuments({ device_sn: 'ST-2' })).toBe(2);
  });

  it('treats a repeat inside one frame as a duplicate too', async () => {
    const rec = { enrollid: 4, time: '2025-11-08 11:00:00', raw: {} };
    const res = await service.storeTerminalPunches({
      sn: 'ST-3',
      timeZone: 'UTC',
      source: 'sendlog',
      records: [rec, rec],
    });
    expect(res).toMatchObject({ stored: 1, duplicates: 1 });
    expect(res.ids[0]).toBe(res.ids[1]);
  });

  it('refuses the whole frame, storing nothing, when one time is invalid', async () => {
    const call = service.storeTerminalPunches({
      sn: 'ST-4',
      timeZone: 'UTC',
      source: 'sendlog',
      records: [
        { enrollid: 5, time: '2025-11-08 11:00:00', raw: {} },
        { enrollid: 5, time: '2025-13-40 99:00:00', raw: {} },
      ],
    });
    await expect(call).rejects.toThrow(InvalidPunchError);
    await expect(call).rejects.toThrow(/record 1: invalid time/);
    expect(await logs().countDocuments({ device_sn: 'ST-4' })).toBe(0);
  });

  it('with skipInvalid stores the valid records and names the others, with why', async () => {
    const res = await service.storeTerminalPunches(
      {
        sn: 'ST-4B',
        timeZone: 'UTC',
        source: 'sendlog',
        records: [
          { enrollid: 5, time: '2025-11-08 11:00:00', raw: {} },
          { enrollid: 5, time: '2025-13-40 99:00:00', raw: {} },
          { enrollid: -2, time: '2025-11-08 11:00:01', raw: {} },
          { enrollid: 6, time: '2025-11-08 11:00:02', imageId: 'not-an-id', raw: {} },
          { enrollid: 6, time: '2025-11-08 11:00:03', raw: {} },
        ],
      },
      { skipInvalid: true },
    );
    expect(res.invalid).toEqual([
      { index: 1, reason: 'invalid time "2025-13-40 99:00:00"' },
      { index: 2, reason: 'invalid enrollid -2' },
      { index: 3, reason: 'invalid imageId "not-an-id"' },
    ]);
    expect(res).toMatchObject({ stored: 2, duplicates: 0 });
    const stored = await logs().find({ device_sn: 'ST-4B' }).sort({ time: 1 }).toArray();
    expect(res.ids).toEqual(stored.map((d) => String(d._id)));
    expect(stored.map((d) => d.raw_time)).toEqual(['2025-11-08 11:00:00', '2025-11-08 11:00:03']);
  });

  it('stores photos apart, once per content', async () => {
    const images = t.app.get(PunchImagesService);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const id1 = await images.store(jpeg, 'image/jpeg');
    const id2 = await images.store(Buffer.from(jpeg), 'image/jpeg');
    expect(id2).toBe(id1);
    const stored = await images.findById(id1);
    expect(stored).toMatchObject({ mime: 'image/jpeg', size: 7 });
    expect(stored!.data.equals(jpeg)).toBe(true);
  });

  it('claims are exclusive and a late result of a lost claim never overwrites the winner', async () => {
    const repo = t.app.get(FingerPrintLogRepository);
    const { ids } = await service.storeTerminalPunches({
      sn: 'ST-CLAIM',
      timeZone: 'UTC',
      source: 'sendlog',
      records: [{ enrollid: 9, time: '2025-11-08 12:00:00', raw: {} }],
    });
    const now = new Date();
    const lease = new Date(now.getTime() + 30_000);
    expect(await repo.claim(ids, 'A', now, lease)).toHaveLength(1);
    expect(await repo.claim(ids, 'B', now, lease)).toHaveLength(0);
    // A's lease runs out (its instance died); B takes over and delivers.
    const later = new Date(lease.getTime() + 1);
    expect(await repo.claim(ids, 'B', later, new Date(later.getTime() + 30_000))).toHaveLength(1);
    const id: [string] = [ids[0]];
    const delivered = { kind: 'delivered' as const, ids: id, response: { success: true }, at: later };
    expect(await repo.recordResultOf({ ...delivered, token: 'B' })).not.toBeNull();
    // A comes back with a failure: nothing changes.
    const failed = await repo.recordResultOf({
      kind: 'failed',
      ids: id,
      token: 'A',
      error: 'late failure',
      response: null,
      at: later,
      nextAttemptAt: later,
    });
    expect(failed).toBeNull();
    expect(await repo.recordResultOf({ ...delivered, token: 'A' })).toBeNull();
    const doc = await logs().findOne({ _id: new Types.ObjectId(ids[0]) });
    expect(doc).toMatchObject({
      is_send: true,
      send_failed: false,
      forward_pending: false,
      last_attempt_error: null,
      forward_attempts: 1,
      claim_token: null,
    });
    // Delivered punches cannot be claimed again.
    expect(await repo.claim(ids, 'C', later, lease, { ignoreBackoff: true })).toHaveLength(0);
  });

  it('links a terminal punch to the employee with that enroll id', async () => {
    const admin = await t.adminToken();
    const res = await request(t.httpServer)
      .post('/api/employees')
      .set('Authorization', `Bearer ${admin}`)
      .send({ enroll_id: '4242', username: 'emp-4242', password: 'password123', fullName: 'Linked' });
    expect(res.status).toBe(201);
    const { ids } = await service.storeTerminalPunches({
      sn: 'ST-EMP',
      timeZone: 'UTC',
      source: 'getalllog',
      records: [
        { enrollid: 4242, time: '2025-11-08 12:00:00', raw: {} },
        { enrollid: 4343, time: '2025-11-08 12:00:00', raw: {} },
      ],
    });
    const [linked, unknown] = await Promise.all(ids.map((id) => logs().findOne({ _id: new Types.ObjectId(id) })));
    expect(linked!.employee).toBeInstanceOf(Types.ObjectId);
    expect(linked!.owner).toEqual(expect.any(String));
    expect(unknown!.employee).toBeNull();
  });
});
