import { MongoClient } from 'mongodb';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { start } from './index';
import { decodeRecords, encodeRecord, openJournal } from './journal';
import { decodeDoc, encodeDoc } from './raw-doc';
import { launch } from './launcher';
import { Store } from './store';

jest.setTimeout(30_000);

describe('journal and snapshot', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-journal-'));
  });

  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  async function withServer<T>(fn: (client: MongoClient) => Promise<T>, tuning = {}): Promise<T> {
    const server = await launch({ port: 0, dataDir: dir, quiet: true }, tuning);
    const client = await MongoClient.connect(server.uri);
    try {
      return await fn(client);
    } finally {
      await client.close();
      await server.stop();
    }
  }

  it('keeps every kind of change across a restart', async () => {
    await withServer(async (client) => {
      const db = client.db('app');
      await db.collection('users').createIndex({ email: 1 }, { unique: true });
      await db.collection('users').createIndex({ tmp: 1 });
      await db.collection('users').insertMany([
        { email: 'a', n: 1 },
        { email: 'b', n: 2 },
        { email: 'c', n: 3 },
      ]);
      await db.collection('users').updateOne({ email: 'a' }, { $set: { n: 10 } });
      await db.collection('users').deleteOne({ email: 'b' });
      await db.collection('users').dropIndex('tmp_1');
      await db.collection('gone').insertOne({ x: 1 });
      await db.collection('gone').drop();
      await client.db('dropped').collection('x').insertOne({ x: 1 });
      await client.db('dropped').dropDatabase();
    });
    await withServer(async (client) => {
      const users = client.db('app').collection('users');
      expect(await users.find({}, { projection: { _id: 0 }, sort: { email: 1 } }).toArray()).toEqual([
        { email: 'a', n: 10 },
        { email: 'c', n: 3 },
      ]);
      expect((await users.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'email_1']);
      await expect(users.insertOne({ email: 'c' })).rejects.toMatchObject({ code: 11000 });
      expect((await client.db('app').listCollections().toArray()).map((c) => c.name)).toEqual(['users']);
      const dbs = await client.db('admin').admin().listDatabases();
      expect(dbs.databases.map((d) => d.name)).not.toContain('dropped');
    });
  });

  it('compacts into a snapshot and recovers from snapshot plus journal', async () => {
    await withServer(
      async (client) => {
        const c = client.db('app').collection('big');
        await c.createIndex({ k: 1 }, { unique: true });
        for (let i = 0; i < 20; i++) {
          await c.insertMany(Array.from({ length: 50 }, (_, j) => ({ k: i * 50 + j, pad: 'x'.repeat(100) })));
          await c.deleteMany({ k: { $lt: i * 10 } });
        }
      },
      { compactBytes: 32 * 1024 },
    );
    const files = await fsp.readdir(dir);
    expect(files).toContain('snapshot.bson');
    expect(files.filter((f) => f.startsWith('journal.'))).toHaveLength(1);
    await withServer(async (client) => {
      const c = client.db('app').collection('big');
      expect(await c.countDocuments()).toBe(1000 - 190);
      expect(await c.countDocuments({ k: { $gte: 190 } })).toBe(1000 - 190);
      await expect(c.insertOne({ k: 500 })).rejects.toMatchObject({ code: 11000 });
    });
  });

  it('drops a torn record at the end of the journal and keeps what came before', async () => {
    await withServer(async (client) => {
      await client
        .db('app')
        .collection('t')
        .insertMany([{ _id: 1 as never }, { _id: 2 as never }]);
    });
    const journal = (await fsp.readdir(dir)).find((f) => f.startsWith('journal.'))!;
    const torn = encodeRecord({ op: 'put', db: 'app', c: 't', d: { _id: 3 } });
    await fsp.appendFile(path.join(dir, journal), torn.subarray(0, torn.length - 3));
    await withServer(async (client) => {
      const t = client.db('app').collection('t');
      expect((await t.find().toArray()).map((d) => d._id)).toEqual([1, 2]);
      await t.insertOne({ _id: 4 as never });
    });
    await withServer(async (client) => {
      expect((await client.db('app').collection('t').find().toArray()).map((d) => d._id)).toEqual([1, 2, 4]);
    });
  });

  it('refuses a damaged snapshot instead of silently losing data', async () => {
    await withServer(
      async (client) => {
        await client
          .db('app')
          .collection('s')
          .insertMany(Array.from({ length: 300 }, (_, i) => ({ i, pad: 'y'.repeat(200) })));
      },
      { compactBytes: 16 * 1024 },
    );
    const snap = path.join(dir, 'snapshot.bson');
    const buf = await fsp.readFile(snap);
    buf[Math.floor(buf.length / 2)] ^= 0xff;
    await fsp.writeFile(snap, buf);
    await expect(start({ port: 0, dataDir: dir, quiet: true })).rejects.toThrow(/damaged/);
  });

  it('locks the data directory while it is open', async () => {
    const a = await start({ port: 0, dataDir: dir, quiet: true });
    try {
      await expect(start({ port: 0, dataDir: dir, quiet: true })).rejects.toThrow(/already open/);
    } finally {
      await a.stop();
    }
    const b = await start({ port: 0, dataDir: dir, quiet: true });
    await b.stop();
  });

  it('shares one fsync between writes that arrive together, and flushes unawaited writes on close', async () => {
    const store = new Store();
    const journal = await openJournal(dir, store, () => undefined);
    store.journal = journal;
    const coll = store.ensureCollection('app', 'c');
    const waits: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      coll.insert({ _id: i });
      waits.push(journal.waitDurable(store.seq));
    }
    await Promise.all(waits);
    expect(journal.stats.records).toBe(201);
    expect(journal.stats.fsyncs).toBeLessThan(10);
    coll.insert({ _id: 'unawaited' });
    await journal.close();

    const again = new Store();
    const reopened = await openJournal(dir, again, () => undefined);
    expect(again.getCollection('app', 'c')!.size).toBe(201);
    await reopened.close();
  });

  it('frames stored bytes as put records and reads them back as bytes, whatever the names', () => {
    const names: Array<[string, string]> = [
      ['app', 'c'],
      ['app', 'c'],
      ['app', 'other'],
      ['bäse', 'c'],
      ['app', 'c'],
    ];
    const recs = names.map(([db, c], i) => encodeRecord({ op: 'put', db, c, raw: encodeDoc({ _id: i, db, c }) }));
    recs.push(encodeRecord({ op: 'del', db: 'app', c: 'c', id: 1 }));
    const puts: unknown[] = [];
    const others: unknown[] = [];
    const all = Buffer.concat(recs);
    const end = decodeRecords(
      all,
      (e) => others.push(e),
      (db, c, d) => puts.push([db, c, decodeDoc(d)]),
    );
    expect(end).toBe(all.length);
    expect(puts).toEqual(names.map(([db, c], i) => [db, c, { _id: i, db, c }]));
    expect(others).toEqual([{ op: 'del', db: 'app', c: 'c', id: 1 }]);
  });

  it('writes a snapshot in pieces, letting timers and writes run while it compacts', async () => {
    const store = new Store();
    const journal = await openJournal(dir, store, () => undefined);
    store.journal = journal;
    const coll = store.ensureCollection('app', 'c');
    coll.createIndex({ v: 2, key: { k: 1 }, name: 'k_1' });
    // About 12 MB of documents: a dozen 1 MB pieces at least.
    for (let i = 0; i < 12_000; i++) coll.insert({ _id: i, k: i % 13, pad: 'x'.repeat(1000) });
    await journal.waitDurable(store.seq);
    let ticks = 0;
    const piecesSeen = new Set<number>();
    const timer = setInterval(() => {
      ticks++;
      piecesSeen.add(journal.stats.compactionSlices);
      // A write made while the snapshot is written goes to the new journal generation.
      if (ticks === 2) coll.insert({ _id: 'during', k: 1, pad: '' });
    }, 0);
    try {
      await journal.compact();
    } finally {
      clearInterval(timer);
    }
    expect(journal.stats.compactionSlices).toBeGreaterThanOrEqual(12);
    // The timer ran between the pieces, not only before and after the snapshot.
    expect(piecesSeen.size).toBeGreaterThanOrEqual(6);
    expect(ticks).toBeGreaterThanOrEqual(2);
    await journal.close();

    const again = new Store();
    const reopened = await openJournal(dir, again, () => undefined);
    const c = again.getCollection('app', 'c')!;
    expect(c.size).toBe(12_001);
    expect(c.getById('during')).toEqual({ _id: 'during', k: 1, pad: '' });
    expect(c.count({ k: 1 })).toBe(coll.count({ k: 1 }));
    await reopened.close();
  });

  it('snapshots stored bytes and loads a snapshot larger than one read piece, records cut at piece edges', async () => {
    const store = new Store();
    const journal = await openJournal(dir, store, () => undefined);
    store.journal = journal;
    const coll = store.ensureCollection('app', 'big');
    coll.createIndex({ v: 2, key: { k: 1 }, name: 'k_1' });
    // About 24 MB of documents of uneven sizes: the 16 MB read pieces end inside records.
    for (let i = 0; i < 20_000; i++) coll.insert({ _id: i, k: i % 97, pad: 'x'.repeat(900 + (i % 613)) });
    coll.replace(coll.getById(5)!, { _id: 5, k: 1000, pad: 'changed' });
    coll.remove(coll.getById(6)!);
    await journal.compact();
    await journal.close();

    const again = new Store();
    const reopened = await openJournal(dir, again, () => undefined);
    const c = again.getCollection('app', 'big')!;
    expect(c.size).toBe(19_999);
    expect(c.getById(5)).toEqual({ _id: 5, k: 1000, pad: 'changed' });
    expect(c.getById(19_999)).toEqual({ _id: 19_999, k: 19_999 % 97, pad: 'x'.repeat(900 + (19_999 % 613)) });
    expect(c.count({ k: 3 })).toBe(coll.count({ k: 3 }));
    expect(c.storageBytes).toBe(coll.storageBytes);
    await reopened.close();
  });
});
