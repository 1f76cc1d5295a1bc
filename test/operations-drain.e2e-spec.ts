import { ObjectId } from 'mongodb';
import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { HealthService } from '../src/health/health.service';
import { OperationDrainService } from '../src/operations';
import { createTestApp, TestApp } from './support/test-app';

interface OpBody {
  _id: string;
  status: string;
  attemptCount: number;
  lastError?: string;
}

/** The SIGTERM sequence of main.ts, step by step: readiness off, quiesce, hand back, close. */
describe('operation queue: graceful shutdown (e2e)', () => {
  const apps: TestApp[] = [];
  const terminals: VirtualTerminal[] = [];

  afterAll(async () => {
    await Promise.all(terminals.map((vt) => vt.close().catch(() => undefined)));
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
  });

  const terminalOn = (t: TestApp, sn: string) => {
    const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat` });
    vt.on('warning', () => undefined);
    terminals.push(vt);
    return vt;
  };

  const command = async (t: TestApp, sn: string, cmd: string): Promise<string> => {
    const res = await request(t.httpServer)
      .post(`/api/device/${sn}/command`)
      .set('Authorization', `Bearer ${await t.adminToken()}`)
      .send({ cmd })
      .expect(200);
    return (res.body as { op: OpBody }).op._id;
  };

  it('lets a command in flight finish while nothing new is sent', async () => {
    const t = await createTestApp();
    apps.push(t);
    const vt = terminalOn(t, 'DRAIN0001');
    await vt.connect();
    vt.setReplyDelay(300);
    const first = await command(t, 'DRAIN0001', 'gettime');
    await vt.waitForCommand('gettime');

    t.app.get(HealthService).startDraining();
    await request(t.httpServer).get('/api/health/ready').expect(503);
    const drain = t.app.get(OperationDrainService);
    const quiesced = drain.quiesce(10_000);
    const second = await command(t, 'DRAIN0001', 'getdevinfo');
    await quiesced;

    const ops = t.connection.collection('operations');
    expect(await ops.findOne({ _id: new ObjectId(first) })).toMatchObject({ status: 'success' });
    expect(await ops.findOne({ _id: new ObjectId(second) })).toMatchObject({ status: 'pending', attemptCount: 0 });
    expect(vt.received.filter((f) => f.cmd === 'getdevinfo')).toEqual([]);
    expect(await drain.handBack()).toBe(0);
  });

  it('hands back what is still in flight, so the next instance sends it without waiting for the lease', async () => {
    // A lease far longer than the test: only the hand-back can free the command.
    const first = await createTestApp({ env: { OP_LEASE_TTL: '10m', OP_REPLY_TIMEOUT: '10m' } });
    apps.push(first);
    const before = terminalOn(first, 'DRAIN0002');
    await before.connect();
    before.ignoreNext('getdevinfo');
    const id = await command(first, 'DRAIN0002', 'getdevinfo');
    await before.waitForCommand('getdevinfo');

    const drain = first.app.get(OperationDrainService);
    await drain.quiesce(50);
    expect(await drain.handBack()).toBe(1);
    const handed = await first.connection.collection('operations').findOne({ _id: new ObjectId(id) });
    expect(handed).toMatchObject({ status: 'pending', attemptCount: 1 });
    expect(handed?.leaseOwner).toBeUndefined();
    await first.close({ keepDatabase: true });
    apps.splice(apps.indexOf(first), 1);
    await before.close();

    const second = await createTestApp({ env: { MONGODB_URI: first.env.MONGODB_URI, OP_LEASE_TTL: '10m' } });
    apps.push(second);
    const after = terminalOn(second, 'DRAIN0002');
    await after.connect();
    await after.waitForCommand('getdevinfo', 10_000);
    const done = await waitFor(
      async () => {
        const op = await second.connection.collection('operations').findOne({ _id: new ObjectId(id) });
        return op?.status === 'success' ? op : undefined;
      },
      { message: 'handed-back operation finished by the second instance' },
    );
    expect(done).toMatchObject({ attemptCount: 2, lastError: expect.stringMatching(/^instance_stopping: /) });
  });
});
