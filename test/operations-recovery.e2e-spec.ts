import { ObjectId } from 'mongodb';
import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { createTestApp, TestApp } from './support/test-app';

interface OpBody {
  _id: string;
  status: string;
  attemptCount: number;
  lastError?: string;
  response?: Record<string, unknown>;
}

function terminalOn(t: TestApp, sn: string, extra: Partial<ConstructorParameters<typeof VirtualTerminal>[0]> = {}) {
  const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users: 1, ...extra });
  vt.on('warning', () => undefined);
  return vt;
}

describe('operation queue: server restart (e2e)', () => {
  const apps: TestApp[] = [];
  const terminals: VirtualTerminal[] = [];

  afterAll(async () => {
    await Promise.all(terminals.map((vt) => vt.close().catch(() => undefined)));
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
  });

  it('finishes on a new server an operation the old one had sent when it stopped', async () => {
    const sn = `RESTART${Date.now().toString(36).toUpperCase()}`;
    // A short lease, renewed while the first server lives; a long reply timeout, so that only the
    // lease (not a timeout on the first server) can bring the operation back.
    const first = await createTestApp({ env: { OP_LEASE_TTL: '1s', OP_REPLY_TIMEOUT: '60s' } });
    apps.push(first);
    const token = await first.adminToken();
    const before = terminalOn(first, sn);
    terminals.push(before);
    await before.connect();
    before.ignoreNext('getdevinfo');

    const res = await request(first.httpServer)
      .post(`/api/device/${sn}/command`)
      .set('Authorization', `Bearer ${token}`)
      .send({ cmd: 'getdevinfo' })
      .expect(200);
    const id = (res.body as { op: OpBody }).op._id;
    await before.waitForCommand('getdevinfo');
    const operations = first.connection.collection('operations');
    await waitFor(async () => (await operations.findOne({ _id: new ObjectId(id) }))?.status === 'sent');

    await first.close({ keepDatabase: true });
    apps.splice(apps.indexOf(first), 1);
    await before.close();

    const second = await createTestApp({ env: { MONGODB_URI: first.env.MONGODB_URI, OP_POLL_INTERVAL: '200ms' } });
    apps.push(second);
    const stranded = await second.connection.collection('operations').findOne({ _id: new ObjectId(id) });
    expect(stranded).toMatchObject({ status: 'sent', attemptCount: 1 });
    expect(stranded?.leaseOwner).toEqual(expect.any(String));

    const after = terminalOn(second, sn);
    terminals.push(after);
    await after.connect();
    await after.waitForCommand('getdevinfo', 20_000);
    const token2 = await second.adminToken();
    const done = await waitFor(
      async () => {
        const r = await request(second.httpServer)
          .get(`/api/operations/${id}`)
          .set('Authorization', `Bearer ${token2}`)
          .expect(200);
        const op = (r.body as { op: OpBody }).op;
        return op.status === 'success' ? op : undefined;
      },
      { timeoutMs: 20_000, message: 'operation finished by the second server' },
    );
    expect(done.attemptCount).toBe(2);
    expect(done.lastError).toMatch(/^lease_expired: /);
    expect(done.response).toMatchObject({ ret: 'getdevinfo', result: true });
    await second.close();
    apps.splice(apps.indexOf(second), 1);
  });
});

describe('operation queue: slow terminal (e2e)', () => {
  let t: TestApp;
  let token: string;
  const terminals: VirtualTerminal[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { OP_WAIT_TIMEOUT: '300ms', OP_REPLY_TIMEOUT: '30s' } });
    token = await t.adminToken();
  });

  afterAll(async () => {
    await Promise.all(terminals.map((vt) => vt.close().catch(() => undefined)));
    await t?.close();
  });

  it('answers 504 with the operation id after OP_WAIT_TIMEOUT, and the operation carries on', async () => {
    const sn = `SLOW${Date.now().toString(36).toUpperCase()}`;
    const vt = terminalOn(t, sn, { replyDelayMs: 1_500 });
    terminals.push(vt);
    await vt.connect();

    const res = await request(t.httpServer)
      .post(`/api/device/${sn}/command`)
      .set('Authorization', `Bearer ${token}`)
      .send({ cmd: 'gettime', wait: true })
      .expect(504);
    expect(res.body).toEqual({
      success: false,
      error: 'device_timeout',
      opId: expect.stringMatching(/^[0-9a-f]{24}$/),
    });
    const opId = (res.body as { opId: string }).opId;

    const done = await waitFor(
      async () => {
        const r = await request(t.httpServer)
          .get(`/api/operations/${opId}`)
          .set('Authorization', `Bearer ${token}`)
          .expect(200);
        const op = (r.body as { op: OpBody }).op;
        return op.status === 'success' ? op : undefined;
      },
      { timeoutMs: 15_000, message: 'slow operation finished' },
    );
    expect(done).toMatchObject({ attemptCount: 1, response: { ret: 'gettime' } });
  });
});
