/**
 * The HR server stand-in for the forwarding benchmarks (node:http): confirms every batch with
 * `{"success":true}` (after `delayMs` when configured: a slow HR server that commits after the
 * client's timeout) and counts each record by (sn, enrollid, time, event) to find losses,
 * duplicates and records that arrived under more than one Idempotency-Key.
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
/** Keys each record came under (only while `trackKeys` is on: it costs memory). */
const keysByRecord = new Map<string, string | string[]>();
let delayMs = 0;

serveIpc({
  start: async (p) => {
    const server = createServer((req, res) => {
      const started = Date.now();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => (delayMs > 0 ? setTimeout(commit, delayMs) : commit()));
      const commit = () => {
        requests++;
        if (!firstAt) firstAt = started;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            sn: string;
            record: Array<{ enrollid: number; time: string; event: number }>;
          };
          const key = req.headers['idempotency-key'];
          if (typeof key === 'string') idempotencyKeys.add(key);
          for (const r of body.record) {
            const id = `${body.sn}|${r.enrollid}|${r.time}|${r.event}`;
            seen.set(id, (seen.get(id) ?? 0) + 1);
            records++;
            const k = typeof key === 'string' ? key : '';
            const had = keysByRecord.get(id);
            if (had === undefined) keysByRecord.set(id, k);
            else if (typeof had === 'string') {
              if (had !== k) keysByRecord.set(id, [had, k]);
            } else if (!had.includes(k)) had.push(k);
          }
        } catch {
          badBodies++;
        }
        lastAt = Date.now();
        const text = '{"success":true,"forwarded":true}';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(Number(p.port), '127.0.0.1', () => r()));
    return {};
  },
  configure: async (p) => {
    delayMs = Number(p.delayMs ?? 0);
    return {};
  },
  reset: async () => {
    seen.clear();
    keysByRecord.clear();
    delayMs = 0;
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
    let multiKeyRecords = 0;
    for (const k of keysByRecord.values()) if (typeof k !== 'string') multiKeyRecords++;
    return {
      requests,
      records,
      unique: seen.size,
      duplicates,
      missing,
      badBodies,
      idempotencyKeys: idempotencyKeys.size,
      multiKeyRecords,
      firstAt,
      lastAt,
    };
  },
});
