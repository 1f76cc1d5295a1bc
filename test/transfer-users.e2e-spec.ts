import request from 'supertest';
import { ObjectId } from 'mongodb';
import { generateUsers, SimUser, VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { createTestApp, TestApp } from './support/test-app';

const OFFLINE = { success: false, error: 'device_offline_or_not_registered' };
const OBJECT_ID = expect.stringMatching(/^[0-9a-f]{24}$/);

function kindsUser(enrollid: number): SimUser {
  return {
    enrollid,
    name: 'Múlti Kind',
    admin: 1,
    credentials: [
      { backupnum: 0, record: '4D53(40)A1B2C3D4E5F6(12)0F0E0D' },
      { backupnum: 1, record: '4D53(7)FFEE(200)1234' },
      { backupnum: 10, record: 123456 },
      { backupnum: 11, record: 3_987_654_321 },
      { backupnum: 50, record: Buffer.from('\xff\xd8\xff\xe0 a small photo \xff\xd9', 'latin1').toString('base64') },
    ],
  };
}

/** What a terminal holds of a user, comparable across terminals. */
function snapshot(user: SimUser | undefined) {
  if (!user) return undefined;
  return {
    enrollid: user.enrollid,
    name: user.name,
    admin: user.admin,
    credentials: [...user.credentials].sort((a, b) => a.backupnum - b.backupnum),
  };
}

/** The contract's steps for a user whose every credential is pushed. */
function pushSteps(user: SimUser, withDelete: boolean) {
  return {
    enrollid: user.enrollid,
    steps: [
      ...[...user.credentials]
        .sort((a, b) => a.backupnum - b.backupnum)
        .flatMap((c) => [
          { backupnum: c.backupnum, action: 'fetch', result: 'success' },
          { backupnum: c.backupnum, action: 'push', opId: OBJECT_ID, result: 'pending' },
        ]),
      ...(withDelete ? [{ action: 'delete_from_source', opId: OBJECT_ID, result: 'pending' }] : []),
    ],
  };
}

describe('POST /api/transfer-users (e2e)', () => {
  let t: TestApp;
  let token: string;
  const terminals: VirtualTerminal[] = [];

  async function terminal(sn: string, users: SimUser[] | number = []) {
    const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users });
    terminals.push(vt);
    await vt.connect();
    return vt;
  }

  const operations = () => t.connection.collection('operations');
  const transfer = (body: Record<string, unknown>) =>
    request(t.httpServer).post('/api/transfer-users').set('Authorization', `Bearer ${token}`).send(body);

  async function finishedParent(opId: string) {
    return waitFor(
      async () => {
        const op = await operations().findOne({ _id: new ObjectId(opId) });
        return op && op.status !== 'pending' ? op : undefined;
      },
      { timeoutMs: 20_000, message: `transfer ${opId} to finish` },
    );
  }

  beforeAll(async () => {
    t = await createTestApp({ env: { TRANSFER_RECONCILE_INTERVAL: '1s' } });
    token = await t.adminToken();
  });

  afterAll(async () => {
    await Promise.all(terminals.map((vt) => vt.close().catch(() => undefined)));
    await t?.close();
  });

  it('copies every user with templates intact and leaves the source alone', async () => {
    const source = await terminal('CPYSRC01', [...generateUsers(6, 'copy'), kindsUser(500)]);
    const target = await terminal('CPYDST01');
    const before = [...source.users.values()].map(snapshot);

    const res = await transfer({ fromSn: 'CPYSRC01', toSn: 'CPYDST01', deleteFromSource: false }).expect(200);
    expect(res.body).toEqual({
      success: true,
      fromSn: 'CPYSRC01',
      toSn: 'CPYDST01',
      opId: OBJECT_ID,
      results: [...source.users.values()].sort((a, b) => a.enrollid - b.enrollid).map((u) => pushSteps(u, false)),
    });

    const parent = await finishedParent(res.body.opId);
    expect(parent).toMatchObject({
      type: 'transfer',
      sn: 'CPYSRC01',
      status: 'success',
      payload: { fromSn: 'CPYSRC01', toSn: 'CPYDST01', enrollIds: null, deleteFromSource: false },
    });
    const credentials = before.reduce((n, u) => n + u!.credentials.length, 0);
    const view = await request(t.httpServer)
      .get(`/api/operations/${res.body.opId}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(view.body.op).toMatchObject({ _id: res.body.opId, type: 'transfer', status: 'success' });
    expect(view.body.op.response.results).toHaveLength(7);
    expect(parent.response.summary).toMatchObject({
      users: 7,
      pushes: { success: credentials, pending: 0, failed: 0, canceled: 0 },
      usersCopied: 7,
      finished: true,
      ok: true,
    });
    expect(
      parent.response.results.flatMap((u: { steps: { result: string }[] }) => u.steps.map((s) => s.result)),
    ).not.toContain('pending');

    expect([...target.users.values()].map(snapshot).sort((a, b) => a!.enrollid - b!.enrollid)).toEqual(
      [...before].sort((a, b) => a!.enrollid - b!.enrollid),
    );
    expect([...source.users.values()].map(snapshot)).toEqual(before);
    expect(source.received.some((f) => f.cmd === 'deleteuser')).toBe(false);
    const children = await operations()
      .find({ parentId: new ObjectId(res.body.opId) })
      .toArray();
    expect(children.filter((c) => c.sn === 'CPYDST01' && c.type === 'setuserinfo')).toHaveLength(credentials);
    expect(children.filter((c) => c.sn === 'CPYSRC01').map((c) => [c.type, c.payload.templates])).toEqual([
      ['getuserlist', true],
    ]);
    // The target's server copy follows the pushes.
    const copy = await t.connection.collection('deviceusers').findOne({ sn: 'CPYDST01', enrollid: 500 });
    expect(copy).toMatchObject({ name: 'Múlti Kind', admin: 1 });
    expect(Object.keys(copy!.credentials).sort()).toEqual(['0', '1', '10', '11', '50']);
  });

  it('moves chosen users to an offline target; a user the target refuses stays on the source', async () => {
    const users = generateUsers(4, 'move');
    const source = await terminal('MOVSRC01', users);
    // Known but offline: the pushes wait in its queue (and every step is still pending in the answer).
    await (await terminal('MOVDST01')).close();
    const user2 = snapshot(source.users.get(2));
    const user3 = snapshot(source.users.get(3));

    const res = await transfer({
      fromSn: 'MOVSRC01',
      toSn: 'MOVDST01',
      enrollIds: [2, 3, 99],
      deleteFromSource: true,
    }).expect(200);
    expect(res.body).toEqual({
      success: true,
      fromSn: 'MOVSRC01',
      toSn: 'MOVDST01',
      opId: OBJECT_ID,
      results: [
        pushSteps(source.users.get(2)!, true),
        pushSteps(source.users.get(3)!, true),
        { enrollid: 99, steps: [{ action: 'fetch', result: 'not_found' }] },
      ],
    });
    const target = new VirtualTerminal({ sn: 'MOVDST01', url: `${t.wsUrl}/pub/chat` });
    terminals.push(target);
    target.failNext('setuserinfo', 4);
    await target.connect();
    const deleteOf = (enrollid: number) =>
      res.body.results.find((r: { enrollid: number }) => r.enrollid === enrollid).steps.at(-1).opId as string;

    const parent = await finishedParent(res.body.opId);
    expect(parent.status).toBe('failed');
    expect(parent.lastError).toBe(
      '1 user(s) not found on the source; 1 push(es) to the target failed; 1 user(s) kept on the source',
    );

    // User 2's first credential was refused: its delete was canceled and it is still on the source.
    expect(await operations().findOne({ _id: new ObjectId(deleteOf(2)) })).toMatchObject({
      type: 'deleteuser',
      status: 'canceled',
      lastError: 'dependency_failed',
      attemptCount: 0,
    });
    expect(snapshot(source.users.get(2))).toEqual(user2);
    // User 3 went over whole, and only then left the source.
    expect(await operations().findOne({ _id: new ObjectId(deleteOf(3)) })).toMatchObject({ status: 'success' });
    expect(source.users.has(3)).toBe(false);
    expect(snapshot(target.users.get(3))).toEqual(user3);
    expect(source.received.filter((f) => f.cmd === 'deleteuser')).toEqual([
      { cmd: 'deleteuser', enrollid: 3, backupnum: 13 },
    ]);
    // Only the two users' credentials were read from the source.
    expect(source.received.filter((f) => f.cmd === 'getuserinfo').map((f) => f.enrollid)).toEqual([
      ...user2!.credentials.map(() => 2),
      ...user3!.credentials.map(() => 3),
    ]);
    const steps = parent.response.results.find((r: { enrollid: number }) => r.enrollid === 2).steps;
    expect(steps[1]).toMatchObject({ action: 'push', result: 'failed' });
    expect(steps.at(-1)).toMatchObject({ action: 'delete_from_source', result: 'canceled' });
  });

  describe('refusals before anything is done', () => {
    beforeAll(async () => {
      await terminal('REFSRC01', 2);
      const offline = await terminal('REFOFF01', 2);
      await offline.close();
    });

    async function expectNothingStored() {
      expect(await operations().countDocuments({ sn: { $in: ['REFSRC01', 'REFOFF01', 'NOSUCHSN'] } })).toBe(0);
    }

    it('refuses the same terminal twice with 400', async () => {
      const res = await transfer({ fromSn: 'REFSRC01', toSn: 'REFSRC01', deleteFromSource: true }).expect(400);
      expect(res.body).toEqual({
        success: false,
        error: 'same_terminal',
        message: 'fromSn and toSn must be different terminals',
      });
      await expectNothingStored();
    });

    it('refuses an unknown or offline source with the contract error', async () => {
      expect(
        (await transfer({ fromSn: 'NOSUCHSN', toSn: 'REFSRC01', deleteFromSource: false }).expect(409)).body,
      ).toEqual(OFFLINE);
      await waitFor(
        async () => (await transfer({ fromSn: 'REFOFF01', toSn: 'REFSRC01', deleteFromSource: false })).status === 409,
      );
      expect(
        (await transfer({ fromSn: 'REFOFF01', toSn: 'REFSRC01', deleteFromSource: false }).expect(409)).body,
      ).toEqual(OFFLINE);
      await expectNothingStored();
    });

    it('refuses an unknown target with 404', async () => {
      const res = await transfer({ fromSn: 'REFSRC01', toSn: 'NOSUCHSN', deleteFromSource: false }).expect(404);
      expect(res.body).toEqual({
        success: false,
        error: 'device_not_found',
        message: 'Target terminal NOSUCHSN is not registered',
        sn: 'NOSUCHSN',
      });
      await expectNothingStored();
    });

    it.each([
      ['no deleteFromSource', { fromSn: 'REFSRC01', toSn: 'REFOFF01' }, 'deleteFromSource'],
      ['empty enrollIds', { fromSn: 'REFSRC01', toSn: 'REFOFF01', enrollIds: [], deleteFromSource: true }, 'enrollIds'],
      [
        'duplicate enrollIds',
        { fromSn: 'REFSRC01', toSn: 'REFOFF01', enrollIds: [1, 1], deleteFromSource: true },
        'enrollIds',
      ],
      [
        'fractional enrollIds',
        { fromSn: 'REFSRC01', toSn: 'REFOFF01', enrollIds: [1.5], deleteFromSource: true },
        'enrollIds',
      ],
      ['no fromSn', { toSn: 'REFOFF01', deleteFromSource: false }, 'fromSn'],
    ])('refuses %s with 400', async (_label, body, field) => {
      const res = await transfer(body).expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      await expectNothingStored();
    });

    it('needs an admin token', async () => {
      const res = await request(t.httpServer)
        .post('/api/transfer-users')
        .send({ fromSn: 'REFSRC01', toSn: 'REFOFF01', deleteFromSource: false })
        .expect(401);
      expect(res.body).toMatchObject({ success: false, error: 'unauthorized' });
    });
  });
});

describe('transfer-users across a restart and with a slow source (e2e)', () => {
  const apps: TestApp[] = [];
  const terminals: VirtualTerminal[] = [];

  afterEach(async () => {
    await Promise.all(terminals.splice(0).map((vt) => vt.close().catch(() => undefined)));
    // The last app of a test owns its database (the restart test's apps share one).
    const last = apps.pop();
    for (const app of apps.splice(0)) await app.app.close().catch(() => undefined);
    await last?.close();
  }, 30_000);

  async function terminal(app: TestApp, sn: string, users: SimUser[] = [], replyDelayMs = 0) {
    const vt = new VirtualTerminal({ sn, url: `${app.wsUrl}/pub/chat`, users, replyDelayMs });
    terminals.push(vt);
    await vt.connect();
    return vt;
  }

  it('finishes a move queued before a restart, all from the stored operations', async () => {
    const first = await createTestApp({ env: { TRANSFER_RECONCILE_INTERVAL: '500ms' } });
    apps.push(first);
    const users = generateUsers(3, 'restart');
    const source = await terminal(first, 'RSTSRC01', users);
    await (await terminal(first, 'RSTDST01')).close();
    const res = await request(first.httpServer)
      .post('/api/transfer-users')
      .set('Authorization', `Bearer ${await first.adminToken()}`)
      .send({ fromSn: 'RSTSRC01', toSn: 'RSTDST01', deleteFromSource: true })
      .expect(200);
    expect(res.body.results).toHaveLength(3);
    await source.close();
    await first.app.close();
    apps.splice(apps.indexOf(first), 1);

    // A new instance on the same database: nothing of the first one's memory survives.
    const second = await createTestApp({
      env: { MONGODB_URI: first.env.MONGODB_URI, TRANSFER_RECONCILE_INTERVAL: '500ms' },
    });
    apps.push(second);
    const source2 = await terminal(second, 'RSTSRC01', [...source.users.values()]);
    const target2 = await terminal(second, 'RSTDST01');
    const parent = await waitFor(
      async () => {
        const op = await second.connection.collection('operations').findOne({ _id: new ObjectId(res.body.opId) });
        return op && op.status !== 'pending' ? op : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(parent).toMatchObject({ status: 'success', response: { summary: { usersMoved: 3, ok: true } } });
    expect(source2.users.size).toBe(0);
    expect([...target2.users.values()].map(snapshot)).toEqual(users.map(snapshot));
  });

  it('answers 504 when reading the source takes too long, and pushes nothing', async () => {
    const app = await createTestApp({ env: { OP_WAIT_TIMEOUT: '300ms', OP_REPLY_TIMEOUT: '20s' } });
    apps.push(app);
    await terminal(app, 'SLWSRC01', generateUsers(2, 'slow'), 1000);
    await terminal(app, 'SLWDST01');
    const res = await request(app.httpServer)
      .post('/api/transfer-users')
      .set('Authorization', `Bearer ${await app.adminToken()}`)
      .send({ fromSn: 'SLWSRC01', toSn: 'SLWDST01', deleteFromSource: true })
      .expect(504);
    expect(res.body).toEqual({ success: false, error: 'device_timeout', opId: OBJECT_ID });
    const ops = app.connection.collection('operations');
    const read = await ops.findOne({ _id: new ObjectId(res.body.opId as string) });
    expect(read).toMatchObject({ type: 'getuserlist', sn: 'SLWSRC01' });
    expect(await ops.findOne({ _id: read!.parentId })).toMatchObject({
      type: 'transfer',
      status: 'failed',
      lastError: 'transfer not started: device_timeout',
    });
    expect(await ops.countDocuments({ sn: 'SLWDST01' })).toBe(0);
    expect(await ops.countDocuments({ type: 'deleteuser' })).toBe(0);
  });
});
