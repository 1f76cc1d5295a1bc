import WebSocket from 'ws';

type Json = Record<string, unknown>;

/**
 * A bare WebSocket client for the gateway tests that need byte-level control (garbage, oversized
 * frames, frames before registration, a client that never answers pings). Virtual terminals from
 * @app/device-simulator cover behaviour; this covers abuse.
 */
export class RawTerminal {
  readonly frames: Json[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { match: (f: Json) => boolean; resolve: (f: Json) => void }[] = [];
  private cursor = 0;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('error', () => undefined);
    ws.on('message', (data: WebSocket.RawData) => {
      const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)).toString('utf8');
      let frame: Json;
      try {
        frame = JSON.parse(text) as Json;
      } catch {
        frame = { unparsable: text };
      }
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  static async open(
    wsUrl: string,
    opts: { path?: string; autoPong?: boolean; headers?: Record<string, string> } = {},
  ): Promise<RawTerminal> {
    const ws = new WebSocket(`${wsUrl}${opts.path ?? '/pub/chat'}`, {
      autoPong: opts.autoPong ?? true,
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawTerminal(ws);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: Json | string | Buffer): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** The next frame (after those already taken) that matches, waiting for it when needed. */
  next(match: (f: Json) => boolean = () => true, timeoutMs = 10_000): Promise<Json> {
    for (let i = this.cursor; i < this.frames.length; i++) {
      if (match(this.frames[i])) {
        this.cursor = i + 1;
        return Promise.resolve(this.frames[i]);
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          this.cursor = this.frames.length;
          resolve(f);
        },
      });
    });
  }

  /** Sends a request and waits for the reply with the same name. */
  async request(frame: Json): Promise<Json> {
    const waiting = this.next((f) => f.ret === frame.cmd);
    this.send(frame);
    return waiting;
  }

  reg(sn: string, devinfo: Json = {}, extra: Json = {}): Promise<Json> {
    return this.request({
      cmd: 'reg',
      sn,
      cpusn: `CPU-${sn}`,
      devinfo: { modelname: 'tfs30', firmware: 'th600w-1.0', ...devinfo },
      ...extra,
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }
}
