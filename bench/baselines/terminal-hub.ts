import { WebSocket, WebSocketServer } from 'ws';
import {
  buildRegReply,
  buildSendlogReply,
  formatTerminalTime,
  parseFrame,
  parseReg,
  parseSendlog,
  type LogRecord,
  type RegRequest,
} from '@app/device-protocol';

type Json = Record<string, unknown>;

export interface HubHooks {
  /** Called before the reg reply is sent (the peer upserts the terminal here). */
  onReg(sn: string, reg: RegRequest, remote: string): Promise<void>;
  /** Resolves when the records are durable; the ack is sent after. */
  storeLogs(sn: string, records: LogRecord[]): Promise<void>;
  onDisconnect?(sn: string): void;
}

interface Waiter {
  ret: string;
  resolve: (frame: Json) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Conn {
  ws: WebSocket;
  sn?: string;
  alive: boolean;
  /** One command in flight per terminal (the protocol has no request ids), the rest wait in order. */
  inFlight?: Waiter;
  queue: Array<() => void>;
}

/**
 * What the baselines share: the WebSocket side of the terminal protocol with nothing else
 * (reg, liveness pings, sendlog acked after storeLogs, one command in flight per terminal).
 */
export class TerminalHub {
  private wss?: WebSocketServer;
  private pinger?: NodeJS.Timeout;
  readonly bySn = new Map<string, Conn>();
  framesIn = 0;
  recordsStored = 0;
  readonly timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  constructor(private readonly hooks: HubHooks) {}

  listen(port: number, pingIntervalMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, maxPayload: 16 * 2 ** 20 });
      this.wss = wss;
      wss.once('listening', () => resolve());
      wss.once('error', reject);
      wss.on('connection', (ws, req) => this.accept(ws, req.socket.remoteAddress ?? ''));
      if (pingIntervalMs > 0) {
        this.pinger = setInterval(() => {
          for (const client of wss.clients) {
            const conn = (client as WebSocket & { conn?: Conn }).conn;
            if (!conn) continue;
            if (!conn.alive) {
              client.terminate();
              continue;
            }
            conn.alive = false;
            client.ping();
          }
        }, pingIntervalMs);
      }
    });
  }

  private accept(ws: WebSocket, remote: string): void {
    const conn: Conn = { ws, alive: true, queue: [] };
    (ws as WebSocket & { conn?: Conn }).conn = conn;
    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data: Buffer) => {
      conn.alive = true;
      for (const f of parseFrame(data)) {
        if (f.kind === 'request') this.onRequest(conn, f.cmd, f.msg, remote);
        else if (f.kind === 'reply') this.onReply(conn, f.ret, f.msg);
      }
    });
    ws.on('close', () => {
      if (conn.sn && this.bySn.get(conn.sn) === conn) {
        this.bySn.delete(conn.sn);
        this.hooks.onDisconnect?.(conn.sn);
      }
      conn.inFlight?.reject(new Error('terminal disconnected'));
    });
    ws.on('error', () => undefined);
  }

  private cloudtime(): string {
    return formatTerminalTime(new Date(), this.timeZone);
  }

  private onRequest(conn: Conn, cmd: string, msg: Json, remote: string): void {
    this.framesIn++;
    if (cmd === 'reg') {
      const reg = parseReg(msg);
      if (!reg.ok) {
        conn.ws.send(JSON.stringify(buildRegReply({ ok: false, reason: reg.reason })));
        return;
      }
      const sn = reg.value.sn;
      this.hooks.onReg(sn, reg.value, remote).then(
        () => {
          const old = this.bySn.get(sn);
          if (old && old !== conn) old.ws.close();
          conn.sn = sn;
          this.bySn.set(sn, conn);
          conn.ws.send(JSON.stringify(buildRegReply({ ok: true, cloudtime: this.cloudtime(), nosenduser: true })));
        },
        () => conn.ws.send(JSON.stringify(buildRegReply({ ok: false, reason: 'server error' }))),
      );
      return;
    }
    if (!conn.sn) return;
    if (cmd === 'sendlog') {
      const parsed = parseSendlog(msg);
      if (!parsed.ok) {
        conn.ws.send(JSON.stringify(buildSendlogReply({ ok: false, reason: 1 })));
        return;
      }
      const { records, count, logindex } = parsed.value;
      this.hooks.storeLogs(conn.sn, records).then(
        () => {
          this.recordsStored += records.length;
          conn.ws.send(
            JSON.stringify({
              ...buildSendlogReply({ ok: true, count, logindex, cloudtime: this.cloudtime(), access: 1 }),
              mark: true,
            }),
          );
        },
        () => conn.ws.send(JSON.stringify(buildSendlogReply({ ok: false, reason: 1 }))),
      );
      return;
    }
    conn.ws.send(JSON.stringify({ ret: cmd, result: true }));
  }

  private onReply(conn: Conn, ret: string, msg: Json): void {
    const w = conn.inFlight;
    if (!w || w.ret !== ret) return;
    clearTimeout(w.timer);
    conn.inFlight = undefined;
    w.resolve(msg);
    conn.queue.shift()?.();
  }

  isConnected(sn: string): boolean {
    return this.bySn.has(sn);
  }

  /** Sends a command when the terminal's previous one has been answered; resolves with the reply. */
  command(sn: string, frame: Json, timeoutMs: number): Promise<Json> {
    const conn = this.bySn.get(sn);
    if (!conn) return Promise.reject(new Error('offline'));
    return new Promise((resolve, reject) => {
      const go = () => {
        const timer = setTimeout(() => {
          conn.inFlight = undefined;
          reject(new Error('device_timeout'));
          conn.queue.shift()?.();
        }, timeoutMs);
        conn.inFlight = { ret: String(frame.cmd), resolve, reject, timer };
        conn.ws.send(JSON.stringify(frame));
      };
      if (conn.inFlight) conn.queue.push(go);
      else go();
    });
  }

  connectedCount(): number {
    return this.bySn.size;
  }

  async close(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    if (!this.wss) return;
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss!.close(() => r()));
  }
}
