/**
 * The HR server stand-in for the forwarding benchmark (node:http): confirms every batch with
 * `{"success":true}` and counts each record by (sn, enrollid, time, event) to find losses and
 * duplicates.
 */
import { createServer } from 'node:http';
import { serveIpc } from '../lib/ipc-child';

const seen = new Map<string, number>();
let requests = 0;
let records = 0;
let firstAt = 0;
let lastAt = 0;
let badBodies = 0;
const idempotencyKeys = new Set<string>();

serveIpc({
  start: async (p) => {
    const server = createServer((req, res) => {
      const started = Date.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests++;
        if (!firstAt) firstAt = started;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            sn: string;
            record: Array<{ enrollid: number; time: string; event: number }>;
          };
          for (const r of body.record) {
            const key = `${body.sn}|${r.enrollid}|${r.time}|${r.event}`;
            seen.set(key, (seen.get(key) ?? 0) + 1);
            records++;
          }
          const key = req.headers['idempotency-key'];
          if (typeof key === 'string') idempotencyKeys.add(key);
        } catch {
          badBodies++;
        }
        lastAt = Date.now();
        const text = '{"success":true,"forwarded":true}';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(Number(p.port), '127.0.0.1', () => r()));
    return {};
  },
  reset: async () => {
    seen.clear();
    idempotencyKeys.clear();
    requests = records = badBodies = firstAt = lastAt = 0;
    return {};
  },
  stats: async (p) => {
    const expected = (p.expected ?? []) as string[];
    let missing = 0;
    for (const k of expected) if (!seen.has(k)) missing++;
    let duplicates = 0;
    for (const n of seen.values()) if (n > 1) duplicates += n - 1;
    return {
      requests,
      records,
      unique: seen.size,
      duplicates,
      missing,
      badBodies,
      idempotencyKeys: idempotencyKeys.size,
      firstAt,
      lastAt,
    };
  },
});
