/**
 * The bare forwarding client: posts the same batches as the outbox (same payload, per-terminal
 * order, same concurrency and batch size) from memory, with nothing stored.
 */
import { Agent, request } from 'node:http';
import { serveIpc } from '../lib/ipc-child';

type Rec = { enrollid: number; time: string; event: number };

function post(agent: Agent, url: URL, body: string, key: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': key,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const ok = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { success?: boolean }).success === true;
            resolve(ok && (res.statusCode ?? 0) < 300);
          } catch {
            resolve(false);
          }
        });
        res.on('error', () => resolve(false));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // Unknown outcome (timeout, dropped connection): the same batch goes again under the same key.
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

serveIpc({
  drain: async (p) => {
    const url = new URL(String(p.sinkUrl));
    const streams = p.streams as Array<{ sn: string; records: Rec[] }>;
    const batchSize = Number(p.batchSize);
    const concurrency = Number(p.concurrency);
    const timeoutMs = Number(p.timeoutMs ?? 10_000);
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const started = Date.now();
    let next = 0;
    let batches = 0;
    let failures = 0;
    const worker = async () => {
      while (next < streams.length) {
        const s = streams[next++];
        for (let i = 0; i < s.records.length; i += batchSize) {
          const record = s.records.slice(i, i + batchSize);
          const ok = await post(
            agent,
            url,
            JSON.stringify({ sn: s.sn, record }),
            `${s.sn}:${i}:${record.length}`,
            timeoutMs,
          );
          batches++;
          if (!ok) {
            failures++;
            i -= batchSize;
          }
          if (failures > 1000) throw new Error('sink keeps refusing');
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    agent.destroy();
    return { ms: Date.now() - started, batches, failures };
  },
});
