import request from 'supertest';
import { generateUsers, VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { createTestApp, TestApp } from './support/test-app';

jest.setTimeout(60_000);

describe('Scheduled group drift check (e2e)', () => {
  let t: TestApp;
  const terminals: VirtualTerminal[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { GROUP_DRIFT_INTERVAL: '1s' } });
  });

  afterAll(async () => {
    await Promise.all(terminals.map((vt) => vt.close().catch(() => undefined)));
    await t?.close();
  });

  it('re-reads the members on its own and shows the counts in the list', async () => {
    const token = await t.adminToken();
    const users = generateUsers(4, 'sched');
    for (const sn of ['SCHEDA01', 'SCHEDB01']) {
      const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users });
      terminals.push(vt);
      await vt.connect();
    }
    terminals[1].users.delete(3);
    await request(t.httpServer)
      .post('/api/device-groups')
      .set('Authorization', `Bearer ${token}`)
      .send({ name: 'Scheduled', sns: ['SCHEDA01', 'SCHEDB01'], syncUsers: false })
      .expect(201);

    const drift = await waitFor(
      async () => {
        const res = await request(t.httpServer).get('/api/device-groups').set('Authorization', `Bearer ${token}`);
        return res.body.items[0]?.drift;
      },
      { timeoutMs: 20_000, message: 'a scheduled drift check' },
    );
    expect(drift).toMatchObject({
      refreshed: true,
      members: [
        { sn: 'SCHEDA01', missing: 0, extra: 0, differing: 0 },
        { sn: 'SCHEDB01', missing: 1, extra: 0, differing: 0 },
      ],
      total: { missing: 1, extra: 0, differing: 0 },
    });
    // The rosters were read through ordinary operations.
    expect(
      await t.connection
        .collection('operations')
        .countDocuments({ type: 'getuserlist', requestedBy: 'system:group-drift' }),
    ).toBeGreaterThanOrEqual(2);
  });
});
