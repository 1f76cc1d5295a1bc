import { Logger } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { nowSeconds, signHs256, unsignedToken } from '@app/testing';
import { AdminBootstrapService } from '../src/auth/admin-bootstrap.service';
import { createTestApp, TEST_ADMIN, TEST_JWT_SECRET, TestApp } from './support/test-app';

const USER_LIMIT = 3;
const IP_LIMIT = 5;

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
}

/** A token signed with the right secret but with HS512, which the server must not accept. */
function signHs512(payload: Record<string, unknown>, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const signature = createHmac('sha512', secret).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

const INVALID_CREDENTIALS = { success: false, error: 'invalid_credentials', message: 'Invalid email or password' };
const TOO_MANY = {
  success: false,
  error: 'too_many_attempts',
  message: 'Too many failed login attempts; try again later',
};
const MISSING = { success: false, error: 'unauthorized', message: 'Missing bearer token' };
const INVALID = { success: false, error: 'unauthorized', message: 'Invalid token' };
const EXPIRED = { success: false, error: 'unauthorized', message: 'Token expired' };

describe('auth (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  let adminId: string;
  let employeeToken: string;
  let employeeId: string;
  // Each test speaks from addresses of its own (X-Forwarded-For from loopback, trusted by TRUST_PROXY), so the
  // per-IP failure counter of one test never leaks into another.
  let ipCounter = 0;
  const freshIp = () => `10.1.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;

  const login = (body: Record<string, unknown>, ip = freshIp()) =>
    request(t.httpServer).post('/api/auth/login').set('X-Forwarded-For', ip).send(body);
  const attempts = () => t.connection.collection('loginattempts');

  let bootWarnings: string[] = [];

  beforeAll(async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    t = await createTestApp({
      // The clients speak through a proxy on loopback, so X-Forwarded-For names them (TRUST_PROXY).
      env: {
        LOGIN_MAX_FAILURES_PER_USER: String(USER_LIMIT),
        LOGIN_MAX_FAILURES_PER_IP: String(IP_LIMIT),
        LOGIN_SLOWDOWN_BASE: '10ms',
        LOGIN_SLOWDOWN_MAX: '20ms',
        TRUST_PROXY: 'loopback',
      },
    });
    bootWarnings = warn.mock.calls.map((args) => String(args[0]));
    warn.mockRestore();
    adminToken = await t.adminToken();
    adminId = decodeJwt(adminToken).payload.sub as string;
    const created = await request(t.httpServer)
      .post('/api/employees')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ enroll_id: '500', username: 'matrix.emp', password: 'matrix-pass-1', fullName: 'Matrix Employee' })
      .expect(201);
    employeeId = (created.body as { item: { _id: string } }).item._id;
    const res = await request(t.httpServer)
      .post('/api/employees/login')
      .send({ username: 'matrix.emp', password: 'matrix-pass-1' })
      .expect(200);
    employeeToken = (res.body as { token: string }).token;
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('first admin', () => {
    it('is created at boot from the configuration, with an argon2id hash', async () => {
      const admins = await t.connection.collection('adminusers').find().toArray();
      expect(admins).toHaveLength(1);
      expect(admins[0]).toMatchObject({ email: TEST_ADMIN.email, name: 'Admin' });
      expect(admins[0]._id.toString()).toBe(adminId);
      expect(String(admins[0].passwordHash)).toMatch(/^\$argon2id\$/);
      expect(JSON.stringify(admins[0])).not.toContain(TEST_ADMIN.password);
    });

    it('warns loudly at boot while the admin keeps the default password', () => {
      expect(bootWarnings).toContain(
        'SECURITY: admin admin@timmy.local still has the default password "admin123". ' +
          'Change it now (POST /api/auth/change-password) or set ADMIN_PASSWORD before the first start.',
      );
    });

    it('is not created again, nor overwritten, when an admin exists', async () => {
      const before = await t.connection.collection('adminusers').findOne({});
      await expect(t.app.get(AdminBootstrapService).ensureFirstAdmin()).resolves.toBe(false);
      const after = await t.connection.collection('adminusers').find().toArray();
      expect(after).toHaveLength(1);
      expect(after[0].passwordHash).toBe(before?.passwordHash);
    });
  });

  describe('POST /api/auth/login', () => {
    it('answers the contract body with an HS256 admin token of the configured lifetime', async () => {
      const res = await login(TEST_ADMIN).expect(200);
      expect(res.body).toEqual({
        success: true,
        token: expect.any(String),
        user: { email: TEST_ADMIN.email, name: 'Admin', role: 'ADMIN' },
      });
      const { header, payload } = decodeJwt((res.body as { token: string }).token);
      expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(payload).toEqual({
        sub: adminId,
        role: 'ADMIN',
        owner: adminId,
        pws: 0,
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect((payload.exp as number) - (payload.iat as number)).toBe(12 * 3600);
    });

    it('takes the email in any case and with surrounding spaces', async () => {
      await login({ email: '  ADMIN@Timmy.Local ', password: TEST_ADMIN.password }).expect(200);
    });

    it('answers a wrong password and an unknown email identically', async () => {
      const wrongPassword = await login({ email: TEST_ADMIN.email, password: 'not-the-password' });
      const unknownEmail = await login({ email: 'nobody@timmy.local', password: TEST_ADMIN.password });
      expect(wrongPassword.status).toBe(401);
      expect(unknownEmail.status).toBe(401);
      expect(wrongPassword.body).toEqual(INVALID_CREDENTIALS);
      expect(unknownEmail.body).toEqual(INVALID_CREDENTIALS);
      expect(wrongPassword.headers['content-type']).toBe(unknownEmail.headers['content-type']);
      expect(wrongPassword.text).toBe(unknownEmail.text);
      // The wrong password above is one failure of the real admin: forget it for the tests below.
      await login(TEST_ADMIN).expect(200);
    });

    it.each([
      ['no body', {}, 'email'],
      ['no password', { email: TEST_ADMIN.email }, 'password'],
      ['empty email', { email: '', password: 'x' }, 'email'],
      ['numeric password', { email: TEST_ADMIN.email, password: 12345678 }, 'password'],
      ['email as an object', { email: { $ne: null }, password: 'x' }, 'email'],
      ['an unknown field', { ...TEST_ADMIN, role: 'ADMIN' }, 'role'],
    ])('refuses %s with 400 validation_failed', async (_case, body, field) => {
      const res = await login(body).expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      const errors = (res.body as { errors: { field: string }[] }).errors;
      expect(errors.map((e) => e.field)).toContain(field);
    });

    it('does not count validation errors as failed logins', async () => {
      const ip = freshIp();
      for (let i = 0; i < USER_LIMIT + 2; i++) await login({ email: 'quiet@timmy.local' }, ip).expect(400);
      const keys = ['admin:quiet@timmy.local', `admin:quiet@timmy.local|ip:${ip}`, `ip:${ip}`];
      expect(await attempts().countDocuments({ _id: { $in: keys } } as never)).toBe(0);
    });

    it(`refuses an email from one address after ${USER_LIMIT} failures there with 429; other addresses are not refused`, async () => {
      const email = 'locked@timmy.local';
      const ip = freshIp();
      for (let i = 0; i < USER_LIMIT; i++) {
        expect((await login({ email, password: `guess-${i}` }, ip)).body).toEqual(INVALID_CREDENTIALS);
      }
      const blocked = await login({ email: 'LOCKED@timmy.local', password: 'guess-x' }, ip);
      expect(blocked.status).toBe(429);
      expect(blocked.body).toEqual(TOO_MANY);
      // Refused attempts check nothing and are not counted.
      expect(await attempts().findOne({ _id: `admin:${email}|ip:${ip}` } as never)).toMatchObject({
        count: USER_LIMIT,
      });
      expect(await attempts().findOne({ _id: `admin:${email}` } as never)).toMatchObject({ count: USER_LIMIT });
      expect((await login({ email, password: 'guess-y' })).body).toEqual(INVALID_CREDENTIALS);
    });

    it('a success resets the failures of the email from that address', async () => {
      const ip = freshIp();
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < USER_LIMIT - 1; i++) {
          await login({ email: TEST_ADMIN.email, password: 'wrong-password' }, ip).expect(401);
        }
        expect(await attempts().findOne({ _id: `admin:${TEST_ADMIN.email}|ip:${ip}` } as never)).toMatchObject({
          count: USER_LIMIT - 1,
        });
        // Without the reset, the second round would pass the limit.
        await login(TEST_ADMIN, ip).expect(200);
        expect(await attempts().findOne({ _id: `admin:${TEST_ADMIN.email}|ip:${ip}` } as never)).toBeNull();
      }
    });

    it(`refuses an address after ${IP_LIMIT} failures on any emails; other addresses are unaffected`, async () => {
      const ip = freshIp();
      for (let i = 0; i < IP_LIMIT; i++) {
        await login({ email: `spray-${i}@timmy.local`, password: 'password1' }, ip).expect(401);
      }
      expect((await login(TEST_ADMIN, ip)).body).toEqual(TOO_MANY);
      expect(await attempts().findOne({ _id: `ip:${ip}` } as never)).toMatchObject({ count: IP_LIMIT });
      await login(TEST_ADMIN).expect(200);
    });

    it('counts again from zero once the window of an email is over', async () => {
      const email = 'expired-window@timmy.local';
      const ip = freshIp();
      for (let i = 0; i < USER_LIMIT; i++) await login({ email, password: 'password1' }, ip).expect(401);
      await login({ email, password: 'password1' }, ip).expect(429);
      const sixteenMinutesAgo = new Date(Date.now() - 16 * 60_000);
      const key = `admin:${email}|ip:${ip}`;
      await attempts().updateOne({ _id: key } as never, { $set: { windowStart: sixteenMinutesAgo } });
      await login({ email, password: 'password1' }, ip).expect(401);
      expect(await attempts().findOne({ _id: key } as never)).toMatchObject({ count: 1 });
    });
  });

  describe('POST /api/auth/change-password', () => {
    const change = (body: Record<string, unknown>, ip = freshIp()) =>
      request(t.httpServer)
        .post('/api/auth/change-password')
        .set('Authorization', `Bearer ${adminToken}`)
        .set('X-Forwarded-For', ip)
        .send(body);

    it('refuses a wrong current password with 400 and changes nothing', async () => {
      const before = await t.connection.collection('adminusers').findOne({});
      const res = await change({ currentPassword: 'wrong-current', newPassword: 'another-password' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        success: false,
        error: 'invalid_current_password',
        message: 'The current password is not correct',
      });
      const after = await t.connection.collection('adminusers').findOne({});
      expect(after?.passwordHash).toBe(before?.passwordHash);
      await login(TEST_ADMIN).expect(200);
    });

    it.each([
      ['a short new password', { currentPassword: TEST_ADMIN.password, newPassword: 'short' }, 'newPassword'],
      ['no current password', { newPassword: 'long-enough-password' }, 'currentPassword'],
      ['a numeric new password', { currentPassword: TEST_ADMIN.password, newPassword: 123456789 }, 'newPassword'],
    ])('refuses %s with 400 validation_failed', async (_case, body, field) => {
      const res = await change(body).expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      expect((res.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
    });

    it('changes the password: the old one stops working, the new one works, a reboot keeps it', async () => {
      const res = await change({ currentPassword: TEST_ADMIN.password, newPassword: 'a-new-admin-password' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, message: 'Password changed' });
      expect((await login(TEST_ADMIN)).body).toEqual(INVALID_CREDENTIALS);
      await login({ email: TEST_ADMIN.email, password: 'a-new-admin-password' }).expect(200);
      await t.app.get(AdminBootstrapService).ensureFirstAdmin();
      await login({ email: TEST_ADMIN.email, password: 'a-new-admin-password' }).expect(200);
      // The change revoked the token it was made with: log in again, then back to the original password.
      adminToken = (
        (await login({ email: TEST_ADMIN.email, password: 'a-new-admin-password' })).body as { token: string }
      ).token;
      await change({ currentPassword: 'a-new-admin-password', newPassword: TEST_ADMIN.password }).expect(200);
      adminToken = ((await login(TEST_ADMIN).expect(200)).body as { token: string }).token;
    });
  });

  describe('auth matrix', () => {
    const unknownId = '0123456789abcdef01234567';
    // With the right token each call gets an answer that is not about auth and changes nothing.
    const adminRoutes: { method: 'get' | 'post' | 'put' | 'delete'; path: string; body?: object; ok: number }[] = [
      { method: 'post', path: '/api/auth/change-password', body: {}, ok: 400 },
      { method: 'get', path: '/api/employees', ok: 200 },
      { method: 'get', path: `/api/employees/${unknownId}`, ok: 404 },
      { method: 'post', path: '/api/employees', body: {}, ok: 400 },
      { method: 'put', path: `/api/employees/${unknownId}`, body: { fullName: 'x' }, ok: 404 },
      { method: 'delete', path: `/api/employees/${unknownId}`, ok: 404 },
    ];
    const employeeRoutes = [{ method: 'get' as const, path: '/api/employees/me', ok: 200 }];

    const call = (
      route: { method: 'get' | 'post' | 'put' | 'delete'; path: string; body?: object },
      token?: string,
    ) => {
      let req = request(t.httpServer)[route.method](route.path);
      if (token !== undefined) req = req.set('Authorization', token);
      return route.body ? req.send(route.body) : req;
    };

    function badTokens(): [string, string | undefined, object][] {
      const now = nowSeconds();
      const admin = { sub: adminId, role: 'ADMIN', owner: adminId };
      const [h, , s] = adminToken.split('.');
      const forgedBody = Buffer.from(JSON.stringify({ ...admin, role: 'ADMIN', sub: 'x', iat: now })).toString(
        'base64url',
      );
      return [
        ['no Authorization header', undefined, MISSING],
        ['an empty Bearer', 'Bearer ', MISSING],
        ['a Basic header', 'Basic YWRtaW46YWRtaW4xMjM=', MISSING],
        ['garbage', 'Bearer not.a.jwt', INVALID],
        ['a random string', 'Bearer abcdef', INVALID],
        [
          'an expired token',
          `Bearer ${signHs256({ ...admin, iat: now - 7200, exp: now - 60 }, TEST_JWT_SECRET)}`,
          EXPIRED,
        ],
        ['alg none', `Bearer ${unsignedToken({ ...admin, iat: now, exp: now + 3600 })}`, INVALID],
        [
          'a wrong secret',
          `Bearer ${signHs256({ ...admin, iat: now, exp: now + 3600 }, 'another-secret-0123456789')}`,
          INVALID,
        ],
        [
          'HS512 with the right secret',
          `Bearer ${signHs512({ ...admin, iat: now, exp: now + 3600 }, TEST_JWT_SECRET)}`,
          INVALID,
        ],
        ['a tampered payload', `Bearer ${h}.${forgedBody}.${s}`, INVALID],
        [
          'a signed token with an unknown role',
          `Bearer ${signHs256({ ...admin, role: 'ROOT', iat: now }, TEST_JWT_SECRET)}`,
          INVALID,
        ],
        [
          'a signed token without owner',
          `Bearer ${signHs256({ sub: adminId, role: 'ADMIN', iat: now }, TEST_JWT_SECRET)}`,
          INVALID,
        ],
      ];
    }

    it('admin routes: every bad token is 401 with the right message', async () => {
      for (const route of adminRoutes) {
        for (const [name, token, body] of badTokens()) {
          const res = await call(route, token);
          expect({ route: `${route.method} ${route.path}`, name, status: res.status, body: res.body }).toEqual({
            route: `${route.method} ${route.path}`,
            name,
            status: 401,
            body,
          });
        }
      }
    });

    it('a token accepted before is refused once it expires (a verified token is remembered only until then)', async () => {
      // The logged-in admin's claims (its password stamp included), signed again with a close expiry.
      const admin = JSON.parse(Buffer.from(adminToken.split('.')[1], 'base64url').toString('utf8')) as object;
      // Expires at the start of the second after next: accepted now, refused within about two seconds.
      const exp = nowSeconds() + 2;
      const token = `Bearer ${signHs256({ ...admin, iat: nowSeconds(), exp }, TEST_JWT_SECRET)}`;
      await call({ method: 'get', path: '/api/employees' }, token).expect(200);
      await call({ method: 'get', path: '/api/employees' }, token).expect(200);
      await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 50));
      const res = await call({ method: 'get', path: '/api/employees' }, token);
      expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: EXPIRED });
      // The same payload with a broken signature is refused even though its twin was accepted.
      const [h, p] = token.slice('Bearer '.length).split('.');
      const other = `Bearer ${signHs256({ ...admin, iat: nowSeconds(), exp: nowSeconds() + 60 }, TEST_JWT_SECRET)}`;
      await call({ method: 'get', path: '/api/employees' }, other).expect(200);
      const [, , sig] = other.slice('Bearer '.length).split('.');
      const res2 = await call({ method: 'get', path: '/api/employees' }, `Bearer ${h}.${p}.${sig}`);
      expect({ status: res2.status, body: res2.body }).toEqual({ status: 401, body: INVALID });
    });

    it('employee route: every bad token is 401 with the right message', async () => {
      for (const route of employeeRoutes) {
        for (const [name, token, body] of badTokens()) {
          const res = await call(route, token);
          expect({ name, status: res.status, body: res.body }).toEqual({ name, status: 401, body });
        }
      }
    });

    it('an employee token on admin routes is 403 forbidden', async () => {
      for (const route of adminRoutes) {
        const res = await call(route, `Bearer ${employeeToken}`);
        expect({ route: route.path, status: res.status, body: res.body }).toEqual({
          route: route.path,
          status: 403,
          body: { success: false, error: 'forbidden', message: 'This route requires a ADMIN token' },
        });
      }
    });

    it('an admin token on the employee route is 403 forbidden', async () => {
      const res = await call(employeeRoutes[0], `Bearer ${adminToken}`);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ success: false, error: 'forbidden', message: 'This route requires a EMPLOYEE token' });
    });

    it('the right role gets through (scheme name in any case)', async () => {
      for (const route of adminRoutes) {
        const res = await call(route, `Bearer ${adminToken}`);
        expect({ route: route.path, status: res.status }).toEqual({ route: route.path, status: route.ok });
      }
      const me = await call(employeeRoutes[0], `bearer ${employeeToken}`);
      expect(me.status).toBe(200);
      expect((me.body as { item: { _id: string } }).item._id).toBe(employeeId);
    });

    it('a correctly signed employee token of an employee that never existed is 401', async () => {
      const now = nowSeconds();
      const token = signHs256(
        { sub: unknownId, role: 'EMPLOYEE', owner: adminId, enrollId: '1', username: 'ghost', iat: now, exp: now + 60 },
        TEST_JWT_SECRET,
      );
      const res = await call(employeeRoutes[0], `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        success: false,
        error: 'unauthorized',
        message: 'The employee of this token no longer exists',
      });
    });

    it('public routes need no token', async () => {
      await request(t.httpServer).post('/api/auth/login').send(TEST_ADMIN).expect(200);
      await request(t.httpServer)
        .post('/api/employees/login')
        .send({ username: 'matrix.emp', password: 'matrix-pass-1' })
        .expect(200);
    });
  });

  describe('Swagger', () => {
    it('documents the bearer scheme and the role of every route', async () => {
      const res = await request(t.httpServer).get('/api/docs-json').expect(200);
      const doc = res.body as {
        paths: Record<
          string,
          Record<string, { summary?: string; security?: unknown[]; responses: Record<string, unknown> }>
        >;
      };
      const admin = [
        ['/api/auth/change-password', 'post'],
        ['/api/employees', 'get'],
        ['/api/employees', 'post'],
        ['/api/employees/{id}', 'get'],
        ['/api/employees/{id}', 'put'],
        ['/api/employees/{id}', 'delete'],
      ];
      for (const [path, method] of admin) {
        const op = doc.paths[path][method];
        expect(op.security).toEqual([{ bearer: [] }]);
        expect(op.summary).toMatch(/Admin token/);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
      }
      expect(doc.paths['/api/employees/me'].get.summary).toMatch(/Employee token/);
      expect(doc.paths['/api/employees/me'].get.security).toEqual([{ bearer: [] }]);
      for (const path of ['/api/auth/login', '/api/employees/login']) {
        expect(doc.paths[path].post.summary).toMatch(/Public/);
        expect(doc.paths[path].post.security).toEqual([]);
        expect(Object.keys(doc.paths[path].post.responses)).toEqual(
          expect.arrayContaining(['200', '400', '401', '429']),
        );
      }
    });
  });
});
