import request from 'supertest';
import { generateUsers, SimUser, VirtualTerminal } from '@app/device-simulator';
import { signHs256, waitFor } from '@app/testing';
import { StoredUsersService } from '../src/devices/stored-users/stored-users.service';
import { createTestApp, TEST_JWT_SECRET, TestApp } from './support/test-app';

const OFFLINE = { success: false, error: 'device_offline_or_not_registered' };
const OBJECT_ID = expect.stringMatching(/^[0-9a-f]{24}$/);

/** A user with one credential of every kind the list must carry. */
function allKindsUser(enrollid: number): SimUser {
  return {
    enrollid,
    name: 'Kinds Tester',
    admin: 2,
    credentials: [
      { backupnum: 0, record: '4D53(40)A1B2C3D4E5F6(12)0F0E0D' },
      { backupnum: 3, record: '4D53(7)FFEE(200)1234' },
      { backupnum: 10, record: 123456 },
      { backupnum: 11, record: 3_987_654_321 },
      { backupnum: 50, record: Buffer.from('\xff\xd8\xff\xe0 photo bytes \xff\xd9', 'latin1').toString('base64') },
    ],
  };
}

function credentialRows(users: Iterable<SimUser>): { enrollid: number; backupnum: number }[] {
  return [...users].flatMap((u) => u.credentials.map((c) => ({ enrollid: u.enrollid, backupnum: c.backupnum })));
}

const byKey = (a: { enrollid: number; backupnum: number }, b: { enrollid: number; backupnum: number }) =>
  a.enrollid - b.enrollid || a.backupnum - b.backupnum;

describe('device users (e2e)', () => {
  let t: TestApp;
  let token: string;
  const terminals: VirtualTerminal[] = [];

  async function terminal(sn: string, users: SimUser[] | number = [], extra: { logs?: [] } = {}) {
    const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users, ...extra });
    terminals.push(vt);
    await vt.connect();
    return vt;
  }

  const api = () => request(t.httpServer);
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  const operations = () => t.connection.collection('operations');
  const deviceUsers = () => t.connection.collection('deviceusers');

  beforeAll(async () => {
    t = await createTestApp();
    token = await t.adminToken();
  });

  afterAll(async () => {
    await Promise.all(terminals.map((vt) => vt.close().catch(() => undefined)));
    await t?.close();
  });

  describe('GET /api/device/:sn/users', () => {
    it('reads every page and every credential, with aliasid from the server copy', async () => {
      const users = [...generateUsers(34, 'list-users'), allKindsUser(500)];
      const vt = await terminal('LIST0001', users);
      const expectedRows = credentialRows(vt.users.values());
      expect(expectedRows.length).toBeGreaterThan(40);
      expect(new Set(expectedRows.map((r) => r.backupnum))).toEqual(new Set([0, 1, 3, 10, 11, 50]));
      await t.app.get(StoredUsersService).upsertUser('LIST0001', { enrollid: 500, aliasid: 'HR-500' });

      const started = Date.now();
      const res = await auth(api().get('/api/device/LIST0001/users')).expect(200);
      const elapsed = Date.now() - started;
      // Documented in the issue report: the time per 100 credentials against the virtual terminal.
      console.log(
        `GET users: ${expectedRows.length} credentials in ${elapsed} ms = ${Math.round((elapsed * 100) / expectedRows.length)} ms per 100`,
      );

      expect(res.body.success).toBe(true);
      expect(Object.keys(res.body)).toEqual(['success', 'records', 'raw']);
      const expected = [...vt.users.values()]
        .flatMap((u) =>
          u.credentials.map((c) => ({
            enrollid: u.enrollid,
            name: u.name,
            ...(u.enrollid === 500 && { aliasid: 'HR-500' }),
            backupnum: c.backupnum,
            admin: u.admin,
            record: c.record,
          })),
        )
        .sort(byKey);
      expect([...res.body.records].sort(byKey)).toEqual(expected);
      // Records come in the terminal's order, the rows of the raw response.
      expect(res.body.records.map((r: { enrollid: number; backupnum: number }) => [r.enrollid, r.backupnum])).toEqual(
        res.body.raw.rows.map((r: { enrollid: number; backupnum: number }) => [r.enrollid, r.backupnum]),
      );
      expect(res.body.raw).toMatchObject({
        ret: 'getuserlist',
        result: true,
        count: expectedRows.length,
        pages: Math.ceil(expectedRows.length / 40) + (expectedRows.length % 40 === 0 ? 1 : 0),
        infoFetched: expectedRows.length,
        infoFailed: [],
      });

      // The terminal saw every page and one getuserinfo per credential.
      const cmds = vt.received.map((f) => f.cmd);
      expect(cmds.filter((c) => c === 'getuserinfo')).toHaveLength(expectedRows.length);
      expect(vt.received.filter((f) => f.cmd === 'getuserlist').map((f) => f.stn)).toEqual([
        true,
        ...Array(res.body.raw.pages - 1).fill(false),
      ]);

      const ops = await operations().find({ sn: 'LIST0001' }).toArray();
      expect(ops).toHaveLength(1);
      expect(ops[0]).toMatchObject({ type: 'getuserlist', status: 'success', payload: { templates: true } });

      const copy = await deviceUsers().find({ sn: 'LIST0001' }).toArray();
      expect(copy).toHaveLength(users.length);
      const kinds = copy.find((u) => u.enrollid === 500)!;
      expect(kinds).toMatchObject({ name: 'Kinds Tester', aliasid: 'HR-500', admin: 2 });
      expect(
        Object.fromEntries(Object.entries(kinds.credentials).map(([k, v]) => [k, (v as { record: unknown }).record])),
      ).toEqual(Object.fromEntries(allKindsUser(500).credentials.map((c) => [String(c.backupnum), c.record])));
    });

    it('gives the roster without templates when templates=false', async () => {
      const vt = await terminal('LIST0002', generateUsers(45, 'roster'));
      const res = await auth(api().get('/api/device/LIST0002/users?templates=false')).expect(200);
      const rows = credentialRows(vt.users.values());
      expect(res.body.records).toHaveLength(rows.length);
      for (const record of res.body.records) {
        expect(Object.keys(record)).toEqual(['enrollid', 'backupnum', 'admin']);
      }
      expect([...res.body.records].sort(byKey)).toEqual(
        [...vt.users.values()]
          .flatMap((u) => u.credentials.map((c) => ({ enrollid: u.enrollid, backupnum: c.backupnum, admin: u.admin })))
          .sort(byKey),
      );
      expect(vt.received.some((f) => f.cmd === 'getuserinfo')).toBe(false);
      const op = await operations().findOne({ sn: 'LIST0002' });
      expect(op).toMatchObject({ type: 'getuserlist', payload: { templates: false }, status: 'success' });
    });

    it('refuses an unknown or offline terminal with the contract error, storing nothing', async () => {
      const unknown = await auth(api().get('/api/device/NOSUCHSN/users')).expect(409);
      expect(unknown.body).toEqual(OFFLINE);
      const vt = await terminal('LIST0003', 3);
      await vt.close();
      await waitFor(async () => {
        const res = await auth(api().get('/api/device/LIST0003/users'));
        return res.status === 409 ? res : undefined;
      }).then((res) => expect(res.body).toEqual(OFFLINE));
      expect(await operations().countDocuments({ sn: { $in: ['NOSUCHSN', 'LIST0003'] } })).toBe(0);
    });

    it('refuses a bad templates flag', async () => {
      const res = await auth(api().get('/api/device/LIST0001/users?templates=maybe')).expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed', errors: [{ field: 'templates' }] });
    });
  });

  describe('POST /api/device/:sn/add-user', () => {
    it('records adduserinfo, sends adduser with flag 10 and no aliasid, keeps aliasid on the server', async () => {
      const vt = await terminal('ADD00001', 2);
      const body = { enrollid: 10012, name: 'John Smith1', aliasid: 'JSMITH1', backupnum: 50 };
      const res = await auth(api().post('/api/device/ADD00001/add-user').send(body)).expect(200);
      expect(res.body).toEqual({
        success: true,
        opId: OBJECT_ID,
        status: 'success',
        response: { ret: 'adduser', sn: 'ADD00001', result: true, enrollid: 10012 },
      });

      const frame = vt.received.find((f) => f.cmd === 'adduser');
      expect(frame).toEqual({
        cmd: 'adduser',
        enrollid: 10012,
        backupnum: 50,
        admin: 0,
        name: 'John Smith1',
        flag: 10,
      });
      expect(vt.users.get(10012)).toMatchObject({ name: 'John Smith1', admin: 0 });

      const op = await operations().findOne({ sn: 'ADD00001' });
      expect(op).toMatchObject({
        type: 'adduserinfo',
        status: 'success',
        payload: { enrollid: 10012, aliasid: 'JSMITH1' },
      });
      expect(op!._id.toHexString()).toBe(res.body.opId);
      const copy = await deviceUsers().findOne({ sn: 'ADD00001', enrollid: 10012 });
      expect(copy).toMatchObject({ name: 'John Smith1', aliasid: 'JSMITH1', admin: 0 });
    });

    it('answers 409 user_already_exists when the terminal has the id', async () => {
      await terminal('ADD00002', [allKindsUser(7)]);
      const res = await auth(
        api().post('/api/device/ADD00002/add-user').send({ enrollid: 7, name: 'Someone', backupnum: 0 }),
      ).expect(409);
      expect(res.body).toEqual({
        success: false,
        error: 'user_already_exists',
        message: 'Enroll id 7 already exists on terminal ADD00002',
        opId: OBJECT_ID,
      });
      const op = await operations().findOne({ sn: 'ADD00002' });
      expect(op).toMatchObject({ type: 'adduserinfo', status: 'failed', response: { result: false, reason: 2 } });
      expect(await deviceUsers().findOne({ sn: 'ADD00002', enrollid: 7, name: 'Someone' })).toBeNull();
    });

    it('answers 502 with the operation id for another refusal', async () => {
      const vt = await terminal('ADD00003');
      vt.failNext('adduser', 3);
      const res = await auth(
        api().post('/api/device/ADD00003/add-user').send({ enrollid: 5, name: 'Five', backupnum: 1 }),
      ).expect(502);
      expect(res.body).toEqual({
        success: false,
        error: 'device_command_failed',
        message: 'Adding user 5 to ADD00003 failed (device_error: reason 3)',
        opId: OBJECT_ID,
        status: 'failed',
        response: { ret: 'adduser', sn: 'ADD00003', result: false, reason: 3 },
      });
    });

    it.each([
      ['enrollid 0', { enrollid: 0, name: 'A', backupnum: 0 }, 'enrollid'],
      ['enrollid above 999,999,999,999', { enrollid: 1_000_000_000_000, name: 'A', backupnum: 0 }, 'enrollid'],
      ['enrollid as text', { enrollid: '12', name: 'A', backupnum: 0 }, 'enrollid'],
      ['backupnum 10', { enrollid: 12, name: 'A', backupnum: 10 }, 'backupnum'],
      ['backupnum 51', { enrollid: 12, name: 'A', backupnum: 51 }, 'backupnum'],
      ['no name', { enrollid: 12, backupnum: 0 }, 'name'],
      ['unknown key', { enrollid: 12, name: 'A', backupnum: 0, record: 'x' }, 'record'],
    ])('refuses %s with 400 and sends nothing', async (_label, body, field) => {
      const before = await operations().countDocuments({ type: 'adduserinfo' });
      const res = await auth(api().post('/api/device/ADD00001/add-user').send(body)).expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(await operations().countDocuments({ type: 'adduserinfo' })).toBe(before);
    });

    it('refuses an offline terminal with the contract error', async () => {
      const res = await auth(
        api().post('/api/device/NOSUCHSN/add-user').send({ enrollid: 12, name: 'A', backupnum: 0 }),
      ).expect(409);
      expect(res.body).toEqual(OFFLINE);
    });
  });

  describe('POST /api/device/:sn/delete-users', () => {
    it('deletes the users on the terminal and in the server copy', async () => {
      const vt = await terminal('DEL00001', generateUsers(5, 'del'));
      await auth(api().get('/api/device/DEL00001/users?templates=false')).expect(200);
      expect(await deviceUsers().countDocuments({ sn: 'DEL00001' })).toBe(5);

      const res = await auth(
        api()
          .post('/api/device/DEL00001/delete-users')
          .send({ enrollIds: [2, 4] }),
      ).expect(200);
      expect(res.body).toEqual({
        success: true,
        sn: 'DEL00001',
        count: 2,
        results: [
          { enrollid: 2, opId: OBJECT_ID, status: 'pending' },
          { enrollid: 4, opId: OBJECT_ID, status: 'pending' },
        ],
      });
      await waitFor(
        async () =>
          (await operations().countDocuments({ sn: 'DEL00001', type: 'deleteuser', status: 'success' })) === 2,
      );
      expect([...vt.users.keys()].sort()).toEqual([1, 3, 5]);
      expect(vt.received.filter((f) => f.cmd === 'deleteuser')).toEqual([
        { cmd: 'deleteuser', enrollid: 2, backupnum: 13 },
        { cmd: 'deleteuser', enrollid: 4, backupnum: 13 },
      ]);
      const left = await deviceUsers().find({ sn: 'DEL00001' }).toArray();
      expect(left.map((u) => u.enrollid).sort()).toEqual([1, 3, 5]);
    });

    it('queues for a known terminal that is offline, delivered when it reconnects', async () => {
      const users = generateUsers(3, 'offline-del');
      const first = await terminal('DEL00002', users);
      await first.close();

      const res = await auth(
        api()
          .post('/api/device/DEL00002/delete-users')
          .send({ enrollIds: [3] }),
      ).expect(200);
      expect(res.body).toEqual({
        success: true,
        sn: 'DEL00002',
        count: 1,
        results: [{ enrollid: 3, opId: OBJECT_ID, status: 'pending' }],
      });
      expect(await operations().findOne({ sn: 'DEL00002' })).toMatchObject({ status: 'pending', attemptCount: 0 });

      const again = await terminal('DEL00002', users);
      await again.waitForCommand('deleteuser');
      await waitFor(async () => (await operations().findOne({ sn: 'DEL00002' }))?.status === 'success');
      expect([...again.users.keys()].sort()).toEqual([1, 2]);
    });

    it('refuses an unknown terminal with the contract error', async () => {
      const res = await auth(
        api()
          .post('/api/device/NOSUCHSN/delete-users')
          .send({ enrollIds: [1] }),
      ).expect(409);
      expect(res.body).toEqual(OFFLINE);
      expect(await operations().countDocuments({ sn: 'NOSUCHSN' })).toBe(0);
    });

    it.each([
      ['empty', { enrollIds: [] }],
      ['duplicate', { enrollIds: [1, 1] }],
      ['non-integer', { enrollIds: [1, 2.5] }],
      ['text', { enrollIds: ['1'] }],
      ['zero', { enrollIds: [0] }],
      ['missing', {}],
    ])('refuses %s ids with 400 and queues nothing', async (_label, body) => {
      const before = await operations().countDocuments({ sn: 'DEL00001' });
      const res = await auth(api().post('/api/device/DEL00001/delete-users').send(body)).expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed', errors: [{ field: 'enrollIds' }] });
      expect(await operations().countDocuments({ sn: 'DEL00001' })).toBe(before);
    });
  });

  describe('POST /api/device/:sn/clean-log', () => {
    it('erases the terminal log', async () => {
      const vt = new VirtualTerminal({
        sn: 'LOG00001',
        url: `${t.wsUrl}/pub/chat`,
        logs: [{ enrollid: 1 }, { enrollid: 2 }],
      });
      terminals.push(vt);
      await vt.connect();
      const res = await auth(api().post('/api/device/LOG00001/clean-log')).expect(200);
      expect(res.body).toEqual({
        success: true,
        opId: OBJECT_ID,
        status: 'success',
        response: { ret: 'cleanlog', sn: 'LOG00001', result: true },
      });
      expect(vt.logs).toHaveLength(0);
      expect(await operations().findOne({ sn: 'LOG00001', type: 'cleanlog' })).toMatchObject({ status: 'success' });
    });

    it('refuses an offline terminal', async () => {
      const res = await auth(api().post('/api/device/NOSUCHSN/clean-log')).expect(409);
      expect(res.body).toEqual(OFFLINE);
    });
  });

  it('documents every route in Swagger with the admin token and the contract errors', async () => {
    const doc = (await api().get('/api/docs-json').expect(200)).body;
    const routes: [string, string, string[]][] = [
      ['/api/device/{sn}/users', 'get', ['200', '400', '401', '403', '409', '502', '504']],
      ['/api/device/{sn}/add-user', 'post', ['200', '400', '401', '403', '409', '502', '504']],
      ['/api/device/{sn}/delete-users', 'post', ['200', '400', '401', '403', '409']],
      ['/api/device/{sn}/clean-log', 'post', ['200', '401', '403', '409', '502', '504']],
      ['/api/transfer-users', 'post', ['200', '400', '401', '403', '404', '409', '502', '504']],
    ];
    for (const [path, method, statuses] of routes) {
      const op = doc.paths[path]?.[method];
      expect(op).toBeDefined();
      expect(op.summary).toEqual(expect.stringContaining('Admin token'));
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(op.responses).sort()).toEqual([...statuses].sort());
    }
    const offline = doc.paths['/api/device/{sn}/users'].get.responses['409'].content['application/json'];
    expect(JSON.stringify(offline)).toContain('device_offline_or_not_registered');
  });

  describe('authorization', () => {
    it('needs a token and the admin role', async () => {
      const none = await api().post('/api/device/LOG00001/clean-log').expect(401);
      expect(none.body).toMatchObject({ success: false, error: 'unauthorized' });
      const employee = signHs256(
        {
          sub: '64f5a1c2e4b0a1b2c3d4e5f6',
          role: 'EMPLOYEE',
          owner: '64f5a1c2e4b0a1b2c3d4e5f7',
          exp: Math.floor(Date.now() / 1000) + 600,
        },
        TEST_JWT_SECRET,
      );
      const wrongRole = await api()
        .get('/api/device/LOG00001/users')
        .set('Authorization', `Bearer ${employee}`)
        .expect(403);
      expect(wrongRole.body).toMatchObject({ success: false, error: 'forbidden' });
    });
  });
});

describe('device users with a slow terminal (e2e)', () => {
  let t: TestApp;
  let token: string;
  let vt: VirtualTerminal | undefined;

  beforeAll(async () => {
    t = await createTestApp({ env: { OP_WAIT_TIMEOUT: '300ms', OP_REPLY_TIMEOUT: '20s' } });
    token = await t.adminToken();
  });

  afterAll(async () => {
    await vt?.close().catch(() => undefined);
    await t?.close();
  });

  it('answers 504 with the operation id, and the operation carries on and is listed', async () => {
    vt = new VirtualTerminal({ sn: 'SLOW0001', url: `${t.wsUrl}/pub/chat`, users: 2, replyDelayMs: 1500 });
    await vt.connect();
    const res = await request(t.httpServer)
      .post('/api/device/SLOW0001/clean-log')
      .set('Authorization', `Bearer ${token}`)
      .expect(504);
    expect(res.body).toEqual({ success: false, error: 'device_timeout', opId: OBJECT_ID });

    const listed = await request(t.httpServer)
      .get('/api/operations?sn=SLOW0001')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ _id: res.body.opId, type: 'cleanlog', sn: 'SLOW0001' }),
    ]);
    await waitFor(
      async () => (await t.connection.collection('operations').findOne({ sn: 'SLOW0001' }))?.status === 'success',
    );

    const users = await request(t.httpServer)
      .get('/api/device/SLOW0001/users')
      .set('Authorization', `Bearer ${token}`)
      .expect(504);
    expect(users.body).toEqual({ success: false, error: 'device_timeout', opId: OBJECT_ID });
  });
});
