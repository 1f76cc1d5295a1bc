import request from 'supertest';
import { ObjectId } from 'mongodb';
import { generateUsers, SimUser, VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { createTestApp, TestApp } from './support/test-app';

const OBJECT_ID = expect.stringMatching(/^[0-9a-f]{24}$/);

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

function kindsUser(enrollid: number): SimUser {
  return {
    enrollid,
    name: 'Keypad Person',
    admin: 1,
    credentials: [
      { backupnum: 0, record: '4D53(40)A1B2C3D4E5F6(12)0F0E0D' },
      { backupnum: 1, record: '4D53(7)FFEE(200)1234' },
      { backupnum: 10, record: 123456 },
      { backupnum: 11, record: 3_987_654_321 },
      { backupnum: 50, record: Buffer.from('a small photo', 'latin1').toString('base64') },
    ],
  };
}

jest.setTimeout(60_000);

describe('Terminal groups: propagation, drift, device-sync (e2e)', () => {
  let t: TestApp;
  let token: string;
  const terminals: VirtualTerminal[] = [];
  const seed = generateUsers(5, 'group-seed');
  let a: VirtualTerminal;
  let b: VirtualTerminal;
  let c: VirtualTerminal;
  let groupId: string;

  const api = () => ({
    get: (url: string) => request(t.httpServer).get(url).set('Authorization', `Bearer ${token}`),
    post: (url: string, body: object) =>
      request(t.httpServer).post(url).set('Authorization', `Bearer ${token}`).send(body),
    patch: (url: string, body: object) =>
      request(t.httpServer).patch(url).set('Authorization', `Bearer ${token}`).send(body),
    del: (url: string) => request(t.httpServer).delete(url).set('Authorization', `Bearer ${token}`),
  });
  const operations = () => t.connection.collection('operations');

  async function terminal(sn: string, users: SimUser[] = []) {
    const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users });
    terminals.push(vt);
    await vt.connect();
    return vt;
  }

  async function finished(opId: string) {
    return waitFor(
      async () => {
        const op = await operations().findOne({ _id: new ObjectId(opId) });
        return op && op.status !== 'pending' ? op : undefined;
      },
      { timeoutMs: 20_000, message: `operation ${opId} to finish` },
    );
  }

  /** Every propagation finished (none pending). */
  async function propagationsSettled() {
    await waitFor(
      async () => (await operations().countDocuments({ type: 'group_propagation', status: 'pending' })) === 0,
      {
        timeoutMs: 20_000,
        message: 'propagations to finish',
      },
    );
  }

  beforeAll(async () => {
    t = await createTestApp({ env: { GROUP_SYNC_RECONCILE_INTERVAL: '200ms', GROUP_DRIFT_INTERVAL: '0' } });
    token = await t.adminToken();
    a = await terminal('GRPA0001', seed);
    b = await terminal('GRPB0001', seed);
    c = await terminal('GRPC0001', seed);
    await terminal('LONER001');
  });

  afterAll(async () => {
    await Promise.all(terminals.map((vt) => vt.close().catch(() => undefined)));
    await t?.close();
  });

  it('creates a group of known terminals; unknown serials are 400, a terminal in another group 409', async () => {
    const bad = await api().post('/api/device-groups', { name: 'X', sns: ['GRPA0001', 'NOSUCH01'], syncUsers: true });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, error: 'unknown_devices', sns: ['NOSUCH01'] });
    await api().post('/api/device-groups', { name: 'X', sns: 'GRPA0001', syncUsers: true }).expect(400);
    await api().post('/api/device-groups', { name: 'X', sns: [], syncUsers: 'yes' }).expect(400);

    const res = await api()
      .post('/api/device-groups', { name: 'Main site', sns: ['GRPA0001', 'GRPB0001', 'GRPC0001'], syncUsers: true })
      .expect(201);
    expect(res.body).toEqual({
      success: true,
      item: {
        _id: OBJECT_ID,
        name: 'Main site',
        sns: ['GRPA0001', 'GRPB0001', 'GRPC0001'],
        syncUsers: true,
        drift: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    });
    groupId = res.body.item._id;

    const clash = await api().post('/api/device-groups', {
      name: 'Other',
      sns: ['LONER001', 'GRPB0001'],
      syncUsers: false,
    });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ success: false, error: 'device_in_other_group', sns: ['GRPB0001'], groupId });
    const other = await api()
      .post('/api/device-groups', { name: 'Other', sns: ['LONER001'], syncUsers: false })
      .expect(201);
    await api()
      .patch(`/api/device-groups/${other.body.item._id}`, { sns: ['GRPC0001'] })
      .expect(409);
    await api().patch(`/api/device-groups/${other.body.item._id}`, { name: 'Renamed' }).expect(200);
    await api().del(`/api/device-groups/${other.body.item._id}`).expect(200);
    await api().del(`/api/device-groups/${other.body.item._id}`).expect(404);
    await api().get('/api/device-groups/not-an-id').expect(400);

    const list = await api().get('/api/device-groups').expect(200);
    expect(list.body.items.map((g: { _id: string }) => g._id)).toEqual([groupId]);
    const detail = await api().get(`/api/device-groups/${groupId}`).expect(200);
    expect(detail.body.item.members).toEqual([
      expect.objectContaining({ sn: 'GRPA0001', online: true }),
      expect.objectContaining({ sn: 'GRPB0001', online: true }),
      expect.objectContaining({ sn: 'GRPC0001', online: true }),
    ]);
  });

  it('a keypad enrolment on one member reaches the others, an offline one on reconnect, never back', async () => {
    await c.close();
    await waitFor(async () => !(await api().get(`/api/device-groups/${groupId}`)).body.item.members[2].online, {
      message: 'C offline',
    });
    const person = kindsUser(500);
    const replies = await a.enrolAtKeypad(person);
    expect(replies).toHaveLength(5);
    expect(replies.every((r) => r.result === true)).toBe(true);

    await waitFor(() => snapshot(b.users.get(500))?.credentials.length === 5, { message: 'user 500 on B' });
    expect(snapshot(b.users.get(500))).toEqual(snapshot(person));
    expect(c.users.has(500)).toBe(false);

    await c.connect();
    await waitFor(() => snapshot(c.users.get(500))?.credentials.length === 5, { message: 'user 500 on C' });
    expect(snapshot(c.users.get(500))).toEqual(snapshot(person));
    await propagationsSettled();

    // One propagation per senduser (credential), each with a push to B and C; nothing back to A.
    const parents = await operations().find({ type: 'group_propagation', 'payload.enrollid': 500 }).toArray();
    expect(parents).toHaveLength(5);
    expect(parents.every((p) => p.status === 'success' && p.sn === 'GRPA0001')).toBe(true);
    const children = await operations()
      .find({ parentId: { $in: parents.map((p) => p._id) } })
      .toArray();
    expect(children.map((ch) => ch.sn).sort()).toEqual([...Array(5).fill('GRPB0001'), ...Array(5).fill('GRPC0001')]);
    expect(children.every((ch) => ch.type === 'setuserinfo' && ch.status === 'success')).toBe(true);
    expect(a.received.filter((f) => f.cmd === 'setuserinfo')).toEqual([]);
    // A propagation is an ordinary parent operation in the listing.
    const view = await api().get(`/api/operations/${parents[0]._id.toHexString()}`).expect(200);
    expect(view.body.op).toMatchObject({
      type: 'group_propagation',
      status: 'success',
      response: { done: 2, total: 2 },
    });
  });

  it('remote enrolment (add-user) and a transfer push propagate too', async () => {
    await api().post('/api/device/GRPA0001/add-user', { enrollid: 700, name: 'Remote', backupnum: 0 }).expect(200);
    await waitFor(() => b.users.has(700) && c.users.has(700), { message: 'user 700 on B and C' });
    expect(snapshot(b.users.get(700))).toEqual(snapshot(a.users.get(700)));
    expect(snapshot(c.users.get(700))).toEqual(snapshot(a.users.get(700)));

    const loner = terminals.find((x) => x.sn === 'LONER001')!;
    loner.store.putUser(kindsUser(800));
    await api()
      .post('/api/transfer-users', { fromSn: 'LONER001', toSn: 'GRPB0001', enrollIds: [800], deleteFromSource: false })
      .expect(200);
    await waitFor(() => a.users.get(800)?.credentials.length === 5 && c.users.get(800)?.credentials.length === 5, {
      message: 'user 800 on A and C',
    });
    expect(snapshot(a.users.get(800))).toEqual(snapshot(loner.users.get(800)));
    await propagationsSettled();
  });

  it('two near-simultaneous enrolments of one id end with the newest everywhere, without a loop', async () => {
    const fromA: SimUser = {
      enrollid: 900,
      name: 'From A',
      admin: 0,
      credentials: [{ backupnum: 0, record: 'AAAA(1)' }],
    };
    const fromB: SimUser = {
      enrollid: 900,
      name: 'From B',
      admin: 0,
      credentials: [{ backupnum: 0, record: 'BBBB(2)' }],
    };
    a.store.putUser(fromA);
    b.store.putUser(fromB);
    await Promise.all([a.sendUser(fromA, 0), b.sendUser(fromB, 0)]);
    await waitFor(
      async () => (await operations().countDocuments({ type: 'group_propagation', 'payload.enrollid': 900 })) === 2,
      { message: 'both propagations of 900' },
    );
    await propagationsSettled();
    const parents = await operations()
      .find({ type: 'group_propagation', 'payload.enrollid': 900 })
      // Received in the same millisecond, the one handled last wins: its parent was created last.
      .sort({ 'payload.receivedAt': 1, _id: 1 })
      .toArray();
    expect(parents).toHaveLength(2);
    const newest = parents[1].sn === 'GRPA0001' ? fromA : fromB;
    for (const vt of [a, b, c]) expect(snapshot(vt.users.get(900))).toEqual(snapshot(newest));
    // No propagation was started by a propagated push.
    expect(await operations().countDocuments({ type: 'group_propagation', 'payload.enrollid': 900 })).toBe(2);
  });

  it('an API delete on one member removes the user from all', async () => {
    await api()
      .post('/api/device/GRPB0001/delete-users', { enrollIds: [500] })
      .expect(200);
    await waitFor(() => !a.users.has(500) && !b.users.has(500) && !c.users.has(500), {
      message: 'user 500 gone everywhere',
    });
    await propagationsSettled();
    const parent = await operations().findOne({ type: 'group_propagation', 'payload.event': 'delete' });
    expect(parent).toMatchObject({
      sn: 'GRPB0001',
      status: 'success',
      payload: { enrollid: 500, targets: ['GRPA0001', 'GRPC0001'] },
    });
  });

  it('drift shows exactly the users removed behind the server’s back; plan + apply restores only them', async () => {
    const clean = await api().get(`/api/device-groups/${groupId}/drift?refresh=true`).expect(200);
    expect(clean.body.members.map((m: { missing: number[] }) => m.missing)).toEqual([[], [], []]);
    expect(clean.body.total).toEqual({ missing: 0, extra: 0, differing: 0 });

    const removed = [2, 4].map((id) => snapshot(c.users.get(id)));
    c.users.delete(2);
    c.users.delete(4);
    // Without refresh the server's copy does not know yet.
    const before = await api().get(`/api/device-groups/${groupId}/drift`).expect(200);
    expect(before.body.total.missing).toBe(0);
    const drift = await api().get(`/api/device-groups/${groupId}/drift?refresh=true`).expect(200);
    expect(drift.body.members).toEqual([
      { sn: 'GRPA0001', missing: [], extra: [], differing: [], read: { status: 'read', opId: OBJECT_ID } },
      { sn: 'GRPB0001', missing: [], extra: [], differing: [], read: { status: 'read', opId: OBJECT_ID } },
      { sn: 'GRPC0001', missing: [2, 4], extra: [], differing: [], read: { status: 'read', opId: OBJECT_ID } },
    ]);
    const list = await api().get('/api/device-groups').expect(200);
    expect(list.body.items[0].drift).toMatchObject({
      refreshed: true,
      members: [
        { sn: 'GRPA0001', missing: 0, extra: 0, differing: 0 },
        { sn: 'GRPB0001', missing: 0, extra: 0, differing: 0 },
        { sn: 'GRPC0001', missing: 2, extra: 0, differing: 0 },
      ],
      total: { missing: 2, extra: 0, differing: 0 },
    });

    const plan = await api().post('/api/device-sync/plan', { fromSn: 'GRPA0001', toSn: 'GRPC0001' }).expect(200);
    const pushes = removed.reduce((n, u) => n + u!.credentials.length, 0);
    expect(plan.body).toEqual({
      success: true,
      plan: {
        _id: OBJECT_ID,
        fromSn: 'GRPA0001',
        fromBackup: false,
        toSn: 'GRPC0001',
        missing: [2, 4],
        extra: [],
        differing: [],
        counts: { missing: 2, extra: 0, differing: 0, pushes, unpushable: 0 },
        createdAt: expect.any(String),
      },
    });
    const pushesBefore = c.received.filter((f) => f.cmd === 'setuserinfo').length;
    const applied = await api().post('/api/device-sync/apply', { planId: plan.body.plan._id }).expect(200);
    expect(applied.body).toEqual({
      success: true,
      opId: OBJECT_ID,
      planId: plan.body.plan._id,
      toSn: 'GRPC0001',
      total: pushes,
    });
    const parent = await finished(applied.body.opId);
    expect(parent).toMatchObject({
      type: 'device_sync',
      status: 'success',
      response: { done: pushes, total: pushes, succeeded: pushes, queued: true },
    });
    expect([2, 4].map((id) => snapshot(c.users.get(id)))).toEqual(removed);
    const sent = c.received.filter((f) => f.cmd === 'setuserinfo').slice(pushesBefore);
    expect([...new Set(sent.map((f) => f.enrollid))].sort()).toEqual([2, 4]);
    expect(sent).toHaveLength(pushes);

    const again = await api().post('/api/device-sync/apply', { planId: plan.body.plan._id });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ success: false, error: 'plan_already_applied', opId: applied.body.opId });
  });

  it('refuses a plan made before the target’s roster changed (409 plan_stale); restores from the backup', async () => {
    const plan = await api().post('/api/device-sync/plan', { fromSn: 'GRPA0001', toSn: 'GRPC0001' }).expect(200);
    expect(plan.body.plan.counts).toMatchObject({ missing: 0, extra: 0, differing: 0 });
    c.users.delete(3);
    const stale = await api().post('/api/device-sync/apply', { planId: plan.body.plan._id });
    expect(stale.status).toBe(409);
    expect(stale.body).toEqual({
      success: false,
      error: 'plan_stale',
      message: 'The users of GRPC0001 changed since the plan was made; make a new plan',
      planId: plan.body.plan._id,
    });

    // A wipe of C: the server's copy of C's users is the backup.
    const held = [...c.users.values()].map(snapshot).sort((x, y) => x!.enrollid - y!.enrollid);
    const expected = [...held, snapshot(a.users.get(3))].sort((x, y) => x!.enrollid - y!.enrollid);
    c.users.clear();
    const restore = await api().post('/api/device-sync/plan', { fromBackup: true, toSn: 'GRPC0001' }).expect(200);
    expect(restore.body.plan.missing).toEqual(expected.map((u) => u!.enrollid));
    const applied = await api().post('/api/device-sync/apply', { planId: restore.body.plan._id }).expect(200);
    expect((await finished(applied.body.opId)).status).toBe('success');
    expect([...c.users.values()].map(snapshot).sort((x, y) => x!.enrollid - y!.enrollid)).toEqual(expected);
  });

  it('answers bad device-sync input with clear errors', async () => {
    await api().post('/api/device-sync/plan', { toSn: 'GRPC0001' }).expect(400);
    await api().post('/api/device-sync/plan', { fromSn: 'GRPA0001', fromBackup: true, toSn: 'GRPC0001' }).expect(400);
    await api().post('/api/device-sync/plan', { fromSn: 'GRPC0001', toSn: 'GRPC0001' }).expect(400);
    await api().post('/api/device-sync/plan', { fromSn: 'GRPA0001', toSn: 'NOSUCH01' }).expect(409);
    await api().post('/api/device-sync/apply', { planId: 'nope' }).expect(400);
    const missing = await api().post('/api/device-sync/apply', { planId: new ObjectId().toHexString() });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ success: false, error: 'plan_not_found' });
    await api().get(`/api/device-groups/${groupId}/drift?refresh=maybe`).expect(400);
    await api().get(`/api/device-groups/${new ObjectId().toHexString()}/drift`).expect(404);
  });
});
