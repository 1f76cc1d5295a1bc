/**
 * After a start on seeded data (the data-scale benchmark's rows): the latency of a device-logs page,
 * an operations page and /api/health sampled over time, then optionally the data-scale ingest with
 * its worst sendlog ack and /api/health. Shows whether a slow listing is the query or the process
 * (a freshly loaded heap, background work). Pass V8 flags for the product as the third argument.
 *   node dist/bench/tools/listing-timeline.js <rows> <seconds> ["--trace-gc ..."] [ingest-seconds]
 */
import { join } from 'node:path';
import { device, ingestStall, operation, punch, type Seeds, writeSnapshot } from '../data-scale.bench';
import { readIndexes, sleep } from '../lib/harness';
import { httpJson } from '../lib/http';
import { dropProductDb, planProductDb, startProduct } from '../lib/product';
import { rssBytes } from '../lib/procs';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100_000);
  const seconds = Number(process.argv[3] ?? 60);
  const extra = (process.argv[4] ?? '').split(' ').filter(Boolean);
  const ingestSeconds = Number(process.argv[5] ?? 0);
  const emptyPlan = planProductDb('tl-empty');
  const empty = await startProduct({ name: 'tl-empty', durable: true, reuse: emptyPlan });
  const indexes = await readIndexes(await empty.driver(), ['fingerprintlogs', 'operations', 'devices']);
  await dropProductDb(empty);
  await empty.stop();
  const plan = planProductDb(`tl-${n}`);
  const seeds: Seeds = {
    fingerprintlogs: { count: n, make: (i) => punch(i, n) },
    operations: { count: n, make: (i) => operation(i, n) },
    devices: { count: 50, make: device },
  };
  let t = performance.now();
  await writeSnapshot(join(plan.dataDir, 'db'), seeds, indexes);
  console.log(`seeded ${n} + ${n} rows in ${Math.round(performance.now() - t)} ms`);
  t = performance.now();
  const product = await startProduct({
    name: `tl-${n}`,
    durable: true,
    reuse: plan,
    startTimeoutMs: 1_800_000,
    execArgv: ['--max-old-space-size=8192', ...extra],
  });
  console.log(`started in ${Math.round(performance.now() - t)} ms; log ${product.proc.logFile}`);
  const headers = { authorization: `Bearer ${product.token}` };
  const t0 = performance.now();
  const paths = ['/api/fingerprints/device-logs?page=1&limit=20', '/api/operations?page=1&limit=20', '/api/health'];
  try {
    while (performance.now() - t0 < seconds * 1000) {
      const line = [
        `t=${((performance.now() - t0) / 1000).toFixed(1)}s rss=${Math.round(rssBytes(product.pid) / 1048576)}MB`,
      ];
      for (const p of paths) {
        const a = performance.now();
        const r = await httpJson('GET', `${product.httpUrl}${p}`, { headers, timeoutMs: 120_000 });
        line.push(`${p.split('?')[0].split('/').pop()}=${(performance.now() - a).toFixed(0)}(${r.status})`);
      }
      console.log(line.join(' '));
      await sleep(500);
    }
    if (ingestSeconds > 0) {
      const res = await ingestStall(product, {
        terminals: 10,
        recordsPerSecond: 1000,
        durationMs: ingestSeconds * 1000,
        sizeTag: 9,
      });
      console.log(`ingest: ${JSON.stringify(res)}`);
    }
  } finally {
    await dropProductDb(product).catch(() => undefined);
    await product.stop();
  }
}

void main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
