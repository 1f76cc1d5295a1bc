import {
  Binary,
  Decimal128,
  Double,
  Int32,
  Long,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  ObjectId,
  UUID,
} from 'mongodb';
import { type EmbeddedMongo, start } from './index';
import { launch } from './launcher';

jest.setTimeout(30_000);

/** Conformance through the official driver: the commands and error shapes of a standalone mongod. */
describe('embedded-mongo via the MongoDB driver', () => {
  let server: EmbeddedMongo;
  let client: MongoClient;

  beforeAll(async () => {
    server = await start({ port: 0, quiet: true });
    client = await MongoClient.connect(server.uri, { serverSelectionTimeoutMS: 5000 });
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  const db = (name = 'driver') => client.db(name);

  async function expectServerError(p: Promise<unknown>, code: number): Promise<MongoServerError> {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(MongoServerError);
      expect((e as MongoServerError).code).toBe(code);
      return e as MongoServerError;
    }
    throw new Error(`expected server error ${code}`);
  }

  it('exposes a mongodb:// uri without a database and an ephemeral port', () => {
    expect(server.uri).toBe(`mongodb://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
  });

  describe('server commands', () => {
    it('answers hello, isMaster, ping, buildInfo, getParameter, serverStatus, listDatabases', async () => {
      const admin = client.db('admin');
      const hello = await admin.command({ hello: 1 });
      expect(hello).toMatchObject({
        helloOk: true,
        isWritablePrimary: true,
        minWireVersion: 0,
        maxBsonObjectSize: 16 * 1024 * 1024,
        maxMessageSizeBytes: 48_000_000,
        maxWriteBatchSize: 100_000,
        logicalSessionTimeoutMinutes: 30,
        ok: 1,
      });
      expect(hello.maxWireVersion).toBeGreaterThanOrEqual(17);
      expect(hello.localTime).toBeInstanceOf(Date);
      expect(typeof hello.connectionId).toBe('number');
      expect(hello.compression).toBeUndefined();
      expect(await admin.command({ isMaster: 1 })).toMatchObject({ ismaster: true, ok: 1 });
      expect(await admin.command({ ping: 1 })).toEqual({ ok: 1 });
      expect((await admin.command({ buildInfo: 1 })).versionArray).toHaveLength(4);
      expect(
        (await admin.command({ getParameter: 1, featureCompatibilityVersion: 1 })).featureCompatibilityVersion,
      ).toEqual({
        version: '7.0',
      });
      const status = await admin.command({ serverStatus: 1 });
      expect(status.connections.current).toBeGreaterThanOrEqual(1);
      await db('listdb_a').collection('x').insertOne({ a: 1 });
      const dbs = await client.db().admin().listDatabases();
      expect(dbs.databases.map((d) => d.name)).toContain('listdb_a');
    });

    it('answers unknown commands with CommandNotFound', async () => {
      const e = await expectServerError(db().command({ frobnicate: 1 }), 59);
      expect(e.codeName).toBe('CommandNotFound');
      expect(e.message).toContain('frobnicate');
    });

    it('refuses transactions cleanly, like a standalone mongod', async () => {
      const session = client.startSession();
      try {
        session.startTransaction();
        await expect(db().collection('tx').insertOne({ a: 1 }, { session })).rejects.toThrow(
          /retryable writes|[Tt]ransaction/,
        );
      } finally {
        await session.abortTransaction().catch(() => undefined);
        await session.endSession();
      }
      const e = await expectServerError(
        db().command({
          insert: 'tx',
          documents: [{ a: 1 }],
          txnNumber: Long.fromNumber(1),
          startTransaction: true,
          autocommit: false,
        }),
        20,
      );
      expect(e.codeName).toBe('IllegalOperation');
      expect(await db().collection('tx').countDocuments()).toBe(0);
    });
  });

  describe('catalog', () => {
    it('creates, lists and drops collections and databases, isolating databases', async () => {
      const a = db('iso_a');
      const b = db('iso_b');
      await a.createCollection('things');
      await expectServerError(a.createCollection('things'), 48);
      await a.collection('things').insertOne({ v: 'a' });
      await b.collection('things').insertOne({ v: 'b' });
      expect(await a.collection('things').find().project({ _id: 0 }).toArray()).toEqual([{ v: 'a' }]);
      const listed = await a.listCollections({ name: 'things' }).toArray();
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ name: 'things', type: 'collection' });
      expect((await a.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toEqual(['things']);
      expect(await a.collection('things').drop()).toBe(true);
      expect(await a.listCollections().toArray()).toEqual([]);
      expect(await b.dropDatabase()).toBe(true);
      expect(await b.collection('things').countDocuments()).toBe(0);
      expect(await a.collection('things').countDocuments()).toBe(0);
    });

    it('renames collections with their indexes, and counts with the count command', async () => {
      const src = db('ren').collection('from');
      await src.createIndex({ k: 1 }, { unique: true });
      await src.insertMany([{ k: 1 }, { k: 2 }, { k: 3 }]);
      await src.rename('to');
      const dst = db('ren').collection('to');
      expect((await dst.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'k_1']);
      expect(await db('ren').command({ count: 'to', query: { k: { $gte: 2 } } })).toEqual({ n: 2, ok: 1 });
      expect(await db('ren').command({ count: 'from' })).toEqual({ n: 0, ok: 1 });
      await expect(dst.insertOne({ k: 1 })).rejects.toMatchObject({ code: 11000 });
      await expectServerError(db('ren').createCollection('v', { viewOn: 'to', pipeline: [] }), 2);
      await expectServerError(db('ren').createCollection('val', { validator: { k: { $type: 'int' } } }), 2);
    });

    it('creates, lists and drops indexes with mongod conflict errors', async () => {
      const c = db().collection('idx');
      expect(await c.createIndex({ a: 1 }, { unique: true })).toBe('a_1');
      expect(await c.createIndex({ a: 1 }, { unique: true })).toBe('a_1');
      expect(
        await c.createIndexes([
          { key: { b: 1, c: -1 }, name: 'bc' },
          { key: { d: 1 }, sparse: true },
        ]),
      ).toEqual(['bc', 'd_1']);
      const specs = await c.listIndexes().toArray();
      expect(specs.map((s) => s.name)).toEqual(['_id_', 'a_1', 'bc', 'd_1']);
      expect(specs[1]).toMatchObject({ v: 2, key: { a: 1 }, unique: true });
      expect(specs[2].key).toEqual({ b: 1, c: -1 });
      await expectServerError(c.createIndex({ z: 1 }, { name: 'a_1' }), 86);
      await expectServerError(c.createIndex({ a: 1 }, { name: 'other', unique: false }), 85);
      await c.dropIndex('bc');
      await expectServerError(c.dropIndex('nope'), 27);
      await c.dropIndexes();
      expect((await c.listIndexes().toArray()).map((s) => s.name)).toEqual(['_id_']);
      await expectServerError(db().collection('never_created').listIndexes().toArray(), 26);
      await expectServerError(c.createIndex({ body: 'text' }), 67);
    });
  });

  describe('CRUD', () => {
    it('inserts, finds with filter/sort/skip/limit/projection, counts and distinct', async () => {
      const c = db().collection('crud');
      await c.insertMany(
        Array.from({ length: 20 }, (_, i) => ({
          i,
          parity: i % 2 ? 'odd' : 'even',
          tags: [`t${i % 3}`],
          nested: { x: i * 10 },
        })),
      );
      const page = await c
        .find({ parity: 'odd' }, { sort: { i: -1 }, skip: 2, limit: 3, projection: { _id: 0, i: 1, 'nested.x': 1 } })
        .toArray();
      expect(page).toEqual([
        { i: 15, nested: { x: 150 } },
        { i: 13, nested: { x: 130 } },
        { i: 11, nested: { x: 110 } },
      ]);
      expect(
        await c.findOne({ i: { $gt: 17 } }, { projection: { parity: 0, tags: 0, nested: 0, _id: 0 }, sort: { i: 1 } }),
      ).toEqual({ i: 18 });
      expect(await c.countDocuments({ parity: 'even' })).toBe(10);
      expect(await c.countDocuments({}, { skip: 5, limit: 10 })).toBe(10);
      expect(await c.estimatedDocumentCount()).toBe(20);
      expect(await c.distinct('tags')).toEqual(['t0', 't1', 't2']);
      expect(await c.distinct('nested.x', { i: { $lt: 3 } })).toEqual([0, 10, 20]);
      expect(await c.find({ $or: [{ i: 1 }, { 'nested.x': 30 }] }).count()).toBe(2);
      expect(await c.find({ tags: { $in: ['t1'] }, i: { $lte: 4 } }).toArray()).toHaveLength(2);
    });

    it('rejects a bad projection and bad operators with ok:0 errors', async () => {
      const c = db().collection('crud');
      await expect(c.find({}, { projection: { a: 1, b: 0 } }).toArray()).rejects.toBeInstanceOf(MongoServerError);
      await expect(c.find({ i: { $bogus: 1 } }).toArray()).rejects.toBeInstanceOf(MongoServerError);
      await expectServerError(c.updateOne({}, { $bogus: { a: 1 } }), 9);
      await expectServerError(c.updateOne({}, { $inc: { parity: 1 } }), 14);
    });

    it('updates with operators, multi, upsert + $setOnInsert, arrayFilters and positional $', async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the driver's update typings reject these dynamic documents
      const c = db().collection<any>('upd');
      await c.insertMany([
        {
          _id: 1 as never,
          n: 1,
          arr: [1, 2, 3],
          items: [
            { k: 'a', q: 1 },
            { k: 'b', q: 2 },
          ],
        },
        { _id: 2 as never, n: 2, arr: [], items: [] },
      ]);
      const r1 = await c.updateOne(
        { _id: 1 },
        { $inc: { n: 5 }, $push: { arr: 4 } as never, $set: { 'deep.x': true }, $currentDate: { at: true } },
      );
      expect(r1).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
      const d1 = await c.findOne({ _id: 1 });
      expect(d1).toMatchObject({ n: 6, arr: [1, 2, 3, 4], deep: { x: true } });
      expect(d1!.at).toBeInstanceOf(Date);
      const noop = await c.updateOne({ _id: 1 }, { $set: { n: 6 } });
      expect(noop).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
      const many = await c.updateMany({}, { $addToSet: { arr: 9 }, $unset: { deep: '' } });
      expect(many).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
      await c.updateOne({ _id: 1, 'items.k': 'b' }, { $set: { 'items.$.q': 20 } });
      await c.updateOne({ _id: 1 }, { $inc: { 'items.$[e].q': 100 } }, { arrayFilters: [{ 'e.k': 'a' }] });
      expect((await c.findOne({ _id: 1 }))!.items).toEqual([
        { k: 'a', q: 101 },
        { k: 'b', q: 20 },
      ]);
      await c.updateOne(
        { _id: 2 },
        { $pull: { arr: 9 } as never, $rename: { n: 'm' }, $max: { top: 5 }, $min: { low: -1 } },
      );
      expect(await c.findOne({ _id: 2 })).toEqual({ _id: 2, arr: [], items: [], m: 2, top: 5, low: -1 });

      const up = await c.updateOne(
        { key: 'new', level: { $gt: 1 } },
        { $set: { v: 1 }, $setOnInsert: { created: true } },
        { upsert: true },
      );
      expect(up.upsertedCount).toBe(1);
      expect(up.upsertedId).toBeInstanceOf(ObjectId);
      expect(await c.findOne({ _id: up.upsertedId! }, { projection: { _id: 0 } })).toEqual({
        key: 'new',
        v: 1,
        created: true,
      });
      const again = await c.updateOne(
        { key: 'new' },
        { $set: { v: 2 }, $setOnInsert: { created: false } },
        { upsert: true },
      );
      expect(again).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
      expect((await c.findOne({ key: 'new' }))!.created).toBe(true);

      const rep = await c.replaceOne({ _id: 2 }, { replaced: true });
      expect(rep.modifiedCount).toBe(1);
      expect(await c.findOne({ _id: 2 })).toEqual({ _id: 2, replaced: true });
      await expectServerError(c.updateOne({ _id: 2 }, { $set: { _id: 3 } }), 66);
      const pipe = await c.updateOne({ _id: 2 }, [{ $set: { copy: '$replaced' } }]);
      expect(pipe.modifiedCount).toBe(1);
      expect((await c.findOne({ _id: 2 }))!.copy).toBe(true);
    });

    it('deletes one and many', async () => {
      const c = db().collection('del');
      await c.insertMany([{ g: 1 }, { g: 1 }, { g: 2 }, { g: 2 }, { g: 2 }]);
      expect((await c.deleteOne({ g: 1 })).deletedCount).toBe(1);
      expect((await c.deleteMany({ g: 2 })).deletedCount).toBe(3);
      expect((await c.deleteMany({ g: 99 })).deletedCount).toBe(0);
      expect(await c.countDocuments()).toBe(1);
      expect((await db().collection('no_such').deleteMany({})).deletedCount).toBe(0);
    });

    it('findOneAndUpdate/Replace/Delete with sort, projection, new and upsert', async () => {
      const c = db().collection('fam');
      await c.insertMany([
        { q: 'x', p: 3, status: 'pending' },
        { q: 'x', p: 1, status: 'pending' },
        { q: 'x', p: 2, status: 'pending' },
      ]);
      const before = await c.findOneAndUpdate(
        { status: 'pending' },
        { $set: { status: 'sent' } },
        { sort: { p: 1 }, returnDocument: 'before' },
      );
      expect(before).toMatchObject({ p: 1, status: 'pending' });
      const after = await c.findOneAndUpdate(
        { status: 'pending' },
        { $set: { status: 'sent' }, $inc: { attempts: 1 } },
        { sort: { p: -1 }, returnDocument: 'after', projection: { _id: 0, p: 1, status: 1, attempts: 1 } },
      );
      expect(after).toEqual({ p: 3, status: 'sent', attempts: 1 });
      expect(await c.findOneAndUpdate({ status: 'none' }, { $set: { a: 1 } })).toBeNull();
      const ups = await c.findOneAndUpdate(
        { q: 'y' },
        { $set: { p: 9 } },
        { upsert: true, returnDocument: 'after', includeResultMetadata: true },
      );
      expect(ups.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false });
      expect(ups.value).toMatchObject({ q: 'y', p: 9 });
      const rep = await c.findOneAndReplace({ q: 'y' }, { q: 'y', replaced: 1 }, { returnDocument: 'after' });
      expect(rep).toMatchObject({ q: 'y', replaced: 1 });
      expect(rep).not.toHaveProperty('p');
      const del = await c.findOneAndDelete({ q: 'x' }, { sort: { p: -1 } });
      expect(del).toMatchObject({ p: 3 });
      expect(await c.countDocuments()).toBe(3);
    });
  });

  describe('E11000 on every write path', () => {
    const ns = 'driver.uniq';
    let c: ReturnType<ReturnType<MongoClient['db']>['collection']>;

    beforeAll(async () => {
      c = db().collection('uniq');
      await c.createIndex({ email: 1 }, { unique: true });
      await c.createIndex({ org: 1, code: 1 }, { unique: true });
      await c.insertMany([
        { _id: 'u1' as never, email: 'a@x', org: 1, code: 'A' },
        { _id: 'u2' as never, email: 'b@x', org: 1, code: 'B' },
      ]);
    });

    function expectDup(
      e: MongoServerError | { code?: number; errmsg?: string; keyPattern?: unknown; keyValue?: unknown },
      index: string,
      keyValue: object,
    ) {
      expect(e.code).toBe(11000);
      const msg = 'errmsg' in e && e.errmsg ? e.errmsg : (e as MongoServerError).message;
      expect(msg).toContain(`E11000 duplicate key error collection: ${ns} index: ${index} dup key:`);
      expect(e.keyValue).toEqual(keyValue);
    }

    it('on insert (single field, compound and _id)', async () => {
      expectDup(await expectServerError(c.insertOne({ email: 'a@x' }), 11000), 'email_1', { email: 'a@x' });
      const e = await expectServerError(c.insertOne({ email: 'c@x', org: 1, code: 'A' }), 11000);
      expectDup(e, 'org_1_code_1', { org: 1, code: 'A' });
      expect(e.keyPattern).toEqual({ org: 1, code: 1 });
      const idErr = await expectServerError(c.insertOne({ _id: 'u1' as never, email: 'z@x' }), 11000);
      expectDup(idErr, '_id_', { _id: 'u1' });
      expect(idErr.message).toBe(
        'E11000 duplicate key error collection: driver.uniq index: _id_ dup key: { _id: "u1" }',
      );
    });

    it('on update, replace and upsert', async () => {
      expectDup(
        await expectServerError(c.updateOne({ _id: 'u2' as never }, { $set: { email: 'a@x' } }), 11000),
        'email_1',
        { email: 'a@x' },
      );
      expectDup(await expectServerError(c.replaceOne({ _id: 'u2' as never }, { email: 'a@x' }), 11000), 'email_1', {
        email: 'a@x',
      });
      expectDup(
        await expectServerError(
          c.updateOne({ email: 'new@x' }, { $set: { org: 1, code: 'B' } }, { upsert: true }),
          11000,
        ),
        'org_1_code_1',
        { org: 1, code: 'B' },
      );
      expectDup(await expectServerError(c.updateMany({}, { $set: { email: 'same@x' } }), 11000), 'email_1', {
        email: 'same@x',
      });
      expect(await c.countDocuments({ email: 'same@x' })).toBe(1);
    });

    it('on findAndModify (update and upsert) as a command error', async () => {
      const e = await expectServerError(c.findOneAndUpdate({ _id: 'u1' as never }, { $set: { email: 'b@x' } }), 11000);
      expect(e.codeName).toBe('DuplicateKey');
      expectDup(e, 'email_1', { email: 'b@x' });
      const up = await expectServerError(
        c.findOneAndUpdate({ email: 'zz@x' }, { $set: { email: 'b@x' } }, { upsert: true }),
        11000,
      );
      expectDup(up, 'email_1', { email: 'b@x' });
      expect(await c.countDocuments({ email: { $in: ['zz@x', 'b@x'] } })).toBe(1);
    });

    it('on index build over existing duplicates', async () => {
      const d = db().collection('uniq_build');
      await d.insertMany([{ k: 1 }, { k: 1 }]);
      const e = await expectServerError(d.createIndex({ k: 1 }, { unique: true }), 11000);
      expect(e.message).toContain(
        'E11000 duplicate key error collection: driver.uniq_build index: k_1 dup key: { k: 1 }',
      );
      expect((await d.listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
    });

    it('in bulkWrite, ordered stops at the first error and unordered carries on', async () => {
      const b = db().collection('bulk');
      await b.createIndex({ k: 1 }, { unique: true });
      const ordered = await b
        .bulkWrite(
          [
            { insertOne: { document: { k: 1 } } },
            { insertOne: { document: { k: 1 } } },
            { insertOne: { document: { k: 2 } } },
          ],
          { ordered: true },
        )
        .catch((e: unknown) => e);
      expect(ordered).toBeInstanceOf(MongoBulkWriteError);
      const oe = ordered as MongoBulkWriteError;
      expect(oe.code).toBe(11000);
      expect(oe.writeErrors).toHaveLength(1);
      expect((oe.writeErrors as unknown as Array<{ index: number }>)[0].index).toBe(1);
      expect(oe.result.insertedCount).toBe(1);
      expect(await b.countDocuments()).toBe(1);

      const unordered = (await b
        .bulkWrite(
          [
            { insertOne: { document: { k: 1 } } },
            { insertOne: { document: { k: 3 } } },
            { updateOne: { filter: { k: 3 }, update: { $set: { k: 1 } } } },
            { insertOne: { document: { k: 4 } } },
            { deleteOne: { filter: { k: 4 } } },
          ],
          { ordered: false },
        )
        .catch((e: unknown) => e)) as MongoBulkWriteError;
      expect(unordered).toBeInstanceOf(MongoBulkWriteError);
      const idx = (unordered.writeErrors as unknown as Array<{ index: number; code: number }>).map((w) => [
        w.index,
        w.code,
      ]);
      expect(idx).toEqual([
        [0, 11000],
        [2, 11000],
      ]);
      expect(unordered.result.insertedCount).toBe(2);
      expect(unordered.result.deletedCount).toBe(1);
      expect((await b.find({}, { projection: { _id: 0 }, sort: { k: 1 } }).toArray()).map((d) => d.k)).toEqual([1, 3]);
    });
  });

  describe('BSON round trips', () => {
    it('keeps ObjectId, Date, Long, Binary, UUID, Decimal128, doubles, nulls and nesting', async () => {
      const c = db().collection('types');
      const doc = {
        _id: new ObjectId(),
        ref: new ObjectId(),
        when: new Date('2024-02-29T12:34:56.789Z'),
        big: Long.fromString('9007199254740993'),
        small: Long.fromNumber(42),
        bin: new Binary(Buffer.from([0, 1, 2, 255]), 0),
        uuid: new UUID(),
        dec: Decimal128.fromString('12345.6789'),
        dbl: new Double(1.5),
        int: new Int32(7),
        nil: null,
        bool: false,
        arr: [1, 'two', { three: 3 }, [4]],
        nested: { deep: { deeper: 'yes' } },
        str: 'ünïcødé ✓',
      };
      await c.insertOne(doc);
      const back = await c.findOne({ _id: doc._id }, { promoteLongs: false, promoteValues: true });
      expect(back!._id.equals(doc._id)).toBe(true);
      expect((back!.ref as ObjectId).equals(doc.ref)).toBe(true);
      expect(back!.when).toEqual(doc.when);
      expect((back!.big as Long).toString()).toBe('9007199254740993');
      expect((back!.bin as Binary).buffer).toEqual(new Uint8Array([0, 1, 2, 255]));
      expect((back!.uuid as Binary).sub_type).toBe(4);
      expect((back!.uuid as Binary).toUUID().toHexString()).toBe(doc.uuid.toHexString());
      expect((back!.dec as Decimal128).toString()).toBe('12345.6789');
      expect(back!.dbl).toBe(1.5);
      expect(back!.int).toBe(7);
      expect(back!.nil).toBeNull();
      expect(back!.bool).toBe(false);
      expect(back!.arr).toEqual([1, 'two', { three: 3 }, [4]]);
      expect(back!.nested).toEqual({ deep: { deeper: 'yes' } });
      expect(back!.str).toBe('ünïcødé ✓');
      expect(await c.countDocuments({ ref: doc.ref, when: { $gte: new Date('2024-01-01') }, uuid: doc.uuid })).toBe(1);
      expect(await c.countDocuments({ big: Long.fromString('9007199254740993') })).toBe(1);
      expect(await c.countDocuments({ small: 42 })).toBe(1);
    });
  });

  describe('cursors', () => {
    it('pages a cursor over several thousand documents with getMore, and kills cursors', async () => {
      const c = db().collection('many');
      const N = 5000;
      await c.insertMany(Array.from({ length: N }, (_, i) => ({ i, pad: 'x'.repeat(50) })));
      let seen = 0;
      let last = -1;
      for await (const d of c.find({}, { sort: { i: 1 }, batchSize: 333 })) {
        expect(d.i).toBe(last + 1);
        last = d.i as number;
        seen++;
      }
      expect(seen).toBe(N);
      expect(await c.find({ i: { $gte: 100 } }).toArray()).toHaveLength(N - 100);

      const cur = c.find({}, { batchSize: 10 });
      await cur.next();
      const id = cur.id!;
      expect(id.isZero()).toBe(false);
      await cur.close();
      const e = await expectServerError(db().command({ getMore: id, collection: 'many' }), 43);
      expect(e.codeName).toBe('CursorNotFound');
      expect(await c.find({}).limit(3).toArray()).toHaveLength(3);
      expect(await c.find({}, { batchSize: 2 }).limit(7).toArray()).toHaveLength(7);
    });

    it('aggregates with $match $group $sort $skip $limit $project $count $facet $unwind $lookup', async () => {
      const orders = db().collection('orders');
      const customers = db().collection('customers');
      await customers.insertMany([
        { _id: 'c1' as never, name: 'Ann' },
        { _id: 'c2' as never, name: 'Bob' },
      ]);
      await orders.insertMany([
        { cust: 'c1', total: 10, items: ['a', 'b'] },
        { cust: 'c1', total: 5, items: ['a'] },
        { cust: 'c2', total: 7, items: [] },
        { cust: 'c2', total: 1, items: ['c'] },
      ]);
      const grouped = await orders
        .aggregate([
          { $match: { total: { $gte: 2 } } },
          { $group: { _id: '$cust', sum: { $sum: '$total' }, n: { $sum: 1 } } },
          { $sort: { sum: -1 } },
          { $project: { _id: 0, cust: '$_id', sum: 1, n: 1 } },
        ])
        .toArray();
      expect(grouped).toEqual([
        { sum: 15, n: 2, cust: 'c1' },
        { sum: 7, n: 1, cust: 'c2' },
      ]);
      const unwound = await orders.aggregate([{ $unwind: '$items' }, { $count: 'n' }]).toArray();
      expect(unwound).toEqual([{ n: 4 }]);
      const faceted = await orders
        .aggregate([
          { $sort: { total: 1 } },
          {
            $facet: {
              total: [{ $count: 'n' }],
              page: [{ $skip: 1 }, { $limit: 2 }, { $project: { _id: 0, total: 1 } }],
            },
          },
        ])
        .toArray();
      expect(faceted).toEqual([{ total: [{ n: 4 }], page: [{ total: 5 }, { total: 7 }] }]);
      const joined = await orders
        .aggregate([
          { $match: { total: 10 } },
          { $lookup: { from: 'customers', localField: 'cust', foreignField: '_id', as: 'c' } },
          { $unwind: '$c' },
        ])
        .toArray();
      expect(joined[0].c).toEqual({ _id: 'c1', name: 'Ann' });
      expect(await customers.findOne({ _id: 'c1' as never })).toEqual({ _id: 'c1', name: 'Ann' });
      const e = await expectServerError(orders.aggregate([{ $frob: {} }]).toArray(), 40324);
      expect(e.message).toContain('$frob');
      await expect(orders.aggregate([{ $out: 'x' }]).toArray()).rejects.toBeInstanceOf(MongoServerError);
    });
  });

  describe('concurrency', () => {
    it('lets exactly one of many racing clients claim a document with findAndModify', async () => {
      const c = db().collection('claims');
      const clients = await Promise.all(
        Array.from({ length: 8 }, () => MongoClient.connect(server.uri, { maxPoolSize: 4 })),
      );
      try {
        for (let round = 0; round < 5; round++) {
          await c.deleteMany({});
          await c.insertOne({ job: round, status: 'pending' });
          const results = await Promise.all(
            clients.flatMap((cl, i) =>
              [0, 1, 2].map((k) =>
                cl
                  .db('driver')
                  .collection('claims')
                  .findOneAndUpdate(
                    { job: round, status: 'pending' },
                    { $set: { status: 'sent', owner: `${i}-${k}` } },
                    { returnDocument: 'after' },
                  ),
              ),
            ),
          );
          const winners = results.filter((r) => r !== null);
          expect(winners).toHaveLength(1);
          expect((await c.findOne({ job: round }))!.owner).toBe(winners[0].owner);
        }
        // Many jobs, many claimers: every job claimed exactly once.
        await c.deleteMany({});
        await c.insertMany(Array.from({ length: 40 }, (_, job) => ({ job, status: 'pending' })));
        const claimed: number[] = [];
        await Promise.all(
          clients.map(async (cl) => {
            for (;;) {
              const r = await cl
                .db('driver')
                .collection('claims')
                .findOneAndUpdate({ status: 'pending' }, { $set: { status: 'sent' } }, { sort: { job: 1 } });
              if (!r) return;
              claimed.push(r.job as number);
            }
          }),
        );
        expect(claimed.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      } finally {
        await Promise.all(clients.map((cl) => cl.close()));
      }
    });
  });

  describe('TTL indexes', () => {
    it('removes expired documents', async () => {
      const ttlServer = await launch({ port: 0, quiet: true }, { ttlIntervalMs: 50 });
      const cl = await MongoClient.connect(ttlServer.uri);
      try {
        const c = cl.db('ttl').collection('sessions');
        await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
        await c.insertMany([
          { expiresAt: new Date(Date.now() - 1000) },
          { expiresAt: new Date(Date.now() + 3_600_000) },
          { other: 1 },
        ]);
        const deadline = Date.now() + 10_000;
        while ((await c.countDocuments()) !== 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
        expect(await c.countDocuments()).toBe(2);
      } finally {
        await cl.close();
        await ttlServer.stop();
      }
    });
  });
});
