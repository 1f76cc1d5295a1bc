import mongoose, { type Connection, Schema, Types } from 'mongoose';
import { type EmbeddedMongo, start } from './index';

jest.setTimeout(30_000);

/** Conformance through unmodified Mongoose, the way the app uses it. */
describe('embedded-mongo via Mongoose', () => {
  let server: EmbeddedMongo;
  let conn: Connection;

  const OwnerSchema = new Schema({ name: { type: String, required: true } });
  const ItemSchema = new Schema(
    {
      sku: { type: String, required: true, unique: true },
      owner: { type: Schema.Types.ObjectId, ref: 'Owner' },
      watchers: [{ type: Schema.Types.ObjectId, ref: 'Owner' }],
      score: { type: Number, default: 0, index: true },
      status: { type: String, enum: ['pending', 'sent', 'done'], default: 'pending' },
      counter: { type: Schema.Types.BigInt },
      blob: Buffer,
      price: Schema.Types.Decimal128,
      due: Date,
      attrs: { type: Map, of: String },
      parts: [new Schema({ name: String, qty: Number }, { _id: false })],
    },
    { timestamps: true },
  );
  ItemSchema.index({ owner: 1, score: -1 });

  beforeAll(async () => {
    server = await start({ port: 0, quiet: true });
    conn = await mongoose
      .createConnection(`${server.uri}/mongoose_spec`, { serverSelectionTimeoutMS: 5000 })
      .asPromise();
    conn.model('Owner', OwnerSchema);
    conn.model('Item', ItemSchema);
    await Promise.all(Object.values(conn.models).map((m) => m.init()));
  });

  afterAll(async () => {
    await conn?.close();
    await server?.stop();
  });

  const Owner = () => conn.model('Owner');
  const Item = () => conn.model('Item');

  beforeEach(async () => {
    await Item().deleteMany({});
    await Owner().deleteMany({});
  });

  it('creates the collections and indexes Mongoose declares', async () => {
    const names = (await conn.db!.listCollections().toArray()).map((c) => c.name).sort();
    expect(names).toEqual(['items', 'owners']);
    const indexes = await Item().listIndexes();
    expect(indexes.map((i) => i.name)).toEqual(
      expect.arrayContaining(['_id_', 'sku_1', 'score_1', 'owner_1_score_-1']),
    );
    expect(indexes.find((i) => i.name === 'sku_1')!.unique).toBe(true);
  });

  it('does CRUD with timestamps, defaults, lean and hydrated documents', async () => {
    const owner = await Owner().create({ name: 'Ann' });
    const item = await Item().create({ sku: 'A1', owner: owner._id, parts: [{ name: 'bolt', qty: 2 }] });
    expect(item.status).toBe('pending');
    const lean = await Item().findById(item._id).lean<Record<string, unknown>>();
    expect(lean!.createdAt).toBeInstanceOf(Date);
    expect(lean!.owner).toBeInstanceOf(Types.ObjectId);
    expect(lean!.parts).toEqual([{ name: 'bolt', qty: 2 }]);
    const doc = await Item().findOne({ sku: 'A1' });
    doc!.set('score', 5);
    await doc!.save();
    expect((await Item().findOne({ score: 5 }).lean<{ sku: string }>())!.sku).toBe('A1');
    expect(await Item().exists({ sku: 'A1' })).toBeTruthy();
    expect(await Item().exists({ sku: 'nope' })).toBeNull();
    await Item().updateMany({}, { $inc: { score: 1 } });
    expect(await Item().countDocuments({ score: 6 })).toBe(1);
    expect(await Item().estimatedDocumentCount()).toBe(1);
    expect(await Item().distinct('sku')).toEqual(['A1']);
    expect((await Item().deleteOne({ sku: 'A1' })).deletedCount).toBe(1);
  });

  it('surfaces E11000 through create, insertMany, updateOne and findOneAndUpdate', async () => {
    await Item().create({ sku: 'dup' });
    await Item().create({ sku: 'other' });
    const err = await Item()
      .create({ sku: 'dup' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11000, keyPattern: { sku: 1 }, keyValue: { sku: 'dup' } });
    const many = await Item()
      .insertMany([{ sku: 'n1' }, { sku: 'dup' }, { sku: 'n2' }], { ordered: false })
      .catch((e: unknown) => e);
    expect(many).toMatchObject({ code: 11000 });
    expect(await Item().countDocuments({ sku: { $in: ['n1', 'n2'] } })).toBe(2);
    await expect(Item().updateOne({ sku: 'other' }, { $set: { sku: 'dup' } })).rejects.toMatchObject({ code: 11000 });
    await expect(
      Item().findOneAndUpdate({ sku: 'zzz' }, { $set: { sku: 'dup' } }, { upsert: true }),
    ).rejects.toMatchObject({
      code: 11000,
    });
  });

  it('upserts with findOneAndUpdate and setDefaultsOnInsert', async () => {
    const created = await Item()
      .findOneAndUpdate(
        { sku: 'up' },
        { $set: { score: 3 } },
        { upsert: true, returnDocument: 'after', setDefaultsOnInsert: true },
      )
      .lean<Record<string, unknown>>();
    expect(created).toMatchObject({ sku: 'up', score: 3, status: 'pending' });
    const updated = await Item()
      .findOneAndUpdate({ sku: 'up' }, { $set: { status: 'sent' } }, { returnDocument: 'after' })
      .lean<Record<string, unknown>>();
    expect(updated).toMatchObject({ status: 'sent', score: 3 });
    expect(await Item().countDocuments()).toBe(1);
  });

  it('round-trips BigInt, Buffer, Decimal128, Date, Map and ObjectId', async () => {
    const when = new Date('2030-01-02T03:04:05.678Z');
    const id = new Types.ObjectId();
    await Item().create({
      sku: 'types',
      owner: id,
      counter: 2n ** 60n + 7n,
      blob: Buffer.from('héllo'),
      price: '1234.50',
      due: when,
      attrs: new Map([['color', 'red']]),
    });
    const back = await Item().findOne({ sku: 'types' });
    expect(back!.get('counter')).toBe(2n ** 60n + 7n);
    expect(Buffer.from(back!.get('blob') as Buffer).toString()).toBe('héllo');
    expect(String(back!.get('price'))).toBe('1234.50');
    expect(back!.get('due')).toEqual(when);
    expect((back!.get('attrs') as Map<string, string>).get('color')).toBe('red');
    expect(String(back!.get('owner'))).toBe(String(id));
    expect(await Item().countDocuments({ due: { $gt: new Date('2029-12-31') }, owner: id })).toBe(1);
  });

  it('populates single and array references', async () => {
    const [a, b] = await Owner().create([{ name: 'Ann' }, { name: 'Bob' }]);
    await Item().create({ sku: 'p1', owner: a._id, watchers: [a._id, b._id] });
    const item = await Item()
      .findOne({ sku: 'p1' })
      .populate('owner')
      .populate('watchers')
      .lean<Record<string, unknown>>();
    expect((item!.owner as { name: string }).name).toBe('Ann');
    expect((item!.watchers as Array<{ name: string }>).map((w) => w.name).sort()).toEqual(['Ann', 'Bob']);
  });

  it('pages with sort ties without skipping or repeating documents', async () => {
    await Item().insertMany(
      Array.from({ length: 95 }, (_, i) => ({ sku: `s${String(i).padStart(3, '0')}`, score: i % 4 })),
    );
    for (const sort of [{ score: -1 }, { score: -1, _id: 1 }, { score: 1, sku: -1 }] as Array<Record<string, 1 | -1>>) {
      const seen: string[] = [];
      for (let page = 0; page < 10; page++) {
        const rows = await Item()
          .find({})
          .sort(sort)
          .skip(page * 10)
          .limit(10)
          .lean<Array<{ sku: string; score: number }>>();
        seen.push(...rows.map((r) => r.sku));
      }
      expect(seen).toHaveLength(95);
      expect(new Set(seen).size).toBe(95);
      const all = await Item().find({}).sort(sort).lean<Array<{ sku: string }>>();
      expect(seen).toEqual(all.map((r) => r.sku));
    }
    const total = await Item().countDocuments({ score: 2 });
    expect(total).toBe(24);
  });

  it('streams several thousand documents through a Mongoose cursor', async () => {
    const N = 4000;
    await Item().insertMany(Array.from({ length: N }, (_, i) => ({ sku: `c${i}`, score: i })));
    let n = 0;
    let sum = 0;
    await Item()
      .find({}, { score: 1 })
      .sort({ score: 1 })
      .batchSize(250)
      .cursor()
      .eachAsync((d: { score: number }) => {
        n++;
        sum += d.score;
      });
    expect(n).toBe(N);
    expect(sum).toBe((N * (N - 1)) / 2);
  });

  it('aggregates like countDocuments and paged listings do', async () => {
    const owner = await Owner().create({ name: 'Ann' });
    await Item().insertMany(
      Array.from({ length: 30 }, (_, i) => ({ sku: `g${i}`, score: i % 3, owner: i < 10 ? owner._id : undefined })),
    );
    const rows = await Item().aggregate([
      { $match: { score: { $gte: 1 } } },
      { $group: { _id: '$score', n: { $sum: 1 }, skus: { $push: '$sku' } } },
      { $sort: { _id: 1 } },
      { $project: { n: 1, first: { $arrayElemAt: ['$skus', 0] } } },
    ]);
    expect(rows).toEqual([
      { _id: 1, n: 10, first: 'g1' },
      { _id: 2, n: 10, first: 'g2' },
    ]);
    const [facet] = await Item().aggregate([
      { $match: { owner: owner._id } },
      {
        $facet: {
          total: [{ $count: 'n' }],
          page: [{ $sort: { sku: 1 } }, { $skip: 2 }, { $limit: 3 }, { $project: { _id: 0, sku: 1 } }],
        },
      },
    ]);
    expect(facet).toEqual({ total: [{ n: 10 }], page: [{ sku: 'g2' }, { sku: 'g3' }, { sku: 'g4' }] });
  });

  it('runs bulkWrite and syncIndexes', async () => {
    const res = await Item().bulkWrite([
      { insertOne: { document: { sku: 'b1' } } },
      { insertOne: { document: { sku: 'b2' } } },
      { updateOne: { filter: { sku: 'b1' }, update: { $set: { score: 9 } } } },
      { deleteOne: { filter: { sku: 'b2' } } },
      { updateOne: { filter: { sku: 'b3' }, update: { $set: { score: 1 } }, upsert: true } },
    ]);
    expect(res).toMatchObject({ insertedCount: 2, modifiedCount: 1, deletedCount: 1, upsertedCount: 1 });
    await conn.db!.collection('items').createIndex({ stale: 1 });
    const dropped = await Item().syncIndexes();
    expect(dropped).toEqual(['stale_1']);
    expect((await Item().listIndexes()).map((i) => i.name)).not.toContain('stale_1');
  });

  it('claims a pending item exactly once across connections', async () => {
    await Item().create({ sku: 'job', status: 'pending' });
    const others = await Promise.all(
      Array.from({ length: 4 }, () => mongoose.createConnection(`${server.uri}/mongoose_spec`).asPromise()),
    );
    try {
      const models = others.map((c) => c.model('Item', ItemSchema));
      const results = await Promise.all(
        models.flatMap((M) =>
          [0, 1, 2, 3].map(() =>
            M.findOneAndUpdate(
              { sku: 'job', status: 'pending' },
              { $set: { status: 'sent' } },
              { returnDocument: 'after' },
            ).lean(),
          ),
        ),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    } finally {
      await Promise.all(others.map((c) => c.close()));
    }
  });

  it('keeps databases apart and drops them', async () => {
    const other = await mongoose.createConnection(`${server.uri}/mongoose_spec_other`).asPromise();
    try {
      const M = other.model('Item', ItemSchema);
      await M.init();
      await M.create({ sku: 'only-here' });
      expect(await Item().countDocuments({ sku: 'only-here' })).toBe(0);
      await other.dropDatabase();
      expect(await M.countDocuments()).toBe(0);
      expect(await Item().db.db!.listCollections().toArray()).toHaveLength(2);
    } finally {
      await other.close();
    }
  });
});
