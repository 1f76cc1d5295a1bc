import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HrRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: { sn: string; record: Array<{ enrollid: number | string; time: string; event: number }> };
  /** What the sink answered (or did) for this request. */
  answered: HrMode;
}

/**
 * - ok: 200 `{ success: true, forwarded: true }`
 * - unconfirmed: 200 `{ success: false }`
 * - error: 500
 * - drop: the connection is destroyed (a server that is down or crashing)
 * - hang: no answer at all
 */
export type HrMode = 'ok' | 'unconfirmed' | 'error' | 'drop' | 'hang';

/** A real HR endpoint on 127.0.0.1 that records every request it gets. */
export class HrSink {
  readonly requests: HrRequest[] = [];
  mode: HrMode = 'ok';
  /** Records the HR server refuses (200 `{ success: false }`) whatever the mode, like an unknown employee. */
  refuse?: (record: HrRequest['body']['record'][number]) => boolean;
  private server?: Server;
  private readonly hanging = new Set<ServerResponse>();

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path = '/hr'): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}${path}`;
  }

  /** Records delivered (answered ok), as `sn|enrollid|time|event`. */
  deliveredRecords(): string[] {
    return this.requests
      .filter((r) => r.answered === 'ok')
      .flatMap((r) => r.body.record.map((rec) => `${r.body.sn}|${rec.enrollid}|${rec.time}|${rec.event}`));
  }

  reset(mode: HrMode = 'ok'): void {
    this.requests.length = 0;
    this.mode = mode;
    this.refuse = undefined;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as HrRequest['body'];
      const refused = this.refuse !== undefined && (body.record ?? []).some(this.refuse);
      const answered: HrMode = refused ? 'unconfirmed' : this.mode;
      this.requests.push({ path: req.url ?? '', headers: req.headers, body, answered });
      switch (answered) {
        case 'ok':
          res
            .writeHead(200, { 'Content-Type': 'application/json' })
            .end(JSON.stringify({ success: true, forwarded: true }));
          break;
        case 'unconfirmed':
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ success: false }));
          break;
        case 'error':
          res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: 'boom' }));
          break;
        case 'drop':
          req.socket.destroy();
          break;
        case 'hang':
          this.hanging.add(res);
          break;
      }
    });
  }
}
