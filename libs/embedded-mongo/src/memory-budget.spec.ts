import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoClient, MongoServerError } from 'mongodb';
import { launch } from './launcher';
import { checkDataFits, DataTooLargeError, heapNeededFor } from './load-check';
import { heapLimitBytes, MemoryBudget, parseSize, STORAGE_FULL_CODE } from './memory-budget';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../../..');
const CHILD = path.join(__dirname, 'testing', 'budget-child.ts');

describe('MemoryBudget', () => {
  it('warns from 80%, refuses growing writes from 95%, and recovers when memory is freed or the budget raised', () => {
    let used = 50;
    const logs: string[] = [];
    let collections = 0;
    const budget = new MemoryBudget({
      limitBytes: 100,
      measure: () => used,
      collect: () => collections++,
      log: (m) => logs.push(m),
    });
    expect(budget.refresh(true)).toBe('ok');
    expect(collections).toBe(0);
    used = 85;
    expect(budget.refresh(true)).toBe('warning');
    expect(budget.status()).toMatchObject({ state: 'warning', degraded: true, usedBytes: 85, limitBytes: 100 });
    expect(collections).toBe(1);
    expect(logs.at(-1)).toMatch(/over 80%/);
    used = 96;
    expect(budget.refresh(true)).toBe('full');
    expect(() => budget.admitWrite()).toThrow(expect.objectContaining({ code: STORAGE_FULL_CODE }));
    expect(budget.status().refusedWrites).toBe(1);
    expect(logs.at(-1)).toMatch(/writes are refused/);
    budget.setLimit(200);
    expect(budget.status().state).toBe('ok');
    expect(() => budget.admitWrite()).not.toThrow();
    expect(logs.at(-1)).toMatch(/writes accepted again/);
  });

  it('parses sizes', () => {
    expect(parseSize('512MB')).toBe(512 * 1048576);
    expect(parseSize('2g')).toBe(2 * 1073741824);
    expect(parseSize('1000')).toBe(1000);
    expect(parseSize('lots')).toBeUndefined();
    expect(parseSize('5 parsecs')).toBeUndefined();
  });
});

describe('pre-load check and load guard', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-fit-'));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('refuses at once, in one line, a data directory larger than the heap', async () => {
    await fsp.writeFile(path.join(dir, 'snapshot.bson'), Buffer.alloc(1048576));
    await expect(checkDataFits(dir, 2 * 1048576)).resolves.toBe(1048576);
    const err = await checkDataFits(dir, 1048576).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataTooLargeError);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(
      /holds 1\.0 MB on disk and cannot fit.*needs about \d+ MB of heap.*HEAP_MEMORY_SHARE.*db:export/,
    );
    expect(heapNeededFor(1048576)).toBeGreaterThan(1048576);
  });

  it('stops a load that fills the heap with one line, releases the directory and leaves the data intact', async () => {
    const first = await launch({ port: 0, dataDir: dir, quiet: true });
    const c = await MongoClient.connect(first.uri);
    await c
      .db('fit')
      .collection('docs')
      .insertMany(Array.from({ length: 6000 }, (_, i) => ({ i })));
    await c.close();
    await first.stop();

    const heap = heapLimitBytes();
    const err = await launch({ port: 0, dataDir: dir, quiet: true }, { loadHeapUsed: () => heap }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataTooLargeError);
    expect((err as Error).message).toMatch(
      /filled 90% of the heap before it was loaded; it needs about \d+ MB of heap/,
    );
    expect(await fsp.readdir(dir)).not.toContain('LOCK');

    const again = await launch({ port: 0, dataDir: dir, quiet: true });
    const c2 = await MongoClient.connect(again.uri);
    expect(await c2.db('fit').collection('docs').countDocuments()).toBe(6000);
    await c2.close();
    await again.stop();
  });
});

interface Running {
  child: ChildProcess;
  uri: string;
  exited: Promise<void>;
  stderr: () => string;
}

function spawnServer(dir: string, headroomMb: number): Promise<Running> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD, dir, String(headroomMb)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json') },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /URI (\S+) LIMIT/.exec(out);
      if (m) resolve({ child, uri: m[1], exited, stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`server child exited (${code}) before listening: ${err}`)));
  });
}

describe('a small-budget embedded database filled past 95%', () => {
  let dir: string;
  let running: Running | undefined;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-budget-'));
  });

  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('stays up, refuses writes, serves reads and deletes, accepts writes again, and restarts on its data', async () => {
    running = await spawnServer(dir, 40);
    let client = await MongoClient.connect(running.uri, { retryWrites: false });
    let punches = client.db('budget').collection('punches');
    let acked = 0;
    let refusal: MongoServerError | undefined;
    const batch = (from: number): Array<Record<string, unknown>> =>
      Array.from({ length: 200 }, (_, i) => ({ _id: from + i, at: new Date(), pad: 'p'.repeat(1000) }));
    // 40 MB of headroom, about 5 KB of memory per stored document: refused well before 400 batches.
    for (let b = 0; b < 400 && !refusal; b++) {
      try {
        await punches.insertMany(batch(acked));
        acked += 200;
      } catch (e) {
        if (!(e instanceof MongoServerError)) throw e;
        refusal = e;
      }
    }
    expect(refusal?.code).toBe(STORAGE_FULL_CODE);
    expect(refusal?.message).toMatch(/memory budget exhausted.*reads and deletes still work/);
    // The child's log line travels through a pipe: it may land a moment after the refusal.
    const logged = /memory budget: .* in use; embedded database memory budget exhausted/;
    for (const until = Date.now() + 10_000; !logged.test(running.stderr()) && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(running.stderr()).toMatch(logged);
    // Updates and upserts that would add data are refused as well.
    await expect(punches.updateOne({ _id: 1 as never }, { $set: { more: 'x'.repeat(100) } })).rejects.toMatchObject({
      code: STORAGE_FULL_CODE,
    });

    // Still serving: reads see every acknowledged document.
    expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    expect(await punches.countDocuments()).toBe(acked);
    expect(await punches.findOne({ _id: 0 as never })).toMatchObject({ _id: 0 });

    // Deleting old data is always allowed and makes room.
    const removed = await punches.deleteMany({ _id: { $lt: Math.floor(acked / 2) } as never });
    expect(removed.deletedCount).toBe(Math.floor(acked / 2));
    let acceptedAgain = false;
    const deadline = Date.now() + 20_000;
    while (!acceptedAgain && Date.now() < deadline) {
      try {
        await punches.insertOne({ _id: 'after-delete' as never });
        acceptedAgain = true;
      } catch (e) {
        expect((e as MongoServerError).code).toBe(STORAGE_FULL_CODE);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(acceptedAgain).toBe(true);
    const kept = await punches.countDocuments();
    await client.close();
    running.child.kill('SIGTERM');
    await running.exited;

    // A restart with a raised budget opens the same data and accepts writes.
    running = await spawnServer(dir, 200);
    client = await MongoClient.connect(running.uri, { retryWrites: false });
    punches = client.db('budget').collection('punches');
    expect(await punches.countDocuments()).toBe(kept);
    await punches.insertMany(batch(10_000_000));
    expect(await punches.countDocuments()).toBe(kept + 200);
    await client.close();
    running.child.kill('SIGTERM');
    await running.exited;
  });
});
