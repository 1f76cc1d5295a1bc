import request from 'supertest';
import { Types } from 'mongoose';
import { signHs256, nowSeconds, waitFor } from '@app/testing';
import { FingerprintsService } from '../src/fingerprints';
import { HrSink } from './forwarding-hr-sink';
import { createTestApp, TEST_JWT_SECRET, TestApp } from './support/test-app';

const MESSAGE = 'تم تسجيل بصمة الموبايل بنجاح';
const LOCATION = { latitude: 33.3096307, longitude: 44.4490251 };
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), Buffer.alloc(64, 7)]);

async function createEmployee(t: TestApp, enrollId: string, username: string, fullName: string) {
  const admin = await t.adminToken();
  const created = await request(t.httpServer)
    .post('/api/employees')
    .set('Authorization', `Bearer ${admin}`)
    .send({ enroll_id: enrollId, username, password: 'password123', fullName });
  if (created.status !== 201) throw new Error(`create employee: ${created.status} ${created.text}`);
  const login = await request(t.httpServer).post('/api/employees/login').send({ username, password: 'password123' });
  if (login.status !== 200) throw new Error(`employee login: ${login.status} ${login.text}`);
  return { token: login.body.token as string, id: created.body.item?._id ?? login.body.result._id };
}

describe('Mobile fingerprints (POST /api/fingerprints/app, listings, images, retry)', () => {
  const hr = new HrSink();
  let t: TestApp;
  let admin: string;
  let emp1: { token: string; id: string };
  let emp2: { token: string; id: string };

  beforeAll(async () => {
    await hr.start();
    t = await createTestApp({
      env: {
        FORWARD_FINGERPRINT_URL: hr.url('/api/checkinout/save'),
        FORWARD_FINGERPRINT_TOKEN: 'fp-token',
        FORWARD_LOG_URL: hr.url('/api/logs'),
        FORWARD_LOG_TOKEN: 'log-token',
        FORWARD_TIMEOUT: '1s',
        FORWARD_RETRY_BASE: '60s',
        FORWARD_RETRY_MAX: '60s',
        PUNCH_IMAGE_MAX_BYTES: '4096',
      },
    });
    admin = await t.adminToken();
    emp1 = await createEmployee(t, '121', 'emp-121', 'mustafa');
    emp2 = await createEmployee(t, '122', 'emp-122', 'zainab');
  });
  afterAll(async () => {
    await t?.close();
    await hr.stop();
  });
  beforeEach(() => hr.reset('ok'));

  const logs = () => t.connection.collection('fingerprintlogs');
  const punch = (token: string, body: Record<string, unknown>) =>
    request(t.httpServer).post('/api/fingerprints/app').set('Authorization', `Bearer ${token}`).send(body);

  describe('POST /api/fingerprints/app', () => {
    it('stores the punch, forwards it at once with the contract payload and bearer token, answers the contract body', async () => {
      const before = Date.now();
      const res = await punch(emp1.token, {
        event: 1,
        location: LOCATION,
        device_sn: 'App',
        device_name: 'App',
        macs: 'aa:bb:cc:dd:ee:ff',
      });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['data', 'forwarded', 'message', 'success']);
      expect(res.body).toMatchObject({ success: true, message: MESSAGE, forwarded: true });
      expect(res.body.data).toMatchObject({
        enrollid: '121',
        event: 1,
        device_sn: 'App',
        device_name: 'App',
        device_type: 'mobile_app',
        location: LOCATION,
        macs: 'aa:bb:cc:dd:ee:ff',
        employee: emp1.id,
        is_send: true,
        send_failed: false,
        forwardResponse: { success: true, forwarded: true },
        last_attempt_error: null,
        forward_attempts: 1,
      });
      expect(new Date(res.body.data.forwardedAt).getTime()).toBeGreaterThanOrEqual(before);
      const time = new Date(res.body.data.time).getTime();
      expect(time).toBeGreaterThanOrEqual(before);
      expect(time).toBeLessThanOrEqual(Date.now());

      expect(hr.requests).toHaveLength(1);
      const [req] = hr.requests;
      expect(req.path).toBe('/api/checkinout/save');
      expect(req.headers.authorization).toBe('Bearer fp-token');
      expect(req.headers['idempotency-key']).toMatch(/^[0-9a-f]{40}$/);
      expect(req.body).toEqual({ sn: 'App', record: [{ enrollid: 121, time: res.body.data.time, event: 1 }] });
      expect(req.body.record[0].time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

      const stored = await logs().findOne({ _id: new Types.ObjectId(res.body.data._id) });
      expect(stored).toMatchObject({ is_send: true, send_failed: false, forward_pending: false, claim_token: null });
    });

    it('ignores the phone clock and unknown keys; device_sn defaults to App', async () => {
      const res = await punch(emp1.token, { event: 0, location: LOCATION, time: '2001-01-01T00:00:00Z', extra: 1 });
      expect(res.status).toBe(201);
      expect(res.body.data.device_sn).toBe('App');
      expect(new Date(res.body.data.time).getUTCFullYear()).toBeGreaterThan(2001);
      expect(res.body.data).not.toHaveProperty('extra');
    });

    it('stores the punch even when the HR server does not confirm, with the reason', async () => {
      hr.mode = 'unconfirmed';
      const res = await punch(emp1.token, { event: 2, location: LOCATION });
      expect(res.status).toBe(201);
      expect(res.body.forwarded).toBe(false);
      expect(res.body.data).toMatchObject({
        is_send: true,
        send_failed: true,
        forwardedAt: null,
        last_attempt_error: 'Remote server did not confirm receipt',
        forwardResponse: { success: false },
      });
      expect(await logs().countDocuments({ _id: new Types.ObjectId(res.body.data._id) })).toBe(1);
    });

    it('keeps a photo apart from the log; an admin can fetch it', async () => {
      const res = await punch(emp1.token, {
        event: 1,
        location: LOCATION,
        image: `data:image/jpeg;base64,${JPEG.toString('base64')}`,
      });
      expect(res.status).toBe(201);
      expect(res.body.data.imageId).toMatch(/^[0-9a-f]{24}$/);
      expect(JSON.stringify(res.body)).not.toContain(JPEG.toString('base64'));
      const img = await request(t.httpServer)
        .get(`/api/fingerprints/images/${res.body.data.imageId}`)
        .set('Authorization', `Bearer ${admin}`)
        .buffer(true)
        .parse((r, cb) => {
          const parts: Buffer[] = [];
          r.on('data', (c: Buffer) => parts.push(c));
          r.on('end', () => cb(null, Buffer.concat(parts)));
        });
      expect(img.status).toBe(200);
      expect(img.headers['content-type']).toBe('image/jpeg');
      expect((img.body as Buffer).equals(JPEG)).toBe(true);

      const imgAsEmployee = await request(t.httpServer)
        .get(`/api/fingerprints/images/${res.body.data.imageId}`)
        .set('Authorization', `Bearer ${emp1.token}`);
      expect(imgAsEmployee.status).toBe(403);
      const missing = await request(t.httpServer)
        .get(`/api/fingerprints/images/${new Types.ObjectId().toHexString()}`)
        .set('Authorization', `Bearer ${admin}`);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ success: false, error: 'image_not_found' });
      const malformed = await request(t.httpServer)
        .get('/api/fingerprints/images/nope')
        .set('Authorization', `Bearer ${admin}`);
      expect(malformed.status).toBe(400);
      expect(malformed.body.error).toBe('invalid_id');
    });

    it.each([
      ['latitude out of range', { event: 1, location: { latitude: 91, longitude: 0 } }, 'location.latitude'],
      ['longitude out of range', { event: 1, location: { latitude: 0, longitude: -180.5 } }, 'location.longitude'],
      ['event not an integer', { event: 1.5, location: LOCATION }, 'event'],
      ['event a string', { event: '1', location: LOCATION }, 'event'],
      ['event missing', { location: LOCATION }, 'event'],
      ['location missing', { event: 1 }, 'location'],
      ['device_sn not a string', { event: 1, location: LOCATION, device_sn: 5 }, 'device_sn'],
      ['macs too long', { event: 1, location: LOCATION, macs: 'a'.repeat(513) }, 'macs'],
    ])('refuses %s with 400 and stores nothing', async (_name, body, field) => {
      const before = await logs().countDocuments({});
      const res = await punch(emp1.token, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await logs().countDocuments({})).toBe(before);
      expect(hr.requests).toHaveLength(0);
    });

    it('refuses a photo that is not a JPEG/PNG data URL (400) or too big (413)', async () => {
      const gif = await punch(emp1.token, { event: 1, location: LOCATION, image: 'data:image/gif;base64,R0lGODlh' });
      expect(gif.status).toBe(400);
      expect(gif.body.error).toBe('invalid_image');
      const fake = await punch(emp1.token, {
        event: 1,
        location: LOCATION,
        image: `data:image/jpeg;base64,${Buffer.from('not a picture').toString('base64')}`,
      });
      expect(fake.status).toBe(400);
      const big = await punch(emp1.token, {
        event: 1,
        location: LOCATION,
        image: `data:image/jpeg;base64,${Buffer.concat([JPEG, Buffer.alloc(5000)]).toString('base64')}`,
      });
      expect(big.status).toBe(413);
      expect(big.body).toMatchObject({ success: false, error: 'image_too_large', maxBytes: 4096 });
      expect(hr.requests).toHaveLength(0);
    });

    it('needs an employee token', async () => {
      const none = await request(t.httpServer).post('/api/fingerprints/app').send({ event: 1, location: LOCATION });
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ success: false, error: 'unauthorized' });
      const asAdmin = await punch(admin, { event: 1, location: LOCATION });
      expect(asAdmin.status).toBe(403);
      const expired = signHs256(
        { sub: emp1.id, role: 'EMPLOYEE', owner: 'x', iat: nowSeconds() - 100, exp: nowSeconds() - 10 },
        TEST_JWT_SECRET,
      );
      expect((await punch(expired, { event: 1, location: LOCATION })).status).toBe(401);
    });
  });

  describe('listings', () => {
    beforeAll(async () => {
      await logs().deleteMany({});
      // Terminal punches under both enroll ids and one nobody has.
      await t.app.get(FingerprintsService).storeTerminalPunches({
        sn: 'TERM-1',
        timeZone: 'UTC',
        source: 'sendlog',
        records: [
          { enrollid: 121, time: '2025-02-01 08:00:00', raw: {} },
          { enrollid: 122, time: '2025-02-01 08:05:00', raw: {} },
          { enrollid: 999, time: '2025-02-01 08:10:00', raw: {} },
        ],
      });
      for (const event of [1, 2]) expect((await punch(emp1.token, { event, location: LOCATION })).status).toBe(201);
      hr.mode = 'unconfirmed';
      expect((await punch(emp2.token, { event: 1, location: LOCATION, device_sn: 'PHONE-2' })).status).toBe(201);
      hr.mode = 'ok';
      // Terminal punches are forwarded by the outbox in the background; let it settle.
      await waitFor(
        async () => (await logs().countDocuments({ device_type: 'terminal', forward_pending: true })) === 0,
      );
    });

    const get = (path: string, token: string) =>
      request(t.httpServer).get(path).set('Authorization', `Bearer ${token}`);

    it('shows an employee only their own punches (app + terminal under their enroll id), newest first', async () => {
      const res = await get('/api/fingerprints/employee', emp1.token);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['currentPage', 'limit', 'logs', 'totalCount', 'totalPages']);
      expect(res.body).toMatchObject({ totalCount: 3, currentPage: 1, limit: 10, totalPages: 1 });
      expect(res.body.logs.every((l: { enrollid: string }) => l.enrollid === '121')).toBe(true);
      expect(res.body.logs.map((l: { device_type: string }) => l.device_type)).toEqual([
        'mobile_app',
        'mobile_app',
        'terminal',
      ]);
      const times = res.body.logs.map((l: { time: string }) => new Date(l.time).getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(res.body.logs[0]).not.toHaveProperty('raw');
      expect(res.body.logs[0]).not.toHaveProperty('claim_token');

      const other = await get('/api/fingerprints/employee', emp2.token);
      expect(other.body.totalCount).toBe(2);
      expect(other.body.logs.every((l: { enrollid: string }) => l.enrollid === '122')).toBe(true);
    });

    it('filters the employee listing by time, event, device and is_send, and pages', async () => {
      const q = (query: string) => get(`/api/fingerprints/employee?${query}`, emp1.token);
      expect((await q('from=2025-02-01T00:00:00.000Z&to=2025-02-05T23:59:59.000Z')).body.totalCount).toBe(1);
      expect((await q('to=2025-02-01')).body.totalCount).toBe(1);
      expect((await q('event=2')).body.totalCount).toBe(1);
      expect((await q('device_sn=TERM-1')).body.totalCount).toBe(1);
      expect((await q('is_send=true')).body.totalCount).toBe(3);
      expect((await q('is_send=false')).body.totalCount).toBe(0);
      const paged = await q('page=2&limit=2');
      expect(paged.body).toMatchObject({ totalCount: 3, currentPage: 2, limit: 2, totalPages: 2 });
      expect(paged.body.logs).toHaveLength(1);
      expect((await q('limit=500')).body.limit).toBe(100);
      expect((await q('cacheBuster=1')).status).toBe(200);
      const empty = await q('from=2030-01-01T00:00:00Z');
      expect(empty.body).toMatchObject({ logs: [], totalCount: 0, totalPages: 0 });
    });

    it.each(['from=yesterday', 'to=2025-02-30', 'is_send=yes', 'event=abc', 'page=0', 'limit=x'])(
      'refuses %s on the employee listing with 400',
      async (query) => {
        const res = await get(`/api/fingerprints/employee?${query}`, emp1.token);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      },
    );

    it('lists mobile logs for an admin with the employee name and forwarding filters', async () => {
      const res = await get('/api/fingerprints/mobile-logs', admin);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual([
        'currentPage',
        'items',
        'limit',
        'success',
        'totalCount',
        'totalPages',
      ]);
      expect(res.body).toMatchObject({ success: true, totalCount: 3, currentPage: 1, limit: 20, totalPages: 1 });
      expect(res.body.items.map((i: { name: string }) => i.name).sort()).toEqual(['mustafa', 'mustafa', 'zainab']);
      expect(res.body.items.every((i: { device_type: string }) => i.device_type === 'mobile_app')).toBe(true);
      const failed = await get('/api/fingerprints/mobile-logs?send_failed=true', admin);
      expect(failed.body.totalCount).toBe(1);
      expect(failed.body.items[0]).toMatchObject({ name: 'zainab', device_sn: 'PHONE-2', send_failed: true });
      expect((await get('/api/fingerprints/mobile-logs?is_send=false', admin)).body.totalCount).toBe(0);
    });

    it('lists terminal punches for an admin by sn and enrollid', async () => {
      const res = await get('/api/fingerprints/device-logs?sn=TERM-1', admin);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, totalCount: 3, limit: 20, totalPages: 1 });
      expect(res.body.items.map((i: { enrollid: string }) => i.enrollid)).toEqual(['999', '122', '121']);
      expect(res.body.items.map((i: { name: string | null }) => i.name)).toEqual([null, 'zainab', 'mustafa']);
      expect(res.body.items[0]).toMatchObject({ raw_time: '2025-02-01 08:10:00', local_time: '2025-02-01T08:10:00' });
      const one = await get('/api/fingerprints/device-logs?enrollid=122', admin);
      expect(one.body.totalCount).toBe(1);
      expect((await get('/api/fingerprints/device-logs?sn=NONE', admin)).body).toMatchObject({
        items: [],
        totalCount: 0,
        totalPages: 0,
      });
    });

    it.each([
      ['/api/fingerprints/mobile-logs?is_send=maybe'],
      ['/api/fingerprints/mobile-logs?from=2025-13-01'],
      ['/api/fingerprints/device-logs?enrollid=abc'],
      ['/api/fingerprints/device-logs?send_failed=1'],
    ])('refuses %s with 400', async (path) => {
      const res = await get(path, admin);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
    });

    it('ignores unknown query keys (cache busters) on the admin listings', async () => {
      expect((await get('/api/fingerprints/mobile-logs?unknown=1', admin)).status).toBe(200);
    });

    it('keeps admin listings for admins and the employee listing for employees', async () => {
      expect((await get('/api/fingerprints/mobile-logs', emp1.token)).status).toBe(403);
      expect((await get('/api/fingerprints/device-logs', emp1.token)).status).toBe(403);
      expect((await request(t.httpServer).get('/api/fingerprints/mobile-logs')).status).toBe(401);
      expect((await get('/api/fingerprints/employee', admin)).status).toBe(403);
      expect((await request(t.httpServer).get('/api/fingerprints/employee')).status).toBe(401);
    });
  });

  describe('POST /api/fingerprints/retry-failed', () => {
    it('retries failed and never-sent app punches, one request each, and reports each', async () => {
      await logs().deleteMany({});
      hr.mode = 'unconfirmed';
      const failedA = (await punch(emp1.token, { event: 1, location: LOCATION })).body.data._id as string;
      const failedB = (await punch(emp2.token, { event: 1, location: LOCATION })).body.data._id as string;
      hr.mode = 'ok';
      const delivered = (await punch(emp1.token, { event: 3, location: LOCATION })).body.data._id as string;
      // A punch never attempted (stored while nothing was configured, say).
      const neverSent = new Types.ObjectId();
      await logs().insertOne({
        _id: neverSent,
        enrollid: '122',
        event: 0,
        time: new Date(),
        device_sn: '',
        device_type: 'mobile_app',
        source: 'app',
        dedupe_key: `a:${neverSent.toHexString()}`,
        is_send: false,
        send_failed: false,
        forward_pending: true,
        forward_attempts: 0,
        next_attempt_at: new Date(Date.now() + 3_600_000),
        lease_until: new Date(0),
        claim_token: null,
      });
      hr.reset('ok');

      const res = await request(t.httpServer)
        .post('/api/fingerprints/retry-failed')
        .set('Authorization', `Bearer ${admin}`)
        .send({});

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        success: true,
        message: 'Retry finished',
        count: 3,
        successCount: 3,
        failedCount: 0,
      });
      expect(res.body.results.map((r: { id: string }) => r.id).sort()).toEqual(
        [failedA, failedB, neverSent.toHexString()].sort(),
      );
      expect(res.body.results.every((r: { ok: boolean; response: unknown }) => r.ok && r.response)).toBe(true);
      expect(res.body.results.map((r: { id: string }) => r.id)).not.toContain(delivered);
      expect(hr.requests).toHaveLength(3);
      expect(hr.requests.every((r) => r.body.record.length === 1)).toBe(true);
      expect(hr.requests.map((r) => r.body.sn)).toContain('App');

      const again = await request(t.httpServer)
        .post('/api/fingerprints/retry-failed')
        .set('Authorization', `Bearer ${admin}`)
        .send({});
      expect(again.body).toMatchObject({ count: 0, successCount: 0, failedCount: 0, results: [] });
    });

    it('counts failures with the HR error', async () => {
      await logs().deleteMany({});
      hr.mode = 'error';
      const id = (await punch(emp1.token, { event: 1, location: LOCATION })).body.data._id as string;
      const res = await request(t.httpServer)
        .post('/api/fingerprints/retry-failed')
        .set('Authorization', `Bearer ${admin}`)
        .send();
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        count: 1,
        successCount: 0,
        failedCount: 1,
        results: [{ id, ok: false, error: 'Remote server did not confirm receipt' }],
      });
      const doc = await logs().findOne({ _id: new Types.ObjectId(id) });
      expect(doc).toMatchObject({ is_send: true, send_failed: true, forward_attempts: 2 });
    });

    it('is for admins only and takes an empty body', async () => {
      const asEmployee = await request(t.httpServer)
        .post('/api/fingerprints/retry-failed')
        .set('Authorization', `Bearer ${emp1.token}`)
        .send({});
      expect(asEmployee.status).toBe(403);
      expect((await request(t.httpServer).post('/api/fingerprints/retry-failed').send({})).status).toBe(401);
      const extra = await request(t.httpServer)
        .post('/api/fingerprints/retry-failed')
        .set('Authorization', `Bearer ${admin}`)
        .send({ all: true });
      expect(extra.status).toBe(400);
    });
  });

  it('documents every route in the OpenAPI document with its token', async () => {
    const res = await request(t.httpServer).get('/api/docs-json');
    expect(res.status).toBe(200);
    const paths = res.body.paths as Record<string, Record<string, { security?: unknown[]; responses: object }>>;
    const routes: Array<[string, string, string]> = [
      ['/api/fingerprints/app', 'post', '201'],
      ['/api/fingerprints/employee', 'get', '200'],
      ['/api/fingerprints/mobile-logs', 'get', '200'],
      ['/api/fingerprints/device-logs', 'get', '200'],
      ['/api/fingerprints/retry-failed', 'post', '200'],
      ['/api/fingerprints/device-logs/retry-failed', 'post', '200'],
      ['/api/fingerprints/images/{id}', 'get', '200'],
    ];
    for (const [path, method, ok] of routes) {
      const op = paths[path]?.[method];
      expect(op).toBeDefined();
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining([ok, '401', '403']));
    }
  });

  describe('POST /api/fingerprints/device-logs/retry-failed', () => {
    it('retries failed terminal punches, one request per terminal batch, in order', async () => {
      await logs().deleteMany({});
      hr.mode = 'unconfirmed';
      const service = t.app.get(FingerprintsService);
      const a = await service.storeTerminalPunches({
        sn: 'RT-1',
        timeZone: 'UTC',
        source: 'sendlog',
        records: [
          { enrollid: 121, time: '2025-03-01 08:00:00', raw: {} },
          { enrollid: 122, time: '2025-03-01 08:00:01', raw: {} },
          { enrollid: 123, time: '2025-03-01 08:00:02', raw: {} },
        ],
      });
      const b = await service.storeTerminalPunches({
        sn: 'RT-2',
        timeZone: 'UTC',
        source: 'sendlog',
        records: [{ enrollid: 121, time: '2025-03-01 09:00:00', raw: {} }],
      });
      await waitFor(async () => (await logs().countDocuments({ device_type: 'terminal', send_failed: true })) === 4, {
        message: 'first attempts failed',
      });
      hr.reset('ok');
      const res = await request(t.httpServer)
        .post('/api/fingerprints/device-logs/retry-failed')
        .set('Authorization', `Bearer ${admin}`)
        .send({});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        success: true,
        message: 'Retry finished',
        count: 4,
        successCount: 4,
        failedCount: 0,
      });
      expect(res.body.results.map((r: { id: string }) => r.id).sort()).toEqual([...a.ids, ...b.ids].sort());
      expect(hr.requests).toHaveLength(2);
      const rt1 = hr.requests.find((r) => r.body.sn === 'RT-1')!;
      expect(rt1.path).toBe('/api/logs');
      expect(rt1.headers.authorization).toBe('Bearer log-token');
      expect(rt1.body.record).toEqual([
        { enrollid: 121, time: '2025-03-01T08:00:00', event: 0 },
        { enrollid: 122, time: '2025-03-01T08:00:01', event: 0 },
        { enrollid: 123, time: '2025-03-01T08:00:02', event: 0 },
      ]);
      // App punches are not part of this route.
      expect(hr.requests.every((r) => r.path === '/api/logs')).toBe(true);
      expect((await get403('/api/fingerprints/device-logs/retry-failed')).status).toBe(403);
    });
  });

  const get403 = (path: string) =>
    request(t.httpServer).post(path).set('Authorization', `Bearer ${emp1.token}`).send({});
});

describe('Mobile fingerprints without a forward URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stores the punch pending and answers forwarded:false', async () => {
    const admin = await t.adminToken();
    const emp = await createEmployee(t, '501', 'emp-501', 'nobody');
    const res = await request(t.httpServer)
      .post('/api/fingerprints/app')
      .set('Authorization', `Bearer ${emp.token}`)
      .send({ event: 1, location: LOCATION });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ success: true, message: MESSAGE, forwarded: false });
    expect(res.body.data).toMatchObject({ is_send: false, send_failed: false, forwardedAt: null, forward_attempts: 0 });
    const doc = await t.connection
      .collection('fingerprintlogs')
      .findOne({ _id: new Types.ObjectId(res.body.data._id) });
    expect(doc).toMatchObject({ forward_pending: true, claim_token: null });

    const retry = await request(t.httpServer)
      .post('/api/fingerprints/retry-failed')
      .set('Authorization', `Bearer ${admin}`)
      .send({});
    expect(retry.body).toMatchObject({
      count: 1,
      successCount: 0,
      failedCount: 1,
      results: [{ id: res.body.data._id, ok: false, error: 'FORWARD_FINGERPRINT_URL is not configured' }],
    });
  });
});
