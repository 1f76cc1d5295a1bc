import request from 'supertest';
import { parseTerminalTime } from '@app/device-protocol';
import { VirtualTerminal } from '@app/device-simulator';
import { nowSeconds, signHs256, waitFor } from '@app/testing';
import { StoredUsersService } from '../src/devices';
import { createTestApp, TEST_JWT_SECRET, TestApp } from './support/test-app';
import { RawTerminal } from './gateway-raw-terminal';

describe('Devices API (e2e)', () => {
  let t: TestApp;
  let token: string;
  const raws: RawTerminal[] = [];

  beforeAll(async () => {
    t = await createTestApp({ env: { DEVICE_DEFAULT_TIMEZONE: 'UTC', DEVICE_ONLINE_LEASE: '60s' } });
    token = await t.adminToken();
  });
  afterAll(async () => {
    for (const r of raws) r.terminate();
    await t?.close();
  });

  const get = (path: string) => request(t.httpServer).get(path).set('Authorization', `Bearer ${token}`);
  const patch = (path: string, body: object) =>
    request(t.httpServer).patch(path).set('Authorization', `Bearer ${token}`).send(body);

  async function register(sn: string, devinfo: Record<string, unknown> = {}): Promise<RawTerminal> {
    const term = await RawTerminal.open(t.wsUrl);
    raws.push(term);
    await term.reg(sn, devinfo);
    return term;
  }

  async function setLastSeen(sn: string, at: Date, online = true): Promise<void> {
    await t.connection.collection('devices').updateOne({ sn }, { $set: { lastSeenAt: at, online } });
  }

  describe('auth', () => {
    it.each([
      ['GET', '/api/devices'],
      ['GET', '/api/devices/ANY1'],
      ['PATCH', '/api/devices/ANY1'],
      ['GET', '/api/devices/ANY1/door-events'],
      ['GET', '/api/devices/ANY1/stored-users'],
    ])('%s %s needs an admin token', async (method, path) => {
      const call =
        method === 'GET' ? request(t.httpServer).get(path) : request(t.httpServer).patch(path).send({ name: 'x' });
      const none = await call;
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ success: false, error: 'unauthorized' });
      const now = nowSeconds();
      const employee = signHs256(
        {
          sub: '64f5a1b2c3d4e5f6a7b8c9d0',
          role: 'EMPLOYEE',
          owner: '64f5a1b2c3d4e5f6a7b8c9d1',
          iat: now,
          exp: now + 60,
        },
        TEST_JWT_SECRET,
      );
      const req = request(t.httpServer);
      const res = await (method === 'GET' ? req.get(path) : req.patch(path).send({ name: 'x' })).set(
        'Authorization',
        `Bearer ${employee}`,
      );
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ success: false, error: 'forbidden' });
    });
  });

  describe('GET /api/devices', () => {
    beforeAll(async () => {
      // Registered, then disconnected (so no socket refreshes lastSeenAt behind the test's back).
      for (const [sn, devinfo] of [
        [
          'LIST-A',
          { usersize: 3000, useduser: 12, fpsize: 5000, usedfp: 20, logsize: 100000, usedlog: 7, usednewlog: 2 },
        ],
        ['LIST-B', {}],
        ['LIST-C', {}],
      ] as const) {
        const term = await register(sn, devinfo);
        await term.close();
        await waitFor(async () => (await t.connection.collection('devices').findOne({ sn }))?.online === false);
      }
      const now = Date.now();
      await setLastSeen('LIST-A', new Date(now - 1_000));
      await setLastSeen('LIST-B', new Date(now - 5_000));
      // Online flag set but silent past the lease (its instance died): offline.
      await setLastSeen('LIST-C', new Date(now - 3_600_000));
    });

    it('lists terminals most recently seen first, with capacities and usage', async () => {
      const res = await get('/api/devices');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, page: 1 });
      const sns = (res.body.items as { sn: string }[]).map((i) => i.sn).filter((sn) => sn.startsWith('LIST-'));
      expect(sns).toEqual(['LIST-A', 'LIST-B', 'LIST-C']);
      expect(res.body.total).toBe(res.body.items.length);
      const a = res.body.items.find((i: { sn: string }) => i.sn === 'LIST-A');
      expect(a).toMatchObject({
        sn: 'LIST-A',
        name: null,
        model: 'tfs30',
        firmware: 'th600w-1.0',
        online: true,
        timeZone: 'UTC',
        timeZoneConfigured: false,
        capacities: { users: 3000, fingerprints: 5000, logs: 100000, cards: null },
        usage: { users: 12, fingerprints: 20, logs: 7, newLogs: 2 },
      });
      expect(typeof a.lastSeenAt).toBe('string');
      expect(typeof a.connectedAt).toBe('string');
      expect(res.body.items.find((i: { sn: string }) => i.sn === 'LIST-C').online).toBe(false);
    });

    it('filters by online state, lease included', async () => {
      const online = await get('/api/devices?online=true');
      const onlineSns = (online.body.items as { sn: string; online: boolean }[]).map((i) => i.sn);
      expect(onlineSns).toEqual(expect.arrayContaining(['LIST-A', 'LIST-B']));
      expect(onlineSns).not.toContain('LIST-C');
      expect((online.body.items as { online: boolean }[]).every((i) => i.online)).toBe(true);
      const offline = await get('/api/devices?online=false');
      const offlineSns = (offline.body.items as { sn: string }[]).map((i) => i.sn);
      expect(offlineSns).toContain('LIST-C');
      expect(offlineSns).not.toContain('LIST-A');
    });

    it('pages, and clamps the limit at 100', async () => {
      const first = await get('/api/devices?limit=1&page=1');
      const second = await get('/api/devices?limit=1&page=2');
      expect(first.body.items).toHaveLength(1);
      expect(second.body.items).toHaveLength(1);
      expect(second.body.page).toBe(2);
      expect(first.body.items[0].sn).not.toBe(second.body.items[0].sn);
      expect(first.body.total).toBe(second.body.total);
      const big = await get('/api/devices?limit=1000');
      expect(big.status).toBe(200);
      expect(big.body.items.length).toBeLessThanOrEqual(100);
    });

    it.each([['online=yes'], ['online=1'], ['page=0'], ['limit=abc'], ['page=1.5']])(
      'refuses %s with 400',
      async (qs) => {
        const res = await get(`/api/devices?${qs}`);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      },
    );

    it('ignores an unknown query key', async () => {
      expect((await get('/api/devices?unknown=1')).status).toBe(200);
    });
  });

  describe('GET /api/devices/:sn', () => {
    it('returns one terminal with its devinfo', async () => {
      await register('ONE-1', { modelname: 'AiFace', facesize: 1000, usedface: 3, odd: 'kept' });
      const res = await get('/api/devices/ONE-1');
      expect(res.status).toBe(200);
      expect(res.body.success).toBe(true);
      expect(res.body.item).toMatchObject({
        sn: 'ONE-1',
        model: 'AiFace',
        cpusn: 'CPU-ONE-1',
        online: true,
        urlPath: '/pub/chat',
        devinfo: { modelname: 'AiFace', facesize: 1000, usedface: 3, odd: 'kept' },
        capacities: { faces: 1000 },
        usage: { faces: 3 },
      });
    });

    it('404 for an unknown sn, 400 for a malformed one', async () => {
      const missing = await get('/api/devices/NOPE-404');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({
        success: false,
        error: 'device_not_found',
        message: 'No terminal with sn NOPE-404',
      });
      const bad = await get('/api/devices/bad%20sn%21');
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ success: false, error: 'invalid_sn' });
    });
  });

  describe('PATCH /api/devices/:sn', () => {
    it('sets name, time zone (canonical), allowed and notes, and clears them with null', async () => {
      await register('EDIT-1');
      const res = await patch('/api/devices/EDIT-1', {
        name: '  Main entrance ',
        timeZone: 'asia/baghdad',
        allowed: true,
        notes: 'n',
      });
      expect(res.status).toBe(200);
      expect(res.body.item).toMatchObject({
        sn: 'EDIT-1',
        name: 'Main entrance',
        timeZone: 'Asia/Baghdad',
        timeZoneConfigured: true,
        allowed: true,
        notes: 'n',
      });
      const cleared = await patch('/api/devices/EDIT-1', { timeZone: null, allowed: null });
      expect(cleared.body.item).toMatchObject({
        name: 'Main entrance',
        timeZone: 'UTC',
        timeZoneConfigured: false,
        allowed: null,
      });
    });

    it('the terminal clock follows its zone: cloudtime and punches are read in it', async () => {
      const term = new VirtualTerminal({ sn: 'ZONE-1', url: `${t.wsUrl}/pub/chat` });
      term.on('warning', () => undefined);
      await term.connect();
      await patch('/api/devices/ZONE-1', { timeZone: 'Asia/Tokyo' }).expect(200);
      const before = Date.now();
      const ack = await term.sendLogs([{ enrollid: 5, time: '2025-11-08 09:00:00' }]);
      const meant = parseTerminalTime(ack.cloudtime as string, 'Asia/Tokyo')!.getTime();
      expect(meant).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(meant).toBeLessThanOrEqual(Date.now());
      const punch = await t.connection.collection('fingerprintlogs').findOne({ device_sn: 'ZONE-1' });
      expect(punch!.time.toISOString()).toBe('2025-11-08T00:00:00.000Z');
      await term.close();
    });

    it.each([
      [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
      [{ timeZone: 5 }, 'timeZone'],
      [{ allowed: 'yes' }, 'allowed'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ color: 'red' }, 'color'],
      [{}, 'body'],
    ])('refuses %j with 400', async (body, field) => {
      await register('EDIT-2');
      const res = await patch('/api/devices/EDIT-2', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
    });

    it('404 for an unknown sn', async () => {
      const res = await patch('/api/devices/NOPE-PATCH', { name: 'x' });
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('device_not_found');
    });
  });

  describe('GET /api/devices/:sn/door-events', () => {
    it('lists door events newest first, with their meaning, paged', async () => {
      const term = await register('DOOR-1');
      const ack = await term.request({
        cmd: 'sendlog',
        sn: 'DOOR-1',
        count: 4,
        logindex: 1,
        record: [
          { enrollid: 0, event: 0, time: '2025-11-08 08:00:00', mode: 0, inout: 1 },
          { enrollid: 0, event: 6, time: '2025-11-08 10:00:00', mode: 0, inout: 1 },
          { enrollid: 0, event: 42, time: '2025-11-08 09:00:00', mode: 0, inout: 1 },
          { enrollid: 9, event: 0, time: '2025-11-08 09:30:00', mode: 1, inout: 0 },
        ],
      });
      expect(ack.result).toBe(true);
      const res = await get('/api/devices/DOOR-1/door-events');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, total: 3, page: 1 });
      expect(res.body.items.map((e: { event: number; eventName: string }) => [e.event, e.eventName])).toEqual([
        [6, 'device_removed'],
        [42, 'unknown'],
        [0, 'door_closed'],
      ]);
      expect(res.body.items[0]).toMatchObject({
        sn: 'DOOR-1',
        time: '2025-11-08 10:00:00',
        at: '2025-11-08T10:00:00.000Z',
        timeZone: 'UTC',
        description: 'Device removed (tamper)',
        inout: 1,
        mode: 0,
        source: 'sendlog',
      });
      const page2 = await get('/api/devices/DOOR-1/door-events?limit=2&page=2');
      expect(page2.body).toMatchObject({ total: 3, page: 2 });
      expect(page2.body.items.map((e: { event: number }) => e.event)).toEqual([0]);
      expect((await get('/api/devices/NOPE-DOOR/door-events')).status).toBe(404);
      expect((await get('/api/devices/DOOR-1/door-events?page=-1')).status).toBe(400);
    });
  });

  describe('GET /api/devices/:sn/stored-users', () => {
    it("lists the server's copy without templates", async () => {
      const term = await register('COPY-1');
      await term.request({
        cmd: 'senduser',
        sn: 'COPY-1',
        enrollid: 7,
        name: 'Sara',
        backupnum: 0,
        admin: '1',
        record: 'TEMPLATE',
      });
      await term.request({
        cmd: 'senduser',
        sn: 'COPY-1',
        enrollid: 7,
        name: 'Sara',
        backupnum: 11,
        admin: 1,
        record: '99887766',
      });
      await t.app.get(StoredUsersService).upsertUser('COPY-1', { enrollid: 7, aliasid: 'HR-7' });
      const res = await get('/api/devices/COPY-1/stored-users');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, total: 1, page: 1 });
      expect(res.body.items[0]).toMatchObject({
        enrollid: 7,
        name: 'Sara',
        aliasid: 'HR-7',
        admin: 1,
        onDevice: true,
        credentials: [
          { backupnum: 0, kind: 'fingerprint', onDevice: true },
          { backupnum: 11, kind: 'card', onDevice: true },
        ],
      });
      expect(JSON.stringify(res.body)).not.toContain('TEMPLATE');
      expect((await get('/api/devices/NOPE-COPY/stored-users')).status).toBe(404);
    });
  });
});
