import { type AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { type Json, logListDone, userListDone } from '@app/device-protocol';
import { VirtualTerminal, type VirtualTerminalOptions } from './virtual-terminal';
import { startFleet } from './fleet';

interface Received {
  socket: WebSocket;
  msg: Json;
}

/** A minimal server: records every frame and can answer reg on its own. */
class TestServer {
  readonly frames: Received[] = [];
  readonly sockets: WebSocket[] = [];
  autoReg: Json | null = { ret: 'reg', result: true, cloudtime: '2024-05-01 08:00:00', nosenduser: false };
  private taken = new Set<number>();
  private listeners: (() => void)[] = [];

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {
    wss.on('connection', (socket) => {
      this.sockets.push(socket);
      socket.on('message', (data: Buffer) => {
        const msg = JSON.parse(data.toString('utf8')) as Json;
        this.frames.push({ socket, msg });
        if (msg.cmd === 'reg' && this.autoReg) socket.send(JSON.stringify(this.autoReg));
        this.notify();
      });
      socket.on('close', () => this.notify());
      this.notify();
    });
  }

  static async start(): Promise<TestServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return new TestServer(wss, `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/pub/chat`);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Resolves when `check` returns a value, re-checking on every server event, with a deadline. */
  until<T>(check: () => T | undefined, what: string, timeoutMs = 4000): Promise<T> {
    return new Promise((resolve, reject) => {
      const listener = (): void => {
        const v = check();
        if (v === undefined) return;
        done();
        resolve(v);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
      };
      this.listeners.push(listener);
      listener();
    });
  }

  /** The next frame (not taken before) matching `pred`. */
  take(pred: (msg: Json) => boolean, what = 'a frame'): Promise<Received> {
    return this.until(() => {
      const i = this.frames.findIndex((f, idx) => !this.taken.has(idx) && pred(f.msg));
      if (i < 0) return undefined;
      this.taken.add(i);
      return this.frames[i];
    }, what);
  }

  reply(ret: string): Promise<Json> {
    return this.take((m) => m.ret === ret, `reply ${ret}`).then((r) => r.msg);
  }

  /** Sends a command on the newest socket and returns the terminal's reply. */
  async command(cmd: string, payload: Json = {}): Promise<Json> {
    this.send({ cmd, ...payload });
    return this.reply(cmd);
  }

  send(frame: Json, socket = this.sockets[this.sockets.length - 1]): void {
    socket.send(JSON.stringify(frame));
  }

  connections(n: number): Promise<WebSocket> {
    return this.until(() => (this.sockets.length >= n ? this.sockets[n - 1] : undefined), `${n} connections`);
  }

  closed(socket: WebSocket): Promise<true> {
    return this.until(() => (socket.readyState === WebSocket.CLOSED ? true : undefined), 'socket close');
  }

  async close(): Promise<void> {
    for (const s of this.wss.clients) s.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

describe('VirtualTerminal', () => {
  let server: TestServer;
  const terminals: VirtualTerminal[] = [];
  const make = (opts: Partial<VirtualTerminalOptions> = {}): VirtualTerminal => {
    const t = new VirtualTerminal({ sn: 'ZXRE06022863', url: server.url, ...opts });
    terminals.push(t);
    return t;
  };

  beforeEach(async () => {
    server = await TestServer.start();
  });

  afterEach(async () => {
    await Promise.all(terminals.splice(0).map((t) => t.close()));
    await server.close();
  });

  describe('registration', () => {
    it('sends reg with realistic devinfo first and nothing else until reg is answered', async () => {
      server.autoReg = null;
      const t = make({ users: 5, regResendMs: 30 });
      const registered = t.connect();
      const acked = t.sendLogs([{ enrollid: 1 }]);
      const first = await server.take((m) => m.cmd === 'reg', 'first reg');
      await server.take((m) => m.cmd === 'reg', 'resent reg');
      expect(server.frames.every((f) => f.msg.cmd === 'reg')).toBe(true);

      const devinfo = first.msg.devinfo as Json;
      expect(first.msg).toMatchObject({ cmd: 'reg', sn: 'ZXRE06022863' });
      expect(typeof first.msg.cpusn).toBe('string');
      expect(devinfo).toMatchObject({
        modelname: 'AiFace',
        usersize: 3000,
        useduser: 5,
        fpalgo: 'thbio3.0',
        usedlog: 1,
        usednewlog: 1,
      });
      const fingers = [...t.users.values()].flatMap((u) => u.credentials).filter((c) => c.backupnum <= 9).length;
      expect(devinfo.usedfp).toBe(fingers);
      expect(devinfo.mac).toMatch(/^([0-9A-F]{2}-){5}[0-9A-F]{2}$/);
      expect(devinfo.time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

      first.socket.send(
        JSON.stringify({ ret: 'reg', result: true, cloudtime: '2021-06-07 10:11:12', nosenduser: true }),
      );
      await expect(registered).resolves.toMatchObject({ ret: 'reg', result: true });
      expect(t.registered).toBe(true);
      const sendlog = await server.take((m) => m.cmd === 'sendlog', 'sendlog after reg');
      expect(sendlog.msg).toMatchObject({ sn: 'ZXRE06022863', count: 1, record: [{ enrollid: 1 }] });
      server.send({
        ret: 'sendlog',
        result: true,
        count: 1,
        logindex: sendlog.msg.logindex,
        cloudtime: '2021-06-07 10:11:20',
      });
      await expect(acked).resolves.toMatchObject({ result: true });
    });

    it('adopts cloudtime from the reg reply', async () => {
      server.autoReg = { ret: 'reg', result: true, cloudtime: '2020-01-02 03:04:05', nosenduser: true };
      const t = make();
      await t.connect();
      const time = await server.command('gettime');
      expect(time).not.toHaveProperty('result');
      expect(time.time).toMatch(/^2020-01-02 03:0\d:\d\d$/);
      expect(t.stats.badCloudtimes).toBe(0);
    });

    it('counts a cloudtime that is not YYYY-MM-DD HH:MM:SS instead of adopting it', async () => {
      server.autoReg = { ret: 'reg', result: true, cloudtime: '2020-01-02T03:04:05Z', nosenduser: true };
      const t = make();
      await t.connect();
      expect(t.stats.badCloudtimes).toBe(1);
    });

    it('rejects connect when the server refuses the terminal, and keeps re-sending reg', async () => {
      server.autoReg = { ret: 'reg', result: false, reason: 'Unknown device' };
      const t = make({ regResendMs: 20, cpusn: null });
      await expect(t.connect()).rejects.toThrow('registration refused: Unknown device');
      const regs = await server.until(() => {
        const r = server.frames.filter((f) => f.msg.cmd === 'reg');
        return r.length >= 3 ? r : undefined;
      }, 'three reg frames');
      expect(regs[0].msg).not.toHaveProperty('cpusn');
      expect(t.registered).toBe(false);
    });

    it('sends reg as a heartbeat when configured', async () => {
      const t = make({ heartbeatRegMs: 20 });
      await t.connect();
      await server.until(
        () => (server.frames.filter((f) => f.msg.cmd === 'reg').length >= 3 ? true : undefined),
        'heartbeat regs',
      );
      expect(t.registered).toBe(true);
    });

    it('answers pings unless autoPong is false', async () => {
      // A pong is sent as soon as the ping is read, so it arrives before the reply to a later command.
      const pongsBeforeReply = async (): Promise<boolean> => {
        const socket = server.sockets[server.sockets.length - 1];
        let ponged = false;
        socket.once('pong', () => (ponged = true));
        socket.ping();
        await server.command('gettime');
        return ponged;
      };
      await make().connect();
      expect(await pongsBeforeReply()).toBe(true);
      await make({ sn: 'SILENT01', autoPong: false }).connect();
      expect(await pongsBeforeReply()).toBe(false);
    });

    it('rejects connect when nothing listens, without throwing elsewhere', async () => {
      const t = make({ url: 'ws://127.0.0.1:1/pub/chat' });
      await expect(t.connect()).rejects.toThrow(/connection closed/);
    });
  });

  describe('commands', () => {
    it('pages getuserlist: 40 rows a packet, one row per credential, stn:false continues', async () => {
      const t = make({ users: 30 });
      await t.connect();
      const expected = [...t.users.values()].flatMap((u) => u.credentials.map((c) => `${u.enrollid}:${c.backupnum}`));
      expect(expected.length).toBeGreaterThan(40);

      const rows: Json[] = [];
      let packet = await server.command('getuserlist', { stn: true });
      expect(packet).toMatchObject({
        ret: 'getuserlist',
        sn: 'ZXRE06022863',
        result: true,
        count: 40,
        from: 0,
        to: 39,
      });
      for (;;) {
        const record = packet.record as Json[];
        expect(packet.count).toBe(record.length);
        rows.push(...record);
        if (userListDone(packet)) break;
        packet = await server.command('getuserlist', { stn: false });
      }
      expect(rows.map((r) => `${String(r.enrollid)}:${String(r.backupnum)}`)).toEqual(expected);
      expect(rows.every((r) => typeof r.admin === 'number')).toBe(true);
    });

    it('answers an empty user list with count 0, from 0, to 0', async () => {
      make();
      await terminals[0].connect();
      expect(await server.command('getuserlist', { stn: true })).toEqual({
        ret: 'getuserlist',
        sn: 'ZXRE06022863',
        result: true,
        count: 0,
        from: 0,
        to: 0,
        record: [],
      });
    });

    it('getuserinfo returns the record in its wire type; unknown user is reason 1', async () => {
      const t = make({
        users: [
          {
            enrollid: 7,
            name: 'Ann',
            admin: 0,
            credentials: [
              { backupnum: 11, record: 4419327 },
              { backupnum: 0, record: 'AB(9)' },
            ],
          },
        ],
      });
      await t.connect();
      expect(await server.command('getuserinfo', { enrollid: 7, backupnum: 11 })).toEqual({
        ret: 'getuserinfo',
        sn: 'ZXRE06022863',
        result: true,
        enrollid: 7,
        name: 'Ann',
        backupnum: 11,
        admin: 0,
        record: 4419327,
      });
      expect(await server.command('getuserinfo', { enrollid: 8, backupnum: 0 })).toMatchObject({
        result: false,
        reason: 1,
      });
      expect(await server.command('getuserinfo', { backupnum: 0 })).toMatchObject({ result: false, reason: 1 });
    });

    it('adduser enrols with a generated credential; an existing id is reason 2', async () => {
      const t = make({ users: 1 });
      await t.connect();
      expect(
        await server.command('adduser', { enrollid: 10012, backupnum: 50, admin: 0, name: 'John Smith1', flag: 10 }),
      ).toEqual({
        ret: 'adduser',
        sn: 'ZXRE06022863',
        result: true,
        enrollid: 10012,
      });
      const photo = t.users.get(10012)!.credentials[0];
      expect(photo.backupnum).toBe(50);
      expect(String(photo.record).startsWith('/9j/')).toBe(true);
      expect(await server.command('adduser', { enrollid: 10013, backupnum: 0, name: 'F' })).toMatchObject({
        result: true,
      });
      expect(String(t.users.get(10013)!.credentials[0].record)).toMatch(/\(\d+\)/);
      expect(await server.command('adduser', { enrollid: 1, backupnum: 0 })).toMatchObject({
        result: false,
        reason: 2,
      });
    });

    it('deleteuser removes one finger, the card, all fingers or the whole user', async () => {
      const cred = (backupnum: number) => ({ backupnum, record: backupnum >= 10 ? 99 : 'AB' });
      const t = make({ users: [{ enrollid: 3, name: 'C', admin: 0, credentials: [0, 1, 2, 10, 11, 50].map(cred) }] });
      await t.connect();
      const slots = () => t.users.get(3)?.credentials.map((c) => c.backupnum);
      expect(await server.command('deleteuser', { enrollid: 3, backupnum: 1 })).toMatchObject({ result: true });
      expect(slots()).toEqual([0, 2, 10, 11, 50]);
      await server.command('deleteuser', { enrollid: 3, backupnum: 11 });
      await server.command('deleteuser', { enrollid: 3, backupnum: 50 });
      expect(slots()).toEqual([0, 2, 10]);
      await server.command('deleteuser', { enrollid: 3, backupnum: 12 });
      expect(slots()).toEqual([10]);
      await server.command('deleteuser', { enrollid: 3, backupnum: 13 });
      expect(t.users.has(3)).toBe(false);
      expect(await server.command('deleteuser', { enrollid: 3, backupnum: 13 })).toMatchObject({
        result: false,
        reason: 1,
      });
    });

    it('pages getnewlog 50 at a time with count = total and marks logs delivered', async () => {
      const logs = Array.from({ length: 120 }, (_, i) => ({
        enrollid: (i % 5) + 1,
        time: `2024-05-01 08:${String(i % 60).padStart(2, '0')}:00`,
      }));
      const t = make({ users: 5, logs });
      await t.connect();
      let received = 0;
      const packets: Json[] = [];
      let packet = await server.command('getnewlog', { stn: true });
      for (;;) {
        packets.push(packet);
        received += (packet.record as Json[]).length;
        if (logListDone(received, packet)) break;
        packet = await server.command('getnewlog', { stn: false });
      }
      expect(packets.map((p) => [p.count, p.from, p.to, (p.record as Json[]).length])).toEqual([
        [120, 0, 49, 50],
        [120, 50, 99, 50],
        [120, 100, 119, 20],
      ]);
      expect((packets[0].record as Json[])[0]).toEqual({
        enrollid: 1,
        time: '2024-05-01 08:00:00',
        mode: expect.any(Number),
        inout: 0,
        event: 0,
      });
      expect(t.logs.every((l) => l.delivered)).toBe(true);
      expect(await server.command('getnewlog', { stn: true })).toMatchObject({
        result: true,
        count: 0,
        from: 0,
        to: 0,
        record: [],
      });
      expect(await server.command('getalllog', { stn: true })).toMatchObject({ count: 120, from: 0, to: 49 });
    });

    it('every reply carries sn; unknown commands and reboot get no reply', async () => {
      const t = make({ autoReconnect: true, reconnectDelayMs: 10 });
      await t.connect();
      server.send({ cmd: 'getalluser' });
      expect(await server.command('getdevinfo')).toMatchObject({
        ret: 'getdevinfo',
        sn: 'ZXRE06022863',
        result: true,
        volume: 6,
      });
      expect(server.frames.some((f) => f.msg.ret === 'getalluser')).toBe(false);

      const first = server.sockets[0];
      server.send({ cmd: 'reboot' });
      await server.closed(first);
      await server.connections(2);
      await server.take((m) => m.cmd === 'reg', 'reg after reboot');
      await t.waitUntilRegistered();
      expect(server.frames.some((f) => f.msg.ret === 'reboot')).toBe(false);
      expect(await server.command('gettime')).toMatchObject({ ret: 'gettime', sn: 'ZXRE06022863' });
      expect(t.received.map((m) => m.cmd)).toEqual(['getalluser', 'getdevinfo', 'reboot', 'gettime']);
    });

    it('waitForCommand returns frames that already arrived, each once', async () => {
      const t = make();
      await t.connect();
      await server.command('cleanlog');
      await expect(t.waitForCommand('cleanlog')).resolves.toEqual({ cmd: 'cleanlog' });
      const next = t.waitForCommand('cleanlog');
      server.send({ cmd: 'cleanlog', sn: 'x' });
      await expect(next).resolves.toEqual({ cmd: 'cleanlog', sn: 'x' });
    });
  });

  describe('sendlog', () => {
    it('re-sends an unacknowledged frame with the same logindex until acked', async () => {
      const t = make({ users: 2, resendUnackedAfterMs: 30 });
      await t.connect();
      const acked = t.sendLogs([{ enrollid: 1 }, { enrollid: 2, temp: 36.6 }]);
      const first = await server.take((m) => m.cmd === 'sendlog', 'sendlog');
      const again = await server.take((m) => m.cmd === 'sendlog', 'resent sendlog');
      expect(again.msg).toEqual(first.msg);
      expect(first.msg).toMatchObject({ count: 2, record: [{ enrollid: 1 }, { enrollid: 2, temp: 36.6 }] });
      expect(t.logs.every((l) => !l.delivered)).toBe(true);

      server.send({
        ret: 'sendlog',
        result: true,
        count: 2,
        logindex: first.msg.logindex,
        cloudtime: '2024-05-01 08:00:00',
        access: 1,
      });
      await expect(acked).resolves.toMatchObject({ result: true, logindex: first.msg.logindex });
      expect(t.logs.every((l) => l.delivered)).toBe(true);
      expect(t.stats.logsAcked).toBe(2);
      expect(t.unackedFrames).toBe(0);
    });

    it('ignores an ack with another logindex and keeps the frame pending', async () => {
      const t = make({ resendUnackedAfterMs: 30 });
      await t.connect();
      const warnings: Error[] = [];
      t.on('warning', (e: Error) => warnings.push(e));
      void t.sendLogs([{ enrollid: 1 }]);
      const first = await server.take((m) => m.cmd === 'sendlog', 'sendlog');
      server.send({
        ret: 'sendlog',
        result: true,
        count: 1,
        logindex: Number(first.msg.logindex) + 100,
        cloudtime: '2024-05-01 08:00:00',
      });
      await server.take((m) => m.cmd === 'sendlog', 'resent sendlog');
      expect(t.logs[0].delivered).toBe(false);
      expect(warnings.some((w) => /does not match/.test(w.message))).toBe(true);
    });

    it('keeps logs undelivered after result:false and sends them again', async () => {
      const t = make({ resendUnackedAfterMs: 30 });
      await t.connect();
      const answer = t.sendLogs([{ enrollid: 1 }]);
      const first = await server.take((m) => m.cmd === 'sendlog', 'sendlog');
      server.send({ ret: 'sendlog', result: false, reason: 1 });
      await expect(answer).resolves.toEqual({ ret: 'sendlog', result: false, reason: 1 });
      const again = await server.take((m) => m.cmd === 'sendlog', 'resent sendlog');
      expect(again.msg).toEqual(first.msg);
      expect(t.logs[0].delivered).toBe(false);
      const acked = new Promise((resolve) => t.once('sendlogAck', resolve));
      server.send({
        ret: 'sendlog',
        result: true,
        count: 1,
        logindex: first.msg.logindex,
        cloudtime: '2024-05-01 08:00:00',
      });
      await acked;
      expect(t.logs[0].delivered).toBe(true);
    });
  });

  describe('senduser and keypad enrolment', () => {
    it('sends one senduser per credential when the server allows it', async () => {
      const t = make();
      await t.connect();
      expect(t.nosenduser).toBe(false);
      const replying = server.until(() => {
        for (const f of server.frames.filter((x) => x.msg.cmd === 'senduser' && !(x as { done?: boolean }).done)) {
          (f as { done?: boolean }).done = true;
          f.socket.send(JSON.stringify({ ret: 'senduser', result: true, cloudtime: '2024-05-01 08:00:00' }));
        }
        return server.frames.filter((x) => x.msg.cmd === 'senduser').length >= 2 ? true : undefined;
      }, 'two senduser frames');
      const replies = await t.enrolAtKeypad({
        enrollid: 44,
        name: 'Key Pad',
        admin: 0,
        credentials: [
          { backupnum: 0, record: 'AB(5)' },
          { backupnum: 11, record: 555 },
        ],
      });
      await replying;
      expect(replies).toHaveLength(2);
      const card = server.frames.find((f) => f.msg.cmd === 'senduser' && f.msg.backupnum === 11)!;
      expect(card.msg).toEqual({
        cmd: 'senduser',
        sn: 'ZXRE06022863',
        enrollid: 44,
        name: 'Key Pad',
        backupnum: 11,
        admin: 0,
        record: 555,
      });
    });

    it('does not push keypad enrolments when the server said nosenduser:true', async () => {
      server.autoReg = { ret: 'reg', result: true, cloudtime: '2024-05-01 08:00:00', nosenduser: true };
      const t = make();
      await t.connect();
      expect(
        await t.enrolAtKeypad({ enrollid: 45, name: 'N', admin: 0, credentials: [{ backupnum: 0, record: 'AB' }] }),
      ).toEqual([]);
      expect(t.users.has(45)).toBe(true);
    });
  });

  describe('failure injection', () => {
    it('failNext answers result:false with the reason once and changes nothing', async () => {
      const t = make({ users: 2 });
      await t.connect();
      t.failNext('deleteuser', 3);
      expect(await server.command('deleteuser', { enrollid: 1, backupnum: 13 })).toEqual({
        ret: 'deleteuser',
        sn: 'ZXRE06022863',
        result: false,
        reason: 3,
      });
      expect(t.users.has(1)).toBe(true);
      expect(await server.command('deleteuser', { enrollid: 1, backupnum: 13 })).toMatchObject({ result: true });
      expect(t.users.has(1)).toBe(false);
    });

    it('ignoreNext leaves one command unanswered; later commands are answered in order', async () => {
      const t = make();
      await t.connect();
      t.ignoreNext('gettime');
      server.send({ cmd: 'gettime' });
      expect(await server.command('getdevinfo')).toMatchObject({ ret: 'getdevinfo' });
      expect(server.frames.some((f) => f.msg.ret === 'gettime')).toBe(false);
      expect(await server.command('gettime')).toMatchObject({ ret: 'gettime' });
    });

    it('dropOnNext drops the connection when the command arrives, then reconnects', async () => {
      const t = make({ autoReconnect: true, reconnectDelayMs: 10 });
      await t.connect();
      const disconnected = new Promise((resolve) => t.once('disconnected', resolve));
      t.dropOnNext('getuserlist');
      server.send({ cmd: 'getuserlist', stn: true });
      await server.closed(server.sockets[0]);
      await disconnected;
      await server.connections(2);
      await t.waitUntilRegistered();
      expect(server.frames.some((f) => f.msg.ret === 'getuserlist')).toBe(false);
      expect(await server.command('getuserlist', { stn: true })).toMatchObject({ result: true });
    });

    it('a delayed reply is never sent on the next connection', async () => {
      const t = make({ autoReconnect: true, reconnectDelayMs: 10 });
      await t.connect();
      t.setReplyDelay(50);
      server.send({ cmd: 'getdevinfo' });
      await t.waitForCommand('getdevinfo');
      t.drop();
      await server.connections(2);
      await t.waitUntilRegistered();
      t.setReplyDelay(0);
      expect(await server.command('gettime')).toMatchObject({ ret: 'gettime' });
      // The delayed getdevinfo answer was due well before gettime was answered on the new socket.
      await server.command('getdevcap');
      expect(server.frames.some((f) => f.msg.ret === 'getdevinfo')).toBe(false);
    });

    it('survives the server closing the connection, rejecting pending work', async () => {
      const t = make({ resendUnackedAfterMs: 10_000 });
      await t.connect();
      const pending = t.sendLogs([{ enrollid: 1 }]);
      await server.take((m) => m.cmd === 'sendlog', 'sendlog');
      const disconnected = new Promise((resolve) => t.once('disconnected', resolve));
      server.sockets[0].close(1001, 'going away');
      await expect(pending).rejects.toThrow(/connection closed/);
      await disconnected;
      expect(t.connected).toBe(false);
      expect(t.sendRaw('x')).toBe(false);
      expect(t.logs[0].delivered).toBe(false);
    });
  });

  describe('startFleet', () => {
    it('registers several terminals with distinct serial numbers and closes them all', async () => {
      const fleet = await startFleet({ count: 3, url: server.url, snPrefix: 'FLEET', users: 2 });
      expect(fleet.terminals.map((t) => t.sn)).toEqual(['FLEET0001', 'FLEET0002', 'FLEET0003']);
      expect(fleet.terminals.every((t) => t.registered)).toBe(true);
      expect(
        server.frames
          .filter((f) => f.msg.cmd === 'reg')
          .map((f) => f.msg.sn)
          .sort(),
      ).toEqual(['FLEET0001', 'FLEET0002', 'FLEET0003']);
      await fleet.closeAll();
      expect(fleet.terminals.some((t) => t.connected)).toBe(false);
    });
  });
});
