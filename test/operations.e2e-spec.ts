import { ObjectId } from 'mongodb';
import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { nowSeconds, signHs256, waitFor } from '@app/testing';
import { createTestApp, TEST_JWT_SECRET, TestApp } from './support/test-app';

const OFFLINE = { success: false, error: 'device_offline_or_not_registered' };
const OBJECT_ID = expect.stringMatching(/^[0-9a-f]{24}$/);

interface OpBody {
  _id: string;
  sn: string;
  type: string;
  status: string;
  attemptCount: number;
  payload: Record<string, unknown>;
  response?: Record<string, unknown>;
  lastError?: string;
  createdAt: string;
}

describe('operation queue (e2e)', () => {
  let t: TestApp;
  let token: string;
  const terminals: VirtualTerminal[] = [];
  let snCounter = 0;

  const api = () => request(t.httpServer);
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  const operations = () => t.connection.collection('operations');
  const nextSn = (prefix = 'OPS') => `${prefix}${Date.now().toString(36).toUpperCase()}${++snCounter}`;

  async function terminal(sn: string, extra: Partial<ConstructorParameters<typeof VirtualTerminal>[0]> = {}) {
    const vt = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, users: 2, ...extra });
    vt.on('warning', () => undefined);
    terminals.push(vt);
    await vt.connect();
    return vt;
  }

  function command(sn: string, body: Record<string, unknown>): request.Test {
    return auth(api().post(`/api/device/${sn}/command`)).send(body);
  }

  async function getOp(id: string): Promise<OpBody> {
    const res = await auth(api().get(`/api/operations/${id}`)).expect(200);
    return (res.body as { op: OpBody }).op;
  }

  async function until(id: string, check: (op: OpBody) => boolean, timeoutMs = 15_000): Promise<OpBody> {
    return waitFor(
      async () => {
        const op = await getOp(id);
        return check(op) ? op : undefined;
      },
      { timeoutMs, message: `operation ${id}` },
    );
  }

  /** Seeds a stored operation as another instance (or an earlier day) would have left it. */
  async function seed(doc: Record<string, unknown>): Promise<string> {
    const now = new Date();
    const res = await operations().insertOne({
      sn: 'SEEDED',
      type: 'getdevinfo',
      payload: {},
      status: 'pending',
      attemptCount: 0,
      maxAttempts: 5,
      nextAttemptAt: now,
      dependsOn: [],
      depsPending: false,
      group: false,
      createdAt: now,
      updatedAt: now,
      ...doc,
    });
    return res.insertedId.toHexString();
  }

  beforeAll(async () => {
    t = await createTestApp({
      env: { OP_REPLY_TIMEOUT: '3s', OP_RETRY_BASE: '200ms', OP_RETRY_MAX: '1s', OP_POLL_INTERVAL: '200ms' },
    });
    token = await t.adminToken();
  });

  afterEach(async () => {
    await Promise.all(terminals.splice(0).map((vt) => vt.close().catch(() => undefined)));
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('dispatch', () => {
    it('sends the operations of one terminal one at a time, oldest first, and terminals in parallel', async () => {
      const slowSn = nextSn('FIFO');
      const slow = await terminal(slowSn);
      const other = await terminal(nextSn('PAR'));
      slow.ignoreNext('getdevinfo');
      const replies: string[] = [];
      const arrivals: { cmd: string; repliesBefore: number }[] = [];
      slow.on('command', (f: Record<string, unknown>) =>
        arrivals.push({ cmd: String(f.cmd), repliesBefore: replies.length }),
      );
      slow.on('reply', (f: Record<string, unknown>) => replies.push(String(f.ret)));

      const ids: string[] = [];
      for (const cmd of ['getdevinfo', 'gettime', 'getdevcap', 'getdevlock']) {
        const res = await command(slowSn, { cmd }).expect(200);
        ids.push((res.body as { op: OpBody }).op._id);
      }
      await slow.waitForCommand('getdevinfo');
      // The unanswered first command holds this terminal's queue, not the other terminal's.
      const parallel = await command(other.sn, { cmd: 'gettime', wait: true }).expect(200);
      expect((parallel.body as { op: OpBody }).op.status).toBe('success');
      expect(slow.received.map((f) => f.cmd)).toEqual(['getdevinfo']);
      expect((await getOp(ids[1])).status).toBe('pending');

      // After the reply timeout the first command is sent again (and answered), then the rest in order.
      const done = await Promise.all(ids.map((id) => until(id, (op) => op.status === 'success')));
      expect(done[0].attemptCount).toBe(2);
      expect(done.slice(1).map((op) => op.attemptCount)).toEqual([1, 1, 1]);
      expect(slow.received.map((f) => f.cmd)).toEqual([
        'getdevinfo',
        'getdevinfo',
        'gettime',
        'getdevcap',
        'getdevlock',
      ]);
      // Strictly one in flight: every command after the first arrived once the previous one was answered.
      expect(arrivals.slice(1).map((a) => a.repliesBefore)).toEqual([0, 1, 2, 3]);
    });

    it('delivers an operation created while the terminal was offline when it connects', async () => {
      const sn = nextSn('LATE');
      const first = await terminal(sn);
      await first.close();
      terminals.splice(terminals.indexOf(first), 1);

      const res = await command(sn, { cmd: 'setdevinfo', payload: { volume: 3 } }).expect(200);
      const op = (res.body as { op: OpBody }).op;
      expect(op).toMatchObject({ sn, type: 'setdevinfo', status: 'pending', attemptCount: 0, payload: { volume: 3 } });

      const again = await terminal(sn);
      expect(await again.waitForCommand('setdevinfo')).toMatchObject({ cmd: 'setdevinfo', volume: 3 });
      expect((await until(op._id, (o) => o.status === 'success')).response).toMatchObject({
        ret: 'setdevinfo',
        result: true,
      });
      expect(again.store.handle('getdevinfo', {}).reply).toMatchObject({ volume: 3 });
    });

    it('resends a command interrupted by a dropped connection once the terminal is back', async () => {
      const sn = nextSn('DROP');
      const vt = await terminal(sn, { autoReconnect: true, reconnectDelayMs: 50 });
      vt.dropOnNext('getdevcap');
      const res = await command(sn, { cmd: 'getdevcap' }).expect(200);
      const id = (res.body as { op: OpBody }).op._id;
      const op = await until(id, (o) => o.status === 'success');
      expect(op.attemptCount).toBe(2);
      expect(vt.received.filter((f) => f.cmd === 'getdevcap')).toHaveLength(2);
    });

    it('records a refusal by the terminal as failed with its reason', async () => {
      const vt = await terminal(nextSn('FAIL'));
      vt.failNext('opendoor', 4);
      const res = await command(vt.sn, { cmd: 'opendoor', payload: { doornum: 1 }, wait: true }).expect(200);
      expect((res.body as { op: OpBody }).op).toMatchObject({
        status: 'failed',
        lastError: 'device_error: reason 4',
        response: { ret: 'opendoor', result: false, reason: 4 },
        attemptCount: 1,
      });
    });
  });

  describe('multi-exchange operations', () => {
    it('pulls the punches a terminal stored while offline when it registers (catch-up getnewlog)', async () => {
      const sn = nextSn('CATCH');
      const logs = Array.from({ length: 119 }, (_, i) => ({
        enrollid: 1 + (i % 7),
        time: `2025-11-08 0${Math.floor(i / 60)}:${String(i % 60).padStart(2, '0')}:00`,
        mode: 1,
        inout: 0,
        event: 0,
      }));
      logs.push({ enrollid: 0, time: '2025-11-08 09:00:00', mode: 0, inout: 0, event: 1 });
      const vt = await terminal(sn, { logs });
      const op = await waitFor(async () => operations().findOne({ sn, type: 'getnewlog' }), {
        message: 'catch-up queued',
      });
      expect(op.requestedBy).toBe('system:catch-up');
      const done = await until(op._id.toHexString(), (o) => o.status === 'success');
      expect(done.response).toMatchObject({
        ret: 'getnewlog',
        result: true,
        count: 120,
        received: 120,
        records: 120,
        pages: 4,
        stored: 119,
        doorEvents: 1,
        rejected: 0,
        ended: 'empty_page',
      });
      // After the reported total, asked once more: the empty page ends the read.
      expect(vt.received.map((f) => f.stn)).toEqual([true, false, false, false]);
      expect(
        await t.connection.collection('fingerprintlogs').countDocuments({ device_sn: sn, source: 'getnewlog' }),
      ).toBe(119);
      expect(await t.connection.collection('doorevents').countDocuments({ sn })).toBe(1);
      expect(vt.logs.every((l) => l.delivered)).toBe(true);
    });

    it('reads every page of the user list and each credential into the server copy', async () => {
      const vt = await terminal(nextSn('ROSTER'), { users: 25 });
      const res = await command(vt.sn, { cmd: 'getuserlist', payload: { includeInfo: true }, wait: true }).expect(200);
      const op = (res.body as { op: OpBody }).op;
      const credentials = [...vt.users.values()].reduce((n, u) => n + u.credentials.length, 0);
      expect(credentials).toBeGreaterThan(40);
      expect(op).toMatchObject({
        status: 'success',
        response: { ret: 'getuserlist', result: true, count: credentials, pages: Math.ceil((credentials + 1) / 40) },
      });
      expect((op.response!.infoFetched as number) + (op.response!.infoFailed as unknown[]).length).toBe(credentials);
      const copy = await t.connection.collection('deviceusers').find({ sn: vt.sn }).toArray();
      expect(copy).toHaveLength(25);
    });
  });

  describe('POST /api/device/:sn/command', () => {
    it('waits for the answer and returns the finished operation', async () => {
      const vt = await terminal(nextSn('CMD'));
      const res = await command(vt.sn, { cmd: 'getdevinfo', wait: true }).expect(200);
      expect(Object.keys(res.body as object)).toEqual(['success', 'op']);
      expect(res.body).toMatchObject({
        success: true,
        op: {
          _id: OBJECT_ID,
          sn: vt.sn,
          type: 'getdevinfo',
          payload: {},
          status: 'success',
          attemptCount: 1,
          response: { ret: 'getdevinfo', sn: vt.sn, result: true },
        },
      });
      const stored = await operations().findOne({ _id: new ObjectId((res.body as { op: OpBody }).op._id) });
      expect(stored).toMatchObject({ status: 'success', payload: {}, requestedBy: OBJECT_ID });
    });

    it("sends settime with the current time in the terminal's zone and reboot without waiting for a reply", async () => {
      const vt = await terminal(nextSn('TIME'));
      const set = await command(vt.sn, { cmd: 'settime', wait: true }).expect(200);
      expect((set.body as { op: OpBody }).op.status).toBe('success');
      const frame = await vt.waitForCommand('settime');
      expect(frame.cloudtime).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

      const reboot = await command(vt.sn, { cmd: 'reboot', wait: true }).expect(200);
      expect((reboot.body as { op: OpBody }).op).toMatchObject({
        status: 'success',
        response: { ret: 'reboot', sent: true },
      });
    });

    it('refuses unknown commands and payloads the command does not accept, queuing nothing', async () => {
      const vt = await terminal(nextSn('BAD'));
      const before = await operations().countDocuments({ sn: vt.sn });
      const unknown = await command(vt.sn, { cmd: 'getalluser' }).expect(400);
      expect(unknown.body).toMatchObject({ success: false, error: 'validation_failed', errors: [{ field: 'cmd' }] });
      const badPayload = await command(vt.sn, { cmd: 'setdevinfo', payload: { volume: 99 } }).expect(400);
      expect(badPayload.body).toEqual({
        success: false,
        error: 'invalid_payload',
        message: 'setdevinfo: volume must be between 0 and 10 (got 99)',
      });
      await command(vt.sn, { cmd: 'opendoor', payload: [1] }).expect(400);
      await command(vt.sn, { cmd: 'opendoor', wait: 'yes' }).expect(400);
      await command(vt.sn, { cmd: 'opendoor', extra: 1 }).expect(400);
      await command(vt.sn, {}).expect(400);
      await command('bad sn!', { cmd: 'opendoor' }).expect(400);
      expect(await operations().countDocuments({ sn: vt.sn })).toBe(before);
    });

    it('answers 409 at once for an offline or unknown terminal when waiting, 404 when queuing for an unknown one', async () => {
      const sn = nextSn('NONE');
      expect((await command(sn, { cmd: 'gettime', wait: true }).expect(409)).body).toEqual(OFFLINE);
      expect((await command(sn, { cmd: 'gettime' }).expect(404)).body).toMatchObject({
        success: false,
        error: 'device_not_found',
      });
      const gone = await terminal(nextSn('GONE'));
      await gone.close();
      await waitFor(async () => (await command(gone.sn, { cmd: 'gettime', wait: true })).status === 409, {
        message: 'terminal seen offline',
      });
      expect(await operations().countDocuments({ sn: { $in: [sn, gone.sn] } })).toBe(0);
    });

    it('needs an admin token', async () => {
      await api().post('/api/device/ANY/command').send({ cmd: 'gettime' }).expect(401);
      const employee = signHs256(
        { sub: new ObjectId().toHexString(), role: 'EMPLOYEE', owner: new ObjectId().toHexString(), iat: nowSeconds() },
        TEST_JWT_SECRET,
      );
      await api().get('/api/operations').set('Authorization', `Bearer ${employee}`).expect(403);
      await api().get('/api/stats').expect(401);
      await api().post(`/api/operations/${new ObjectId().toHexString()}/cancel`).expect(401);
    });
  });

  it('documents every route in Swagger with the bearer token and the contract examples', async () => {
    const doc = (await api().get('/api/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { summary?: string; security?: unknown[]; responses: Record<string, unknown> }>
      >;
    };
    const routes: [string, string, string[]][] = [
      ['/api/operations', 'get', ['200', '400', '401', '403']],
      ['/api/operations/{id}', 'get', ['200', '400', '401', '404']],
      ['/api/operations/{id}/cancel', 'post', ['200', '400', '404', '409']],
      ['/api/operations/{id}/retry', 'post', ['200', '400', '404', '409']],
      ['/api/stats', 'get', ['200', '400', '401']],
      ['/api/device/{sn}/command', 'post', ['200', '400', '404', '409', '504']],
    ];
    for (const [path, method, statuses] of routes) {
      const route = doc.paths[path]?.[method];
      expect({ path, summary: typeof route?.summary, secured: route?.security?.length }).toEqual({
        path,
        summary: 'string',
        secured: 1,
      });
      for (const status of statuses)
        expect({ path, status, documented: status in (route?.responses ?? {}) }).toMatchObject({ documented: true });
    }
  });

  describe('cancel and retry', () => {
    it('cancels a pending operation, which is then never sent; refuses other states', async () => {
      const sn = nextSn('CANC');
      const parked = await terminal(sn);
      await parked.close();
      terminals.splice(terminals.indexOf(parked), 1);
      const queued = await command(sn, { cmd: 'getdevinfo' }).expect(200);
      const keep = await command(sn, { cmd: 'gettime' }).expect(200);
      const id = (queued.body as { op: OpBody }).op._id;

      const res = await auth(api().post(`/api/operations/${id}/cancel`)).expect(200);
      expect(res.body).toMatchObject({ success: true, op: { _id: id, status: 'canceled', attemptCount: 0 } });
      const again = await auth(api().post(`/api/operations/${id}/cancel`)).expect(409);
      expect(again.body).toEqual({
        success: false,
        error: 'invalid_transition',
        message: 'Only pending or failed operations can be canceled; this one is canceled',
      });

      const vt = await terminal(sn);
      await until((keep.body as { op: OpBody }).op._id, (op) => op.status === 'success');
      expect(vt.received.map((f) => f.cmd)).toEqual(['gettime']);
      expect((await getOp(id)).status).toBe('canceled');

      const sent = await seed({ status: 'sent', leaseOwner: 'ghost', leaseUntil: new Date(Date.now() + 3_600_000) });
      const success = await seed({ status: 'success', completedAt: new Date() });
      expect((await auth(api().post(`/api/operations/${sent}/cancel`)).expect(409)).body.error).toBe(
        'invalid_transition',
      );
      expect((await auth(api().post(`/api/operations/${success}/cancel`)).expect(409)).body.message).toBe(
        'Only pending or failed operations can be canceled; this one is success',
      );
    });

    it('retries a failed operation with a fresh budget (queued:true), and refuses other states', async () => {
      const vt = await terminal(nextSn('RETRY'));
      vt.failNext('getdevlock', 3);
      const failed = await command(vt.sn, { cmd: 'getdevlock', wait: true }).expect(200);
      const op = (failed.body as { op: OpBody }).op;
      expect(op).toMatchObject({ status: 'failed', attemptCount: 1, lastError: 'device_error: reason 3' });

      const res = await auth(api().post(`/api/operations/${op._id}/retry`)).expect(200);
      expect(res.body).toMatchObject({
        success: true,
        queued: true,
        op: { _id: op._id, status: 'pending', attemptCount: 1, maxAttempts: 6 },
      });
      const done = await until(op._id, (o) => o.status === 'success');
      expect(done.attemptCount).toBe(2);
      const refused = await auth(api().post(`/api/operations/${op._id}/retry`)).expect(409);
      expect(refused.body).toEqual({
        success: false,
        error: 'invalid_transition',
        message: 'Only failed or canceled operations can be retried; this one is success',
      });

      const canceled = await seed({ status: 'canceled', sn: nextSn('NOBODY'), completedAt: new Date() });
      expect((await auth(api().post(`/api/operations/${canceled}/retry`)).expect(200)).body.op.status).toBe('pending');
      expect((await auth(api().post(`/api/operations/${canceled}/retry`)).expect(409)).body.error).toBe(
        'invalid_transition',
      );
    });

    it('answers 404 for unknown ids and 400 for malformed ones', async () => {
      const unknown = new ObjectId().toHexString();
      for (const path of [
        `/api/operations/${unknown}`,
        `/api/operations/${unknown}/cancel`,
        `/api/operations/${unknown}/retry`,
      ]) {
        const req = path.endsWith(unknown) ? api().get(path) : api().post(path);
        expect((await auth(req).expect(404)).body).toEqual({
          success: false,
          error: 'operation_not_found',
          message: 'No operation with this id',
        });
      }
      for (const path of ['/api/operations/nope', '/api/operations/123/cancel', '/api/operations/zz/retry']) {
        const req = path === '/api/operations/nope' ? api().get(path) : api().post(path);
        expect((await auth(req).expect(400)).body).toMatchObject({ success: false, error: 'invalid_id' });
      }
    });
  });

  describe('GET /api/operations and GET /api/stats', () => {
    const SN = 'LISTING01';

    beforeAll(async () => {
      const at = (iso: string) => new Date(iso);
      await seed({ sn: SN, type: 'setuserinfo', status: 'success', createdAt: at('2025-11-01T00:00:00.000Z') });
      await seed({ sn: SN, type: 'setuserinfo', status: 'failed', createdAt: at('2025-11-10T23:59:59.999Z') });
      await seed({ sn: SN, type: 'deleteuser', status: 'pending', createdAt: at('2025-11-11T00:00:00.000Z') });
      await seed({ sn: SN, type: 'deleteuser', status: 'canceled', createdAt: at('2025-11-11T00:00:00.000Z') });
      await seed({ sn: SN, type: 'cleanlog', status: 'success', createdAt: at('2025-10-31T23:59:59.999Z') });
    });

    const list = async (query: string) => {
      const res = await auth(api().get(`/api/operations?${query}`)).expect(200);
      return res.body as { success: boolean; total: number; page: number; items: OpBody[] };
    };

    it('lists newest first with _id breaking ties, in the contract shape', async () => {
      const body = await list(`sn=${SN}`);
      expect(Object.keys(body)).toEqual(['success', 'total', 'page', 'items']);
      expect(body).toMatchObject({ success: true, total: 5, page: 1 });
      expect(body.items.map((i) => i.type)).toEqual([
        'deleteuser',
        'deleteuser',
        'setuserinfo',
        'setuserinfo',
        'cleanlog',
      ]);
      expect(body.items[0]._id > body.items[1]._id).toBe(true);
      expect(body.items[0]).toMatchObject({
        _id: OBJECT_ID,
        sn: SN,
        payload: {},
        attemptCount: 0,
        createdAt: '2025-11-11T00:00:00.000Z',
      });
    });

    it('filters by sn, type, status and whole UTC days (to inclusive)', async () => {
      expect((await list(`sn=${SN}&type=deleteuser`)).total).toBe(2);
      expect((await list(`sn=${SN}&status=success`)).items.map((i) => i.type)).toEqual(['setuserinfo', 'cleanlog']);
      expect((await list(`sn=${SN}&from=2025-11-01&to=2025-11-10`)).items.map((i) => i.status)).toEqual([
        'failed',
        'success',
      ]);
      expect((await list(`sn=${SN}&from=2025-11-11`)).total).toBe(2);
      expect((await list(`sn=${SN}&to=2025-10-31`)).total).toBe(1);
      expect((await list(`sn=${SN}&from=2025-12-01`)).total).toBe(0);
      expect((await list(`sn=NO-SUCH-SN`)).total).toBe(0);
    });

    it('pages: limit 20 by default, above 100 treated as 100', async () => {
      const sn = 'PAGING01';
      const base = Date.parse('2025-01-01T00:00:00.000Z');
      await operations().insertMany(
        Array.from({ length: 105 }, (_, i) => ({
          sn,
          type: 'gettime',
          payload: {},
          status: 'success',
          attemptCount: 1,
          maxAttempts: 5,
          nextAttemptAt: new Date(base),
          dependsOn: [],
          depsPending: false,
          group: false,
          createdAt: new Date(base + i * 1000),
          updatedAt: new Date(base + i * 1000),
        })),
      );
      const first = await list(`sn=${sn}`);
      expect(first.items).toHaveLength(20);
      expect(first.total).toBe(105);
      expect(first.items[0].createdAt).toBe(new Date(base + 104_000).toISOString());
      expect((await list(`sn=${sn}&limit=500`)).items).toHaveLength(100);
      const last = await list(`sn=${sn}&page=6`);
      expect(last).toMatchObject({ page: 6, total: 105 });
      expect(last.items).toHaveLength(5);
      expect(last.items[4].createdAt).toBe(new Date(base).toISOString());
      expect((await list(`sn=${sn}&page=7`)).items).toHaveLength(0);
    });

    it('refuses bad filters with 400', async () => {
      for (const query of [
        'status=done',
        'from=2025-02-30',
        'to=2025-13-01',
        'from=yesterday',
        'limit=abc',
        'page=1.5',
      ]) {
        const res = await auth(api().get(`/api/operations?${query}`));
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
        expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      }
      expect((await auth(api().get('/api/stats?status=nope')).expect(400)).body.error).toBe('validation_failed');
      // Unknown keys (cache busters) are dropped, not refused.
      expect((await auth(api().get('/api/operations?colour=red')).expect(200)).body.success).toBe(true);
    });

    it('counts by status and type exactly as the listing does', async () => {
      const filtered = (await auth(api().get(`/api/stats?sn=${SN}`)).expect(200)).body as {
        total: number;
        byStatus: { _id: string; count: number }[];
        byType: { _id: string; count: number }[];
      };
      expect(filtered).toEqual({
        success: true,
        total: 5,
        byStatus: [
          { _id: 'success', count: 2 },
          { _id: 'canceled', count: 1 },
          { _id: 'failed', count: 1 },
          { _id: 'pending', count: 1 },
        ],
        byType: [
          { _id: 'deleteuser', count: 2 },
          { _id: 'setuserinfo', count: 2 },
          { _id: 'cleanlog', count: 1 },
        ],
      });

      // Everything in the database: no terminal is connected now, so nothing moves between the reads.
      const stats = (await auth(api().get('/api/stats')).expect(200)).body as typeof filtered;
      expect(stats.total).toBe((await list('')).total);
      expect(stats.total).toBe(await operations().countDocuments());
      for (const bucket of stats.byStatus) expect((await list(`status=${bucket._id}`)).total).toBe(bucket.count);
      for (const bucket of stats.byType) expect((await list(`type=${bucket._id}`)).total).toBe(bucket.count);
      expect(stats.byStatus.reduce((n, b) => n + b.count, 0)).toBe(stats.total);
    });
  });
});
