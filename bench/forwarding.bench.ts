/**
 * Forwarding drain: a backlog of stored, not yet forwarded terminal punches (20k of 50 terminals)
 * forwarded to a local HR sink (node:http) until drained; records/s at the sink. Product (its
 * outbox) vs the driver peer (same claims and state writes) vs a bare client posting the same
 * batches. The sink checks that none is lost or duplicated.
 */
import type { Db } from 'mongodb';
import { punchDoc } from './baselines/punch-doc';
import { connectDriver } from './lib/db';
import { Baseline, readIndexes, sleep, sns, startBaseline } from './lib/harness';
import { pollUntil } from './lib/http';
import { dropProductDb, planProductDb, seedProductDb, startProduct } from './lib/product';
import { freePort } from './lib/ports';
import { startProc, type Proc } from './lib/procs';
import { round } from './lib/stats';
import { punch } from './load/records';
import type { BenchOptions, BenchResult, ResultRow, System } from './lib/types';

const BATCH = 100;
const CONCURRENCY = 4;

interface SinkStats {
  requests: number;
  records: number;
  unique: number;
  duplicates: number;
  missing: number;
  badBodies: number;
  idempotencyKeys: number;
  firstAt: number;
  lastAt: number;
}

interface Fig {
  recordsPerSecond: number;
  seconds: number;
  requests: number;
}

function backlog(terminals: number, perTerminal: number) {
  const list = sns('FW', terminals);
  const docs = list.flatMap((sn) =>
    Array.from({ length: perTerminal }, (_, r) => {
      const p = punch(r);
      return punchDoc(
        sn,
        {
          enrollid: p.enrollid as number,
          time: p.time as string,
          mode: p.mode as number,
          inout: p.inout as number,
          event: 0,
          raw: p,
        },
        'UTC',
      );
    }),
  );
  const expected = docs.map((d) => `${d.device_sn}|${Number(d.enrollid)}|${d.local_time}|${d.event}`);
  const streams = list.map((sn) => ({
    sn,
    records: docs
      .filter((d) => d.device_sn === sn)
      .map((d) => ({ enrollid: Number(d.enrollid), time: d.local_time as string, event: d.event as number })),
  }));
  return { docs, expected, streams };
}

async function insertBacklog(db: Db, docs: ReturnType<typeof backlog>['docs']): Promise<void> {
  const col = db.collection('fingerprintlogs');
  for (let i = 0; i < docs.length; i += 1000) {
    await col.insertMany(
      docs.slice(i, i + 1000).map((d) => ({ ...d })),
      { ordered: false },
    );
  }
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const terminals = opts.quick ? 10 : 50;
  const perTerminal = opts.quick ? 100 : 400;
  const total = terminals * perTerminal;
  const runs = 2;
  const drainTimeoutMs = opts.quick ? 60_000 : 240_000;
  const data = backlog(terminals, perTerminal);
  const checks: NonNullable<BenchResult['checks']> = [];
  const figs: Record<System, Fig[]> = { product: [], peer: [], bare: [] };

  const sinkPort = await freePort();
  const sinkUrl = `http://127.0.0.1:${sinkPort}/api/checkinout/save`;
  const sink: Proc = startProc('sink', 'load/sink.js');
  await sink.call('start', { port: sinkPort }, 30_000);
  let indexes = {};

  const waitDrained = async (step: string): Promise<SinkStats> =>
    pollUntil(
      `${step}: sink receives ${total} records`,
      async () => {
        const s = await sink.call<SinkStats>('stats', {}, 30_000);
        opts.progress(`${step}: ${s.unique}/${total} records at the sink`);
        return s.unique >= total ? s : null;
      },
      drainTimeoutMs,
      100,
    );

  const finish = async (sys: System, step: string, timed?: { ms: number }) => {
    // Give late duplicates a moment to show up before counting.
    await sleep(500);
    const s = await sink.call<SinkStats>('stats', { expected: data.expected }, 60_000);
    const ms = timed?.ms ?? s.lastAt - s.firstAt;
    figs[sys].push({ recordsPerSecond: (total * 1000) / Math.max(1, ms), seconds: ms / 1000, requests: s.requests });
    checks.push({
      what: `${step}: all ${total} records at the sink, none lost, none duplicated`,
      ok: s.unique === total && s.missing === 0 && s.duplicates === 0 && s.badBodies === 0,
      detail: `${s.unique} unique, ${s.missing} missing, ${s.duplicates} duplicates, ${s.requests} requests`,
    });
    await sink.call('reset', {}, 30_000);
  };

  try {
    for (let r = 0; r < runs; r++) {
      // Product: backlog written into its database before it starts, then its outbox drains it.
      const step = `product run ${r + 1}`;
      opts.progress(`${step}: seeding ${total} punches`);
      const plan = planProductDb('forwarding');
      await seedProductDb(plan, (db) => insertBacklog(db, data.docs));
      const product = await startProduct({
        name: 'forwarding',
        durable: true,
        reuse: plan,
        env: {
          FORWARD_LOG_URL: sinkUrl,
          FORWARD_BATCH_SIZE: String(BATCH),
          FORWARD_CONCURRENCY: String(CONCURRENCY),
          FORWARD_POLL_INTERVAL: '1s',
        },
      });
      try {
        await waitDrained(step);
        await finish('product', step);
        if (r === 0) indexes = await readIndexes(await product.driver(), ['fingerprintlogs']);
        const client = await product.driver();
        const left = await client.db().collection('fingerprintlogs').countDocuments({ forward_pending: true });
        checks.push({ what: `${step}: no punch left pending in the database`, ok: left === 0, detail: `${left}` });
      } finally {
        await product.stop();
        await dropProductDb(product).catch(() => undefined);
      }

      const pstep = `peer run ${r + 1}`;
      opts.progress(`${pstep}: seeding ${total} punches`);
      const peer: Baseline = await startBaseline('peer', { durable: true, indexes });
      try {
        const client = await connectDriver(peer.dbUri!);
        await insertBacklog(client.db(), data.docs);
        opts.progress(`${pstep}: draining`);
        await peer.proc.call(
          'drain',
          { sinkUrl, batchSize: BATCH, concurrency: CONCURRENCY, timeoutMs: drainTimeoutMs },
          drainTimeoutMs + 30_000,
        );
        await waitDrained(pstep);
        const left = await client.db().collection('fingerprintlogs').countDocuments({ forward_pending: true });
        await client.close();
        checks.push({ what: `${pstep}: no punch left pending in the database`, ok: left === 0, detail: `${left}` });
        await finish('peer', pstep);
      } finally {
        await peer.stop();
      }
    }
    opts.progress('bare client posting the same batches');
    const bare = startProc('bare-forwarder', 'load/bare-forwarder.js');
    try {
      await bare.call(
        'drain',
        { sinkUrl, streams: data.streams, batchSize: BATCH, concurrency: CONCURRENCY },
        drainTimeoutMs,
      );
      await waitDrained('bare');
      await finish('bare', 'bare');
    } finally {
      await bare.stop();
    }
  } finally {
    await sink.stop();
  }
  const pick = (sys: System, f: (x: Fig) => number) => figs[sys].map((x) => round(f(x), 2));
  const label = `${total.toLocaleString('en-US')} records of ${terminals} terminals, batches of ${BATCH}, ${CONCURRENCY} streams at once`;
  const rows: ResultRow[] = [
    {
      case: label,
      metric: 'drain rate',
      unit: 'records/s',
      better: 'higher',
      product: pick('product', (x) => x.recordsPerSecond),
      peer: pick('peer', (x) => x.recordsPerSecond),
      bare: pick('bare', (x) => x.recordsPerSecond),
      target: { vs: 'peer', ratio: 0.5 },
    },
    {
      case: label,
      metric: 'drain time',
      unit: 's',
      better: 'lower',
      product: pick('product', (x) => x.seconds),
      peer: pick('peer', (x) => x.seconds),
      bare: pick('bare', (x) => x.seconds),
    },
  ];
  return {
    name: 'forwarding',
    title: 'Forwarding drain (stored backlog -> HR sink)',
    rows,
    checks,
    notes: [
      'Drain time is measured at the sink, from the first request received to the last answered; the product is started on a database that already holds the backlog (its outbox starts at boot).',
      `Same work everywhere: payload {sn, record:[{enrollid,time,event}]}, per-terminal order, ${BATCH} records per request, ${CONCURRENCY} terminals at once, Idempotency-Key header; ` +
        'product and peer claim each batch with a lease and mark it delivered only on a confirming answer (data dir with fsync).',
      'Product and peer run twice (pairs), the bare client once.',
    ],
    config: { terminals, perTerminal, total, batch: BATCH, concurrency: CONCURRENCY, runs },
  };
}
