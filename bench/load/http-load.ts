/**
 * HTTP load generator process: `concurrency` workers in closed loop (next request after the
 * answer), each cycling through its own list of requests; keep-alive connections, one per worker.
 */
import { Agent, request } from 'node:http';
import { childProgress, serveIpc } from '../lib/ipc-child';

interface RequestSpec {
  method: string;
  path: string;
  /** JSON text; `{seq}` is replaced with the worker's request counter (from 1). */
  body?: string;
}

function once(
  agent: Agent,
  base: URL,
  spec: RequestSpec,
  seq: number,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number; bytes: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = spec.body === undefined ? undefined : Buffer.from(spec.body.replace(/\{seq\}/g, String(seq)));
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method: spec.method,
        path: spec.path,
        agent,
        timeout: timeoutMs,
        headers: {
          ...headers,
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, bytes: buf.length, body: buf.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

async function run(p: Record<string, unknown>): Promise<unknown> {
  const base = new URL(String(p.baseUrl));
  const perWorker = p.perWorker as RequestSpec[][];
  const headers = (p.headers ?? {}) as Record<string, string>;
  const warmupMs = Number(p.warmupMs ?? 0);
  const durationMs = Number(p.durationMs);
  const timeoutMs = Number(p.timeoutMs ?? 30_000);
  const maxPerWorker = Number(p.maxPerWorker ?? 1_000_000);
  const okStatus = new Set((p.okStatus as number[] | undefined) ?? [200, 201]);
  const agent = new Agent({ keepAlive: true, maxSockets: perWorker.length });
  const t0 = Date.now();
  const windowStart = t0 + warmupMs;
  const windowEnd = windowStart + durationMs;
  // Answers that arrive inside the window count (throughput = answers in the window / its length),
  // whatever the time their request was sent: with many clients a round can be longer than a warm-up.
  const inWindow = (t: number) => t >= windowStart && t < windowEnd;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const samples: string[] = [];
  let measured = 0;
  let bytes = 0;
  let errors = 0;
  let total = 0;
  const worker = async (list: RequestSpec[]) => {
    let i = 0;
    while (Date.now() < windowEnd && i < maxPerWorker) {
      const spec = list[i % list.length];
      const s = performance.now();
      try {
        const res = await once(agent, base, spec, i + 1, headers, timeoutMs);
        const ms = performance.now() - s;
        total++;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (!okStatus.has(res.status)) {
          errors++;
          if (samples.length < 5) samples.push(`${res.status} ${spec.method} ${spec.path}: ${res.body.slice(0, 300)}`);
        } else if (inWindow(Date.now())) {
          latencies.push(ms);
          measured++;
          bytes += res.bytes;
        }
      } catch (e) {
        errors++;
        if (samples.length < 5)
          samples.push(`${spec.method} ${spec.path}: ${e instanceof Error ? e.message : String(e)}`);
      }
      i++;
      childProgress(`${measured.toLocaleString('en-US')} requests answered in the measured window`);
    }
  };
  await Promise.all(perWorker.map((list) => worker(list)));
  agent.destroy();
  return {
    latencies,
    measured,
    total,
    errors,
    statuses,
    samples,
    avgBytes: measured ? Math.round(bytes / measured) : 0,
    windowMs: durationMs,
  };
}

serveIpc({ run });
