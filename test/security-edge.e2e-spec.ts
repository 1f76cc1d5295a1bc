import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { LoginThrottleService } from '../src/auth';
import { createTestApp, TEST_ADMIN, TestApp } from './support/test-app';

const REVOKED = {
  success: false,
  error: 'token_revoked',
  message: 'This token was issued before the last password change; log in again',
};
const TOO_MANY = {
  success: false,
  error: 'too_many_attempts',
  message: 'Too many failed login attempts; try again later',
};

function tokenOf(res: request.Response): string {
  return (res.body as { token: string }).token;
}

/** A tiny but well-formed JPEG header followed by filler: what the photo check accepts, `size` bytes decoded. */
function jpegBase64(size: number): string {
  const data = Buffer.alloc(size, 0x11);
  data.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return data.toString('base64');
}

describe('security: accounts and the HTTP edge (e2e)', () => {
  let t: TestApp;
  let admin: string;
  let ipCounter = 0;
  const freshIp = () => `10.9.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;
  const bearer = (token: string) => `Bearer ${token}`;
  const login = (body: object, ip = freshIp()) =>
    request(t.httpServer).post('/api/auth/login').set('X-Forwarded-For', ip).send(body);

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        LOGIN_SLOWDOWN_AFTER: '3',
        LOGIN_SLOWDOWN_BASE: '20ms',
        LOGIN_SLOWDOWN_MAX: '80ms',
        DEVICE_LOG_IMAGE_BUDGET: '2500',
        TOKEN_CHECK_CACHE: '5s',
      },
    });
    admin = await t.adminToken();
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('revocation', () => {
    it("refuses an employee's older tokens right after an admin resets the password; the new one works", async () => {
      const created = await request(t.httpServer)
        .post('/api/employees')
        .set('Authorization', bearer(admin))
        .send({ enroll_id: '7001', username: 'rev.emp', password: 'first-pass-1', fullName: 'Rev Emp' })
        .expect(201);
      const id = (created.body as { item: { _id: string } }).item._id;
      const loginEmp = (password: string) =>
        request(t.httpServer).post('/api/employees/login').send({ username: 'rev.emp', password }).expect(200);
      const old = tokenOf(await loginEmp('first-pass-1'));
      // Read once, so that a cached stamp would be there to go stale.
      await request(t.httpServer).get('/api/employees/me').set('Authorization', bearer(old)).expect(200);
      await request(t.httpServer)
        .put(`/api/employees/${id}`)
        .set('Authorization', bearer(admin))
        .send({ password: 'second-pass-2' })
        .expect(200);
      const res = await request(t.httpServer).get('/api/employees/me').set('Authorization', bearer(old));
      expect(res.status).toBe(401);
      expect(res.body).toEqual(REVOKED);
      const fresh = tokenOf(await loginEmp('second-pass-2'));
      await request(t.httpServer).get('/api/employees/me').set('Authorization', bearer(fresh)).expect(200);
      // Other changes (not the password) revoke nothing.
      await request(t.httpServer)
        .put(`/api/employees/${id}`)
        .set('Authorization', bearer(admin))
        .send({ fullName: 'Renamed' })
        .expect(200);
      await request(t.httpServer).get('/api/employees/me').set('Authorization', bearer(fresh)).expect(200);
    });

    it("refuses the admin's older tokens right after change-password, on this and on another instance", async () => {
      const other = await createTestApp({ env: { MONGODB_URI: t.env.MONGODB_URI, TOKEN_CHECK_CACHE: '300ms' } });
      try {
        const old = tokenOf(await login(TEST_ADMIN).expect(200));
        for (const app of [t, other]) {
          await request(app.httpServer)
            .get('/api/fingerprints/mobile-logs')
            .set('Authorization', bearer(old))
            .expect(200);
        }
        await request(t.httpServer)
          .post('/api/auth/change-password')
          .set('Authorization', bearer(old))
          .send({ currentPassword: TEST_ADMIN.password, newPassword: 'changed-admin-pass' })
          .expect(200);
        const here = await request(t.httpServer).get('/api/fingerprints/mobile-logs').set('Authorization', bearer(old));
        expect({ status: here.status, body: here.body }).toEqual({ status: 401, body: REVOKED });
        // The other instance's cache lives TOKEN_CHECK_CACHE at most.
        await waitFor(
          async () =>
            (await request(other.httpServer).get('/api/fingerprints/mobile-logs').set('Authorization', bearer(old)))
              .status === 401,
          { timeoutMs: 5000, message: 'the other instance never refused the old token' },
        );
        const there = await request(other.httpServer)
          .get('/api/fingerprints/mobile-logs')
          .set('Authorization', bearer(old));
        expect(there.body).toEqual(REVOKED);
        const fresh = tokenOf(await login({ email: TEST_ADMIN.email, password: 'changed-admin-pass' }).expect(200));
        await request(other.httpServer)
          .get('/api/fingerprints/mobile-logs')
          .set('Authorization', bearer(fresh))
          .expect(200);
        // Back to the test password for the rest of the file.
        await request(t.httpServer)
          .post('/api/auth/change-password')
          .set('Authorization', bearer(fresh))
          .send({ currentPassword: 'changed-admin-pass', newPassword: TEST_ADMIN.password })
          .expect(200);
        admin = tokenOf(await login(TEST_ADMIN).expect(200));
      } finally {
        await other.close({ keepDatabase: true });
      }
    });
  });

  describe('login limits', () => {
    it('the owner logs in after 10 failures from other addresses; an attacker at one address is held back', async () => {
      const throttle = t.app.get(LoginThrottleService);
      const pause = jest.spyOn(throttle, 'pause');
      try {
        for (let i = 0; i < 10; i++) {
          await login({ email: TEST_ADMIN.email, password: `stranger-${i}` }).expect(401);
        }
        // Growing, capped slow-down from the 3rd failure of the name: 20, 40, 80, 80, ... ms.
        expect(pause.mock.calls.map(([ms]) => ms)).toEqual([20, 40, 80, 80, 80, 80, 80]);
        const owner = await login(TEST_ADMIN);
        expect(owner.status).toBe(200);
        expect(owner.body).toMatchObject({ success: true, token: expect.any(String) });

        const attacker = freshIp();
        for (let i = 0; i < 10; i++) {
          await login({ email: TEST_ADMIN.email, password: `attacker-${i}` }, attacker).expect(401);
        }
        const held = await login(TEST_ADMIN, attacker);
        expect({ status: held.status, body: held.body }).toEqual({ status: 429, body: TOO_MANY });
        await login(TEST_ADMIN).expect(200);
      } finally {
        pause.mockRestore();
      }
    }, 60_000);
  });

  describe('POST /api/device-log', () => {
    const post = (body: unknown) =>
      request(t.httpServer)
        .post('/api/device-log')
        .send(body as object);
    const record = (enrollid: number, extra: object = {}) => ({ enrollid, time: '2025-11-08 09:00:00', ...extra });

    it('refuses an unknown serial with 403 device_not_allowed and stores nothing', async () => {
      const res = await post({ sn: 'GHOST-T9', record: [record(9101)] });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ success: false, error: 'device_not_allowed', sn: 'GHOST-T9' });
      expect(await t.connection.collection('fingerprintlogs').countDocuments({ device_sn: 'GHOST-T9' })).toBe(0);
      expect(await t.connection.collection('devices').countDocuments({ sn: 'GHOST-T9' })).toBe(0);
    });

    it('accepts a serial an admin created with POST /api/devices', async () => {
      const created = await request(t.httpServer)
        .post('/api/devices')
        .set('Authorization', bearer(admin))
        .send({ sn: 'HTTP-ONLY-1', name: 'Gate', timeZone: 'UTC' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        success: true,
        item: { sn: 'HTTP-ONLY-1', name: 'Gate', timeZone: 'UTC', online: false },
      });
      await post({ sn: 'HTTP-ONLY-1', record: [record(11)] }).expect(200);
      const [punch] = await t.connection.collection('fingerprintlogs').find({ device_sn: 'HTTP-ONLY-1' }).toArray();
      expect(punch.time.toISOString()).toBe('2025-11-08T09:00:00.000Z');
    });

    it('accepts a serial that registered over the gateway', async () => {
      const term = new VirtualTerminal({ sn: 'WS-KNOWN-1', url: `${t.wsUrl}/pub/chat` });
      term.on('warning', () => undefined);
      await term.connect();
      await term.close();
      await post({ sn: 'WS-KNOWN-1', record: [record(12)] }).expect(200);
    });

    it('POST /api/devices: 409 for an existing sn, 400 for a bad one, 401 without a token', async () => {
      const dup = await request(t.httpServer)
        .post('/api/devices')
        .set('Authorization', bearer(admin))
        .send({ sn: 'HTTP-ONLY-1' });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({
        success: false,
        error: 'device_exists',
        message: 'A terminal with sn HTTP-ONLY-1 exists already',
      });
      for (const body of [{}, { sn: 'bad sn' }, { sn: 'OK-1', timeZone: 'Mars/Base' }, { sn: 'OK-1', extra: 1 }]) {
        const res = await request(t.httpServer).post('/api/devices').set('Authorization', bearer(admin)).send(body);
        expect({ body, status: res.status, error: (res.body as { error: string }).error }).toEqual({
          body,
          status: 400,
          error: 'validation_failed',
        });
      }
      await request(t.httpServer).post('/api/devices').send({ sn: 'OK-1' }).expect(401);
      expect(await t.connection.collection('devices').countDocuments({ sn: 'OK-1' })).toBe(0);
    });

    it('refuses 100,000 records with 413 before validating them, while /api/health keeps answering', async () => {
      const errors = jest.spyOn(Logger.prototype, 'error');
      try {
        const body = { sn: 'HTTP-ONLY-1', record: Array.from({ length: 100_000 }, () => ({})) };
        const [big, health] = await Promise.all([post(body), request(t.httpServer).get('/api/health')]);
        expect(big.status).toBe(413);
        expect(big.body).toEqual({
          success: false,
          error: 'too_many_records',
          message: 'A device-log body may carry at most 1000 records (got 100000)',
          max: 1000,
        });
        expect(health.status).toBe(200);
        expect(errors).not.toHaveBeenCalled();
      } finally {
        errors.mockRestore();
      }
    });

    it('keeps photos within DEVICE_LOG_IMAGE_BUDGET per serial and day, then stores punches without them', async () => {
      const photo = jpegBase64(1000);
      await post({
        sn: 'HTTP-ONLY-1',
        record: [21, 22, 23].map((id) => record(id, { image: photo, time: `2025-11-08 10:00:${id}` })),
      }).expect(200);
      await post({ sn: 'HTTP-ONLY-1', record: [record(24, { image: photo, time: '2025-11-08 10:00:24' })] }).expect(
        200,
      );
      const punches = await t.connection
        .collection('fingerprintlogs')
        .find({ device_sn: 'HTTP-ONLY-1', enrollid: { $in: ['21', '22', '23', '24'] } })
        .sort({ enrollid: 1 })
        .toArray();
      expect(punches.map((p) => [p.enrollid, p.imageId ? 'photo' : 'none'])).toEqual([
        ['21', 'photo'],
        ['22', 'photo'],
        ['23', 'none'],
        ['24', 'none'],
      ]);
      const usage = await t.connection.collection('devicelogimageusage').find({}).toArray();
      expect(usage).toEqual([expect.objectContaining({ bytes: 2000 })]);
    });
  });

  describe('JSON depth', () => {
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

    it.each([
      ['POST /api/device-log', '/api/device-log', (deep: string) => `{"sn":"HTTP-ONLY-1","record":${deep}}`],
      ['POST /api/auth/login', '/api/auth/login', (deep: string) => `{"email":${deep},"password":"x"}`],
    ])('%s: a 100,000-level body is 400 validation_failed, with no error logged', async (_name, path, wrap) => {
      const errors = jest.spyOn(Logger.prototype, 'error');
      try {
        const [res, health] = await Promise.all([
          request(t.httpServer)
            .post(path)
            .set('Content-Type', 'application/json')
            .send(wrap(nested(100_000))),
          request(t.httpServer).get('/api/health'),
        ]);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          success: false,
          error: 'validation_failed',
          message: 'body: must not nest objects or arrays deeper than 32 levels',
          errors: [{ field: 'body', messages: ['must not nest objects or arrays deeper than 32 levels'] }],
        });
        expect(health.status).toBe(200);
        expect(errors).not.toHaveBeenCalled();
      } finally {
        errors.mockRestore();
      }
    });

    it('32 levels pass the parser (and reach validation)', async () => {
      const res = await request(t.httpServer)
        .post('/api/auth/login')
        .set('Content-Type', 'application/json')
        .send(`{"email":${nested(31)},"password":"x"}`);
      expect(res.status).toBe(400);
      expect((res.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain('email');
    });
  });

  describe('enrollIds arrays', () => {
    it.each([
      [
        '50,000 ids',
        Array.from({ length: 50_000 }, (_, i) => i + 1),
        'enrollIds must contain no more than 10000 elements',
      ],
      ['a duplicate', [5, 6, 5], 'enrollIds must not contain duplicates'],
    ])('delete-users refuses %s with 400 and queues nothing', async (_name, enrollIds, message) => {
      const res = await request(t.httpServer)
        .post('/api/device/HTTP-ONLY-1/delete-users')
        .set('Authorization', bearer(admin))
        .send({ enrollIds });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      expect((res.body as { errors: { messages: string[] }[] }).errors[0].messages).toContain(message);
      expect(await t.connection.collection('operations').countDocuments({ sn: 'HTTP-ONLY-1' })).toBe(0);
    });

    it('delete-users queues 10,000 ids (the cap) in order, in one request', async () => {
      const enrollIds = Array.from({ length: 10_000 }, (_, i) => 999_999_990_000 + i);
      const res = await request(t.httpServer)
        .post('/api/device/HTTP-ONLY-1/delete-users')
        .set('Authorization', bearer(admin))
        .send({ enrollIds });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, count: 10_000 });
      const results = (res.body as { results: { enrollid: number; status: string }[] }).results;
      expect(results.map((r) => r.enrollid)).toEqual(enrollIds);
      const queued = await t.connection
        .collection('operations')
        .find({ sn: 'HTTP-ONLY-1', type: 'deleteuser' })
        .sort({ _id: 1 })
        .project({ 'payload.enrollid': 1, status: 1 })
        .toArray();
      expect(queued.map((o) => (o.payload as { enrollid: number }).enrollid)).toEqual(enrollIds);
      expect(new Set(queued.map((o) => o.status))).toEqual(new Set(['pending']));
      await t.connection.collection('operations').deleteMany({ sn: 'HTTP-ONLY-1' });
    });

    it('transfer-users refuses 50,000 ids with 400', async () => {
      const res = await request(t.httpServer)
        .post('/api/transfer-users')
        .set('Authorization', bearer(admin))
        .send({
          fromSn: 'HTTP-ONLY-1',
          toSn: 'WS-KNOWN-1',
          enrollIds: Array.from({ length: 50_000 }, (_, i) => i + 1),
          deleteFromSource: false,
        });
      expect(res.status).toBe(400);
      expect((res.body as { errors: { field: string; messages: string[] }[] }).errors).toEqual([
        { field: 'enrollIds', messages: ['enrollIds must contain no more than 10000 elements'] },
      ]);
    });
  });

  describe('Content-Security-Policy', () => {
    it('the Swagger UI page allows only its own scripts and styles, and its inline styles by hash', async () => {
      const res = await request(t.httpServer).get('/api/docs').expect(200);
      const policy = String(res.headers['content-security-policy']);
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toContain('unsafe-inline');
      expect(policy).not.toContain('unsafe-eval');
      const html = res.text;
      for (const m of html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)) {
        const hash = createHash('sha256').update(m[1]).digest('base64');
        expect(policy).toContain(`'sha256-${hash}'`);
      }
      // Every script and stylesheet the page loads comes from this server.
      const sources = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)=["']([^"']+)["']/gi)].map((m) => m[1]);
      expect(sources.length).toBeGreaterThanOrEqual(4);
      for (const src of sources) {
        expect(src).not.toMatch(/^(https?:)?\/\//);
        const asset = await request(t.httpServer).get(new URL(src, 'http://x/api/docs').pathname);
        expect({ src, status: asset.status }).toEqual({ src, status: 200 });
      }
    });

    it('API answers carry a policy that allows nothing', async () => {
      const res = await request(t.httpServer).get('/api/health').expect(200);
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      );
    });
  });
});

describe('security: production credentials (e2e)', () => {
  it('refuses to boot a first admin from the default password, naming ADMIN_PASSWORD', async () => {
    await expect(createTestApp({ env: { NODE_ENV: 'production', ADMIN_PASSWORD: 'admin123' } })).rejects.toThrow(
      /ADMIN_PASSWORD/,
    );
  });

  it('an existing admin with the default password gets a token for change-password alone', async () => {
    const seeded = await createTestApp();
    const uri = seeded.env.MONGODB_URI;
    await seeded.close({ keepDatabase: true });
    const t = await createTestApp({
      env: { NODE_ENV: 'production', MONGODB_URI: uri, ADMIN_PASSWORD: 'unused-here-9' },
    });
    try {
      const res = await request(t.httpServer).post('/api/auth/login').send(TEST_ADMIN).expect(200);
      expect(res.body).toMatchObject({ success: true, passwordChangeRequired: true });
      const limited = tokenOf(res);
      const refused = await request(t.httpServer).get('/api/devices').set('Authorization', `Bearer ${limited}`);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({
        success: false,
        error: 'password_change_required',
        message: 'The default admin password must be changed first (POST /api/auth/change-password)',
      });
      const same = await request(t.httpServer)
        .post('/api/auth/change-password')
        .set('Authorization', `Bearer ${limited}`)
        .send({ currentPassword: 'admin123', newPassword: 'admin123' });
      expect(same.status).toBe(400);
      await request(t.httpServer)
        .post('/api/auth/change-password')
        .set('Authorization', `Bearer ${limited}`)
        .send({ currentPassword: 'admin123', newPassword: 'production-pass-1' })
        .expect(200);
      const after = await request(t.httpServer).get('/api/devices').set('Authorization', `Bearer ${limited}`);
      expect(after.body).toEqual(REVOKED);
      const full = await request(t.httpServer)
        .post('/api/auth/login')
        .send({ email: TEST_ADMIN.email, password: 'production-pass-1' })
        .expect(200);
      expect(full.body).not.toHaveProperty('passwordChangeRequired');
      await request(t.httpServer)
        .get('/api/devices')
        .set('Authorization', `Bearer ${tokenOf(full)}`)
        .expect(200);
    } finally {
      await t.close();
    }
  });
});
