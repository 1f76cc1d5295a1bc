import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { parseTerminalTime } from '@app/device-protocol';
import { waitFor } from '@app/testing';
import {
  DeviceConnectionRegistry,
  DevicesService,
  StoredUsersService,
  TerminalDisconnectedEvent,
  TerminalRegisteredEvent,
  TerminalReplyEvent,
} from '../src/devices';
import { createTestApp, TestApp } from './support/test-app';
import { RawTerminal } from './gateway-raw-terminal';

const ZONE = 'Asia/Baghdad';
// A 1x1 JPEG is not needed: the gateway only checks the JPEG magic bytes and the size.
const SMALL_JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]).toString('base64');
const BIG_JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(8000, 7)]).toString('base64');

describe('Terminal gateway (e2e)', () => {
  let t: TestApp;
  let registry: DeviceConnectionRegistry;
  let devices: DevicesService;
  const registered: TerminalRegisteredEvent[] = [];
  const disconnected: TerminalDisconnectedEvent[] = [];
  const replies: TerminalReplyEvent[] = [];
  const raws: RawTerminal[] = [];
  const sims: VirtualTerminal[] = [];
  let snCounter = 0;

  beforeAll(async () => {
    t = await createTestApp({
      env: { DEVICE_DEFAULT_TIMEZONE: ZONE, WS_MAX_PAYLOAD: '64kb', DEVICE_LOG_IMAGE_MAX: '2kb' },
    });
    registry = t.app.get(DeviceConnectionRegistry);
    devices = t.app.get(DevicesService);
    registry.on('registered', (e) => registered.push(e));
    registry.on('disconnected', (e) => disconnected.push(e));
    registry.on('reply', (e) => replies.push(e));
  });
  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.terminate();
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await t?.close();
  });

  const nextSn = (): string => `GW${Date.now().toString(36).toUpperCase()}${++snCounter}`;

  async function raw(opts?: { path?: string; autoPong?: boolean }): Promise<RawTerminal> {
    const term = await RawTerminal.open(t.wsUrl, opts);
    raws.push(term);
    return term;
  }

  function sim(sn = nextSn(), extra: Partial<ConstructorParameters<typeof VirtualTerminal>[0]> = {}): VirtualTerminal {
    const term = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users: 3, ...extra });
    term.on('warning', () => undefined);
    sims.push(term);
    return term;
  }

  const deviceDoc = (sn: string) => t.connection.collection('devices').findOne({ sn });
  const punchesOf = (sn: string) => t.connection.collection('fingerprintlogs').find({ device_sn: sn }).toArray();
  const doorEventsOf = (sn: string) => t.connection.collection('doorevents').find({ sn }).toArray();

  describe('registration', () => {
    it('answers reg with cloudtime in the terminal zone and stores every devinfo field', async () => {
      const sn = nextSn();
      const term = await raw({ path: '/pub/chat?x=1' });
      const before = Date.now();
      const reply = await term.reg(sn, {
        usersize: '3000',
        useduser: 12,
        fpsize: 3000,
        usednewlog: 4,
        netinuse: 1,
        mac: '00-01-A9',
      });
      expect(Object.keys(reply).sort()).toEqual(['cloudtime', 'nosenduser', 'result', 'ret']);
      expect(reply).toMatchObject({ ret: 'reg', result: true, nosenduser: false });
      expect(reply.cloudtime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      const meant = parseTerminalTime(reply.cloudtime as string, ZONE)!.getTime();
      expect(meant).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(meant).toBeLessThanOrEqual(Date.now());

      const doc = await deviceDoc(sn);
      expect(doc).toMatchObject({
        sn,
        cpusn: `CPU-${sn}`,
        model: 'tfs30',
        firmware: 'th600w-1.0',
        online: true,
        instanceId: registry.instanceId,
        urlPath: '/pub/chat?x=1',
        devinfo: {
          modelname: 'tfs30',
          usersize: 3000,
          useduser: 12,
          fpsize: 3000,
          usednewlog: 4,
          netinuse: 1,
          mac: '00-01-A9',
        },
      });
      expect(doc!.remoteAddress).toMatch(/127\.0\.0\.1/);
      expect(doc!.connectedAt).toBeInstanceOf(Date);
      expect(doc!.lastSeenAt).toBeInstanceOf(Date);
      expect(registry.isConnected(sn)).toBe(true);
      expect(registry.connectedSns()).toContain(sn);
      expect(await devices.isOnline(sn)).toBe(true);
      expect(registered).toContainEqual({
        sn,
        devinfo: expect.objectContaining({ usersize: 3000 }),
        firstOnSocket: true,
      });
    });

    it('treats a repeated reg on the same socket as a heartbeat', async () => {
      const sn = nextSn();
      const term = await raw();
      await term.reg(sn);
      const first = await deviceDoc(sn);
      const again = await term.reg(sn, { useduser: 99 });
      expect(again).toMatchObject({ ret: 'reg', result: true });
      const events = registered.filter((e) => e.sn === sn);
      expect(events.map((e) => e.firstOnSocket)).toEqual([true, false]);
      // A heartbeat's reply does not wait for its write (lease state and devinfo).
      const second = await waitFor(async () => {
        const doc = await deviceDoc(sn);
        return doc?.devinfo.useduser === 99 ? doc : undefined;
      });
      expect(second.connectedAt).toEqual(first!.connectedAt);
      expect(second.connectionId).toBe(first!.connectionId);
      expect(second.devinfo.useduser).toBe(99);
      expect(second.lastSeenAt.getTime()).toBeGreaterThanOrEqual(first!.lastSeenAt.getTime());
      expect(await t.connection.collection('devices').countDocuments({ sn })).toBe(1);
    });

    it('registers a virtual terminal and keeps its clock on the server time', async () => {
      const term = sim();
      const reply = await term.connect();
      expect(reply.result).toBe(true);
      expect(term.stats.badCloudtimes).toBe(0);
      expect(registry.isConnected(term.sn)).toBe(true);
      expect(registry.send(term.sn, { cmd: 'gettime' })).toBe(true);
      const cmd = await term.waitForCommand('gettime');
      expect(cmd).toEqual({ cmd: 'gettime' });
    });

    it('sends nothing before reg is answered but a refusal to a sendlog that comes before it', async () => {
      const sn = nextSn();
      const term = await raw();
      term.send({ cmd: 'sendlog', sn, count: 1, logindex: 1, record: [{ enrollid: 5, time: '2025-01-01 08:00:00' }] });
      expect(registry.send(sn, { cmd: 'gettime' })).toBe(false);
      const reply = await term.reg(sn);
      expect(reply.ret).toBe('reg');
      // Requests are handled in order: the terminal waits on its sendlog, so it is told to register first.
      expect(term.frames[0]).toEqual({
        ret: 'sendlog',
        result: false,
        reason: 1,
        message: 'not registered: send reg first',
      });
      expect(term.frames[1]).toMatchObject({ ret: 'reg', result: true });
      expect(term.frames).toHaveLength(2);
      expect(await punchesOf(sn)).toHaveLength(0);
      expect(replies.filter((r) => r.sn === sn)).toHaveLength(0);
    });

    it('refuses a reg whose sn cannot be a serial number, and closes the socket', async () => {
      const term = await raw();
      const reply = await term.request({ cmd: 'reg', sn: 'bad sn with spaces', devinfo: {} });
      expect(reply).toMatchObject({ ret: 'reg', result: false });
      expect(typeof reply.reason).toBe('string');
      expect((await term.closed).code).toBe(4003);
    });
  });

  describe('connections', () => {
    it('a second socket for the same sn is refused while the first is alive; the first keeps the terminal', async () => {
      const sn = nextSn();
      const first = await raw();
      await first.reg(sn);
      const firstDoc = await deviceDoc(sn);
      const second = await raw();
      expect(await second.reg(sn)).toEqual({
        ret: 'reg',
        result: false,
        reason: 'Serial number in use by another terminal',
      });
      expect((await second.closed).code).toBe(4003);
      expect(second.frames).toHaveLength(1);

      const doc = await deviceDoc(sn);
      expect(doc!.connectionId).toBe(firstDoc!.connectionId);
      expect(doc!.online).toBe(true);
      expect(doc!.identityConflicts).toHaveLength(1);
      expect(doc!.identityConflicts[0]).toMatchObject({ reason: 'alive', cpusn: `CPU-${sn}` });
      expect(registry.isConnected(sn)).toBe(true);
      expect(disconnected.filter((e) => e.sn === sn)).toEqual([]);
      expect(registered.filter((e) => e.sn === sn).map((e) => e.firstOnSocket)).toEqual([true]);

      expect(registry.send(sn, { cmd: 'getdevinfo' })).toBe(true);
      expect(await first.next((f) => f.cmd === 'getdevinfo')).toEqual({ cmd: 'getdevinfo' });
      await first.close();
      await waitFor(() => disconnected.find((e) => e.sn === sn));
      expect(disconnected.filter((e) => e.sn === sn)).toHaveLength(1);
      await waitFor(async () => (await deviceDoc(sn))?.online === false);
    });

    it('a virtual terminal reconnecting after a drop is online again, with one document', async () => {
      const term = sim(nextSn(), { autoReconnect: true, reconnectDelayMs: 50 });
      await term.connect();
      const again = term.nextRegistration();
      term.drop();
      await again;
      expect(registry.isConnected(term.sn)).toBe(true);
      await waitFor(async () => (await deviceDoc(term.sn))?.online === true);
      expect(await devices.isOnline(term.sn)).toBe(true);
      expect(await t.connection.collection('devices').countDocuments({ sn: term.sn })).toBe(1);
    });

    it('a terminal closing its socket is offline and reported once', async () => {
      const term = sim();
      await term.connect();
      await term.close();
      const event = await waitFor(() => disconnected.find((e) => e.sn === term.sn));
      expect(event.reason).toMatch(/closed \(1000/);
      await waitFor(async () => (await deviceDoc(term.sn))?.online === false);
      const doc = await deviceDoc(term.sn);
      expect(doc!.disconnectReason).toMatch(/closed/);
      expect(registry.isConnected(term.sn)).toBe(false);
      expect(registry.send(term.sn, { cmd: 'gettime' })).toBe(false);
      expect(await devices.isOnline(term.sn)).toBe(false);
    });
  });

  describe('sendlog', () => {
    it('acknowledges only once the records can be read back, echoing count and logindex', async () => {
      const sn = nextSn();
      const term = await raw();
      await term.reg(sn);
      term.send({
        cmd: 'sendlog',
        sn,
        count: '2',
        logindex: 77,
        record: [
          { enrollid: '101072', time: '2025-11-08 09:00:00', mode: 1, inout: 0, event: 0, verifymode: 1, temp: 36.5 },
          { enrollid: 7, time: '2025-11-08 09:00:05', mode: 8, inout: 1, event: 0 },
        ],
      });
      const ack = await term.next((f) => f.ret === 'sendlog');
      // Read at once, without polling: the ack promises the records are stored.
      const stored = await punchesOf(sn);
      expect(stored).toHaveLength(2);
      // Neither enroll id is a user of this terminal or an employee: the door stays shut.
      expect(ack).toMatchObject({ ret: 'sendlog', result: true, count: 2, logindex: 77, access: 0, mark: true });
      expect(ack.cloudtime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      const first = stored.find((p) => p.enrollid === '101072')!;
      expect(first).toMatchObject({
        device_type: 'terminal',
        raw_time: '2025-11-08 09:00:00',
        mode: 1,
        inout: 0,
        source: 'sendlog',
      });
      // 09:00 in Baghdad (UTC+3) is 06:00 UTC.
      expect(first.time.toISOString()).toBe('2025-11-08T06:00:00.000Z');
    });

    it('stores a frame sent twice (lost ack) once, and acknowledges both', async () => {
      const sn = nextSn();
      const term = await raw();
      await term.reg(sn);
      const frame = {
        cmd: 'sendlog',
        sn,
        count: 1,
        logindex: 5,
        record: [{ enrollid: 3, time: '2025-11-08 10:00:00', mode: 1, inout: 0, event: 0 }],
      };
      const a = await term.request(frame);
      const b = await term.request(frame);
      expect(a).toMatchObject({ result: true, logindex: 5 });
      expect(b).toMatchObject({ result: true, logindex: 5 });
      expect(await punchesOf(sn)).toHaveLength(1);
    });

    it('routes door events (enrollid 0) to their own collection, not attendance', async () => {
      const term = sim();
      await term.connect();
      const ack = await term.sendLogs([
        { enrollid: 0, event: 1, time: '2025-11-08 11:00:00' },
        { enrollid: 0, event: 5, time: '2025-11-08 11:00:01' },
        { enrollid: 1, time: '2025-11-08 11:00:02' },
      ]);
      expect(ack).toMatchObject({ result: true, count: 3 });
      const punches = await punchesOf(term.sn);
      expect(punches.map((p) => p.enrollid)).toEqual(['1']);
      const doors = await doorEventsOf(term.sn);
      expect(doors.map((d) => [d.event, d.eventName]).sort()).toEqual([
        [1, 'door_opened'],
        [5, 'illegal_open'],
      ]);
      expect(doors[0]).toMatchObject({ time: expect.any(String), source: 'sendlog', inout: 1, mode: 0 });
      // The same door event again is stored once.
      await term.sendLogs([{ enrollid: 0, event: 1, time: '2025-11-08 11:00:00', inout: 1, mode: 0 }]);
      expect(await doorEventsOf(term.sn)).toHaveLength(2);
    });

    it('splits a frame with an invalid record: the others stored, it kept as rejected, the frame acknowledged', async () => {
      const sn = nextSn();
      const term = await raw();
      await term.reg(sn);
      const split = await term.request({
        cmd: 'sendlog',
        sn,
        count: 3,
        logindex: 9,
        record: [
          { enrollid: 4, time: '2025-11-08 09:00:00' },
          { enrollid: 0, event: 1, time: '2025-11-08 09:00:01' },
          { enrollid: 5, time: '2025-13-45 99:00:00' },
        ],
      });
      expect(split).toMatchObject({ ret: 'sendlog', result: true, count: 3, logindex: 9 });
      // Only a frame with no record list at all is refused.
      expect(await term.request({ cmd: 'sendlog', sn, count: 1, record: 'nonsense' })).toEqual({
        ret: 'sendlog',
        result: false,
        reason: 1,
      });
      expect(
        await term.request({ cmd: 'sendlog', sn, count: 1, record: [{ enrollid: -3, time: '2025-11-08 09:00:00' }] }),
      ).toMatchObject({ result: true, count: 1 });
      expect((await punchesOf(sn)).map((p) => p.enrollid)).toEqual(['4']);
      expect(await doorEventsOf(sn)).toHaveLength(1);
      const rejected = await t.connection.collection('rejectedrecords').find({ sn }).sort({ reason: 1 }).toArray();
      expect(rejected.map((r) => [r.raw, r.reason, r.source])).toEqual([
        [{ enrollid: -3, time: '2025-11-08 09:00:00' }, 'enrollid -3 is out of range 0..999999999999', 'sendlog'],
        [{ enrollid: 5, time: '2025-13-45 99:00:00' }, 'time "2025-13-45 99:00:00" is not a terminal time', 'sendlog'],
      ]);
    });

    it('keeps record photos apart, and drops an oversized photo but keeps the punch', async () => {
      const sn = nextSn();
      const term = await raw();
      await term.reg(sn);
      const ack = await term.request({
        cmd: 'sendlog',
        sn,
        count: 3,
        logindex: 1,
        record: [
          { enrollid: 11, time: '2025-11-08 09:00:00', image: SMALL_JPEG },
          { enrollid: 12, time: '2025-11-08 09:00:00', image: BIG_JPEG },
          { enrollid: 13, time: '2025-11-08 09:00:00', image: 'not base64 at all!' },
        ],
      });
      expect(ack.result).toBe(true);
      const punches = await punchesOf(sn);
      expect(punches).toHaveLength(3);
      const byId = new Map(punches.map((p) => [p.enrollid, p]));
      expect(byId.get('11')!.imageId).toBeTruthy();
      expect(byId.get('12')!.imageId).toBeNull();
      expect(byId.get('13')!.imageId).toBeNull();
      for (const p of punches) expect(p.raw.image).toBeUndefined();
      const image = await t.connection.collection('punchimages').findOne({ _id: byId.get('11')!.imageId });
      expect(image).toMatchObject({ mime: 'image/jpeg', size: 204 });
    });

    it('processes one terminal’s frames in order (the acks come back in the order sent)', async () => {
      const sn = nextSn();
      const term = await raw();
      await term.reg(sn);
      for (let i = 1; i <= 20; i++) {
        term.send({
          cmd: 'sendlog',
          sn,
          count: 1,
          logindex: i,
          record: [{ enrollid: i, time: '2025-11-08 12:00:00' }],
        });
      }
      const acks: number[] = [];
      for (let i = 1; i <= 20; i++) acks.push((await term.next((f) => f.ret === 'sendlog')).logindex as number);
      expect(acks).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await punchesOf(sn)).toHaveLength(20);
    });
  });

  describe('other terminal requests', () => {
    it('keeps the server copy of a user sent with senduser', async () => {
      const term = sim(nextSn(), {
        users: [
          {
            enrollid: 42,
            name: 'Zaid',
            admin: 0,
            credentials: [
              { backupnum: 0, record: 'ABCD(12)EF' },
              { backupnum: 11, record: 123456 },
            ],
          },
        ],
      });
      await term.connect();
      const user = term.users.get(42)!;
      const fp = await term.sendUser(user, 0);
      expect(fp).toMatchObject({ ret: 'senduser', result: true, enrollid: 42, backupnum: 0 });
      expect(fp.cloudtime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      await term.sendUser(user, 11);
      const stored = await t.app.get(StoredUsersService).find(term.sn, 42);
      expect(stored).toMatchObject({ sn: term.sn, enrollid: 42, name: 'Zaid', admin: 0, onDevice: true });
      expect(stored!.credentials.map((c) => [c.backupnum, c.record])).toEqual([
        [0, 'ABCD(12)EF'],
        [11, 123456],
      ]);
    });

    it('answers senduser that cannot be read with result:false', async () => {
      const sn = nextSn();
      const term = await raw();
      await term.reg(sn);
      expect(await term.request({ cmd: 'senduser', sn, enrollid: 'abc', backupnum: 0 })).toEqual({
        ret: 'senduser',
        result: false,
        reason: 1,
      });
    });

    it('answers sendqrcode with access 0 and the configured message', async () => {
      const term = sim();
      await term.connect();
      const reply = await term.sendQrcode('QR-123');
      expect(reply).toMatchObject({ ret: 'sendqrcode', result: true, access: 0, message: 'QR code not accepted' });
    });

    it('answers an unknown request with result:true so the terminal does not stall', async () => {
      const sn = nextSn();
      const term = await raw();
      await term.reg(sn);
      expect(await term.request({ cmd: 'sendgps', sn, location: 'x' })).toEqual({ ret: 'sendgps', result: true });
    });

    it('publishes every reply of a registered terminal on the registry', async () => {
      const term = sim();
      await term.connect();
      registry.send(term.sn, { cmd: 'getdevinfo' });
      const event = await waitFor(() => replies.find((r) => r.sn === term.sn && r.ret === 'getdevinfo'));
      expect(event.frame).toMatchObject({ ret: 'getdevinfo', result: true });
    });
  });

  describe('abuse', () => {
    it('garbage, wrong types and an oversized frame from one terminal never disturb another', async () => {
      const bad = await raw();
      const badSn = nextSn();
      await bad.reg(badSn);
      const good = sim();
      await good.connect();

      bad.send('this is not json');
      bad.send('[1,2,3]');
      bad.send('{"cmd": 5}');
      bad.send('{"ret": ""}');
      bad.send(Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]));
      bad.send('{"cmd":"sendlog","sn":');
      bad.send('null');
      bad.send({ cmd: 'sendlog', sn: badSn, count: 1, logindex: 1, record: [{ enrollid: { $gt: 1 }, time: ['x'] }] });
      // Still served after all that, in order:
      const heartbeat = await bad.reg(badSn);
      expect(heartbeat.result).toBe(true);
      // The one sendlog with a record list is acknowledged (its unusable record kept as rejected).
      expect(bad.frames.filter((f) => f.ret === 'sendlog')).toEqual([
        expect.objectContaining({ ret: 'sendlog', result: true, count: 1, logindex: 1 }),
      ]);

      const ackWhileAbused = good.sendLogs([{ enrollid: 2, time: '2025-11-08 13:00:00' }]);
      bad.send('x'.repeat(70 * 1024));
      expect((await bad.closed).code).toBe(1009);
      expect(await ackWhileAbused).toMatchObject({ result: true });
      expect(await good.sendLogs([{ enrollid: 3, time: '2025-11-08 13:00:01' }])).toMatchObject({ result: true });
      expect(registry.isConnected(good.sn)).toBe(true);
      const health = await request(t.httpServer).get('/api/health');
      expect(health.body.checks.gateway).toBe('up');
    });

    it('handles several JSON objects in one frame', async () => {
      const sn = nextSn();
      const term = await raw();
      await term.reg(sn);
      term.send(`{"cmd":"sendgps","sn":"${sn}"}{"cmd":"sendpin","sn":"${sn}"}`);
      expect(await term.next((f) => f.ret === 'sendgps')).toEqual({ ret: 'sendgps', result: true });
      expect(await term.next((f) => f.ret === 'sendpin')).toEqual({ ret: 'sendpin', result: true, access: 0 });
    });

    it('closes, unanswered, a socket that sends a reply or an unknown request before registering', async () => {
      const replier = await raw();
      replier.send({ ret: 'getuserlist', sn: 'SPOOFED1', result: true, count: 0, record: [] });
      expect(await replier.closed).toEqual({ code: 1008, reason: 'registration required' });
      const asker = await raw();
      asker.send({ cmd: 'unknownthing', sn: 'SPOOFED2' });
      expect(await asker.closed).toEqual({ code: 1008, reason: 'registration required' });
      expect([...replier.frames, ...asker.frames]).toEqual([]);
      expect(replies.filter((r) => r.sn === 'SPOOFED1')).toEqual([]);
      expect(await deviceDoc('SPOOFED2')).toBeNull();
    });
  });
});
