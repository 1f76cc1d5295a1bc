import {
  batchLimit,
  claimablePrefix,
  contiguousClaim,
  isContentRejection,
  nextBatch,
  QueuedPunch,
} from './forward-batch';

const now = new Date('2025-11-08T10:00:00Z');
const past = new Date(now.getTime() - 1);
const future = new Date(now.getTime() + 1_000);
const free = new Date(0);
const punch = (id: string, next: Date | null = past, lease: Date = free): QueuedPunch => ({
  _id: id,
  next_attempt_at: next,
  lease_until: lease,
});

describe('claimablePrefix', () => {
  it('takes every due, unclaimed punch in queue order', () => {
    const q = [punch('a'), punch('b', now), punch('c')];
    expect(claimablePrefix(q, now).map((p) => p._id)).toEqual(['a', 'b', 'c']);
  });

  it('stops at the first punch still waiting for its backoff, keeping the order', () => {
    const q = [punch('a'), punch('b', future), punch('c')];
    expect(claimablePrefix(q, now).map((p) => p._id)).toEqual(['a']);
  });

  it('takes nothing when the head is claimed by another attempt or backing off', () => {
    expect(claimablePrefix([punch('a', past, future), punch('b')], now)).toEqual([]);
    expect(claimablePrefix([punch('a', future), punch('b')], now)).toEqual([]);
  });

  it('treats an expired lease (crashed instance) as free', () => {
    expect(claimablePrefix([punch('a', past, past)], now).map((p) => p._id)).toEqual(['a']);
  });

  it('never takes a delivered punch (no next attempt)', () => {
    expect(claimablePrefix([punch('a', null)], now)).toEqual([]);
  });
});

describe('poison records', () => {
  const isolated = (id: string, next: Date = past, lease: Date = free): QueuedPunch => ({
    ...punch(id, next, lease),
    forward_isolated: true,
  });
  const ids = (q: QueuedPunch[], max?: number) => claimablePrefix(q, now, max).map((p) => p._id);

  it('halves the batch at each refusal of its first punch, down to one', () => {
    expect(batchLimit(0, 100)).toBe(100);
    expect(batchLimit(1, 100)).toBe(50);
    expect(batchLimit(3, 100)).toBe(12);
    expect(batchLimit(7, 100)).toBe(1);
    expect(batchLimit(40, 100)).toBe(1);
    const q = ['a', 'b', 'c', 'd'].map((id) => ({ ...punch(id), forward_rejections: 1 }));
    expect(ids(q, 4)).toEqual(['a', 'b']);
  });

  it('skips an isolated punch that waits for its backoff instead of holding the queue', () => {
    expect(ids([isolated('a', future), punch('b'), punch('c')])).toEqual(['b', 'c']);
    expect(ids([isolated('a', past, future), punch('b')])).toEqual(['b']);
  });

  it('sends a due isolated punch alone, and ends a batch before one', () => {
    expect(ids([isolated('a'), punch('b')])).toEqual(['a']);
    expect(ids([punch('a'), isolated('b'), punch('c')])).toEqual(['a']);
  });

  it('still keeps order behind an ordinary punch that waits', () => {
    expect(ids([punch('a', future), isolated('b'), punch('c')])).toEqual([]);
  });

  it('counts only a refusal of the content as a reason to isolate, never an outage', () => {
    expect(isContentRejection(200)).toBe(true);
    expect(isContentRejection(422)).toBe(true);
    expect(isContentRejection(undefined)).toBe(false);
    expect(isContentRejection(500)).toBe(false);
    expect(isContentRejection(503)).toBe(false);
    expect(isContentRejection(408)).toBe(false);
    expect(isContentRejection(429)).toBe(false);
  });
});

describe('contiguousClaim', () => {
  const wanted = ['a', 'b', 'c', 'd'].map((id) => ({ _id: id }));

  it('sends everything when every claim was won', () => {
    const r = contiguousClaim(wanted, new Set(['a', 'b', 'c', 'd']));
    expect(r.send.map((p) => p._id)).toEqual(['a', 'b', 'c', 'd']);
    expect(r.release).toEqual([]);
  });

  it('sends the run from the head and releases what was won after a gap', () => {
    const r = contiguousClaim(wanted, new Set(['a', 'b', 'd']));
    expect(r.send.map((p) => p._id)).toEqual(['a', 'b']);
    expect(r.release.map((p) => p._id)).toEqual(['d']);
  });

  it('sends nothing when the head was lost', () => {
    const r = contiguousClaim(wanted, new Set(['b', 'c']));
    expect(r.send).toEqual([]);
    expect(r.release.map((p) => p._id)).toEqual(['b', 'c']);
  });
});

describe('nextBatch (a batch sent under a key goes again whole, under that key)', () => {
  const keyed = (id: string, key: string, next: Date = past, lease: Date = free): QueuedPunch => ({
    ...punch(id, next, lease),
    forward_key: key,
  });

  it('sends the batch of a head punch whose outcome is unknown, by its key, not a new batch', () => {
    expect(nextBatch([keyed('a', 'K1'), keyed('b', 'K1'), punch('c')], now, 100)).toEqual({ kind: 'keyed', key: 'K1' });
  });

  it('never puts a keyed punch into a new batch: a new batch ends before it', () => {
    const next = nextBatch([punch('a'), punch('b'), keyed('c', 'K1'), punch('d')], now, 100);
    expect(next).toEqual({
      kind: 'new',
      punches: [expect.objectContaining({ _id: 'a' }), expect.objectContaining({ _id: 'b' })],
    });
  });

  it('waits while the keyed head is in flight or backing off', () => {
    expect(nextBatch([keyed('a', 'K1', future), punch('b')], now, 100)).toBeNull();
    expect(nextBatch([keyed('a', 'K1', past, future), punch('b')], now, 100)).toBeNull();
  });

  it('skips an isolated punch that waits, then takes the keyed batch behind it', () => {
    const iso: QueuedPunch = { ...punch('a', future), forward_isolated: true };
    expect(nextBatch([iso, keyed('b', 'K2')], now, 100)).toEqual({ kind: 'keyed', key: 'K2' });
  });

  it('returns null for an empty queue', () => {
    expect(nextBatch([], now, 100)).toBeNull();
  });
});
