import request from 'supertest';
import { VirtualTerminal } from '@app/device-simulator';
import { waitFor } from '@app/testing';
import { DeviceConnectionRegistry, TerminalDisconnectedEvent, TerminalReplyEvent } from '../src/devices';
import { createTestApp, TestApp } from './support/test-app';
import { RawTerminal } from './gateway-raw-terminal';

describe('Terminal gateway limits (e2e)', () => {
  describe('frame rate limit', () => {
    let t: TestApp;
    let registry: DeviceConnectionRegistry;
    const replies: TerminalReplyEvent[] = [];
    const disconnected: TerminalDisconnectedEvent[] = [];
    const raws: RawTerminal[] = [];

    beforeAll(async () => {
      t = await createTestApp({
        env: { DEVICE_CMD_RATE_LIMIT: '5', DEVICE_CMD_RATE_WINDOW: '1s', DEVICE_FLOOD_CLOSE_DROPS: '60' },
      });
      registry = t.app.get(DeviceConnectionRegistry);
      registry.on('reply', (e) => replies.push(e));
      registry.on('disconnected', (e) => disconnected.push(e));
    });
    afterAll(async () => {
      for (const r of raws) r.terminate();
      await t?.close();
    });

    async function registeredRaw(sn: string): Promise<RawTerminal> {
      const term = await RawTerminal.open(t.wsUrl);
      raws.push(term);
      await term.reg(sn);
      return term;
    }

    it('drops requests above the rate without closing the socket, and never limits replies', async () => {
      const term = await registeredRaw('RATE-1');
      for (let i = 0; i < 30; i++) term.send({ cmd: 'probe', sn: 'RATE-1', i });
      for (let i = 0; i < 100; i++)
        term.send({
          ret: 'getuserlist',
          sn: 'RATE-1',
          result: true,
          count: 40,
          from: i * 40,
          to: i * 40 + 39,
          record: [],
        });
      // Requests are handled in order: once a later marker is answered, every accepted probe was too.
      await waitFor(
        () => {
          term.send({ cmd: 'marker', sn: 'RATE-1' });
          return term.frames.some((f) => f.ret === 'marker');
        },
        { timeoutMs: 10_000, intervalMs: 300 },
      );
      const answered = term.frames.filter((f) => f.ret === 'probe').length;
      expect(answered).toBeGreaterThanOrEqual(4);
      expect(answered).toBeLessThan(30);
      expect(replies.filter((r) => r.sn === 'RATE-1' && r.ret === 'getuserlist')).toHaveLength(100);
      expect(term.open).toBe(true);
      expect(registry.isConnected('RATE-1')).toBe(true);
    });

    it('closes the socket of a terminal that keeps flooding', async () => {
      const flooder = await registeredRaw('RATE-FLOOD');
      const neighbour = new VirtualTerminal({ sn: 'RATE-CALM', url: `${t.wsUrl}/pub/chat` });
      neighbour.on('warning', () => undefined);
      await neighbour.connect();
      for (let i = 0; i < 200; i++) flooder.send({ cmd: 'probe', sn: 'RATE-FLOOD', i });
      const closed = await flooder.closed;
      expect(closed).toEqual({ code: 1008, reason: 'frame rate limit' });
      const event = await waitFor(() => disconnected.find((e) => e.sn === 'RATE-FLOOD'));
      expect(event.reason).toBe('flood');
      expect(await neighbour.sendLogs([{ enrollid: 1, time: '2025-11-08 09:00:00' }])).toMatchObject({ result: true });
      await neighbour.close();
    });
  });

  describe('allow-list and configured answers', () => {
    let t: TestApp;
    const sims: VirtualTerminal[] = [];

    beforeAll(async () => {
      t = await createTestApp({
        env: {
          DEVICE_ALLOWLIST: 'ALLOW-A, ALLOW-B',
          DEVICE_ALLOWLIST_REASON: 'Not on our list',
          DEVICE_NOSENDUSER: 'true',
          DEVICE_QRCODE_ACCESS: 'true',
          DEVICE_QRCODE_MESSAGE: 'Welcome',
        },
      });
    });
    afterEach(async () => {
      await Promise.all(sims.splice(0).map((s) => s.close()));
    });
    afterAll(async () => {
      await t?.close();
    });

    function sim(sn: string, cpusn?: string): VirtualTerminal {
      const term = new VirtualTerminal({ sn, url: `${t.wsUrl}/pub/chat`, ...(cpusn !== undefined ? { cpusn } : {}) });
      term.on('warning', () => undefined);
      sims.push(term);
      return term;
    }

    it('refuses a terminal that is not on the list with the configured text, and closes it', async () => {
      const raw = await RawTerminal.open(t.wsUrl);
      const reply = await raw.reg('STRANGER-1');
      expect(reply).toEqual({ ret: 'reg', result: false, reason: 'Not on our list' });
      expect((await raw.closed).code).toBe(4003);
      await expect(sim('STRANGER-2').connect()).rejects.toThrow('Not on our list');
      expect(await t.connection.collection('devices').countDocuments({ sn: /^STRANGER/ })).toBe(0);
      expect(t.app.get(DeviceConnectionRegistry).isConnected('STRANGER-1')).toBe(false);
    });

    it('admits listed terminals, with nosenduser and the QR answer from the configuration', async () => {
      const term = sim('ALLOW-A');
      const reply = await term.connect();
      expect(reply).toMatchObject({ ret: 'reg', result: true, nosenduser: true });
      expect(await term.sendQrcode('ticket-1')).toMatchObject({
        ret: 'sendqrcode',
        result: true,
        access: 1,
        message: 'Welcome',
      });
    });

    it('an operator can block a listed terminal, and unblock it', async () => {
      const token = await t.adminToken();
      const raw = await RawTerminal.open(t.wsUrl);
      await raw.reg('ALLOW-B');
      const blocked = await request(t.httpServer)
        .patch('/api/devices/ALLOW-B')
        .set('Authorization', `Bearer ${token}`)
        .send({ allowed: false });
      expect(blocked.status).toBe(200);
      expect(blocked.body.item.allowed).toBe(false);
      // Its next reg (a heartbeat) is refused and the socket closed.
      expect(await raw.reg('ALLOW-B')).toEqual({ ret: 'reg', result: false, reason: 'Not on our list' });
      await raw.closed;
      await waitFor(
        async () => (await t.connection.collection('devices').findOne({ sn: 'ALLOW-B' }))?.online === false,
      );

      await request(t.httpServer)
        .patch('/api/devices/ALLOW-B')
        .set('Authorization', `Bearer ${token}`)
        .send({ allowed: null })
        .expect(200);
      // The same unit (its pinned cpusn) comes back.
      expect(await sim('ALLOW-B', 'CPU-ALLOW-B').connect()).toMatchObject({ result: true });
    });
  });
});
