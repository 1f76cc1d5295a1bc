import { ObjectId } from 'mongodb';
import request from 'supertest';
import { createTestApp, TestApp } from './support/test-app';

const USER_LIMIT = 3;
const IP_LIMIT = 5;

interface Item {
  _id: string;
  enroll_id: string;
  username: string;
  fullName: string;
  phone: string;
  email: string;
  isActive: boolean;
  app_permissions: Record<string, boolean>;
  owner: string;
  createdAt: string;
  updatedAt: string;
}

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
}

const INVALID_CREDENTIALS = { success: false, error: 'invalid_credentials', message: 'Invalid username or password' };
const TOO_MANY = {
  success: false,
  error: 'too_many_attempts',
  message: 'Too many failed login attempts; try again later',
};
const NOT_FOUND = { success: false, error: 'employee_not_found', message: 'No employee with this id' };
const INACTIVE = { success: false, error: 'account_inactive', message: 'This employee account is deactivated' };
const NO_APP = {
  success: false,
  error: 'app_login_not_allowed',
  message: 'This employee is not allowed to use the mobile app',
};
const GONE = { success: false, error: 'unauthorized', message: 'The employee of this token no longer exists' };

describe('employees (e2e)', () => {
  let t: TestApp;
  let token: string;
  let ownerId: string;
  let seq = 0;
  let ipCounter = 0;
  const freshIp = () => `10.2.${Math.floor(++ipCounter / 250)}.${ipCounter % 250}`;
  const employees = () => t.connection.collection('employees');
  const attempts = () => t.connection.collection('loginattempts');

  const api = {
    list: (query = '') => request(t.httpServer).get(`/api/employees${query}`).set('Authorization', `Bearer ${token}`),
    get: (id: string) => request(t.httpServer).get(`/api/employees/${id}`).set('Authorization', `Bearer ${token}`),
    create: (body: unknown) =>
      request(t.httpServer)
        .post('/api/employees')
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    update: (id: string, body: unknown) =>
      request(t.httpServer)
        .put(`/api/employees/${id}`)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    remove: (id: string) =>
      request(t.httpServer).delete(`/api/employees/${id}`).set('Authorization', `Bearer ${token}`),
    login: (body: unknown, ip = freshIp()) =>
      request(t.httpServer)
        .post('/api/employees/login')
        .set('X-Forwarded-For', ip)
        .send(body as object),
    me: (employeeToken: string) =>
      request(t.httpServer).get('/api/employees/me').set('Authorization', `Bearer ${employeeToken}`),
  };

  /** A valid new employee with unique username and enroll_id. */
  function newEmployee(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    seq++;
    return {
      enroll_id: String(1000 + seq),
      username: `emp.${seq}`,
      password: `password-${seq}`,
      fullName: `Employee ${seq}`,
      ...overrides,
    };
  }

  async function created(overrides: Record<string, unknown> = {}): Promise<{ item: Item; password: string }> {
    const body = newEmployee(overrides);
    const res = await api.create(body);
    expect(res.status).toBe(201);
    return { item: (res.body as { item: Item }).item, password: body.password as string };
  }

  async function loggedIn(
    overrides: Record<string, unknown> = {},
  ): Promise<{ item: Item; password: string; token: string }> {
    const { item, password } = await created(overrides);
    const res = await api.login({ username: item.username, password }).expect(200);
    return { item, password, token: (res.body as { token: string }).token };
  }

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        LOGIN_MAX_FAILURES_PER_USER: String(USER_LIMIT),
        LOGIN_MAX_FAILURES_PER_IP: String(IP_LIMIT),
        LOGIN_SLOWDOWN_BASE: '10ms',
        LOGIN_SLOWDOWN_MAX: '20ms',
      },
    });
    token = await t.adminToken();
    ownerId = decodePayload(token).sub as string;
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('POST /api/employees', () => {
    it('creates an employee with the defaults and answers it without the password', async () => {
      const res = await api.create({
        enroll_id: '121',
        username: 'asd',
        password: 'strongPassword',
        fullName: 'mustafa',
      });
      expect(res.status).toBe(201);
      const item = (res.body as { item: Item }).item;
      expect(res.body).toEqual({
        success: true,
        item: {
          _id: expect.stringMatching(/^[0-9a-f]{24}$/),
          enroll_id: '121',
          username: 'asd',
          fullName: 'mustafa',
          phone: '',
          email: '',
          isActive: true,
          app_permissions: { can_login_app: true, can_view_fingerprint: true },
          owner: ownerId,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      });
      const stored = await employees().findOne({ _id: new ObjectId(item._id) });
      expect(stored).toMatchObject({
        enroll_id: '121',
        username: 'asd',
        fullName: 'mustafa',
        isActive: true,
        app_permissions: { can_login_app: true, can_view_fingerprint: true },
      });
      expect(stored?.owner).toEqual(new ObjectId(ownerId));
      expect(new Date(item.createdAt).getTime()).toBe((stored?.createdAt as Date).getTime());
      expect(String(stored?.passwordHash)).toMatch(/^\$argon2id\$/);
      expect(stored).not.toHaveProperty('password');
      expect(JSON.stringify(stored)).not.toContain('strongPassword');
    });

    it('keeps every given field, takes an enroll_id sent as a number and merges app_permissions', async () => {
      const res = await api.create({
        enroll_id: 8642,
        username: 'Full_Fields-1.x',
        password: 'long-enough',
        fullName: '  Spaced Name  ',
        phone: '+964 770 123 4567',
        email: 'full@example.com',
        isActive: false,
        app_permissions: { can_view_fingerprint: false, can_export: true },
      });
      expect(res.status).toBe(201);
      expect((res.body as { item: Item }).item).toMatchObject({
        enroll_id: '8642',
        username: 'Full_Fields-1.x',
        fullName: 'Spaced Name',
        phone: '+964 770 123 4567',
        email: 'full@example.com',
        isActive: false,
        app_permissions: { can_login_app: true, can_view_fingerprint: false, can_export: true },
      });
      expect(await employees().findOne({ username: 'Full_Fields-1.x' })).toMatchObject({ enroll_id: '8642' });
    });

    const long = (n: number) => 'x'.repeat(n);
    it.each<[string, Record<string, unknown>, string]>([
      ['a missing enroll_id', { enroll_id: undefined }, 'enroll_id'],
      ['a missing username', { username: undefined }, 'username'],
      ['a missing password', { password: undefined }, 'password'],
      ['a missing fullName', { fullName: undefined }, 'fullName'],
      ['a blank fullName', { fullName: '   ' }, 'fullName'],
      ['enroll_id with letters', { enroll_id: '12a' }, 'enroll_id'],
      ['enroll_id 0', { enroll_id: '0' }, 'enroll_id'],
      ['enroll_id with a leading zero', { enroll_id: '0121' }, 'enroll_id'],
      ['a negative enroll_id', { enroll_id: -5 }, 'enroll_id'],
      ['a fractional enroll_id', { enroll_id: 1.5 }, 'enroll_id'],
      ['a boolean enroll_id', { enroll_id: true }, 'enroll_id'],
      ['a 13-digit enroll_id', { enroll_id: '1234567890123' }, 'enroll_id'],
      ['a 2-character username', { username: 'ab' }, 'username'],
      ['a 65-character username', { username: long(65) }, 'username'],
      ['a username with a space', { username: 'john doe' }, 'username'],
      ['a username with non-ASCII letters', { username: 'jöhn' }, 'username'],
      ['a username with $', { username: '$where' }, 'username'],
      ['a numeric username', { username: 12345 }, 'username'],
      ['a 7-character password', { password: '1234567' }, 'password'],
      ['a numeric password', { password: 12345678 }, 'password'],
      ['a bad email', { email: 'not-an-email' }, 'email'],
      ['an email without domain', { email: 'a@' }, 'email'],
      ['a numeric phone', { phone: 7701234567 }, 'phone'],
      ['a 33-character phone', { phone: '1'.repeat(33) }, 'phone'],
      ['isActive as a string', { isActive: 'yes' }, 'isActive'],
      ['app_permissions as an array', { app_permissions: [true] }, 'app_permissions'],
      ['a non-boolean permission', { app_permissions: { can_login_app: 'true' } }, 'app_permissions'],
      ['a $-operator permission key', { app_permissions: { $set: true } }, 'app_permissions'],
      ['a dotted permission key', { app_permissions: { 'a.b': true } }, 'app_permissions'],
      ['an unknown field', { role: 'ADMIN' }, 'role'],
      ['a passwordHash field', { passwordHash: '$argon2id$fake' }, 'passwordHash'],
    ])('refuses %s with 400 and stores nothing', async (_case, overrides, field) => {
      const before = await employees().countDocuments();
      const res = await api.create(newEmployee(overrides));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed', message: expect.any(String) });
      expect((res.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
      expect(await employees().countDocuments()).toBe(before);
    });

    it('answers a validation error with the field and its messages', async () => {
      const res = await api.create(newEmployee({ password: 'short' }));
      expect(res.body).toEqual({
        success: false,
        error: 'validation_failed',
        message: 'password: password must be longer than or equal to 8 characters',
        errors: [{ field: 'password', messages: ['password must be longer than or equal to 8 characters'] }],
      });
    });

    it('accepts an empty email as none', async () => {
      const res = await api.create(newEmployee({ email: '' })).expect(201);
      expect((res.body as { item: Item }).item.email).toBe('');
    });

    it('refuses a taken username with 409 username_taken', async () => {
      const { item } = await created();
      const before = await employees().countDocuments();
      const res = await api.create(newEmployee({ username: item.username }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ success: false, error: 'username_taken', message: 'This username is already taken' });
      expect(await employees().countDocuments()).toBe(before);
    });

    it('refuses an enroll_id already used by the same owner with 409 enroll_id_taken', async () => {
      const { item } = await created();
      const res = await api.create(newEmployee({ enroll_id: Number(item.enroll_id) }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        success: false,
        error: 'enroll_id_taken',
        message: 'Another employee already has this enroll_id',
      });
      expect(await employees().countDocuments({ enroll_id: item.enroll_id })).toBe(1);
    });

    it("an enroll_id is unique per owner: another admin's employee may have the same one", async () => {
      await employees().insertOne({
        enroll_id: '4242',
        username: 'other.owner.4242',
        passwordHash: 'x',
        fullName: 'Other Owner',
        owner: new ObjectId(),
        createdAt: new Date(),
        updatedAt: new Date(),
      });
      const res = await api.create(newEmployee({ enroll_id: '4242' }));
      expect(res.status).toBe(201);
      expect(await employees().countDocuments({ enroll_id: '4242' })).toBe(2);
    });

    it('lets the unique index decide between simultaneous creates of one username', async () => {
      const bodies = Array.from({ length: 5 }, () => newEmployee({ username: 'raced.name' }));
      const results = await Promise.all(bodies.map((body) => api.create(body)));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
      expect(await employees().countDocuments({ username: 'raced.name' })).toBe(1);
    });
  });

  describe('GET /api/employees', () => {
    let alpha: Item;
    let beta: Item;
    let dotted: Item;
    const foreignOwner = new ObjectId();

    beforeAll(async () => {
      alpha = (
        await created({ username: 'search.alpha', fullName: 'Zainab Qasim', phone: '0770 111', email: 'zq@mail.iq' })
      ).item;
      beta = (await created({ username: 'search_beta', fullName: 'Omar QASIMI', phone: '0780-222', email: '' })).item;
      dotted = (await created({ username: 'search-paren', fullName: 'Odd (name) .* here' })).item;
      // An employee of another admin: never visible here.
      await employees().insertOne({
        enroll_id: '77',
        username: 'someone.elses',
        passwordHash: 'x',
        fullName: 'Zainab Foreign',
        phone: '',
        email: '',
        isActive: true,
        app_permissions: {},
        owner: foreignOwner,
        createdAt: new Date(),
        updatedAt: new Date(),
      });
    });

    const names = (res: request.Response) => (res.body as { items: Item[] }).items.map((i) => i.username).sort();

    it("lists the admin's employees only, without passwords, newest first", async () => {
      const res = await api.list().expect(200);
      const body = res.body as { success: boolean; items: Item[] };
      expect(body.success).toBe(true);
      expect(body.items.length).toBe(await employees().countDocuments({ owner: new ObjectId(ownerId) }));
      expect(body.items.map((i) => i.username)).not.toContain('someone.elses');
      for (const item of body.items) {
        expect(item).not.toHaveProperty('passwordHash');
        expect(item).not.toHaveProperty('password');
        expect(item.owner).toBe(ownerId);
      }
      const times = body.items.map((i) => new Date(i.createdAt).getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(body.items.find((i) => i._id === alpha._id)).toEqual(alpha);
    });

    it.each([
      ['username', '?q=SEARCH.alp', ['search.alpha']],
      ['fullName, any case', '?q=qasim', ['search.alpha', 'search_beta']],
      ['phone', '?q=0780', ['search_beta']],
      ['email', '?q=ZQ@MAIL', ['search.alpha']],
      ['"." as text', '?q=h.a', ['search.alpha']],
      ['".*" as text', `?q=${encodeURIComponent('.*')}`, ['search-paren']],
      ['an unbalanced "("', `?q=${encodeURIComponent('(name')}`, ['search-paren']],
      ['a lone "("', `?q=${encodeURIComponent('(')}`, ['search-paren']],
      ['regex syntax that matches nothing literally', `?q=${encodeURIComponent('^Zainab$|[')}`, []],
      ['no match', '?q=nobody-has-this', []],
    ])('q searches %s', async (_case, query, expected) => {
      const res = await api.list(query).expect(200);
      expect(names(res)).toEqual(expected);
    });

    it('an empty q lists everything and unknown query parameters are ignored', async () => {
      const all = names(await api.list().expect(200));
      expect(names(await api.list('?q=').expect(200))).toEqual(all);
      expect(names(await api.list('?_=12345&page=2').expect(200))).toEqual(all);
      expect(all).toEqual(expect.arrayContaining([alpha.username, beta.username, dotted.username]));
    });

    it('refuses a repeated q with 400', async () => {
      const res = await api.list('?q=a&q=b').expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
    });

    it("another admin's employee is 404 for get, update and delete, and stays unchanged", async () => {
      const foreign = await employees().findOne({ username: 'someone.elses' });
      const id = String(foreign?._id);
      expect((await api.get(id)).body).toEqual(NOT_FOUND);
      expect((await api.update(id, { fullName: 'Taken over' })).status).toBe(404);
      expect((await api.remove(id)).status).toBe(404);
      expect(await employees().findOne({ _id: foreign?._id })).toMatchObject({ fullName: 'Zainab Foreign' });
    });
  });

  describe('GET/PUT/DELETE /api/employees/:id', () => {
    it('GET answers one employee', async () => {
      const { item } = await created();
      expect((await api.get(item._id).expect(200)).body).toEqual({ success: true, item });
    });

    it.each([
      ['get', () => api.get('not-an-id')],
      ['put', () => api.update('12345', { fullName: 'x' })],
      ['delete', () => api.remove('zzzzzzzzzzzzzzzzzzzzzzzz')],
    ])('%s with a malformed id is 400 invalid_id', async (_case, call) => {
      const res = await call();
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        success: false,
        error: 'invalid_id',
        message: 'The id must be a 24-character hex ObjectId',
      });
    });

    it('PUT changes only the fields sent', async () => {
      const { item } = await created({ phone: '111', email: 'keep@example.com' });
      const res = await api.update(item._id, { fullName: 'Mustafa Updated', phone: '0770xxxxxxx' }).expect(200);
      const updated = (res.body as { item: Item }).item;
      expect(res.body).toEqual({
        success: true,
        item: { ...item, fullName: 'Mustafa Updated', phone: '0770xxxxxxx', updatedAt: expect.any(String) },
      });
      expect(new Date(updated.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(item.updatedAt).getTime());
      expect(await employees().findOne({ _id: new ObjectId(item._id) })).toMatchObject({
        fullName: 'Mustafa Updated',
        phone: '0770xxxxxxx',
        email: 'keep@example.com',
        username: item.username,
      });
    });

    it('PUT merges app_permissions flags and can clear the email', async () => {
      const { item } = await created({ email: 'gone@example.com', app_permissions: { can_export: true } });
      const res = await api.update(item._id, { app_permissions: { can_view_fingerprint: false }, email: '' });
      expect(res.status).toBe(200);
      expect((res.body as { item: Item }).item).toMatchObject({
        email: '',
        app_permissions: { can_login_app: true, can_view_fingerprint: false, can_export: true },
      });
    });

    it('PUT with a new password: the new one logs in, the old one does not', async () => {
      const { item, password } = await created();
      const before = await employees().findOne({ _id: new ObjectId(item._id) });
      await api.update(item._id, { password: 'brand-new-password' }).expect(200);
      const after = await employees().findOne({ _id: new ObjectId(item._id) });
      expect(after?.passwordHash).not.toBe(before?.passwordHash);
      expect(String(after?.passwordHash)).toMatch(/^\$argon2id\$/);
      expect((await api.login({ username: item.username, password })).body).toEqual(INVALID_CREDENTIALS);
      await api.login({ username: item.username, password: 'brand-new-password' }).expect(200);
    });

    it('PUT with an empty body changes nothing', async () => {
      const { item } = await created();
      expect((await api.update(item._id, {}).expect(200)).body).toEqual({ success: true, item });
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['null fullName', { fullName: null }, 'fullName'],
      ['null email', { email: null }, 'email'],
      ['null isActive', { isActive: null }, 'isActive'],
      ['a bad email', { email: 'nope' }, 'email'],
      ['a short password', { password: 'short' }, 'password'],
      ['a bad username', { username: 'a b' }, 'username'],
      ['a bad enroll_id', { enroll_id: 'abc' }, 'enroll_id'],
      ['a non-boolean permission', { app_permissions: { can_login_app: 1 } }, 'app_permissions'],
      ['an unknown field', { owner: '690f78b6dcccc75fb6722fe2' }, 'owner'],
    ])('PUT refuses %s with 400 and changes nothing', async (_case, body, field) => {
      const { item } = await created();
      const before = await employees().findOne({ _id: new ObjectId(item._id) });
      const res = await api.update(item._id, body).expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      expect((res.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
      expect(await employees().findOne({ _id: new ObjectId(item._id) })).toEqual(before);
    });

    it('PUT to a taken username or enroll_id is 409 and changes nothing', async () => {
      const { item: first } = await created();
      const { item: second } = await created();
      expect((await api.update(second._id, { username: first.username })).body).toEqual({
        success: false,
        error: 'username_taken',
        message: 'This username is already taken',
      });
      expect((await api.update(second._id, { enroll_id: first.enroll_id, fullName: 'Changed' })).body).toEqual({
        success: false,
        error: 'enroll_id_taken',
        message: 'Another employee already has this enroll_id',
      });
      expect(await employees().findOne({ _id: new ObjectId(second._id) })).toMatchObject({
        username: second.username,
        enroll_id: second.enroll_id,
        fullName: second.fullName,
      });
    });

    it('PUT of an unknown id is 404', async () => {
      expect((await api.update(new ObjectId().toHexString(), { fullName: 'x' })).body).toEqual(NOT_FOUND);
    });

    it('DELETE answers the deleted employee; a second DELETE is 404', async () => {
      const { item } = await created();
      expect((await api.remove(item._id).expect(200)).body).toEqual({ success: true, item });
      expect(await employees().findOne({ _id: new ObjectId(item._id) })).toBeNull();
      const again = await api.remove(item._id);
      expect(again.status).toBe(404);
      expect(again.body).toEqual(NOT_FOUND);
      expect((await api.get(item._id)).status).toBe(404);
    });
  });

  describe('POST /api/employees/login', () => {
    it("answers the contract's body and an employee token", async () => {
      const { item, password } = await created({ phone: '0770', email: 'login@example.com' });
      const res = await api.login({ username: item.username, password });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        message: 'Login successful',
        token: expect.any(String),
        result: { ...item, name: item.fullName },
      });
      const payload = decodePayload((res.body as { token: string }).token);
      expect(payload).toEqual({
        sub: item._id,
        role: 'EMPLOYEE',
        owner: ownerId,
        enrollId: item.enroll_id,
        username: item.username,
        pws: 0,
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect((payload.exp as number) - (payload.iat as number)).toBe(30 * 86_400);
    });

    it('the token works on GET /api/employees/me', async () => {
      const { item, token: employeeToken } = await loggedIn();
      expect((await api.me(employeeToken).expect(200)).body).toEqual({ success: true, item });
    });

    it('answers a wrong password and an unknown username identically', async () => {
      const { item } = await created();
      const wrong = await api.login({ username: item.username, password: 'wrong-password' });
      const unknown = await api.login({ username: 'no.such.user', password: 'wrong-password' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.text).toBe(unknown.text);
      expect(wrong.body).toEqual(INVALID_CREDENTIALS);
    });

    it('usernames are matched exactly', async () => {
      const { item, password } = await created({ username: 'CaseSensitive' });
      expect((await api.login({ username: 'casesensitive', password })).body).toEqual(INVALID_CREDENTIALS);
      await api.login({ username: item.username, password }).expect(200);
    });

    it.each([
      ['no body', {}],
      ['no password', { username: 'someone' }],
      ['a numeric password', { username: 'someone', password: 12345678 }],
      ['an operator as username', { username: { $gt: '' }, password: 'x' }],
      ['an unknown field', { username: 'someone', password: 'x', remember: true }],
    ])('refuses %s with 400', async (_case, body) => {
      const res = await api.login(body).expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
    });

    it('refuses an inactive employee with 403 (right password), and their old token', async () => {
      const { item, password } = await created();
      const res = await api.login({ username: item.username, password }).expect(200);
      const oldToken = (res.body as { token: string }).token;
      await api.update(item._id, { isActive: false }).expect(200);
      expect((await api.login({ username: item.username, password })).body).toEqual(INACTIVE);
      expect((await api.login({ username: item.username, password }).expect(403)).body).toEqual(INACTIVE);
      expect((await api.me(oldToken).expect(403)).body).toEqual(INACTIVE);
      // A wrong password says nothing about the account's state.
      expect((await api.login({ username: item.username, password: 'wrong-password' })).body).toEqual(
        INVALID_CREDENTIALS,
      );
      await api.update(item._id, { isActive: true }).expect(200);
      await api.me(oldToken).expect(200);
    });

    it('refuses an employee without can_login_app with 403, and their old token', async () => {
      const { item, password, token: oldToken } = await loggedIn();
      await api.update(item._id, { app_permissions: { can_login_app: false } }).expect(200);
      const res = await api.login({ username: item.username, password });
      expect(res.status).toBe(403);
      expect(res.body).toEqual(NO_APP);
      expect((await api.me(oldToken).expect(403)).body).toEqual(NO_APP);
    });

    it('refuses at login an employee created without can_login_app', async () => {
      const { item, password } = await created({ app_permissions: { can_login_app: false } });
      expect((await api.login({ username: item.username, password }).expect(403)).body).toEqual(NO_APP);
    });

    it('refuses a deleted employee with 401, and their old token', async () => {
      const { item, password, token: oldToken } = await loggedIn();
      await api.remove(item._id).expect(200);
      const res = await api.login({ username: item.username, password });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(INVALID_CREDENTIALS);
      expect((await api.me(oldToken).expect(401)).body).toEqual(GONE);
    });

    it('a token stays tied to its employee: a new employee with the same username does not inherit it', async () => {
      const { item, token: oldToken } = await loggedIn();
      await api.remove(item._id).expect(200);
      await created({ username: item.username, enroll_id: item.enroll_id });
      expect((await api.me(oldToken).expect(401)).body).toEqual(GONE);
    });
  });

  describe('login brute-force limits', () => {
    it(`refuses a username from one address after ${USER_LIMIT} failures there, even with the right password; other addresses log in`, async () => {
      const { item, password } = await created();
      const ip = freshIp();
      for (let i = 0; i < USER_LIMIT; i++) {
        expect((await api.login({ username: item.username, password: `guess-${i}-x` }, ip)).body).toEqual(
          INVALID_CREDENTIALS,
        );
      }
      const blocked = await api.login({ username: item.username, password }, ip);
      expect(blocked.status).toBe(429);
      expect(blocked.body).toEqual(TOO_MANY);
      expect(await attempts().findOne({ _id: `employee:${item.username}|ip:${ip}` } as never)).toMatchObject({
        count: USER_LIMIT,
      });
      // The owner from another address, and other usernames, are not refused.
      await api.login({ username: item.username, password }).expect(200);
      const other = await created();
      await api.login({ username: other.item.username, password: other.password }, ip).expect(200);
    });

    it('counts unknown usernames too (case-insensitively)', async () => {
      const ip = freshIp();
      for (let i = 0; i < USER_LIMIT; i++) {
        await api.login({ username: i % 2 ? 'Ghost.User' : 'ghost.user', password: 'password1' }, ip).expect(401);
      }
      expect((await api.login({ username: 'GHOST.USER', password: 'password1' }, ip)).body).toEqual(TOO_MANY);
    });

    it('a success resets the count of the username at that address', async () => {
      const { item, password } = await created();
      const ip = freshIp();
      // Without the reset the second round would pass the limit (2 x (USER_LIMIT - 1) > USER_LIMIT).
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < USER_LIMIT - 1; i++) {
          await api.login({ username: item.username, password: 'wrong-password' }, ip).expect(401);
        }
        await api.login({ username: item.username, password }, ip).expect(200);
        expect(await attempts().findOne({ _id: `employee:${item.username}|ip:${ip}` } as never)).toBeNull();
      }
    });

    it('a right password that is refused (inactive) still resets the count', async () => {
      const { item, password } = await created({ isActive: false });
      const ip = freshIp();
      for (let i = 0; i < USER_LIMIT - 1; i++) {
        await api.login({ username: item.username, password: 'wrong-password' }, ip).expect(401);
      }
      await api.login({ username: item.username, password }, ip).expect(403);
      expect(await attempts().findOne({ _id: `employee:${item.username}|ip:${ip}` } as never)).toBeNull();
    });

    it(`refuses an address after ${IP_LIMIT} failures on any usernames; other addresses are unaffected`, async () => {
      const ip = freshIp();
      const victim = await created();
      for (let i = 0; i < IP_LIMIT; i++) {
        await api.login({ username: `sprayed.${i}`, password: 'password1' }, ip).expect(401);
      }
      expect((await api.login({ username: victim.item.username, password: victim.password }, ip)).body).toEqual(
        TOO_MANY,
      );
      expect(await attempts().findOne({ _id: `ip:${ip}` } as never)).toMatchObject({ count: IP_LIMIT });
      await api.login({ username: victim.item.username, password: victim.password }).expect(200);
    });

    it('successful logins do not count against the address', async () => {
      const ip = freshIp();
      const { item, password } = await created();
      for (let i = 0; i < IP_LIMIT + 2; i++) await api.login({ username: item.username, password }, ip).expect(200);
      expect(await attempts().findOne({ _id: `ip:${ip}` } as never)).toMatchObject({ count: 0 });
    });

    it('validation errors are not counted', async () => {
      const ip = freshIp();
      const { item, password } = await created();
      for (let i = 0; i < USER_LIMIT + IP_LIMIT; i++) {
        await api.login({ username: item.username, password: i }, ip).expect(400);
      }
      await api.login({ username: item.username, password }, ip).expect(200);
      const keys = [`employee:${item.username}`, `employee:${item.username}|ip:${ip}`, `ip:${ip}`];
      expect(await attempts().countDocuments({ _id: { $in: keys }, count: { $gt: 0 } } as never)).toBe(0);
    });

    it('parallel guesses from one address cannot pass the limit', async () => {
      const { item } = await created();
      const ip = freshIp();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => api.login({ username: item.username, password: `parallel-${i}` }, ip)),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(USER_LIMIT);
      expect(statuses.filter((s) => s === 429)).toHaveLength(12 - USER_LIMIT);
    });
  });
});
