import request from 'supertest';
import { VirtualTerminal, type VirtualTerminalOptions } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { DeviceConnectionRegistry, TerminalDisconnectedEvent } from '../src/devices';
import { createTestApp, TestApp } from './support/test-app';
import { RawTerminal } from './gateway-raw-terminal';

const IDENTITY_REASON = 'Serial number in use by another terminal';

describe('Terminal trust (e2e)', () => {
  let snCounter = 0;
  const nextSn = (prefix: string): string => `${prefix}${Date.now().toString(36).toUpperCase()}${++snCounter}`;

  function harness(getApp: () => TestApp) {
    const sims: VirtualTerminal[] = [];
    const raws: RawTerminal[] = [];
    return {
      sim(sn: string, extra: Partial<VirtualTerminalOptions> = {}): VirtualTerminal {
        const term = new VirtualTerminal({ sn, url: `${getApp().wsUrl}/pub/chat`, users: 2, ...extra });
        term.on('warning', () => undefined);
        sims.push(term);
        return term;
      },
      async raw(opts?: Parameters<typeof RawTerminal.open>[1]): Promise<RawTerminal> {
        const term = await RawTerminal.open(getApp().wsUrl, opts);
        raws.push(term);
        return term;
      },
      async cleanup(): Promise<void> {
        for (const r of raws.splice(0)) r.terminate();
        await Promise.all(sims.splice(0).map((s) => s.close()));
      },
    };
  }

  describe('identity pinning', () => {
    let t: TestApp;
    let token: string;
    const h = harness(() => t);
    const disconnected: TerminalDisconnectedEvent[] = [];

    beforeAll(async () => {
      t = await createTestApp();
      token = await t.adminToken();
      t.app.get(DeviceConnectionRegistry).on('disconnected', (e) => disconnected.push(e));
    });
    afterEach(() => h.cleanup());
    afterAll(async () => {
      await t?.close();
    });

    const deviceDoc = (sn: string) => t.connection.collection('devices').findOne({ sn });
    const getDevice = (sn: string) =>
      request(t.httpServer).get(`/api/devices/${sn}`).set('Authorization', `Bearer ${token}`);

    it('refuses an impostor while the genuine terminal is online; it receives no command', async () => {
      const sn = nextSn('PIN');
      const genuine = h.sim(sn);
      await genuine.connect();
      const pinned = (await getDevice(sn)).body.item;
      expect(pinned.identity).toMatchObject({ cpusn: genuine.store.cpusn() });
      expect(pinned.identity.mac).toMatch(/^0001A9[0-9A-F]{6}$/);

      const impostor = h.sim(sn, { impostor: true, users: 0, devinfo: { modelname: 'rogue', firmware: 'evil-1' } });
      await expect(impostor.connect()).rejects.toThrow(IDENTITY_REASON);
      expect(impostor.lastRegReply).toEqual({ ret: 'reg', result: false, reason: IDENTITY_REASON });

      // Commands for the serial reach the genuine unit only.
      const registry = t.app.get(DeviceConnectionRegistry);
      expect(registry.send(sn, { cmd: 'getuserlist', stn: true })).toBe(true);
      await genuine.waitForCommand('getuserlist');
      expect(impostor.received).toEqual([]);

      const res = await getDevice(sn);
      expect(res.status).toBe(200);
      expect(res.body.item).toMatchObject({ model: genuine.store.devinfo().modelname, online: true });
      expect(res.body.item.identityConflicts).toHaveLength(1);
      expect(res.body.item.identityConflicts[0]).toMatchObject({
        remoteAddress: '127.0.0.1',
        reason: 'identity',
        devinfo: expect.objectContaining({ modelname: 'rogue' }),
      });
      expect(typeof res.body.item.identityConflicts[0].at).toBe('string');
    });

    it('refuses an impostor while the genuine terminal is offline, and stores nothing it sends', async () => {
      const sn = nextSn('PIN');
      const genuine = h.sim(sn);
      await genuine.connect();
      await genuine.close();
      await waitFor(async () => (await deviceDoc(sn))?.online === false);

      const impostor = h.sim(sn, { impostor: 'second', users: 0 });
      await expect(impostor.connect()).rejects.toThrow(IDENTITY_REASON);

      // A raw client pipelining reg and punches: refused, closed, and none of its punches stored.
      const raw = await h.raw();
      raw.send({ cmd: 'reg', sn, cpusn: 'FORGED', devinfo: { mac: '00-00-00-00-00-01' } });
      raw.send({ cmd: 'sendlog', sn, count: 1, logindex: 1, record: [{ enrollid: 501, time: '2025-11-08 09:00:00' }] });
      expect(await raw.next((f) => f.ret === 'reg')).toEqual({ ret: 'reg', result: false, reason: IDENTITY_REASON });
      expect((await raw.closed).code).toBe(4003);
      expect(await t.connection.collection('fingerprintlogs').countDocuments({ device_sn: sn })).toBe(0);

      const doc = await deviceDoc(sn);
      expect(doc!.online).toBe(false);
      expect(doc!.cpusn).toBe(genuine.store.cpusn());
      expect(doc!.identityConflicts.map((c: { reason: string }) => c.reason)).toEqual(['identity', 'identity']);

      // The genuine unit comes back as itself.
      await genuine.connect();
      expect(t.app.get(DeviceConnectionRegistry).isConnected(sn)).toBe(true);
    });

    it('admits the genuine terminal reconnecting after a silent network drop (half-open old socket)', async () => {
      const sn = nextSn('PIN');
      const genuine = h.sim(sn, { autoReconnect: true, reconnectDelayMs: 50 });
      await genuine.connect();
      const first = (await deviceDoc(sn))!.connectionId;

      const again = genuine.nextRegistration(15_000);
      genuine.dropSilently();
      await again;
      // The reply of a known terminal's reg does not wait for the write of its new connection.
      await waitFor(async () => (await deviceDoc(sn))?.connectionId !== first);
      const doc = await deviceDoc(sn);
      expect(doc!.online).toBe(true);
      expect(doc!.identityConflicts ?? []).toEqual([]);
      // The old socket that missed its ping was ended and reported nothing.
      expect(disconnected.filter((e) => e.sn === sn)).toEqual([]);
      expect(await genuine.sendLogs([{ enrollid: 1, time: '2025-11-08 09:00:00' }])).toMatchObject({ result: true });
    });

    it('protects a serial without cpusn or mac by the liveness rule alone', async () => {
      const sn = nextSn('BARE');
      const noIdentity = { cpusn: null, devinfo: { mac: undefined } } as const;
      const first = h.sim(sn, noIdentity);
      await first.connect();
      expect((await getDevice(sn)).body.item.identity).toBeNull();
      const twin = h.sim(sn, noIdentity);
      await expect(twin.connect()).rejects.toThrow(IDENTITY_REASON);
      expect((await deviceDoc(sn))!.identityConflicts[0].reason).toBe('alive');
      await first.close();
      await waitFor(async () => (await deviceDoc(sn))?.online === false);
      await expect(h.sim(sn, noIdentity).connect()).resolves.toMatchObject({ result: true });
    });

    it('after POST /identity/reset the next registration is pinned as the new identity', async () => {
      const sn = nextSn('SWAP');
      const old = h.sim(sn);
      await old.connect();
      await old.close();
      await waitFor(async () => (await deviceDoc(sn))?.online === false);

      const reset = await request(t.httpServer)
        .post(`/api/devices/${sn}/identity/reset`)
        .set('Authorization', `Bearer ${token}`);
      expect(reset.status).toBe(200);
      expect(reset.body).toMatchObject({ success: true, item: { sn, identity: null } });

      const swapped = h.sim(sn, { impostor: 'new-mainboard' });
      await expect(swapped.connect()).resolves.toMatchObject({ result: true });
      const item = (await getDevice(sn)).body.item;
      expect(item.identity.cpusn).not.toBe(old.store.cpusn());
      expect(item.cpusn).toBe(item.identity.cpusn);
      await swapped.close();
      await waitFor(async () => (await deviceDoc(sn))?.online === false);
      // Now the old mainboard is the stranger.
      await expect(h.sim(sn).connect()).rejects.toThrow(IDENTITY_REASON);
    });

    it('answers the reset route with the contract errors', async () => {
      const post = (sn: string, auth?: string) => {
        const req = request(t.httpServer).post(`/api/devices/${sn}/identity/reset`);
        return auth ? req.set('Authorization', `Bearer ${auth}`) : req;
      };
      expect((await post('NOSUCHSN1', token)).body).toEqual({
        success: false,
        error: 'device_not_found',
        message: 'No terminal with sn NOSUCHSN1',
      });
      expect((await post('bad sn', token)).status).toBe(400);
      expect((await post('NOSUCHSN1')).status).toBe(401);
    });
  });

  describe('admission (DEVICE_ADMISSION=approve)', () => {
    let t: TestApp;
    let token: string;
    const h = harness(() => t);

    beforeAll(async () => {
      t = await createTestApp({
        env: { DEVICE_ADMISSION: 'approve', DEVICE_PENDING_MAX: '2', DEVICE_ALLOWLIST: 'PRE-APPROVED-1' },
      });
      token = await t.adminToken();
    });
    afterEach(() => h.cleanup());
    afterAll(async () => {
      await t?.close();
    });

    const deviceDoc = (sn: string) => t.connection.collection('devices').findOne({ sn });

    it('holds an unknown terminal as pending, and after approval its held punches arrive', async () => {
      const sn = nextSn('NEW');
      const term = h.sim(sn, { autoReconnect: true, reconnectDelayMs: 200 });
      const refused = new Promise<string>((resolve) => term.once('rejected', resolve));
      term.connect().catch(() => undefined);
      const held = term.sendLogs([
        { enrollid: 1, time: '2025-11-08 08:00:00' },
        { enrollid: 2, time: '2025-11-08 08:01:00' },
      ]);
      expect(await refused).toBe('Waiting for approval');
      const pending = await request(t.httpServer).get(`/api/devices/${sn}`).set('Authorization', `Bearer ${token}`);
      expect(pending.body.item).toMatchObject({ sn, admission: 'pending', online: false, allowed: null });
      expect(await t.connection.collection('fingerprintlogs').countDocuments({ device_sn: sn })).toBe(0);

      const approved = await request(t.httpServer)
        .patch(`/api/devices/${sn}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ allowed: true });
      expect(approved.status).toBe(200);
      expect(approved.body.item).toMatchObject({ allowed: true, admission: 'approved' });

      await term.waitUntilRegistered(15_000);
      expect(await held).toMatchObject({ result: true });
      expect(await t.connection.collection('fingerprintlogs').countDocuments({ device_sn: sn })).toBe(2);
      expect((await deviceDoc(sn))!.admission).toBe('admitted');
    });

    it('admits a serial of DEVICE_ALLOWLIST at once', async () => {
      await expect(h.sim('PRE-APPROVED-1').connect()).resolves.toMatchObject({ result: true });
    });

    it('records at most DEVICE_PENDING_MAX pending serials, each devinfo capped; beyond that writes nothing', async () => {
      // Strings are kept up to 4 KB each: five of them pass DEVICE_DEVINFO_MAX (16 KB).
      const big: Record<string, unknown> = { modelname: 'AiFace', firmware: 'x1', extra: { deep: 'z'.repeat(3000) } };
      for (let i = 0; i < 5; i++) big[`junk${i}`] = 'y'.repeat(4000);
      const sns = [nextSn('PEND'), nextSn('PEND'), nextSn('PEND')];
      for (const sn of sns) {
        const raw = await h.raw();
        expect(await raw.reg(sn, big)).toEqual({ ret: 'reg', result: false, reason: 'Waiting for approval' });
        expect((await raw.closed).code).toBe(4003);
      }
      const first = await deviceDoc(sns[0]);
      expect(first).toMatchObject({ admission: 'pending', online: false });
      expect(first!.devinfo).toEqual({ modelname: 'AiFace', firmware: 'x1' });
      expect((await deviceDoc(sns[1]))!.admission).toBe('pending');
      expect(await deviceDoc(sns[2])).toBeNull();
      expect(await t.connection.collection('devices').countDocuments({ admission: 'pending' })).toBe(2);
    });
  });

  describe('door decisions (DEVICE_ACCESS_POLICY=known)', () => {
    let t: TestApp;
    let token: string;
    const h = harness(() => t);

    beforeAll(async () => {
      t = await createTestApp();
      token = await t.adminToken();
    });
    afterEach(() => h.cleanup());
    afterAll(async () => {
      await t?.close();
    });

    const log = (enrollid: number, event = 0) => ({ enrollid, time: '2025-11-08 09:00:00', event });

    it('opens only for enroll ids the server knows for that terminal and that are not disabled', async () => {
      const sn = nextSn('DOOR');
      const term = h.sim(sn, { users: [] });
      await term.connect();

      // Topdata reports a face it did not recognise as enroll id 99999999, event 2.
      expect(await term.sendLogs([log(99999999, 2)])).toMatchObject({ result: true, access: 0 });

      // A user of this terminal in the server's copy (pushed with senduser).
      const raw = await h.raw();
      await raw.reg(`${sn}-B`);
      expect(
        await raw.request({ cmd: 'senduser', sn: `${sn}-B`, enrollid: 501, name: 'Ana', backupnum: 11, record: 1234 }),
      ).toMatchObject({ result: true });
      const ack = await raw.request({ cmd: 'sendlog', sn: `${sn}-B`, count: 1, logindex: 1, record: [log(501)] });
      expect(ack).toMatchObject({ result: true, access: 1 });
      // The same enroll id on another terminal is a stranger there.
      expect(await term.sendLogs([log(501)])).toMatchObject({ access: 0 });
      // One stranger in a frame keeps the door shut for the whole frame.
      const mixed = await raw.request({
        cmd: 'sendlog',
        sn: `${sn}-B`,
        count: 2,
        logindex: 2,
        record: [log(501), log(12345)],
      });
      expect(mixed).toMatchObject({ result: true, access: 0 });
      // Door events (enroll id 0) are stored and acked as before.
      expect(await term.sendLogs([{ enrollid: 0, time: '2025-11-08 09:00:00', event: 1, inout: 1 }])).toMatchObject({
        result: true,
        access: 1,
      });
      expect(await t.connection.collection('doorevents').countDocuments({ sn })).toBe(1);
    });

    it('opens for an active employee with that enroll_id, and not once the employee is deactivated', async () => {
      const sn = nextSn('DOOR');
      const term = h.sim(sn, { users: [] });
      await term.connect();
      const created = await request(t.httpServer)
        .post('/api/employees')
        .set('Authorization', `Bearer ${token}`)
        .send({ enroll_id: '777', username: `door-${sn.toLowerCase()}`, password: 'strongPassword', fullName: 'Door' });
      expect(created.status).toBeLessThan(300);
      expect(await term.sendLogs([log(777)])).toMatchObject({ access: 1 });
      const id = created.body.item._id as string;
      // The employees read for the door decision also gives the stored punch its employee.
      const punch = await t.connection.collection('fingerprintlogs').findOne({ device_sn: sn, enrollid: '777' });
      expect(String(punch?.employee)).toBe(id);
      const updated = await request(t.httpServer)
        .put(`/api/employees/${id}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ isActive: false });
      expect(updated.status).toBe(200);
      expect(await term.sendLogs([{ ...log(777), time: '2025-11-08 09:05:00' }])).toMatchObject({ access: 0 });
    });

    it('decides frames of several terminals arriving at once each for its own terminal, and stores each once', async () => {
      const base = nextSn('DOORS');
      const raws = await Promise.all([0, 1, 2, 3, 4].map(() => h.raw()));
      const sns = raws.map((_, i) => `${base}-${i}`);
      await Promise.all(raws.map((raw, i) => raw.reg(sns[i])));
      // Enroll id 700 is a user of terminals 0, 2 and 4 only.
      for (const i of [0, 2, 4]) {
        expect(
          await raws[i].request({ cmd: 'senduser', sn: sns[i], enrollid: 700, name: 'Huda', backupnum: 11, record: 1 }),
        ).toMatchObject({ result: true });
      }
      const frame = (i: number) => ({ cmd: 'sendlog', sn: sns[i], count: 1, logindex: 1, record: [log(700)] });
      const acks = await Promise.all(raws.map((raw, i) => raw.request(frame(i))));
      expect(acks.map((a) => [a.result, a.access])).toEqual([
        [true, 1],
        [true, 0],
        [true, 1],
        [true, 0],
        [true, 1],
      ]);
      // The same frames again, all at once (a terminal resending after a lost ack): stored once each.
      const again = await Promise.all(raws.map((raw, i) => raw.request(frame(i))));
      expect(again.map((a) => a.result)).toEqual([true, true, true, true, true]);
      const logs = t.connection.collection('fingerprintlogs');
      for (const sn of sns) expect(await logs.countDocuments({ device_sn: sn, enrollid: '700' })).toBe(1);
    });

    it('keeps the door shut for a user disabled on the terminal (enableuser enflag 0)', async () => {
      const sn = nextSn('DOOR');
      const raw = await h.raw();
      await raw.reg(sn);
      await raw.request({ cmd: 'senduser', sn, enrollid: 42, name: 'Zaid', backupnum: 10, record: 1234 });
      const punch = (logindex: number) => ({ cmd: 'sendlog', sn, count: 1, logindex, record: [log(42)] });
      expect(await raw.request(punch(1))).toMatchObject({ access: 1 });

      const disabling = request(t.httpServer)
        .post(`/api/device/${sn}/command`)
        .set('Authorization', `Bearer ${token}`)
        .send({ cmd: 'enableuser', payload: { enrollid: 42, enflag: 0 }, wait: true })
        .then((r) => r);
      expect(await raw.next((f) => f.cmd === 'enableuser')).toMatchObject({ enrollid: 42, enflag: 0 });
      raw.send({ ret: 'enableuser', sn, result: true });
      expect((await disabling).status).toBe(200);
      expect(await raw.request(punch(2))).toMatchObject({ result: true, access: 0 });
    });
  });

  describe('floods cost the sender', () => {
    let t: TestApp;
    const h = harness(() => t);
    const disconnected: TerminalDisconnectedEvent[] = [];

    beforeAll(async () => {
      t = await createTestApp({ env: { WS_MAX_BUFFERED: '64kb', WS_REG_TIMEOUT: '1s' } });
      t.app.get(DeviceConnectionRegistry).on('disconnected', (e) => disconnected.push(e));
    });
    afterEach(() => h.cleanup());
    afterAll(async () => {
      await t?.close();
    });

    it('closes a registered terminal that never reads, while the others keep their acks', async () => {
      const flooder = h.sim(nextSn('DEAF'), { neverRead: true });
      await flooder.connect();
      const neighbour = h.sim(nextSn('CALM'));
      await neighbour.connect();
      const registry = t.app.get(DeviceConnectionRegistry);
      const photo = 'A'.repeat(256 * 1024);
      let sent = 0;
      const acks: Promise<unknown>[] = [];
      // What the server sends it piles up in the kernel, then in the server's buffer, until WS_MAX_BUFFERED.
      while (
        sent < 400 &&
        registry.send(flooder.sn, { cmd: 'setuserinfo', enrollid: 1, backupnum: 50, record: photo })
      ) {
        sent++;
        if (sent % 10 === 0) {
          acks.push(
            neighbour.sendLogs([{ enrollid: 3, time: `2025-11-08 10:00:${String(sent % 60).padStart(2, '0')}` }]),
          );
          await new Promise((r) => setImmediate(r));
        }
      }
      expect(sent).toBeLessThan(400);
      const event = await waitFor(() => disconnected.find((e) => e.sn === flooder.sn));
      expect(event.reason).toBe('not_reading');
      expect(registry.isConnected(flooder.sn)).toBe(false);
      for (const ack of await Promise.all(acks)) expect(ack).toMatchObject({ result: true });
      expect(registry.isConnected(neighbour.sn)).toBe(true);
    });

    it('refuses a sendlog of more than DEVICE_SENDLOG_MAX_RECORDS records and stores none of it', async () => {
      const raw = await h.raw();
      const sn = nextSn('BULK');
      await raw.reg(sn);
      const record = Array.from({ length: 101 }, (_, i) => ({ enrollid: 1 + i, time: '2025-11-08 09:00:00' }));
      const ack = await raw.request({ cmd: 'sendlog', sn, count: 101, logindex: 1, record });
      expect(ack).toEqual({ ret: 'sendlog', result: false, reason: 1 });
      expect(await t.connection.collection('fingerprintlogs').countDocuments({ device_sn: sn })).toBe(0);
      const fits = record.slice(0, 100);
      expect(await raw.request({ cmd: 'sendlog', sn, count: 100, logindex: 2, record: fits })).toMatchObject({
        result: true,
      });
      expect(await t.connection.collection('fingerprintlogs').countDocuments({ device_sn: sn })).toBe(100);
    });

    it('echoes an unknown request name at most 32 characters long', async () => {
      const raw = await h.raw();
      await raw.reg(nextSn('LONG'));
      raw.send({ cmd: `z${'x'.repeat(100_000)}` });
      const reply = await raw.next((f) => typeof f.ret === 'string' && f.ret.startsWith('z'));
      expect(reply).toEqual({ ret: `z${'x'.repeat(31)}`, result: true });
    });

    it('closes a socket that has not registered within WS_REG_TIMEOUT, whatever it sends', async () => {
      const sn = nextSn('NOREG');
      const raw = await h.raw();
      const timer = setInterval(() => {
        if (raw.open)
          raw.send({
            cmd: 'sendlog',
            sn,
            count: 1,
            logindex: 1,
            record: [{ enrollid: 9, time: '2025-11-08 09:00:00' }],
          });
      }, 100);
      try {
        expect((await raw.closed).code).toBe(1006);
      } finally {
        clearInterval(timer);
      }
      expect(await t.connection.collection('fingerprintlogs').countDocuments({ device_sn: sn })).toBe(0);
      expect(await t.connection.collection('devices').findOne({ sn })).toBeNull();
    });

    it('drops, unparsed, a frame nested too deep and caps concatenated objects; health stays up', async () => {
      const raw = await h.raw();
      const sn = nextSn('DEEP');
      await raw.reg(sn);
      raw.send(`{"cmd":"sendgps","x":${'['.repeat(100_000)}`);
      raw.send(`{"cmd":"probe${'"}{"cmd":"probe'.repeat(200)}"}`);
      await waitFor(() => raw.frames.filter((f) => f.ret === 'probe').length >= 64);
      // Requests are answered in order: once this one is, no further probe can come.
      await raw.request({ cmd: 'marker', sn });
      expect(raw.frames.filter((f) => f.ret === 'probe')).toHaveLength(64);
      expect(raw.frames.filter((f) => f.ret === 'sendgps')).toEqual([]);
      const health = await request(t.httpServer).get('/api/health');
      expect(health.body.checks.gateway).toBe('up');
    });
  });

  describe('addresses (TRUST_PROXY)', () => {
    const forwardedFor = { 'X-Forwarded-For': '6.6.6.6, 10.1.2.3' };

    it('ignores X-Forwarded-For by default', async () => {
      const t = await createTestApp();
      try {
        const raw = await RawTerminal.open(t.wsUrl, { headers: forwardedFor });
        const sn = nextSn('ADDR');
        await raw.reg(sn);
        expect((await t.connection.collection('devices').findOne({ sn }))!.remoteAddress).toBe('127.0.0.1');
        raw.terminate();
      } finally {
        await t.close();
      }
    });

    it("the HTTP API ignores X-Forwarded-For by default: forged addresses share the peer's login budget", async () => {
      const t = await createTestApp({ env: { LOGIN_MAX_FAILURES_PER_IP: '3', LOGIN_MAX_FAILURES_PER_USER: '100' } });
      try {
        const attempt = (i: number) =>
          request(t.httpServer)
            .post('/api/auth/login')
            .set('X-Forwarded-For', `10.9.0.${i}`)
            .send({ email: `nobody${i}@timmy.local`, password: 'wrong-password' });
        for (let i = 0; i < 3; i++) expect((await attempt(i)).status).toBe(401);
        expect((await attempt(3)).status).toBe(429);
      } finally {
        await t.close();
      }
    });

    it('takes the nearest untrusted hop when the peer is a trusted proxy', async () => {
      const t = await createTestApp({ env: { TRUST_PROXY: 'loopback' } });
      try {
        const raw = await RawTerminal.open(t.wsUrl, { headers: forwardedFor });
        const sn = nextSn('ADDR');
        await raw.reg(sn);
        expect((await t.connection.collection('devices').findOne({ sn }))!.remoteAddress).toBe('10.1.2.3');
        raw.terminate();
      } finally {
        await t.close();
      }
    });
  });
});
