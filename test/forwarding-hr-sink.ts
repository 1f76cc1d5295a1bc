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
 * - commit-hang: the records are committed (counted as delivered), then no answer at all (the
 *   server or the client dies before the answer arrives)
 */
export type HrMode = 'ok' | 'unconfirmed' | 'error' | 'drop' | 'hang' | 'commit-hang';

/** A real HR endpoint on 127.0.0.1 that records every request it gets. */
export class HrSink {
  readonly requests: HrRequest[] = [];
  mode: HrMode = 'ok';
  /** Records the HR server refuses (200 `{ success: false }`) whatever the mode, like an unknown employee. */
  refuse?: (record: HrRequest['body']['record'][number]) => boolean;
  /** Answer (and commit) only this long after the request arrived: a slow HR server. */
  delayMs = 0;
  /** Called once a request is committed (answered `ok` or `commit-hang`). */
  onCommit?: (req: HrRequest) => void;
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

  /**
   * Every record identity (`sn|enrollid|time|event`) received, with the Idempotency-Keys it came
   * under (whatever the answer): an HR server that deduplicates by key counts a record once only
   * when this is one key per record.
   */
  keysByRecord(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const r of this.requests) {
      const key = String(r.headers['idempotency-key']);
      for (const rec of r.body.record) {
        const id = `${r.body.sn}|${rec.enrollid}|${rec.time}|${rec.event}`;
        const keys = out.get(id) ?? new Set<string>();
        keys.add(key);
        out.set(id, keys);
      }
    }
    return out;
  }

  /** Records committed (answered ok, or committed before the answer was lost). */
  committedRecords(): string[] {
    return this.requests
      .filter((r) => r.answered === 'ok' || r.answered === 'commit-hang')
      .flatMap((r) => r.body.record.map((rec) => `${r.body.sn}|${rec.enrollid}|${rec.time}|${rec.event}`));
  }

  reset(mode: HrMode = 'ok'): void {
    this.requests.length = 0;
    this.mode = mode;
    this.refuse = undefined;
    this.delayMs = 0;
    this.onCommit = undefined;
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
      const entry: HrRequest = { path: req.url ?? '', headers: req.headers, body, answered };
      if (this.delayMs > 0) setTimeout(() => this.answer(entry, req, res), this.delayMs);
      else this.answer(entry, req, res);
    });
  }

  private answer(entry: HrRequest, req: IncomingMessage, res: ServerResponse): void {
    const answered = entry.answered;
    this.requests.push(entry);
    if (answered === 'ok' || answered === 'commit-hang') this.onCommit?.(entry);
    switch (answered) {
      case 'ok':
        if (res.destroyed) break;
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
      case 'commit-hang':
        this.hanging.add(res);
        break;
    }
  }
}
