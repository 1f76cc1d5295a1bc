import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { createTestApp, TestApp } from './support/test-app';

/** A local HR endpoint that confirms every request and records what it got. */
class ConfirmingHr {
  readonly bodies: { sn: string; record: { enrollid: number; time: string; event: number }[] }[] = [];
  readonly auth: (string | undefined)[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ConfirmingHr['bodies'][number]);
        this.auth.push(req.headers.authorization);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ success: true }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hr/logs`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('POST /api/device-log (e2e)', () => {
  const post = (t: TestApp, body: unknown, auth?: string) => {
    const req = request(t.httpServer).post('/api/device-log');
    if (auth) req.set('Authorization', auth);
    return req.send(body as object);
  };
  const punchesOf = (t: TestApp, sn: string) =>
    t.connection.collection('fingerprintlogs').find({ device_sn: sn }).sort({ time: 1 }).toArray();

  // Open to unknown serials (DEVICE_LOG_ALLOW_UNKNOWN): who may post is tested in security-edge.e2e-spec.ts.
  describe('without an HR server', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await createTestApp({ env: { DEVICE_DEFAULT_TIMEZONE: 'Asia/Baghdad', DEVICE_LOG_ALLOW_UNKNOWN: 'true' } });
    });
    afterAll(async () => {
      await t?.close();
    });

    it("accepts the contract's example and answers retryLater when nothing confirmed it", async () => {
      const res = await post(t, { sn: 'ZXRE06022863', record: [{ enrollid: 2, time: '2025-11-08T09:00:00' }] });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, forwarded: false, retryLater: true });
      const [punch] = await punchesOf(t, 'ZXRE06022863');
      expect(punch).toMatchObject({
        enrollid: '2',
        device_type: 'terminal',
        source: 'device-log',
        raw_time: '2025-11-08T09:00:00',
      });
      expect(punch.time.toISOString()).toBe('2025-11-08T06:00:00.000Z');
      // An unknown terminal becomes known, so an operator can name it and set its zone.
      const device = await t.connection.collection('devices').findOne({ sn: 'ZXRE06022863' });
      expect(device).toMatchObject({ sn: 'ZXRE06022863', online: false });
      expect(device!.lastDeviceLogAt).toBeInstanceOf(Date);
    });

    it('stores a punch once whether it came by sendlog or by device-log', async () => {
      const term = new VirtualTerminal({ sn: 'DL-DEDUPE', url: `${t.wsUrl}/pub/chat` });
      term.on('warning', () => undefined);
      await term.connect();
      await term.sendLogs([{ enrollid: 8, time: '2025-11-08 09:15:00', mode: 1, inout: 0, event: 0 }]);
      await term.close();
      const res = await post(t, {
        sn: 'DL-DEDUPE',
        record: [
          { enrollid: '8', time: '2025-11-08T09:15:00', mode: 1, inout: 0, event: 0 },
          { enrollid: 8, time: '2025-11-08 09:15:00', mode: 1, inout: 0, event: 0 },
          { enrollid: 8, time: '2025-11-08 17:00:00', mode: 1, inout: 1, event: 0 },
        ],
      });
      expect(res.status).toBe(200);
      const punches = await punchesOf(t, 'DL-DEDUPE');
      expect(punches.map((p) => [p.source, p.raw_time])).toEqual([
        ['sendlog', '2025-11-08 09:15:00'],
        ['device-log', '2025-11-08 17:00:00'],
      ]);
    });

    it('drops unknown keys instead of refusing them', async () => {
      const res = await post(t, {
        sn: 'DL-LENIENT',
        gateway: 'edge-7',
        record: [
          { enrollid: 3, time: '2025-11-08 10:00:00', verifymode: '1', temp: '36.6', extra: { a: 1 }, $where: 'x' },
        ],
      });
      expect(res.status).toBe(200);
      const [punch] = await punchesOf(t, 'DL-LENIENT');
      expect(punch).toMatchObject({ enrollid: '3', verifymode: 1, temp: 36.6 });
      expect(punch.raw.extra).toBeUndefined();
    });

    it('separates door events and answers that nothing needed forwarding', async () => {
      const res = await post(t, {
        sn: 'DL-DOOR',
        record: [{ enrollid: 0, event: 2, time: '2025-11-08 10:00:00', inout: 1 }],
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, forwarded: false, retryLater: false });
      expect(await punchesOf(t, 'DL-DOOR')).toHaveLength(0);
      const doors = await t.connection.collection('doorevents').find({ sn: 'DL-DOOR' }).toArray();
      expect(doors).toHaveLength(1);
      expect(doors[0]).toMatchObject({ event: 2, eventName: 'exit_button', source: 'device-log' });
    });

    it.each([
      ['no sn', { record: [{ enrollid: 1, time: '2025-11-08 10:00:00' }] }, 'sn'],
      ['a malformed sn', { sn: 'bad sn', record: [{ enrollid: 1, time: '2025-11-08 10:00:00' }] }, 'sn'],
      ['no record', { sn: 'DL-BAD' }, 'record'],
      ['an empty record list', { sn: 'DL-BAD', record: [] }, 'record'],
      ['record not a list', { sn: 'DL-BAD', record: { enrollid: 1 } }, 'record'],
      ['a record that is not an object', { sn: 'DL-BAD', record: [5] }, 'record'],
    ])('refuses %s with 400 and stores nothing', async (_what, body, field) => {
      const res = await post(t, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
      expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
      expect(await punchesOf(t, 'DL-BAD')).toHaveLength(0);
    });

    it.each([
      ['a non-numeric enrollid', { enrollid: 'abc', time: '2025-11-08 10:00:00' }, 'enrollid "abc" is not an integer'],
      [
        'a negative enrollid',
        { enrollid: -1, time: '2025-11-08 10:00:00' },
        'enrollid -1 is out of range 0..999999999999',
      ],
      ['no time', { enrollid: 1 }, 'time missing is not a terminal time'],
      [
        'an impossible time',
        { enrollid: 1, time: '2025-02-30 10:00:00' },
        'time "2025-02-30 10:00:00" is not a terminal time',
      ],
      [
        'a wrongly typed event',
        { enrollid: 1, time: '2025-11-08 10:00:00', event: 'in' },
        'event "in" is not an integer',
      ],
    ])('keeps a record with %s as rejected and stores the others', async (_what, bad, reason) => {
      const sn = `DL-SPLIT-${reason.length}-${String(bad.enrollid)}`;
      const good = { enrollid: 7, time: '2025-11-08 10:00:00' };
      const res = await post(t, { sn, record: [good, { ...bad, note: 'kept as posted' }] });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, forwarded: false, retryLater: true, rejected: 1 });
      expect((await punchesOf(t, sn)).map((p) => p.enrollid)).toEqual(['7']);
      const rejected = await t.connection.collection('rejectedrecords').find({ sn }).toArray();
      expect(rejected.map((r) => [r.raw, r.reason, r.source])).toEqual([
        [{ ...bad, note: 'kept as posted' }, reason, 'device-log'],
      ]);
    });

    it('refuses malformed JSON with 400', async () => {
      const res = await request(t.httpServer)
        .post('/api/device-log')
        .set('Content-Type', 'application/json')
        .send('{"sn":"X","record":[');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: 'malformed_json' });
    });

    it('documents the bearer token as optional in OpenAPI', async () => {
      const res = await request(t.httpServer).get('/api/docs-json');
      const op = res.body.paths['/api/device-log'].post;
      expect(op.security).toEqual(expect.arrayContaining([{}, { bearer: [] }]));
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
    });
  });

  describe('with DEVICE_LOG_TOKEN, the allow-list and a confirming HR server', () => {
    let t: TestApp;
    const hr = new ConfirmingHr();

    beforeAll(async () => {
      const url = await hr.start();
      t = await createTestApp({
        env: {
          DEVICE_LOG_TOKEN: 'device-log-secret',
          DEVICE_ALLOWLIST: 'DL-OK',
          DEVICE_DEFAULT_TIMEZONE: 'UTC',
          FORWARD_LOG_URL: url,
          FORWARD_LOG_TOKEN: 'hr-token',
        },
      });
    });
    afterAll(async () => {
      await t?.close();
      await hr.stop();
    });

    const body = { sn: 'DL-OK', record: [{ enrollid: 21, time: '2025-11-08T09:00:00', event: 0 }] };

    it('requires the bearer token', async () => {
      const none = await post(t, body);
      expect(none.status).toBe(401);
      expect(none.body).toMatchObject({ success: false, error: 'unauthorized' });
      const wrong = await post(t, body, 'Bearer not-the-token');
      expect(wrong.status).toBe(401);
      const basic = await post(t, body, 'Basic ZGV2aWNlLWxvZy1zZWNyZXQ=');
      expect(basic.status).toBe(401);
      expect(await punchesOf(t, 'DL-OK')).toHaveLength(0);
    });

    it('forwards at once and answers forwarded when the HR server confirmed', async () => {
      const res = await post(t, body, 'Bearer device-log-secret');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, forwarded: true, retryLater: false });
      expect(hr.bodies).toContainEqual({
        sn: 'DL-OK',
        record: [{ enrollid: 21, time: '2025-11-08T09:00:00', event: 0 }],
      });
      expect(hr.auth).toContain('Bearer hr-token');
      const [punch] = await punchesOf(t, 'DL-OK');
      expect(punch).toMatchObject({ is_send: true, send_failed: false });
    });

    it('refuses a terminal that is not on the allow-list with 403', async () => {
      const res = await post(
        t,
        { sn: 'DL-STRANGER', record: [{ enrollid: 1, time: '2025-11-08 09:00:00' }] },
        'Bearer device-log-secret',
      );
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        success: false,
        error: 'device_not_allowed',
        message: 'Terminal DL-STRANGER is not allowed to send logs (allow-list)',
        sn: 'DL-STRANGER',
      });
      expect(await punchesOf(t, 'DL-STRANGER')).toHaveLength(0);
      expect(await t.connection.collection('devices').countDocuments({ sn: 'DL-STRANGER' })).toBe(0);
    });
  });
});
