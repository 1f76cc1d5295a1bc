import request from 'supertest';
import { DEAD_BATTERY_TIME, type TerminalQuirks, VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { RawTerminal } from './gateway-raw-terminal';
import { createTestApp, TestApp } from './support/test-app';

const CLOUDTIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const TWELVE_DIGITS = 123_456_789_012;
const THREE_YEARS_MS = 3 * 365 * 86_400_000;

interface OpBody {
  _id: string;
  type: string;
  status: string;
  requestedBy?: string;
  background?: boolean;
  attemptCount: number;
  response?: Record<string, unknown>;
  lastError?: string;
}

/**
 * Terminals in the field: each quirk of real units (issue 12) driven through the virtual terminal
 * against the real app. No frame is resent because of the server, no valid punch is lost, rejected
 * records are listed with their reason, and an admin is not held up by a failing catch-up.
 */
describe('terminals in the field (e2e)', () => {
  let t: TestApp;
  let token: string;
  const terminals: VirtualTerminal[] = [];
  const raws: RawTerminal[] = [];
  let snCounter = 0;

  beforeAll(async () => {
    t = await createTestApp({
      env: { DEVICE_DEFAULT_TIMEZONE: 'UTC', OP_CATCHUP_PAGE_TIMEOUT: '400ms', OP_RETRY_BASE: '50ms' },
    });
    token = await t.adminToken();
  });
  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.terminate();
    await Promise.all(terminals.splice(0).map((vt) => vt.close()));
  });
  afterAll(async () => {
    await t?.close();
  });

  const api = () => request(t.httpServer);
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  const nextSn = (prefix: string) => `${prefix}${Date.now().toString(36).toUpperCase()}${++snCounter}`;
  const punchesOf = (sn: string) =>
    t.connection.collection('fingerprintlogs').find({ device_sn: sn }).sort({ time: 1 }).toArray();
  const operationsOf = (sn: string, type: string) =>
    t.connection.collection('operations').find({ sn, type }).sort({ createdAt: 1 }).toArray();

  async function terminal(
    sn: string,
    quirks: TerminalQuirks,
    extra: Partial<ConstructorParameters<typeof VirtualTerminal>[0]> = {},
  ): Promise<VirtualTerminal> {
    const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users: 3, quirks, ...extra });
    vt.on('warning', () => undefined);
    terminals.push(vt);
    await vt.connect();
    return vt;
  }

  async function untilOp(id: string, check: (op: OpBody) => boolean, timeoutMs = 15_000): Promise<OpBody> {
    return waitFor(
      async () => {
        const res = await auth(api().get(`/api/operations/${id}`)).expect(200);
        const op = (res.body as { op: OpBody }).op;
        return check(op) ? op : undefined;
      },
      { timeoutMs, message: `operation ${id}` },
    );
  }

  async function deviceOf(sn: string): Promise<Record<string, unknown>> {
    const res = await auth(api().get(`/api/devices/${sn}`)).expect(200);
    return (res.body as { item: Record<string, unknown> }).item;
  }

  describe('12-digit enroll ids (Topdata readers)', () => {
    it('stores their punches, reads, adds and deletes their users, and matches employees', async () => {
      const sn = nextSn('TOPDATA');
      const vt = await terminal(sn, { firstEnrollId: TWELVE_DIGITS });
      const ids = [...vt.users.keys()];
      expect(ids).toEqual([TWELVE_DIGITS, TWELVE_DIGITS + 1, TWELVE_DIGITS + 2]);

      await auth(api().post('/api/employees'))
        .send({
          enroll_id: String(TWELVE_DIGITS),
          username: `td${snCounter}`,
          password: 'strongPassword',
          fullName: 'Topdata User',
        })
        .expect(201);
      const ack = await vt.sendLogs([{ enrollid: TWELVE_DIGITS, time: '2026-05-01 08:00:00' }]);
      expect(ack).toMatchObject({ ret: 'sendlog', result: true });
      expect(vt.stats.logFramesSent).toBe(1);
      expect((await punchesOf(sn)).map((p) => [p.enrollid, p.employee !== null])).toEqual([
        [String(TWELVE_DIGITS), true],
      ]);

      const users = await auth(api().get(`/api/device/${sn}/users`)).expect(200);
      const listed = new Set((users.body as { records: { enrollid: number }[] }).records.map((r) => r.enrollid));
      expect([...listed].sort()).toEqual(ids);

      const biggest = 999_999_999_999;
      const added = await auth(api().post(`/api/device/${sn}/add-user`))
        .send({ enrollid: biggest, name: 'Max Id', backupnum: 0 })
        .expect(200);
      expect(added.body).toMatchObject({ success: true, status: 'success' });
      expect(vt.users.has(biggest)).toBe(true);

      const deleted = await auth(api().post(`/api/device/${sn}/delete-users`))
        .send({ enrollIds: [biggest, TWELVE_DIGITS + 2] })
        .expect(200);
      for (const r of (deleted.body as { results: { opId: string }[] }).results) {
        await untilOp(r.opId, (op) => op.status === 'success');
      }
      expect(vt.users.has(biggest) || vt.users.has(TWELVE_DIGITS + 2)).toBe(false);

      await auth(api().post(`/api/device/${sn}/add-user`))
        .send({ enrollid: 1_000_000_000_000, name: 'Too Long', backupnum: 0 })
        .expect(400);
    });
  });

  describe('a bad record inside a good frame', () => {
    it('stores the good punches of a sendlog, acknowledges the frame once and lists the rejected record', async () => {
      const sn = nextSn('DEADBAT');
      const vt = await terminal(sn, { badRecordInFrames: true });
      const ack = await vt.sendLogs([
        { enrollid: 1, time: '2026-05-01 08:00:00' },
        { enrollid: 2, time: '2026-05-01 08:00:05' },
      ]);
      expect(ack).toMatchObject({
        ret: 'sendlog',
        result: true,
        count: 3,
        cloudtime: expect.stringMatching(CLOUDTIME),
      });
      expect(vt.unackedFrames).toBe(0);
      expect(vt.stats.logFramesSent).toBe(1);
      expect((await punchesOf(sn)).map((p) => p.enrollid)).toEqual(['1', '2']);

      const listing = await auth(api().get(`/api/devices/${sn}/rejected-logs`)).expect(200);
      expect(listing.body).toEqual({
        success: true,
        total: 1,
        page: 1,
        items: [
          {
            _id: expect.stringMatching(/^[0-9a-f]{24}$/),
            sn,
            raw: { enrollid: 1, time: DEAD_BATTERY_TIME, mode: 1, inout: 0, event: 0 },
            reason: `time "${DEAD_BATTERY_TIME}" is not a terminal time`,
            source: 'sendlog',
            receivedAt: expect.any(String),
          },
        ],
      });
      expect(await deviceOf(sn)).toMatchObject({ rejectedLogs: 1 });
      // The same frame resent (a lost ack) adds nothing.
      await vt.sendLogs([{ enrollid: 1, time: '2026-05-01 08:00:00' }]);
      expect((await deviceOf(sn)).rejectedLogs).toBe(1);
    });

    it('stores the good records of each getnewlog page and counts the rejected ones', async () => {
      const sn = nextSn('DEADPAGE');
      const logs = Array.from({ length: 60 }, (_, i) => ({
        enrollid: 1 + (i % 3),
        time: `2026-05-01 08:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
      }));
      await terminal(sn, { badRecordInFrames: true }, { logs });
      const [catchUp] = await waitFor(async () => {
        const ops = await operationsOf(sn, 'getnewlog');
        return ops.length > 0 ? ops : undefined;
      });
      const done = await untilOp(catchUp._id.toHexString(), (op) => op.status === 'success');
      expect(done.response).toMatchObject({ received: 62, records: 62, pages: 3, stored: 60, rejected: 2 });
      expect(await punchesOf(sn)).toHaveLength(60);
      expect(await deviceOf(sn)).toMatchObject({ rejectedLogs: 2 });
    });

    it('answers /api/device-log with rejected: N and stores the good records', async () => {
      const sn = nextSn('HTTPLOG');
      // An HTTP-only terminal the admin vouched for (unknown serials may not post).
      await auth(api().post('/api/devices')).send({ sn }).expect(201);
      const res = await api()
        .post('/api/device-log')
        .send({
          sn,
          record: [
            { enrollid: 21, time: '2026-05-01 08:00:00' },
            { enrollid: 22, time: DEAD_BATTERY_TIME },
            { enrollid: 'x', time: '2026-05-01 08:00:00' },
          ],
        })
        .expect(200);
      expect(res.body).toMatchObject({ success: true, rejected: 2 });
      expect((await punchesOf(sn)).map((p) => p.enrollid)).toEqual(['21']);
      const listing = await auth(api().get(`/api/devices/${sn}/rejected-logs?limit=1`)).expect(200);
      expect(listing.body).toMatchObject({ success: true, total: 2, page: 1 });
      expect((listing.body as { items: unknown[] }).items).toHaveLength(1);
      await api()
        .post('/api/device-log')
        .send({ sn, record: [1, 2] })
        .expect(400);
    });

    it('lists rejected records only for known terminals, to admins', async () => {
      await auth(api().get('/api/devices/NOSUCHSN/rejected-logs')).expect(404);
      await auth(api().get('/api/devices/bad sn/rejected-logs')).expect(400);
      await api().get('/api/devices/NOSUCHSN/rejected-logs').expect(401);
    });
  });

  describe('log pages whose count is the page size', () => {
    it('reads every page, not just the first', async () => {
      const sn = nextSn('ICM');
      const logs = Array.from({ length: 35 }, (_, i) => ({
        enrollid: 1 + (i % 3),
        time: `2026-05-02 09:00:${String(i).padStart(2, '0')}`,
      }));
      const vt = await terminal(sn, { countIsPageSize: 10 }, { logs });
      const [catchUp] = await waitFor(async () => {
        const ops = await operationsOf(sn, 'getnewlog');
        return ops.length > 0 ? ops : undefined;
      });
      const done = await untilOp(catchUp._id.toHexString(), (op) => op.status === 'success');
      expect(done.response).toMatchObject({ received: 35, pages: 5, stored: 35, ended: 'empty_page' });
      expect(await punchesOf(sn)).toHaveLength(35);
      expect(vt.logs.every((l) => l.delivered)).toBe(true);
    });
  });

  describe('a terminal that ignores getnewlog', () => {
    it('answers an admin while the catch-up fails, fails it after two tries and does not ask again', async () => {
      const sn = nextSn('DEAF');
      const logs = [{ enrollid: 1, time: '2026-05-03 07:00:00' }];
      const vt = await terminal(sn, { ignoresGetnewlog: true }, { logs, users: 2 });
      const [catchUp] = await waitFor(async () => {
        const ops = await operationsOf(sn, 'getnewlog');
        return ops.length > 0 ? ops : undefined;
      });
      expect(catchUp).toMatchObject({ requestedBy: 'system:catch-up', background: true, maxAttempts: 2 });

      // The admin's read goes before the catch-up's second try and is answered.
      const users = await auth(api().get(`/api/device/${sn}/users`)).expect(200);
      expect((users.body as { records: unknown[] }).records.length).toBeGreaterThan(0);

      const failed = await untilOp(catchUp._id.toHexString(), (op) => op.status === 'failed');
      expect(failed.attemptCount).toBe(2);
      expect(failed.lastError).toMatch(/^device_timeout: no reply to getnewlog within 400 ms/);
      const device = await waitFor(async () => {
        const d = await deviceOf(sn);
        return (d.catchUp as { supported?: boolean } | null)?.supported === false ? d : undefined;
      });
      expect(device.catchUp).toEqual({ supported: false, lastError: failed.lastError });

      // Back after a reconnect with the same unsent log: not asked at every reg.
      const gone = new Promise((resolve) => vt.once('disconnected', resolve));
      vt.drop();
      await gone;
      await vt.connect();
      await auth(api().get(`/api/device/${sn}/users`)).expect(200);
      expect(await operationsOf(sn, 'getnewlog')).toHaveLength(1);
    });
  });

  describe('the name a terminal sends with a punch', () => {
    it('is kept and shown as name when no employee matches', async () => {
      const sn = nextSn('NAMED');
      const vt = await terminal(sn, { sendsName: true });
      const [userId, user] = [...vt.users.entries()][0];
      await vt.sendLogs([{ enrollid: userId, time: '2026-05-04 08:00:00' }]);
      const res = await auth(api().get(`/api/fingerprints/device-logs?sn=${sn}`)).expect(200);
      const items = (res.body as { items: Record<string, unknown>[] }).items;
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ enrollid: String(userId), device_user_name: user.name, name: user.name });
    });
  });

  describe('a clock years ahead (dead battery)', () => {
    it('stores and flags the punch clock_suspect and shows the clock offset on the terminal', async () => {
      const sn = nextSn('FUTURE');
      const vt = await terminal(sn, { clockAheadMs: THREE_YEARS_MS });
      const measured = await waitFor(
        async () => (await deviceOf(sn)).clock as { offsetSeconds: number; source: string },
      );
      expect(measured.source).toBe('reg');
      expect(Math.abs(measured.offsetSeconds - THREE_YEARS_MS / 1000)).toBeLessThan(120);
      await vt.sendLogs([{ enrollid: [...vt.users.keys()][0] }]);
      await vt.sendLogs([{ enrollid: [...vt.users.keys()][1], time: '2026-05-04 08:00:00' }]);
      const res = await auth(api().get(`/api/fingerprints/device-logs?sn=${sn}`)).expect(200);
      const items = (res.body as { items: { clock_suspect: boolean; time: string }[] }).items;
      expect(items.map((i) => i.clock_suspect).sort()).toEqual([false, true]);
      // The punch dated ahead measures the offset again.
      const clock = (await deviceOf(sn)).clock as { offsetSeconds: number; source: string };
      expect(Math.abs(clock.offsetSeconds - THREE_YEARS_MS / 1000)).toBeLessThan(120);
    });
  });

  describe('every frame a terminal waits on gets an answer', () => {
    it('checklive is answered with cloudtime', async () => {
      const vt = await terminal(nextSn('LIVE'), {});
      expect(await vt.checklive()).toEqual({
        ret: 'checklive',
        result: true,
        cloudtime: expect.stringMatching(CLOUDTIME),
      });
    });

    it('senduser before reg is refused with a reason; a reg for a second sn is refused, the first kept', async () => {
      const sn = nextSn('FIRST');
      const raw = await RawTerminal.open(t.wsUrl);
      raws.push(raw);
      expect(await raw.request({ cmd: 'senduser', sn, enrollid: 5, backupnum: 0, record: 'ABC' })).toEqual({
        ret: 'senduser',
        result: false,
        reason: 1,
        message: 'not registered: send reg first',
      });
      expect(await raw.reg(sn)).toMatchObject({ ret: 'reg', result: true });
      expect(await raw.reg(nextSn('SECOND'))).toEqual({
        ret: 'reg',
        result: false,
        reason: `This connection is registered as ${sn}`,
      });
      const ack = await raw.request({
        cmd: 'sendlog',
        sn,
        count: 1,
        logindex: 4,
        record: [{ enrollid: 9, time: '2026-05-05 08:00:00' }],
      });
      expect(ack).toMatchObject({ ret: 'sendlog', result: true, count: 1, logindex: 4 });
      expect((await punchesOf(sn)).map((p) => p.device_sn)).toEqual([sn]);
    });
  });
});
