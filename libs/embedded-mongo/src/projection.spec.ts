import { ObjectId } from 'bson';
import { Query } from 'mingo';
import { simpleProjector } from './projection';
import { type Doc, ENGINE_OPTIONS } from './values';

/** The general engine's answer (what the server used for every projection before). */
function general(docs: Doc[], projection: Doc): Doc[] {
  return new Query({}, ENGINE_OPTIONS).find(docs, projection).all() as Doc[];
}

describe('simpleProjector', () => {
  const docs: Doc[] = [
    { _id: new ObjectId(), enrollid: '7', time: new Date(1e12), raw: { a: 1 }, tags: ['x'], n: null },
    { _id: 2, enrollid: '8', claim_token: 'tok', nested: { deep: { v: 1 } } },
    { x: 1 },
    {},
  ];

  it.each([
    [{ enrollid: 1, time: 1 }],
    [{ enrollid: true, _id: 0 }],
    [{ _id: 1 }],
    [{ _id: 0 }],
    [{ raw: 0, claim_token: 0, lease_until: 0 }],
    [{ raw: false, _id: 0 }],
    [{ nested: 1, missing: 1 }],
    [{ _id: 0, n: 1, tags: 1 }],
  ])('keeps exactly the fields the general engine keeps, in the document order (as mongod): %j', (projection: Doc) => {
    const fast = simpleProjector(projection);
    expect(fast).toBeDefined();
    const got = fast!(docs);
    const want = general(docs, projection);
    expect(got).toEqual(want);
    got.forEach((d, i) => expect(Object.keys(d)).toEqual(Object.keys(docs[i]).filter((k) => k in want[i])));
  });

  const general1 = (projection: Doc) => (ds: Doc[]) => general(ds, projection);

  it.each([
    [{ 'nested.deep': 1 }],
    [{ 'nested.deep.v': 1, _id: 0 }],
    [{ 'nested.missing': 1, enrollid: 1 }],
    [{ 'raw.a': 1, 'nested.deep': 1, n: 1 }],
    [{ 'tags.x': 1 }],
    [{ 'enrollid.x': 1 }],
    [{ 'list.a': 1 }],
  ])('keeps by dotted paths exactly what the general engine keeps: %j', (projection: Doc) => {
    const withArrays = [...docs, { _id: 3, list: [{ a: 1, b: 2 }, 5, { b: 3 }], nested: [] }];
    const fast = simpleProjector(projection, general1(projection));
    expect(fast).toBeDefined();
    const got = fast!(withArrays);
    expect(got).toEqual(general(withArrays, projection));
    // In the document's order (documents with arrays are the general engine's answer).
    docs.forEach((doc, i) => {
      if (Object.values(doc).some(Array.isArray)) return;
      expect(Object.keys(got[i])).toEqual(Object.keys(doc).filter((k) => k in got[i]));
    });
  });

  it.each([[{ a: 1, 'a.b': 1 }], [{ 'a.b': 1, a: 1 }], [{ 'a.b': 0 }], [{ '_id.x': 1 }], [{ 'a..b': 1 }]])(
    'leaves colliding, excluding or odd dotted paths to the general engine: %j',
    (projection: Doc) => {
      expect(simpleProjector(projection, general1(projection))).toBeUndefined();
    },
  );

  it.each([
    [{ 'nested.deep': 1 }],
    [{ tags: { $slice: 1 } }],
    [{ enrollid: '$time' }],
    [{ enrollid: 1, raw: 0 }],
    [{ enrollid: 2 }],
    [{ $where: 1 }],
  ])('leaves anything else to the general engine: %j', (projection: Doc) => {
    expect(simpleProjector(projection)).toBeUndefined();
  });

  it('keeps a stored field named __proto__ as a field', () => {
    const doc: Doc = { _id: 1, a: 1 };
    Object.defineProperty(doc, '__proto__', {
      value: { polluted: true },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const [out] = simpleProjector({ a: 0 })!([doc]);
    expect(Object.keys(out)).toEqual(['_id', '__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
