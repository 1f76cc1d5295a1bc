import WebSocket from 'ws';

type Json = Record<string, unknown>;

/**
 * A lean terminal for thousands of sockets in one process: registers, answers the server's
 * commands the way the virtual terminal does (empty lists, result:true), and sends sendlog frames.
 * The load generators use it where libs/device-simulator's VirtualTerminal is too heavy.
 */
export class RawTerminal {
  private ws?: WebSocket;
  private regWaiter?: { resolve: () => void; reject: (e: Error) => void };
  private ackWaiter?: (frame: Json) => void;
  private logindex = 0;
  readonly commands = new Map<string, number>();
  closedUnexpectedly = false;

  constructor(
    readonly sn: string,
    private readonly url: string,
  ) {}

  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
      this.ws = ws;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`${this.sn}: no reg reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.regWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      ws.on('open', () => ws.send(JSON.stringify(this.regFrame())));
      ws.on('message', (data: WebSocket.RawData) => this.onMessage(data));
      ws.on('error', (e) => this.regWaiter?.reject(e));
      ws.on('close', () => {
        this.regWaiter?.reject(new Error(`${this.sn}: closed before reg was answered`));
        this.regWaiter = undefined;
        if (!this.closing) this.closedUnexpectedly = true;
      });
    });
  }

  private closing = false;

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  private regFrame(): Json {
    return {
      cmd: 'reg',
      sn: this.sn,
      cpusn: `CPU${this.sn}`,
      devinfo: {
        modelname: 'AiFace',
        usersize: 3000,
        fpsize: 3000,
        cardsize: 3000,
        pwdsize: 3000,
        logsize: 100000,
        useduser: 0,
        usedfp: 0,
        usedcard: 0,
        usedpwd: 0,
        usedlog: 0,
        usednewlog: 0,
        fpalgo: 'thbio3.0',
        firmware: 'ai806_bench_v1',
        time: '2024-01-01 00:00:00',
        mac: '00-01-A9-00-00-01',
      },
    };
  }

  private onMessage(data: WebSocket.RawData): void {
    let frame: Json;
    try {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      frame = JSON.parse(buf.toString('utf8')) as Json;
    } catch {
      return;
    }
    if (typeof frame.ret === 'string') {
      if (frame.ret === 'reg') {
        if (frame.result === true) this.regWaiter?.resolve();
        else this.regWaiter?.reject(new Error(`${this.sn}: reg refused: ${JSON.stringify(frame)}`));
        this.regWaiter = undefined;
      } else if (frame.ret === 'sendlog') {
        const w = this.ackWaiter;
        this.ackWaiter = undefined;
        w?.(frame);
      }
      return;
    }
    if (typeof frame.cmd === 'string') this.answer(frame.cmd, frame);
  }

  private answer(cmd: string, frame: Json): void {
    this.commands.set(cmd, (this.commands.get(cmd) ?? 0) + 1);
    const base = { ret: cmd, sn: this.sn, result: true };
    switch (cmd) {
      case 'reboot':
        return;
      case 'getuserlist':
      case 'getnewlog':
      case 'getalllog':
        this.send({ ...base, count: 0, from: 0, to: 0, record: [] });
        return;
      case 'adduser':
      case 'setuserinfo':
      case 'deleteuser':
        this.send({ ...base, enrollid: frame.enrollid });
        return;
      default:
        this.send(base);
    }
  }

  private send(frame: Json): void {
    if (this.open) this.ws!.send(JSON.stringify(frame));
  }

  /** Sends one sendlog frame and resolves with the server's ack (or rejects after timeoutMs). */
  sendLogs(records: Json[], timeoutMs: number): Promise<Json> {
    if (this.ackWaiter) return Promise.reject(new Error(`${this.sn}: a sendlog is already in flight`));
    this.logindex += records.length;
    const frame = { cmd: 'sendlog', sn: this.sn, count: records.length, logindex: this.logindex, record: records };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ackWaiter = undefined;
        reject(new Error(`${this.sn}: no sendlog ack within ${timeoutMs} ms`));
      }, timeoutMs);
      this.ackWaiter = (ack) => {
        clearTimeout(timer);
        resolve(ack);
      };
      this.send(frame);
    });
  }

  close(): void {
    this.closing = true;
    this.ws?.close();
  }

  terminate(): void {
    this.closing = true;
    this.ws?.terminate();
  }
}
