import { update as mingoUpdate } from 'mingo';
import { CommandError } from './errors';
import { applyFast, canApplyFast } from './fast-update';
import { applyUpdate, buildUpsert, validateUpdate } from './update';
import { cloneValue, type Doc } from './values';

const base = (): Doc => ({ _id: 1, n: 5, s: 'x', arr: [1, 2, 3], nested: { a: 1, list: ['p'] }, when: new Date(0) });

function run(u: Doc, doc = base()): Doc {
  return applyUpdate(doc, validateUpdate(u), {}, undefined, false);
}

function expectCode(fn: () => unknown, code: number): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CommandError);
    expect((e as CommandError).code).toBe(code);
    return;
  }
  throw new Error(`expected error code ${code}`);
}

describe('update operators', () => {
  it.each<[string, Doc, Doc]>([
    ['$set creates nested paths', { $set: { 'deep.er.x': 1, s: 'y' } }, { s: 'y', deep: { er: { x: 1 } } }],
    [
      '$unset removes and ignores missing',
      { $unset: { s: '', 'nested.a': '', 'no.such': '' } },
      { nested: { list: ['p'] } },
    ],
    ['$inc adds and creates', { $inc: { n: 2, m: 3, 'nested.a': -1 } }, { n: 7, m: 3, nested: { a: 0, list: ['p'] } }],
    ['$mul multiplies and creates zero', { $mul: { n: 3, z: 4 } }, { n: 15, z: 0 }],
    ['$min/$max compare', { $min: { n: 2 }, $max: { when: new Date(5) } }, { n: 2, when: new Date(5) }],
    [
      '$push value and $each',
      { $push: { arr: 4, 'nested.list': { $each: ['q', 'r'] } } },
      { arr: [1, 2, 3, 4], nested: { a: 1, list: ['p', 'q', 'r'] } },
    ],
    ['$push creates the array', { $push: { fresh: 'a' } }, { fresh: ['a'] }],
    ['$addToSet skips present values', { $addToSet: { arr: { $each: [3, 4, 4] } } }, { arr: [1, 2, 3, 4] }],
    ['$pull removes equal scalars', { $pull: { arr: 2 } }, { arr: [1, 3] }],
    [
      '$pop removes last and first',
      { $pop: { arr: 1, 'nested.list': -1 } },
      { arr: [1, 2], nested: { a: 1, list: [] } },
    ],
    ['$push with $slice goes through mingo', { $push: { arr: { $each: [9], $slice: -2 } } }, { arr: [3, 9] }],
    ['$pull with a condition goes through mingo', { $pull: { arr: { $gte: 2 } } }, { arr: [1] }],
    ['$rename goes through mingo', { $rename: { s: 't' } }, { t: 'x' }],
  ])('%s', (_name, u, expected) => {
    const before = base();
    const snapshot = cloneValue(before);
    const out = run(u, before);
    expect(before).toEqual(snapshot);
    const want: Doc = { ...base(), ...expected };
    for (const k of Object.keys(want)) if (!(k in expected) && !(k in out)) delete want[k];
    expect(out).toEqual(want);
  });

  it('agrees with mingo on the operators the fast path handles', () => {
    const cases: Doc[] = [
      { $set: { a: 1, 'b.c': [1, { d: 2 }] }, $inc: { n: 1.5 } },
      { $unset: { arr: 1 }, $max: { n: 10, s: 'z' }, $min: { 'nested.a': 0 } },
      { $addToSet: { arr: 1, 'nested.list': 'q' }, $mul: { n: 2 } },
      { $push: { arr: { $each: [] } }, $pull: { 'nested.list': 'p' } },
    ];
    for (const u of cases) {
      const fast = cloneValue(base());
      expect(canApplyFast(fast, u)).toBe(true);
      applyFast(fast, u);
      const slow = cloneValue(base());
      mingoUpdate(slow, u as never, undefined, undefined, { cloneMode: 'deep' });
      expect(fast).toEqual(slow);
    }
  });

  it('returns the same object when nothing changes', () => {
    const doc = base();
    expect(run({ $set: { n: 5 }, $max: { s: 'a' }, $addToSet: { arr: 2 } }, doc)).toBe(doc);
  });

  it('rejects conflicting paths, non-numeric $inc, $push on a non-array and _id changes', () => {
    expectCode(() => run({ $set: { 'nested.a': 1 }, $inc: { nested: 1 } }), 40);
    expectCode(() => run({ $inc: { s: 1 } }), 14);
    expectCode(() => run({ $inc: { n: 'one' } }), 14);
    expectCode(() => run({ $push: { s: 1 } }), 2);
    expectCode(() => run({ $set: { _id: 2 } }), 66);
    expectCode(() => run({ _id: 2, n: 1 }), 66);
    expectCode(() => validateUpdate({ $set: { a: 1 }, b: 2 }), 9);
    expectCode(() => validateUpdate({ $frob: { a: 1 } }), 9);
    expect(run({ $set: { _id: 1, n: 6 } })).toMatchObject({ _id: 1, n: 6 });
  });

  it('replaces a document keeping its _id first', () => {
    const out = run({ other: true });
    expect(out).toEqual({ _id: 1, other: true });
    expect(Object.keys(out)[0]).toBe('_id');
  });

  it('builds upserts from equality conditions, $setOnInsert and operators', () => {
    const doc = buildUpsert(
      { sn: 'A1', 'meta.kind': 'x', n: { $gt: 1 }, $and: [{ z: 3 }] },
      validateUpdate({ $set: { v: 1 }, $setOnInsert: { created: true }, $inc: { count: 1 } }),
      undefined,
    );
    expect(doc).toMatchObject({ sn: 'A1', meta: { kind: 'x' }, z: 3, v: 1, created: true, count: 1 });
    expect(doc).not.toHaveProperty('n');
    expect(Object.keys(doc)[0]).toBe('_id');
    const replaced = buildUpsert({ _id: 'k' }, validateUpdate({ a: 1 }), undefined);
    expect(replaced).toEqual({ _id: 'k', a: 1 });
  });
});
