import { ObjectId } from 'mongodb';
import request from 'supertest';
import { generateUsers, SimUser, VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { createTestApp, TestApp } from './support/test-app';

function snapshot(user: SimUser | undefined) {
  if (!user) return undefined;
  return { ...user, credentials: [...user.credentials].sort((a, b) => a.backupnum - b.backupnum) };
}

jest.setTimeout(60_000);

describe('device-sync apply across a restart (e2e)', () => {
  const apps: TestApp[] = [];
  const terminals: VirtualTerminal[] = [];

  afterAll(async () => {
    await Promise.all(terminals.map((vt) => vt.close().catch(() => undefined)));
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
  });

  function terminalOn(t: TestApp, sn: string, users: SimUser[]) {
    const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users });
    vt.on('warning', () => undefined);
    terminals.push(vt);
    return vt;
  }

  it('finishes an apply whose queueing a restart interrupted, pushing only what was missing', async () => {
    const users = generateUsers(6, 'restart-sync');
    const first = await createTestApp({ env: { OP_LEASE_TTL: '1s', OP_REPLY_TIMEOUT: '60s' } });
    apps.push(first);
    const token = await first.adminToken();
    const a = terminalOn(first, 'RSYNCA01', users);
    const c = terminalOn(first, 'RSYNCC01', users.slice(0, 2));
    await Promise.all([a.connect(), c.connect()]);

    const plan = await request(first.httpServer)
      .post('/api/device-sync/plan')
      .set('Authorization', `Bearer ${token}`)
      .send({ fromSn: 'RSYNCA01', toSn: 'RSYNCC01' })
      .expect(200);
    expect(plan.body.plan.missing).toEqual([3, 4, 5, 6]);
    // The first push is never answered: the rest wait behind it when the server stops.
    c.ignoreNext('setuserinfo');
    const applied = await request(first.httpServer)
      .post('/api/device-sync/apply')
      .set('Authorization', `Bearer ${token}`)
      .send({ planId: plan.body.plan._id })
      .expect(200);
    await c.waitForCommand('setuserinfo');
    await first.close({ keepDatabase: true });
    apps.splice(apps.indexOf(first), 1);
    await c.close();

    // The state a crash in the middle of queueing leaves: the last user's item taken but its steps
    // never stored, the parent not marked fully queued, and its progress not touched for minutes.
    const { MongoClient } = await import('mongodb');
    const client = await MongoClient.connect(first.env.MONGODB_URI);
    const db = client.db();
    const parentId = new ObjectId(applied.body.opId as string);
    const last = await db.collection('devicesyncitems').findOne({ enrollid: 6 });
    await db.collection('operations').deleteMany({ parentId, 'payload.enrollid': 6 });
    await db.collection('devicesyncitems').updateOne({ _id: last!._id }, { $set: { state: 'queueing' } });
    await db
      .collection('operations')
      .updateOne(
        { _id: parentId },
        { $set: { 'response.queued': false, updatedAt: new Date(Date.now() - 5 * 60_000) } },
      );
    await client.close();

    const second = await createTestApp({
      env: { MONGODB_URI: first.env.MONGODB_URI, OP_POLL_INTERVAL: '200ms', GROUP_SYNC_RECONCILE_INTERVAL: '300ms' },
    });
    apps.push(second);
    const c2 = terminalOn(second, 'RSYNCC01', []);
    // Same terminal, same memory: what it held before the restart.
    for (const u of c.users.values()) c2.store.putUser(u);
    await c2.connect();

    const parent = await waitFor(
      async () => {
        const op = await second.connection.collection('operations').findOne({ _id: parentId });
        return op && op.status !== 'pending' ? op : undefined;
      },
      { timeoutMs: 30_000, message: 'the apply to finish on the second server' },
    );
    const pushes = users.slice(2).reduce((n, u) => n + u.credentials.length, 0);
    expect(parent).toMatchObject({
      status: 'success',
      response: { queued: true, total: pushes, done: pushes, succeeded: pushes },
    });
    expect([...c2.users.values()].map(snapshot).sort((x, y) => x!.enrollid - y!.enrollid)).toEqual(users.map(snapshot));
    expect(await second.connection.collection('devicesyncitems').countDocuments({ state: { $ne: 'queued' } })).toBe(0);
  });
});
