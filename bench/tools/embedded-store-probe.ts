/**
 * One size of the embedded-store benchmark, in a process of its own (run by
 * bench/embedded-store.bench.ts with --expose-gc and a large heap):
 *
 *   node --expose-gc --max-old-space-size=8192 dist/bench/tools/embedded-store-probe.js <punches>
 *
 * Writes a snapshot of <punches> punches and as many operations (the product's document shapes and
 * indexes), then measures: reading the file alone (the floor), opening the database on it (restart),
 * the memory the loaded data holds per row, and a compaction (snapshot) with the longest time the
 * event loop went without a turn. Prints one JSON line.
 */
import { createWriteStream, mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Document } from 'mongodb';
import { encodeRecord, openJournal } from '../../libs/embedded-mongo/src/journal';
import { Store } from '../../libs/embedded-mongo/src/store';
import { FingerPrintLogSchema } from '../../src/fingerprints/schemas/fingerprint-log.schema';
import { OperationSchema } from '../../src/operations/schemas/operation.schema';
import { operation, punch } from '../data-scale.bench';

const DB = 'timmy';

/** The index specs Mongoose would create for a schema (default names: field_direction pairs). */
function specsOf(schema: { indexes(): Array<[Record<string, number>, Record<string, unknown>]> }): Document[] {
  return schema.indexes().map(([key, options]) => ({
    v: 2,
    key,
    name:
      (options.name as string | undefined) ??
      Object.entries(key)
        .map(([f, d]) => `${f}_${d}`)
        .join('_'),
    ...(options.unique ? { unique: true } : {}),
    ...(options.sparse ? { sparse: true } : {}),
    ...(options.partialFilterExpression ? { partialFilterExpression: options.partialFilterExpression } : {}),
    ...(options.expireAfterSeconds !== undefined ? { expireAfterSeconds: options.expireAfterSeconds } : {}),
  }));
}

async function writeSnapshot(dir: string, n: number): Promise<void> {
  const out = createWriteStream(join(dir, 'snapshot.bson'));
  let pending: Buffer[] = [];
  let size = 0;
  let records = 0;
  const push = async (entry: Document): Promise<void> => {
    const rec = encodeRecord(entry);
    pending.push(rec);
    size += rec.length;
    records++;
    if (size >= 1 << 20) {
      const chunk = Buffer.concat(pending);
      pending = [];
      size = 0;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  };
  await push({ snapshot: 1, gen: 1, createdAt: new Date() });
  const seeds: Array<[string, (i: number, n: number) => Document, Document[]]> = [
    ['fingerprintlogs', punch, specsOf(FingerPrintLogSchema as never)],
    ['operations', operation, specsOf(OperationSchema as never)],
  ];
  for (const [c, make, specs] of seeds) {
    await push({ op: 'create', db: DB, c, options: {} });
    for (let i = 0; i < n; i++) await push({ op: 'put', db: DB, c, d: make(i, n) });
    for (const spec of specs) await push({ op: 'createIndex', db: DB, c, spec });
  }
  await push({ end: true, count: records - 1 });
  out.write(Buffer.concat(pending));
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with --expose-gc');
  g();
  g();
}

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2]);
  if (!Number.isInteger(n) || n <= 0) throw new Error('usage: embedded-store-probe <punches>');
  const dir = mkdtempSync(join(tmpdir(), 'timmy-bench-embedded-store-'));
  try {
    await writeSnapshot(dir, n);
    const file = join(dir, 'snapshot.bson');
    const fileBytes = (await fsp.stat(file)).size;
    // The floor: reading the file's bytes, nothing else.
    let t = performance.now();
    const fh = await fsp.open(file, 'r');
    const piece = Buffer.allocUnsafe(16 << 20);
    for (let pos = 0; pos < fileBytes;) {
      const { bytesRead } = await fh.read(piece, 0, piece.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
    }
    await fh.close();
    const readMs = performance.now() - t;

    gc();
    const before = used();
    const rssBefore = process.memoryUsage().rss;
    t = performance.now();
    const store = new Store();
    const journal = await openJournal(dir, store, () => undefined);
    store.journal = journal;
    const openMs = performance.now() - t;
    gc();
    const heldBytes = used() - before;
    const rssBytes = process.memoryUsage().rss - rssBefore;
    const rows = 2 * n;
    let bsonBytes = 0;
    for (const c of ['fingerprintlogs', 'operations']) bsonBytes += store.getCollection(DB, c)!.storageBytes;

    // A compaction with a timer that should fire every 5 ms: the largest gap between two firings
    // is the longest the event loop was held.
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let last = performance.now();
    let worstGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 5);
    t = performance.now();
    await journal.compact();
    const compactMs = performance.now() - t;
    clearInterval(timer);
    delay.disable();
    worstGap = Math.max(worstGap, performance.now() - last);
    await journal.close();
    console.log(
      JSON.stringify({
        punches: n,
        rows,
        fileMB: Math.round(fileBytes / 1048576),
        readMs: Math.round(readMs),
        openMs: Math.round(openMs),
        bytesPerRow: Math.round(heldBytes / rows),
        bsonBytesPerRow: Math.round(bsonBytes / rows),
        rssBytesPerRow: Math.round(rssBytes / rows),
        estimateBytesPerRow: Math.round(store.approximateMemoryBytes() / rows),
        compactMs: Math.round(compactMs),
        compactionSlices: journal.stats.compactionSlices,
        longestSliceMs: Math.round(journal.stats.longestCompactionSliceMs * 10) / 10,
        worstTimerGapMs: Math.round(worstGap * 10) / 10,
        loopDelayMaxMs: Math.round(delay.max / 1e5) / 10,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
