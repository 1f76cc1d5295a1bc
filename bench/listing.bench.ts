/**
 * API listing: GET /api/operations with filters and paging over 10k operations (inserted with the
 * driver in the product's document shape) and GET /api/stats, 50 connections in closed loop.
 * Product vs the driver peer (same queries, same indexes) vs a bare node:http endpoint answering a
 * JSON body of the same size.
 */
import { type Db, type Document } from 'mongodb';
import { connectDriver, externalMongoUri } from './lib/db';
import { Baseline, httpLoad, readIndexes, startBaseline } from './lib/harness';
import { httpJson } from './lib/http';
import { benchAdminToken } from './lib/jwt';
import { dropProductDb, startProduct, ProductServer } from './lib/product';
import { rateAndLatencyRows } from './lib/rows';
import { seededOperation } from './lib/seed-operation';
import type { BenchOptions, BenchResult, ResultRow, System } from './lib/types';

const TYPES = ['adduserinfo', 'deleteuser', 'getuserlist', 'setuserinfo', 'cleanlog'];
const STATUSES = [
  'success',
  'success',
  'success',
  'success',
  'success',
  'success',
  'failed',
  'failed',
  'canceled',
  'pending',
];
const DAY_MS = 86_400_000;
const START = Date.UTC(2025, 10, 1);

/** Deterministic operations spread over 30 days, 50 terminals, 5 types, 5 statuses. */
function operations(count: number): Document[] {
  return Array.from({ length: count }, (_, i) => {
    const type = TYPES[i % TYPES.length];
    return seededOperation({
      sn: `LS${String(i % 50).padStart(5, '0')}`,
      type,
      status: STATUSES[(i * 7) % STATUSES.length],
      enrollid: 1000 + (i % 500),
      name: `User ${i % 500}`,
      ret: type === 'adduserinfo' ? 'adduser' : type,
      createdAt: new Date(START + Math.floor((i * 30 * DAY_MS) / count)),
    });
  });
}

async function seed(db: Db, docs: Document[]): Promise<void> {
  const col = db.collection('operations');
  for (let i = 0; i < docs.length; i += 1000) {
    await col.insertMany(
      docs.slice(i, i + 1000).map((d) => ({ ...d })),
      { ordered: false },
    );
  }
}

const QUERIES: Array<{ name: string; paths: string[] }> = [
  { name: 'operations, no filter, page 1-5', paths: [1, 2, 3, 4, 5].map((p) => `/api/operations?page=${p}&limit=20`) },
  {
    name: 'operations, sn + status, page 1-2',
    paths: [0, 7, 13, 21, 42].flatMap((n) =>
      [1, 2].map((p) => `/api/operations?sn=LS${String(n).padStart(5, '0')}&status=success&page=${p}&limit=20`),
    ),
  },
  {
    name: 'operations, type + date range, page 3',
    paths: TYPES.map((t) => `/api/operations?type=${t}&from=2025-11-05&to=2025-11-20&page=3&limit=20`),
  },
  { name: 'stats', paths: ['/api/stats'] },
];

interface Fig {
  rps: number;
  p50: number;
  p99: number;
  bytes: number;
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const count = opts.quick ? 2000 : 10_000;
  const connections = opts.quick ? 10 : 50;
  const warmupMs = opts.quick ? 300 : 700;
  const durationMs = opts.quick ? 1200 : 3000;
  const runs = 2;
  const docs = operations(count);
  const rows: ResultRow[] = [];
  const checks: NonNullable<BenchResult['checks']> = [];

  opts.progress('starting product');
  const product: ProductServer = await startProduct({ name: 'listing', durable: false });
  let peer: Baseline | undefined;
  let bare: Baseline | undefined;
  try {
    opts.progress(`seeding ${count} operations (product)`);
    const client = await product.driver();
    await seed(client.db(), docs);
    const indexes = await readIndexes(client, ['operations']);
    peer = await startBaseline('peer', { durable: false, indexes });
    opts.progress(`seeding ${count} operations (peer)`);
    const peerClient = await connectDriver(peer.dbUri!);
    await seed(peerClient.db(), docs);
    await peerClient.close();
    bare = await startBaseline('bare');
    const peerToken = benchAdminToken();

    for (const q of QUERIES) {
      // The same answer from both (same totals), and the size the bare endpoint must send.
      const a = await httpJson('GET', `${product.httpUrl}${q.paths[0]}`, {
        headers: { authorization: `Bearer ${product.token}` },
      });
      const b = await httpJson('GET', `${peer.httpUrl}${q.paths[0]}`, {
        headers: { authorization: `Bearer ${peerToken}` },
      });
      checks.push({
        what: `${q.name}: product and peer agree (status, total, items)`,
        ok:
          a.status === 200 &&
          b.status === 200 &&
          a.json?.total === b.json?.total &&
          (a.json?.items?.length ?? -1) === (b.json?.items?.length ?? -1),
        detail: `product ${a.status} total ${a.json?.total} (${a.body.length} bytes), peer ${b.status} total ${b.json?.total}`,
      });
      await bare.proc.call('setBody', { bytes: Buffer.byteLength(a.body) }, 10_000);
      const figs: Record<System, Fig[]> = { product: [], peer: [], bare: [] };
      const order: Array<{ sys: System; run: number }> = [];
      for (let r = 0; r < runs; r++) order.push({ sys: 'product', run: r }, { sys: 'peer', run: r });
      order.push({ sys: 'bare', run: 0 });
      for (const { sys, run: r } of order) {
        const server = sys === 'product' ? product : sys === 'peer' ? peer : bare;
        const token = sys === 'product' ? product.token : peerToken;
        const step = `${q.name}, ${sys}${sys === 'bare' ? '' : ` run ${r + 1}`}`;
        const out = await httpLoad({
          baseUrl: server.httpUrl,
          // Each connection starts at a different place in the list, so the mix is even.
          perWorker: Array.from({ length: connections }, (_, w) =>
            q.paths.map((_, i) => ({ method: 'GET', path: q.paths[(i + w) % q.paths.length] })),
          ),
          headers: { authorization: `Bearer ${token}` },
          warmupMs,
          durationMs,
          okStatus: [200],
          progress: (m) => opts.progress(`${step}: ${m}`),
        });
        figs[sys].push({ rps: out.rps, p50: out.p50, p99: out.p99, bytes: out.avgBytes });
        checks.push({
          what: `${step}: every request answered 200`,
          ok: out.errors === 0 && out.measured > 0,
          detail: `${out.measured} measured, ${out.errors} errors, ${out.avgBytes} bytes avg${out.samples.length ? `: ${out.samples[0]}` : ''}`,
        });
      }
      const label = `${q.name} (${count.toLocaleString('en-US')} ops, ${connections} conns)`;
      rows.push(
        ...rateAndLatencyRows(label, figs, {
          rate: { metric: 'requests', unit: 'req/s', get: (x) => x.rps },
          p50: { metric: 'p50', get: (x) => x.p50 },
          p99: { metric: 'p99', get: (x) => x.p99 },
        }),
      );
    }
  } finally {
    await product.stop();
    await dropProductDb(product).catch(() => undefined);
    await peer?.stop();
    await bare?.stop();
  }
  return {
    name: 'listing',
    title: 'API listing (GET /api/operations with filters and paging, GET /api/stats)',
    rows,
    checks,
    notes: [
      `${count.toLocaleString('en-US')} operations inserted with the driver in the product's document shape (50 terminals, 5 types, 5 statuses, 30 days); ` +
        'the peer gets the same documents and the indexes copied from the product database.',
      `${connections} keep-alive connections in closed loop; measured ${durationMs / 1000}s after ${warmupMs / 1000}s warm-up; product and peer twice (pairs), bare once.`,
      'Peer: JWT check, find + sort + skip/limit with countDocuments in parallel (stats: count + two $group aggregations), JSON answer. ' +
        'Bare: node:http answering a fixed JSON body of the size of the product answer. 100k operations not run (time budget).',
      externalMongoUri()
        ? 'Product and peer use MongoDB (MONGODB_URI), each its own database.'
        : 'Product and peer use the embedded database in memory here (reads only).',
    ],
    config: { count, connections, warmupMs, durationMs, runs, queries: QUERIES },
  };
}
