/**
 * Embedded MongoDB-compatible server: inserts/s (single, concurrent, batched; memory and durable),
 * finds by _id and by an indexed field at 10k and 100k documents, all through the official
 * driver, compared in the same run with a bare node:net request/response round trip.
 *
 *   npm run bench -- embedded-mongo            (through the runner)
 *   node -r ts-node/register/transpile-only bench/embedded-mongo.bench.ts [--quick]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Long, MongoClient, type Collection, type Document } from 'mongodb';
import { start } from '../libs/embedded-mongo/src';
import {
  encodeOpMsg,
  encodeOpReply,
  OP_MSG,
  OP_QUERY,
  parseOpMsg,
  parseOpQuery,
} from '../libs/embedded-mongo/src/wire';
import { machineInfo } from './lib/machine';
import { textTable, tableRows, withRatios, type BenchReport } from './lib/report';
import { round, summarize } from './lib/stats';
import type { BenchOptions, BenchResult, ResultRow } from './lib/types';

interface Loop {
  ops: number;
  opsPerSec: number;
  p50us: number;
  p99us: number;
}

/** Runs `op` sequentially until `maxOps` or `maxMs`, whichever comes first. */
async function closedLoop(op: (i: number) => Promise<unknown>, maxOps: number, maxMs: number): Promise<Loop> {
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(maxMs) * 1_000_000n;
  let i = 0;
  for (; i < maxOps; i++) {
    const s = process.hrtime.bigint();
    await op(i);
    const e = process.hrtime.bigint();
    lat.push(Number(e - s) / 1000);
    if (e > deadline) {
      i++;
      break;
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const sum = summarize(lat);
  return { ops: i, opsPerSec: round(i / secs, 0), p50us: round(sum.p50, 1), p99us: round(sum.p99, 1) };
}

/** `workers` closed loops in parallel; throughput over all of them. */
async function concurrentLoop(
  workers: number,
  op: (w: number, i: number) => Promise<unknown>,
  maxOpsEach: number,
  maxMs: number,
): Promise<Loop> {
  const t0 = Date.now();
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => closedLoop((i) => op(w, i), maxOpsEach, maxMs)),
  );
  const secs = (Date.now() - t0) / 1000;
  const ops = parts.reduce((a, p) => a + p.ops, 0);
  return { ops, opsPerSec: round(ops / secs, 0), p50us: parts[0].p50us, p99us: parts[0].p99us };
}

/** The bare ceiling: a node:net echo of a small request, one at a time. */
async function bareRoundTrips(maxOps: number, maxMs: number): Promise<Loop> {
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const req = Buffer.alloc(96, 7);
  let waiting: (() => void) | undefined;
  let got = 0;
  sock.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= req.length && waiting) {
      got -= req.length;
      const w = waiting;
      waiting = undefined;
      w();
    }
  });
  try {
    return await closedLoop(
      () =>
        new Promise<void>((r) => {
          waiting = r;
          sock.write(req);
        }),
      maxOps,
      maxMs,
    );
  } finally {
    sock.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/**
 * The peer: a wire-protocol server that does no database work. It answers the handshake and
 * every command with a fixed reply (one stored document for finds), so driver + wire cost alone.
 */
async function cannedServer(doc: Document): Promise<{ uri: string; close(): Promise<void> }> {
  const hello = {
    helloOk: true,
    isWritablePrimary: true,
    ismaster: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    logicalSessionTimeoutMinutes: 30,
    minWireVersion: 0,
    maxWireVersion: 21,
    connectionId: 1,
    ok: 1,
  };
  const answer = (cmd: Document): Document => {
    const name = Object.keys(cmd)[0];
    if (name === 'hello' || name === 'isMaster' || name === 'ismaster') return { ...hello, localTime: new Date() };
    if (name === 'find')
      return { cursor: { firstBatch: [doc], id: Long.ZERO, ns: `${String(cmd.$db)}.${String(cmd.find)}` }, ok: 1 };
    if (name === 'insert') return { n: Array.isArray(cmd.documents) ? cmd.documents.length : 1, ok: 1 };
    return { ok: 1 };
  };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
        const msg = buf.subarray(0, buf.readInt32LE(0));
        buf = buf.subarray(msg.length);
        const requestId = msg.readInt32LE(4);
        if (msg.readInt32LE(12) === OP_QUERY) s.write(encodeOpReply(0, requestId, [answer(parseOpQuery(msg).query)]));
        else if (msg.readInt32LE(12) === OP_MSG) s.write(encodeOpMsg(0, requestId, answer(parseOpMsg(msg).command)));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    uri: `mongodb://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const noop = (): void => undefined;

export async function run(opts: BenchOptions = { quick: false, progress: noop }): Promise<BenchResult> {
  const quick = opts.quick;
  const sizes = quick ? [2_000, 10_000] : [10_000, 100_000];
  const maxMs = quick ? 400 : 2_000;
  const maxOps = quick ? 1_000 : 20_000;
  const runs = 2;
  const rows: ResultRow[] = [];
  const checks: NonNullable<BenchResult['checks']> = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'timmy-bench-embedded-mongo-'));
  const mem = await start({ port: 0, quiet: true });
  const durable = await start({ port: 0, quiet: true, dataDir });
  const memClient = await MongoClient.connect(mem.uri, { maxPoolSize: 20 });
  const durClient = await MongoClient.connect(durable.uri, { maxPoolSize: 20 });
  const peer = await cannedServer({
    _id: 1,
    code: 'C1',
    group: 1,
    name: 'device 1',
    at: new Date(0),
    tags: ['a', 'b'],
  });
  const peerClient = await MongoClient.connect(peer.uri, { maxPoolSize: 20 });
  const bareRuns: Loop[] = [];
  try {
    opts.progress('bare TCP round trips');
    for (let r = 0; r < runs; r++) bareRuns.push(await bareRoundTrips(maxOps, maxMs));
    const bareRps = bareRuns.map((b) => b.opsPerSec);
    const bareP50 = bareRuns.map((b) => b.p50us);
    opts.progress('peer (canned wire server) round trips');
    const peerInsert: Loop[] = [];
    const peerFind: Loop[] = [];
    const pc = peerClient.db('bench').collection('x');
    for (let r = 0; r < runs; r++) {
      peerInsert.push(await closedLoop((i) => pc.insertOne({ i, name: `n${i}`, at: new Date() }), maxOps, maxMs));
      peerFind.push(await closedLoop((i) => pc.findOne({ code: `C${i}` }), maxOps, maxMs));
    }
    const peerInsertRps = peerInsert.map((l) => l.opsPerSec);
    const peerInsertP50 = peerInsert.map((l) => l.p50us);
    const peerFindRps = peerFind.map((l) => l.opsPerSec);
    const peerFindP50 = peerFind.map((l) => l.p50us);

    const single = async (client: MongoClient, label: string): Promise<Loop[]> => {
      const out: Loop[] = [];
      for (let r = 0; r < runs; r++) {
        opts.progress(`${label} insertOne run ${r + 1}`);
        const c = client.db('bench').collection(`single_${r}`);
        out.push(await closedLoop((i) => c.insertOne({ i, name: `n${i}`, at: new Date() }), maxOps, maxMs));
      }
      return out;
    };
    const memSingle = await single(memClient, 'memory');
    rows.push({
      case: 'insertOne, 1 client, memory',
      metric: 'inserts/s',
      unit: 'ops/s',
      better: 'higher',
      product: memSingle.map((l) => l.opsPerSec),
      peer: peerInsertRps,
      bare: bareRps,
    });
    rows.push({
      case: 'insertOne, 1 client, memory',
      metric: 'latency p50',
      unit: 'us',
      better: 'lower',
      product: memSingle.map((l) => l.p50us),
      peer: peerInsertP50,
      bare: bareP50,
    });
    const durSingle = await single(durClient, 'durable');
    rows.push({
      case: 'insertOne, 1 client, durable (fsync per ack)',
      metric: 'inserts/s',
      unit: 'ops/s',
      better: 'higher',
      product: durSingle.map((l) => l.opsPerSec),
      bare: bareRps,
    });

    const concurrent: Loop[] = [];
    for (let r = 0; r < runs; r++) {
      opts.progress(`durable insertOne, 16 clients, run ${r + 1}`);
      const c = durClient.db('bench').collection(`concurrent_${r}`);
      concurrent.push(await concurrentLoop(16, (w, i) => c.insertOne({ w, i, at: new Date() }), maxOps, maxMs));
    }
    rows.push({
      case: 'insertOne, 16 concurrent clients, durable (group commit)',
      metric: 'inserts/s',
      unit: 'ops/s',
      better: 'higher',
      product: concurrent.map((l) => l.opsPerSec),
      bare: bareRps,
    });

    const batch = 1000;
    for (const [client, label] of [
      [memClient, 'memory'],
      [durClient, 'durable'],
    ] as const) {
      const figs: number[] = [];
      for (let r = 0; r < runs; r++) {
        opts.progress(`${label} insertMany x${batch}, run ${r + 1}`);
        const c = client.db('bench').collection(`batched_${label}_${r}`);
        const loop = await closedLoop(
          (i) =>
            c.insertMany(
              Array.from({ length: batch }, (_, j) => ({ i: i * batch + j, name: `n${j}`, at: new Date() })),
            ),
          quick ? 10 : 100,
          maxMs,
        );
        figs.push(round(loop.opsPerSec * batch, 0));
      }
      rows.push({
        case: `insertMany batches of ${batch}, ${label}`,
        metric: 'docs/s',
        unit: 'docs/s',
        better: 'higher',
        product: figs,
      });
    }

    for (const size of sizes) {
      opts.progress(`loading ${size} documents`);
      const c: Collection<Document> = memClient.db('bench').collection(`find_${size}`);
      await c.createIndex({ code: 1 }, { unique: true });
      await c.createIndex({ group: 1 });
      const ids: unknown[] = [];
      const loadStart = Date.now();
      for (let off = 0; off < size; off += 5000) {
        const docs = Array.from({ length: Math.min(5000, size - off) }, (_, j) => {
          const n = off + j;
          return {
            code: `C${(n * 7919) % size}`,
            group: n % 1000,
            name: `device ${n}`,
            at: new Date(1_700_000_000_000 + n * 1000),
            tags: ['a', 'b'],
          };
        });
        const res = await c.insertMany(docs);
        ids.push(...Object.values(res.insertedIds));
      }
      const loadSecs = (Date.now() - loadStart) / 1000;
      rows.push({
        case: `load ${size} docs (2 secondary indexes), memory`,
        metric: 'docs/s',
        unit: 'docs/s',
        better: 'higher',
        product: [round(size / loadSecs, 0)],
      });
      checks.push({ what: `${size} documents loaded`, ok: (await c.countDocuments()) === size });

      let seed = 42;
      const rnd = (n: number): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const byId: Loop[] = [];
      const byField: Loop[] = [];
      let misses = 0;
      for (let r = 0; r < runs; r++) {
        opts.progress(`${size} docs: findOne by _id, run ${r + 1}`);
        byId.push(
          await closedLoop(
            async () => {
              if (!(await c.findOne({ _id: ids[rnd(ids.length)] as never }))) misses++;
            },
            maxOps,
            maxMs,
          ),
        );
        opts.progress(`${size} docs: findOne by indexed field, run ${r + 1}`);
        byField.push(
          await closedLoop(
            async () => {
              if (!(await c.findOne({ code: `C${rnd(size)}` }))) misses++;
            },
            maxOps,
            maxMs,
          ),
        );
      }
      checks.push({
        what: `${size} docs: every lookup found its document`,
        ok: misses === 0,
        detail: `${misses} misses`,
      });
      rows.push({
        case: `findOne by _id, ${size} docs`,
        metric: 'finds/s',
        unit: 'ops/s',
        better: 'higher',
        product: byId.map((l) => l.opsPerSec),
        peer: peerFindRps,
        bare: bareRps,
      });
      rows.push({
        case: `findOne by _id, ${size} docs`,
        metric: 'latency p50',
        unit: 'us',
        better: 'lower',
        product: byId.map((l) => l.p50us),
        peer: peerFindP50,
        bare: bareP50,
      });
      rows.push({
        case: `findOne by indexed field, ${size} docs`,
        metric: 'finds/s',
        unit: 'ops/s',
        better: 'higher',
        product: byField.map((l) => l.opsPerSec),
        peer: peerFindRps,
        bare: bareRps,
      });
      rows.push({
        case: `findOne by indexed field, ${size} docs`,
        metric: 'latency p50',
        unit: 'us',
        better: 'lower',
        product: byField.map((l) => l.p50us),
        peer: peerFindP50,
        bare: bareP50,
      });
      await c.drop();
    }
  } finally {
    await peerClient.close();
    await peer.close();
    await memClient.close();
    await durClient.close();
    await mem.stop();
    await durable.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return {
    name: 'embedded-mongo',
    title: 'Embedded MongoDB-compatible server through the official driver vs a bare node:net round trip',
    rows,
    checks,
    notes: [
      'product = embedded server, driven by the mongodb driver from the same process (one client in closed loop unless stated); bare = node:net echo of a 96-byte request, one at a time.',
      'peer = a wire-protocol server doing no database work (fixed replies), through the same driver: prod/peer is the share of the round trip left to the driver and the wire protocol.',
      'durable = data directory with journal: every acknowledged write is fsynced; concurrent writers share fsyncs (group commit).',
      'The ratio prod/bare shows what the driver + wire protocol + query engine cost over the bare loopback round trip.',
    ],
    config: { sizes, maxMsPerLoop: maxMs, maxOpsPerLoop: maxOps, runs, batch: 1000 },
  };
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  run({ quick, progress: (m) => process.stdout.write(`  … ${m}\n`) })
    .then((result) => {
      const report: BenchReport = {
        ...result,
        machine: machineInfo(),
        date: new Date().toISOString(),
        quick,
        durationSeconds: Math.round((Date.now() - started) / 1000),
        rows: result.rows.map(withRatios),
      };
      const dir = quick ? join(tmpdir(), 'timmy-bench-quick-results') : resolve(repoRoot(), 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'embedded-mongo.json');
      writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`\n${textTable(tableRows(report))}\n`);
      for (const c of report.checks ?? [])
        console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.what}${c.detail ? ` (${c.detail})` : ''}`);
      console.log(`results written to ${file}`);
      if ((report.checks ?? []).some((c) => !c.ok)) process.exitCode = 1;
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
