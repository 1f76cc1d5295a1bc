import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { type DevInfo, type Json, parseFrame, toBool, toInt } from '@app/device-protocol';
import { type SimUser, generateUsers } from './sim-data';
import { type SimLog, type SimLogInput, type TerminalQuirks, TerminalStore } from './terminal-store';

export interface VirtualTerminalOptions {
  sn: string;
  /** e.g. ws://127.0.0.1:9091/pub/chat */
  url: string;
  /** a number generates that many users (fingerprints, some cards, passwords and photos) */
  users?: SimUser[] | number;
  /** logs stored on the terminal and not yet delivered ("new" logs, for getnewlog) */
  logs?: SimLogInput[];
  /** overrides of the reported devinfo */
  devinfo?: Partial<DevInfo>;
  /** omit cpusn from reg when null (some firmware does) */
  cpusn?: string | null;
  /** reconnect after the socket drops or the terminal reboots (default false) */
  autoReconnect?: boolean;
  reconnectDelayMs?: number;
  /** resend an unacknowledged sendlog frame after this long (default 20000, as firmware) */
  resendUnackedAfterMs?: number;
  /** resend reg on the same socket while it is unanswered (default 20000, as observed) */
  regResendMs?: number;
  /** keep sending reg as a heartbeat after registration (0 = off, the default) */
  heartbeatRegMs?: number;
  /** delay before each command is answered (slow terminal) */
  replyDelayMs?: number;
  /** zone of the terminal clock until the server sends cloudtime (default UTC) */
  timeZone?: string;
  /** seed of the generated data (default: the sn) */
  seed?: number | string;
  /** answer WebSocket pings (default true); false makes a terminal the server's liveness check should drop */
  autoPong?: boolean;
  /** behaviour of real units in the field (12-digit ids, bad records, paging, clock...), all off by default */
  quirks?: TerminalQuirks;
}

export type RegReply = Json;

export interface VirtualTerminalStats {
  connects: number;
  regSent: number;
  commandsReceived: number;
  commandsAnswered: number;
  commandsBeforeRegistration: number;
  logFramesSent: number;
  logsSent: number;
  logsAcked: number;
  badCloudtimes: number;
  invalidFrames: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller that never awaits must not crash the process with an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

interface PendingSendlog {
  frame: Json;
  logindex: number;
  logs: SimLog[];
  done: Deferred<Json>;
  answered: boolean;
  timer?: NodeJS.Timeout;
}

interface CommandWaiter {
  cmd: string;
  done: Deferred<Json>;
  timer: NodeJS.Timeout;
}

/**
 * A terminal that dials the server like real firmware: it sends `reg` first and nothing else until
 * `reg` is answered, re-sends `reg` while unanswered, answers every command of the reference,
 * keeps resending an unacknowledged `sendlog`, and can be told to be slow, fail or drop.
 *
 * Events: connected, registered(reply), rejected(reason), disconnected({code, reason}),
 * command(frame), reply(frame), sendlogAck(frame), rebooting, door(doornum), warning(error).
 */
export class VirtualTerminal extends EventEmitter {
  readonly sn: string;
  readonly url: string;
  readonly store: TerminalStore;
  /** every command frame received, in order */
  readonly received: Json[] = [];
  readonly stats: VirtualTerminalStats = {
    connects: 0,
    regSent: 0,
    commandsReceived: 0,
    commandsAnswered: 0,
    commandsBeforeRegistration: 0,
    logFramesSent: 0,
    logsSent: 0,
    logsAcked: 0,
    badCloudtimes: 0,
    invalidFrames: 0,
  };
  /** the last reg reply (success or failure) */
  lastRegReply?: Json;
  /** false until the server allows senduser (`nosenduser:false`) */
  nosenduser = true;

  private readonly opts: Required<
    Pick<
      VirtualTerminalOptions,
      'autoReconnect' | 'reconnectDelayMs' | 'resendUnackedAfterMs' | 'regResendMs' | 'heartbeatRegMs'
    >
  >;
  private replyDelayMs: number;
  private ws?: WebSocket;
  private registeredFlag = false;
  private closing = false;
  private connectWaiter?: Deferred<RegReply>;
  private regTimer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly sendlogQueue: PendingSendlog[] = [];
  private inflight?: PendingSendlog;
  private nextLogIndex: number;
  private readonly requestWaiters = new Map<string, Deferred<Json>[]>();
  private readonly failures = new Map<string, number[]>();
  private readonly ignores = new Map<string, number>();
  private readonly drops = new Map<string, number>();
  private readonly receivedCmds: string[] = [];
  private readonly waitCursor = new Map<string, number>();
  private readonly commandWaiters: CommandWaiter[] = [];
  private commandChain: Promise<void> = Promise.resolve();

  constructor(private readonly options: VirtualTerminalOptions) {
    super();
    this.sn = options.sn;
    this.url = options.url;
    const users =
      typeof options.users === 'number'
        ? generateUsers(options.users, options.seed ?? options.sn, options.quirks?.firstEnrollId ?? 1)
        : (options.users ?? []);
    this.store = new TerminalStore({
      sn: options.sn,
      ...(options.quirks ? { quirks: options.quirks } : {}),
      users,
      logs: options.logs,
      timeZone: options.timeZone,
      seed: options.seed,
    });
    this.opts = {
      autoReconnect: options.autoReconnect ?? false,
      reconnectDelayMs: options.reconnectDelayMs ?? 1000,
      resendUnackedAfterMs: options.resendUnackedAfterMs ?? 20_000,
      regResendMs: options.regResendMs ?? 20_000,
      heartbeatRegMs: options.heartbeatRegMs ?? 0,
    };
    this.replyDelayMs = options.replyDelayMs ?? 0;
    this.nextLogIndex = this.store.logs.length;
  }

  get users(): Map<number, SimUser> {
    return this.store.users;
  }

  get logs(): SimLog[] {
    return this.store.logs;
  }

  get registered(): boolean {
    return this.registeredFlag;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Number of sendlog frames not yet acknowledged with success. */
  get unackedFrames(): number {
    return this.sendlogQueue.length;
  }

  // ------------------------------------------------------------------ connection

  /** Opens the socket and sends reg; resolves when reg is answered with success, rejects on result:false. */
  connect(): Promise<RegReply> {
    if (this.registeredFlag && this.lastRegReply) return Promise.resolve(this.lastRegReply);
    if (this.connectWaiter) return this.connectWaiter.promise;
    this.closing = false;
    this.connectWaiter = deferred<RegReply>();
    const waiter = this.connectWaiter;
    if (!this.ws || this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING) this.open();
    else if (this.ws.readyState === WebSocket.OPEN) this.sendReg();
    return waiter.promise;
  }

  /** Closes cleanly (close frame) and stops reconnecting. Pending promises are rejected. */
  async close(): Promise<void> {
    this.closing = true;
    this.clearTimers();
    const err = new Error(`terminal ${this.sn} closed`);
    this.failPending(err);
    for (const w of this.commandWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.done.reject(err);
    }
    for (const p of this.sendlogQueue.splice(0)) {
      clearTimeout(p.timer);
      p.done.reject(err);
    }
    this.inflight = undefined;
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const fallback = setTimeout(() => ws.terminate(), 2000);
      ws.once('close', () => {
        clearTimeout(fallback);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'terminal closing');
    });
  }

  /** Abrupt loss of the connection (no close frame). Reconnects if autoReconnect. */
  drop(): void {
    this.ws?.terminate();
  }

  /** Resolves on the next successful registration (after a reboot or a drop). */
  nextRegistration(timeoutMs = 10_000): Promise<RegReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('registered', onReg);
        reject(new Error(`${this.sn}: no registration within ${timeoutMs} ms`));
      }, timeoutMs);
      const onReg = (reply: RegReply): void => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.once('registered', onReg);
    });
  }

  /** Resolves at once when registered, otherwise on the next registration. */
  waitUntilRegistered(timeoutMs = 10_000): Promise<RegReply> {
    if (this.registeredFlag && this.lastRegReply) return Promise.resolve(this.lastRegReply);
    return this.nextRegistration(timeoutMs);
  }

  private open(): void {
    clearTimeout(this.reconnectTimer);
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url, {
        handshakeTimeout: 10_000,
        maxPayload: 64 * 1024 * 1024,
        autoPong: this.options.autoPong ?? true,
      });
    } catch (err) {
      this.onClosed(undefined, 1006, err instanceof Error ? err.message : String(err), false);
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.on('open', () => {
      if (ws !== this.ws) return;
      opened = true;
      this.stats.connects++;
      this.emit('connected');
      this.sendReg();
      this.startRegTimer();
    });
    ws.on('message', (data: WebSocket.RawData) => {
      if (ws === this.ws) this.onMessage(data);
    });
    ws.on('error', (err: Error) => this.emit('warning', err));
    ws.on('close', (code: number, reason: Buffer) => this.onClosed(ws, code, reason.toString(), opened));
  }

  private onClosed(ws: WebSocket | undefined, code: number, reason: string, opened: boolean): void {
    if (ws && ws !== this.ws) return;
    this.registeredFlag = false;
    clearInterval(this.regTimer);
    this.regTimer = undefined;
    if (this.inflight) clearTimeout(this.inflight.timer);
    this.inflight = undefined;
    this.store.resetSession();
    this.failPending(new Error(`${this.sn}: connection closed`));
    if (opened) this.emit('disconnected', { code, reason });
    if (this.closing) return;
    if (this.opts.autoReconnect) {
      this.reconnectTimer = setTimeout(() => {
        if (!this.closing) this.open();
      }, this.opts.reconnectDelayMs);
      return;
    }
    const err = new Error(`${this.sn}: connection closed (${code}${reason ? ` ${reason}` : ''})`);
    this.connectWaiter?.reject(err);
    this.connectWaiter = undefined;
    for (const p of this.sendlogQueue) p.done.reject(err);
  }

  private clearTimers(): void {
    clearInterval(this.regTimer);
    clearTimeout(this.reconnectTimer);
    this.regTimer = undefined;
    if (this.inflight) clearTimeout(this.inflight.timer);
  }

  private failPending(err: Error): void {
    for (const list of this.requestWaiters.values()) for (const w of list.splice(0)) w.reject(err);
  }

  // ------------------------------------------------------------------ sending

  private send(frame: Json): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame), (err) => {
      if (err) this.emit('warning', err);
    });
    return true;
  }

  /** Sends bytes as they are (garbage, huge frames, concatenated objects...). False when not connected. */
  sendRaw(data: string | Buffer): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(data, (err) => {
      if (err) this.emit('warning', err);
    });
    return true;
  }

  /** Sends reg now (on top of the automatic resends). */
  sendReg(): boolean {
    const frame: Json = { cmd: 'reg', sn: this.sn };
    const cpusn = this.options.cpusn === undefined ? this.store.cpusn() : this.options.cpusn;
    if (cpusn !== null) frame.cpusn = cpusn;
    frame.devinfo = this.store.devinfo(this.options.devinfo);
    const sent = this.send(frame);
    if (sent) this.stats.regSent++;
    return sent;
  }

  private startRegTimer(): void {
    clearInterval(this.regTimer);
    this.regTimer = setInterval(() => {
      if (!this.registeredFlag) this.sendReg();
    }, this.opts.regResendMs);
  }

  private startHeartbeat(): void {
    clearInterval(this.regTimer);
    this.regTimer = undefined;
    if (this.opts.heartbeatRegMs > 0) this.regTimer = setInterval(() => this.sendReg(), this.opts.heartbeatRegMs);
  }

  // ------------------------------------------------------------------ terminal requests

  /**
   * Stores the punches on the terminal and pushes them in one sendlog frame (sent after
   * registration; resent until acknowledged with a matching logindex). Resolves with the first
   * answer the server gives to this frame.
   */
  sendLogs(records: SimLogInput[]): Promise<Json> {
    const logs = records.map((r) => this.store.addLog({ ...r, delivered: false }));
    const logindex = this.nextLogIndex;
    this.nextLogIndex += Math.max(1, logs.length);
    const record = logs.map((l) => {
      const rec: Json = { enrollid: l.enrollid, time: l.time, mode: l.mode, inout: l.inout, event: l.event };
      for (const key of ['verifymode', 'temp', 'name', 'image'] as const) if (l[key] !== undefined) rec[key] = l[key];
      return rec;
    });
    if (this.store.quirks.badRecordInFrames && logs.length > 0) {
      record.push(this.store.deadBatteryRecord(logs[0].enrollid));
    }
    const frame: Json = { cmd: 'sendlog', sn: this.sn, count: record.length, logindex, record };
    const pending: PendingSendlog = { frame, logindex, logs, done: deferred<Json>(), answered: false };
    this.sendlogQueue.push(pending);
    this.pump();
    return pending.done.promise;
  }

  /** One random punch by a random user (what the CLI's --punch-every does). */
  punch(): Promise<Json> {
    return this.sendLogs([{ inout: Math.random() < 0.5 ? 0 : 1 }]);
  }

  private pump(): void {
    if (!this.registeredFlag || this.inflight || this.sendlogQueue.length === 0) return;
    this.inflight = this.sendlogQueue[0];
    this.transmit(this.inflight);
  }

  private transmit(p: PendingSendlog): void {
    if (!this.send(p.frame)) return;
    this.stats.logFramesSent++;
    this.stats.logsSent += p.logs.length;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      if (this.inflight === p && this.registeredFlag) this.transmit(p);
    }, this.opts.resendUnackedAfterMs);
  }

  private onSendlogAck(msg: Json): void {
    const p = this.inflight;
    // A failure carries no echo (`{result:false, reason}`), so it answers whatever is in flight.
    const failureWithoutIndex = msg.result !== true && msg.logindex === undefined;
    if (!p || (!failureWithoutIndex && toInt(msg.logindex) !== p.logindex)) {
      this.emit(
        'warning',
        new Error(`${this.sn}: sendlog ack does not match the frame in flight (logindex ${String(msg.logindex)})`),
      );
      return;
    }
    this.emit('sendlogAck', msg);
    if (!p.answered) {
      p.answered = true;
      p.done.resolve(msg);
    }
    if (msg.result !== true) return; // kept in flight; the resend timer sends it again
    if (typeof msg.cloudtime === 'string' && !this.store.clock.adopt(msg.cloudtime)) this.stats.badCloudtimes++;
    clearTimeout(p.timer);
    for (const l of p.logs) l.delivered = true;
    this.stats.logsAcked += p.logs.length;
    this.sendlogQueue.shift();
    this.inflight = undefined;
    this.pump();
  }

  private request(cmd: string, frame: Json): Promise<Json> {
    if (!this.registeredFlag) return Promise.reject(new Error(`${this.sn}: not registered, ${cmd} not sent`));
    const d = deferred<Json>();
    const list = this.requestWaiters.get(cmd) ?? [];
    list.push(d);
    this.requestWaiters.set(cmd, list);
    if (!this.send(frame)) {
      list.pop();
      return Promise.reject(new Error(`${this.sn}: not connected, ${cmd} not sent`));
    }
    return d.promise;
  }

  /** Sends one senduser frame for one credential of `user`; resolves with the server's reply. */
  sendUser(user: SimUser, backupnum: number): Promise<Json> {
    const cred = user.credentials.find((c) => c.backupnum === backupnum);
    const frame: Json = {
      cmd: 'senduser',
      sn: this.sn,
      enrollid: user.enrollid,
      name: user.name,
      backupnum,
      admin: user.admin,
    };
    if (cred) frame.record = cred.record;
    return this.request('senduser', frame);
  }

  /** Keypad enrolment: stores the user and, when the server allows it, sends one senduser per credential. */
  async enrolAtKeypad(user: SimUser): Promise<Json[]> {
    const stored = this.store.putUser(user);
    if (this.nosenduser || !this.registeredFlag) return [];
    const replies: Json[] = [];
    for (const c of stored.credentials) replies.push(await this.sendUser(stored, c.backupnum));
    return replies;
  }

  /** The HTTP variant's heartbeat, which some firmware also sends over WebSocket; resolves with the answer. */
  checklive(): Promise<Json> {
    return this.request('checklive', { cmd: 'checklive', sn: this.sn, time: this.store.clock.now() });
  }

  sendQrcode(text: string): Promise<Json> {
    return this.request('sendqrcode', { cmd: 'sendqrcode', sn: this.sn, record: text });
  }

  // ------------------------------------------------------------------ incoming frames

  private onMessage(data: WebSocket.RawData): void {
    for (const frame of parseFrame(data)) {
      if (frame.kind === 'invalid') {
        this.stats.invalidFrames++;
        this.emit('warning', new Error(`${this.sn}: invalid frame from server: ${frame.reason}`));
      } else if (frame.kind === 'reply') this.onReply(frame.ret, frame.msg);
      else this.onCommand(frame.cmd, frame.msg);
    }
  }

  private onReply(ret: string, msg: Json): void {
    if (ret === 'reg') return this.onRegReply(msg);
    if (ret === 'sendlog') return this.onSendlogAck(msg);
    const waiter = this.requestWaiters.get(ret)?.shift();
    if (waiter) waiter.resolve(msg);
    else this.emit('warning', new Error(`${this.sn}: unexpected reply "${ret}"`));
  }

  private onRegReply(msg: Json): void {
    this.lastRegReply = msg;
    if (msg.result !== true) {
      const reason = typeof msg.reason === 'string' ? msg.reason : JSON.stringify(msg.reason ?? null);
      this.emit('rejected', reason);
      this.connectWaiter?.reject(new Error(`registration refused: ${reason}`));
      this.connectWaiter = undefined;
      return;
    }
    if (!this.store.clock.adopt(msg.cloudtime)) this.stats.badCloudtimes++;
    this.nosenduser = toBool(msg.nosenduser) ?? false;
    if (this.registeredFlag) return; // a heartbeat reg answered
    this.registeredFlag = true;
    this.startHeartbeat();
    this.emit('registered', msg);
    this.connectWaiter?.resolve(msg);
    this.connectWaiter = undefined;
    this.pump();
  }

  private onCommand(cmd: string, msg: Json): void {
    this.stats.commandsReceived++;
    if (!this.registeredFlag) this.stats.commandsBeforeRegistration++;
    this.received.push(msg);
    this.receivedCmds.push(cmd);
    this.emit('command', msg);
    this.wakeWaiters();
    const ws = this.ws;
    if (this.take(this.drops, cmd)) {
      ws?.terminate();
      return;
    }
    this.commandChain = this.commandChain
      .then(() => this.answer(ws, cmd, msg))
      .catch((err: unknown) => {
        this.emit('warning', err instanceof Error ? err : new Error(String(err)));
      });
  }

  private async answer(ws: WebSocket | undefined, cmd: string, msg: Json): Promise<void> {
    if (this.take(this.ignores, cmd)) return;
    const reason = this.failures.get(cmd)?.shift();
    if (this.replyDelayMs > 0) await new Promise((r) => setTimeout(r, this.replyDelayMs));
    // A reply meant for a socket that has since gone is never sent on the next one.
    if (ws !== this.ws || !this.connected) return;
    if (reason !== undefined) {
      this.reply({ ret: cmd, sn: this.sn, result: false, reason });
      return;
    }
    const result = this.store.handle(cmd, msg);
    if (result.reply) this.reply(result.reply);
    if (result.door !== undefined) this.emit('door', result.door);
    if (result.reboot) this.reboot();
  }

  private reply(frame: Json): void {
    if (this.send(frame)) {
      this.stats.commandsAnswered++;
      this.emit('reply', frame);
    }
  }

  /** Restart: the connection goes away without a close frame; back with a new reg if autoReconnect. */
  reboot(): void {
    this.emit('rebooting');
    this.ws?.terminate();
  }

  private take(map: Map<string, number>, cmd: string): boolean {
    const n = map.get(cmd) ?? 0;
    if (n <= 0) return false;
    if (n === 1) map.delete(cmd);
    else map.set(cmd, n - 1);
    return true;
  }

  // ------------------------------------------------------------------ failure injection

  /** The next `cmd` is answered `result:false` with `reason` (default 1) and changes nothing. */
  failNext(cmd: string, reason = 1): void {
    const list = this.failures.get(cmd) ?? [];
    list.push(reason);
    this.failures.set(cmd, list);
  }

  /** The next `cmd` gets no reply at all. */
  ignoreNext(cmd: string): void {
    this.ignores.set(cmd, (this.ignores.get(cmd) ?? 0) + 1);
  }

  /** The connection is dropped (no close frame) when the next `cmd` arrives; it is not answered. */
  dropOnNext(cmd: string): void {
    this.drops.set(cmd, (this.drops.get(cmd) ?? 0) + 1);
  }

  setReplyDelay(ms: number): void {
    this.replyDelayMs = Math.max(0, ms);
  }

  // ------------------------------------------------------------------ test helpers

  /**
   * Resolves with the next `cmd` frame not yet returned by an earlier waitForCommand for that
   * command, including one that arrived before this call.
   */
  waitForCommand(cmd: string, timeoutMs = 10_000): Promise<Json> {
    const found = this.takeReceived(cmd);
    if (found) return Promise.resolve(found);
    const done = deferred<Json>();
    const waiter: CommandWaiter = {
      cmd,
      done,
      timer: setTimeout(() => {
        const i = this.commandWaiters.indexOf(waiter);
        if (i >= 0) this.commandWaiters.splice(i, 1);
        done.reject(new Error(`${this.sn}: no "${cmd}" command within ${timeoutMs} ms`));
      }, timeoutMs),
    };
    this.commandWaiters.push(waiter);
    return done.promise;
  }

  private takeReceived(cmd: string): Json | undefined {
    const from = (this.waitCursor.get(cmd) ?? -1) + 1;
    for (let i = from; i < this.receivedCmds.length; i++) {
      if (this.receivedCmds[i] === cmd) {
        this.waitCursor.set(cmd, i);
        return this.received[i];
      }
    }
    return undefined;
  }

  private wakeWaiters(): void {
    for (const w of [...this.commandWaiters]) {
      const found = this.takeReceived(w.cmd);
      if (!found) continue;
      clearTimeout(w.timer);
      this.commandWaiters.splice(this.commandWaiters.indexOf(w), 1);
      w.done.resolve(found);
    }
  }
}
