import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Binary, Decimal128, Long, ObjectId } from 'bson';
import { type Document, MongoClient } from 'mongodb';
import { launch } from '../launcher';
import { exportDatabase } from './export';
import { openSource } from './source';

jest.setTimeout(60_000);

function indexShape(specs: Document[]): Document[] {
  return specs
    .map((s) => {
      const { v: _v, ns: _ns, ...rest } = s;
      return rest;
    })
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

async function everything(
  client: MongoClient,
  db: string,
): Promise<Record<string, { docs: Document[]; indexes: Document[] }>> {
  const out: Record<string, { docs: Document[]; indexes: Document[] }> = {};
  for (const { name } of await client.db(db).listCollections({}, { nameOnly: true }).toArray()) {
    const c = client.db(db).collection(name);
    out[name] = {
      docs: await c.find().sort({ _id: 1 }).toArray(),
      indexes: indexShape(await c.listIndexes().toArray()),
    };
  }
  return out;
}

describe('db:export', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'embedded-mongo-export-'));
    // A populated data directory, written and closed like the app leaves it.
    const src = await launch({ dataDir: dir, socketPath: true, quiet: true });
    const client = await MongoClient.connect(src.uri);
    const db = client.db('timmy');
    await db.collection('punches').insertMany(
      Array.from({ length: 2500 }, (_, i) => ({
        _id: new ObjectId(),
        enrollid: String(1000 + (i % 37)),
        time: new Date(1_700_000_000_000 + i * 60_000),
        device_sn: `SN${i % 5}`,
        is_send: i % 3 === 0,
        dedupe_key: `k${i}`,
        raw: { enrollid: 1000 + (i % 37), note: i % 7 === 0 ? null : 'x', tags: [i, 'a'] },
      })),
    );
    await db.collection('punches').createIndex({ dedupe_key: 1 }, { unique: true });
    await db.collection('punches').createIndex({ device_sn: 1, time: -1 });
    await db.collection('punches').createIndex({ enrollid: 1 }, { partialFilterExpression: { is_send: false } });
    await db
      .collection('operations')
      .insertMany(
        Array.from({ length: 300 }, (_, i) => ({ _id: new ObjectId(), n: Long.fromString('9007199254740993'), i })),
      );
    await db.collection('operations').createIndex({ createdAt: 1 }, { expireAfterSeconds: 90 * 86400 });
    await db.collection('operations').createIndex({ i: 1 }, { sparse: true, name: 'by_i' });
    await db.collection('misc').insertMany([
      { _id: 'settings' as never, price: Decimal128.fromString('1.25'), blob: new Binary(Buffer.from([1, 2, 3])) },
      { _id: 7 as never, nested: { a: [1, { b: 2 }] } },
    ]);
    await db.createCollection('empty');
    await client.close();
    await src.stop();
  });

  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('copies every collection, document and index of a data directory into another server, verified by counts', async () => {
    const target = await launch({ port: 0, quiet: true });
    const source = await openSource({ dataDir: dir });
    try {
      const logs: string[] = [];
      const reports = await exportDatabase({
        sourceUri: source.uri,
        sourceDb: 'timmy',
        targetUri: `${target.uri}/moved`,
        batchSize: 400,
        log: (m) => logs.push(m),
      });
      expect(reports.map((r) => [r.name, r.source, r.target, r.copied])).toEqual([
        ['empty', 0, 0, 0],
        ['misc', 2, 2, 2],
        ['operations', 300, 300, 300],
        ['punches', 2500, 2500, 2500],
      ]);
      const a = await MongoClient.connect(source.uri);
      const b = await MongoClient.connect(target.uri);
      const before = await everything(a, 'timmy');
      const after = await everything(b, 'moved');
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const name of Object.keys(before)) {
        expect(after[name].indexes).toEqual(before[name].indexes);
        expect(after[name].docs).toEqual(before[name].docs);
      }
      expect(after.punches.indexes.map((i) => i.name)).toEqual([
        '_id_',
        'dedupe_key_1',
        'device_sn_1_time_-1',
        'enrollid_1',
      ]);
      await a.close();
      await b.close();
    } finally {
      await source.close();
      await target.stop();
    }
  });

  it('resumes an interrupted export after the last document already copied', async () => {
    const target = await launch({ port: 0, quiet: true });
    const source = await openSource({ dataDir: dir });
    const a = await MongoClient.connect(source.uri);
    const b = await MongoClient.connect(target.uri);
    try {
      // An earlier run stopped after the first 1000 punches (in _id order) and before the other collections.
      const firstPart = await a.db('timmy').collection('punches').find().sort({ _id: 1 }).limit(1000).toArray();
      await b.db('timmy').collection('punches').insertMany(firstPart);
      const reports = await exportDatabase({
        sourceUri: source.uri,
        sourceDb: 'timmy',
        targetUri: target.uri,
        log: () => undefined,
      });
      const punches = reports.find((r) => r.name === 'punches')!;
      expect(punches).toMatchObject({ resumedAfter: 1000, copied: 1500, source: 2500, target: 2500 });
      expect(await b.db('timmy').collection('punches').find().sort({ _id: 1 }).toArray()).toEqual(
        await a.db('timmy').collection('punches').find().sort({ _id: 1 }).toArray(),
      );
      // Run again: nothing left to copy, still verified.
      const again = await exportDatabase({
        sourceUri: source.uri,
        sourceDb: 'timmy',
        targetUri: target.uri,
        log: () => undefined,
      });
      expect(again.every((r) => r.copied === 0 && r.source === r.target)).toBe(true);
    } finally {
      await a.close();
      await b.close();
      await source.close();
      await target.stop();
    }
  });
});
