import { Types } from 'mongoose';
import { databasePerTest } from '@app/testing/embedded-database';
import { NewOperation, OperationsRepository } from './operations.repository';
import { Operation, OPERATION_MODEL, OperationSchema, OperationStatus } from './schemas/operation.schema';

jest.setTimeout(30_000);

const T0 = new Date('2025-11-08T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

describe('OperationsRepository (embedded database)', () => {
  const db = databasePerTest('ops_repo');
  let repo: OperationsRepository;

  beforeEach(async () => {
    const model = db.conn.model<Operation>(OPERATION_MODEL, OperationSchema);
    await model.init();
    repo = new OperationsRepository(model);
  });

  async function claim(sn: string, owner: string, now: Date, leaseMs: number) {
    const result = await repo.claimNext(sn, owner, now, leaseMs);
    return result.kind === 'claimed' ? result.op : null;
  }

  function op(over: Partial<NewOperation> = {}): NewOperation {
    return {
      sn: 'SN1',
      type: 'getdevinfo',
      payload: {},
      status: OperationStatus.Pending,
      maxAttempts: 5,
      nextAttemptAt: T0,
      createdAt: T0,
      dependsOn: [],
      depsPending: false,
      ...over,
    };
  }

  it('counts by status and type, and finds the oldest pending operation (metrics)', async () => {
    await repo.insertMany([
      op({ type: 'getdevinfo', createdAt: at(3000) }),
      op({ type: 'getdevinfo', createdAt: at(1000) }),
      op({ type: 'deleteuser', createdAt: at(2000) }),
      op({ type: 'deleteuser', status: OperationStatus.Failed, createdAt: at(0), completedAt: at(0) }),
    ]);
    const rows = await repo.countsByStatusAndType();
    const key = (r: { status: string; type: string }) => `${r.status}/${r.type}`;
    expect(rows.map((r) => [key(r), r.count]).sort()).toEqual([
      ['failed/deleteuser', 1],
      ['pending/deleteuser', 1],
      ['pending/getdevinfo', 2],
    ]);
    expect(await repo.oldestPendingCreatedAt()).toEqual(at(1000));
  });

  it('has no oldest pending operation when none waits', async () => {
    expect(await repo.countsByStatusAndType()).toEqual([]);
    expect(await repo.oldestPendingCreatedAt()).toBeUndefined();
  });

  it('stores an empty payload as {} and reads it back', async () => {
    const rec = await repo.insert(op());
    const again = await repo.findById(rec._id.toHexString());
    expect(again?.payload).toEqual({});
    expect(again?.status).toBe('pending');
    expect(again?.attemptCount).toBe(0);
    expect(again?.group).toBe(false);
  });

  it('claims the oldest due pending operation of the terminal, createdAt then _id', async () => {
    const later = await repo.insert(op({ createdAt: at(5) }));
    const tieA = await repo.insert(op({ createdAt: at(1) }));
    const tieB = await repo.insert(op({ createdAt: at(1) }));
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const claimed = await claim('SN1', 'inst-a', at(10), 30_000);
      order.push(claimed!._id.toHexString());
      await repo.finish(
        { id: claimed!._id, owner: 'inst-a', attemptCount: claimed!.attemptCount },
        { status: OperationStatus.Success, now: at(11) },
      );
    }
    expect(order).toEqual([tieA, tieB, later].map((r) => r._id.toHexString()));
    expect(await claim('SN1', 'inst-a', at(10), 30_000)).toBeNull();
  });

  it('marks the claim: sent, leased, one more send, sentAt', async () => {
    await repo.insert(op());
    const claimed = await claim('SN1', 'inst-a', at(100), 30_000);
    expect(claimed).toMatchObject({
      status: 'sent',
      leaseOwner: 'inst-a',
      attemptCount: 1,
      sentAt: at(100),
      leaseUntil: at(30_100),
    });
  });

  it('skips operations that wait on dependencies, group other work, or belong to another terminal', async () => {
    await repo.insert(op({ depsPending: true, dependsOn: [new Types.ObjectId()] }));
    await repo.insert(op({ group: true }));
    await repo.insert(op({ sn: 'SN2' }));
    await repo.insert(op({ status: OperationStatus.Failed }));
    expect(await repo.claimNext('SN1', 'inst-a', at(0), 30_000)).toEqual({ kind: 'empty' });
    const later = await repo.insert(op({ createdAt: at(1) }));
    expect((await claim('SN1', 'inst-a', at(2), 30_000))?._id).toEqual(later._id);
  });

  it('holds the operations behind one that waits for its retry backoff (strict FIFO)', async () => {
    await repo.insert(op({ nextAttemptAt: at(1_000), createdAt: at(0) }));
    const behind = await repo.insert(op({ createdAt: at(1) }));
    expect(await repo.claimNext('SN1', 'inst-a', at(999), 30_000)).toEqual({ kind: 'wait', until: at(1_000) });
    const head = await claim('SN1', 'inst-a', at(1_000), 30_000);
    expect(head?.createdAt).toEqual(at(0));
    await repo.finish(
      { id: head!._id, owner: 'inst-a', attemptCount: 1 },
      { status: OperationStatus.Success, now: at(1_001) },
    );
    expect((await claim('SN1', 'inst-a', at(1_001), 30_000))?._id).toEqual(behind._id);
  });

  it('claims unless a command is in flight to the terminal, and says empty from one read when nothing is open', async () => {
    // A parent and a finished operation are not open work.
    await repo.insert(op({ group: true }));
    await repo.insert(op({ status: OperationStatus.Failed }));
    const inFlightReads = jest.spyOn(repo, 'hasInFlight');
    expect(await repo.claimNext('SN1', 'inst-a', at(0), 30_000, { unlessInFlight: true })).toEqual({ kind: 'empty' });
    expect(inFlightReads).not.toHaveBeenCalled();

    const first = await repo.insert(op({ createdAt: at(1) }));
    await repo.insert(op({ createdAt: at(2) }));
    expect(await claim('SN1', 'inst-b', at(3), 30_000)).toMatchObject({ _id: first._id });
    expect(await repo.claimNext('SN1', 'inst-a', at(3), 30_000, { unlessInFlight: true })).toEqual({ kind: 'busy' });
    expect(await repo.claimNext('SN1', 'inst-a', at(3), 30_000)).toMatchObject({ kind: 'claimed' });
  });

  it('reads the heads of several queues asked at once: none, background only, an API operation first', async () => {
    await repo.insertMany([
      op({ sn: 'BG', background: true, createdAt: at(0) }),
      op({ sn: 'MIX', background: true, createdAt: at(0) }),
      op({ sn: 'MIX', createdAt: at(5000), nextAttemptAt: at(60_000) }),
      // Neither a step waiting on dependencies, nor a group, nor a finished one is a head.
      op({ sn: 'WAITS', depsPending: true }),
      op({ sn: 'WAITS', group: true }),
      op({ sn: 'WAITS', status: OperationStatus.Failed, completedAt: T0 }),
    ]);
    const heads = await Promise.all(['NONE', 'BG', 'MIX', 'WAITS', 'BG'].map((sn) => repo.queueHead(sn)));
    expect(heads).toEqual([null, { background: true }, { background: false }, null, { background: true }]);
    expect(await repo.queueHead('MIX')).toEqual({ background: false });
  });

  it('stores operations already sent, several at once, each readable and claimed by its owner', async () => {
    const recs = await Promise.all(
      ['A', 'B', 'C'].map((sn) => repo.insertClaimed(op({ sn, createdAt: at(0) }), 'me', at(1000), 30_000)),
    );
    for (const rec of recs) {
      const stored = await repo.findById(rec._id);
      expect(stored).toMatchObject({
        sn: rec.sn,
        status: OperationStatus.Sent,
        attemptCount: 1,
        leaseOwner: 'me',
        leaseUntil: at(31_000),
        sentAt: at(1000),
      });
    }
    // A duplicate id fails that insert alone; the one written with it is stored.
    const spy = jest.spyOn(Types, 'ObjectId').mockImplementationOnce(() => recs[0]._id);
    const again = repo.insertClaimed(op({ sn: 'A' }), 'me', at(2000), 30_000);
    spy.mockRestore();
    const fresh = repo.insertClaimed(op({ sn: 'D' }), 'me', at(2000), 30_000);
    const [a, f] = await Promise.allSettled([again, fresh]);
    expect(a).toMatchObject({ status: 'rejected', reason: { code: 11000 } });
    expect(f.status).toBe('fulfilled');
    expect(await repo.hasInFlight('D')).toBe(true);
  });

  it('never gives the same operation to two concurrent claimers', async () => {
    for (let i = 0; i < 6; i++) await repo.insert(op({ createdAt: at(i) }));
    const claims = await Promise.all(
      Array.from({ length: 12 }, (_, i) => claim('SN1', `inst-${i % 3}`, at(50), 30_000)),
    );
    const ids = claims.filter((c) => c !== null).map((c) => c._id.toHexString());
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    expect(await repo.hasInFlight('SN1')).toBe(true);
  });

  it('fences outcome writes by owner and send number', async () => {
    await repo.insert(op());
    const claimed = (await claim('SN1', 'inst-a', at(0), 30_000))!;
    const stranger = { id: claimed._id, owner: 'inst-b', attemptCount: 1 };
    const stale = { id: claimed._id, owner: 'inst-a', attemptCount: 0 };
    expect(await repo.finish(stranger, { status: OperationStatus.Success, now: at(1) })).toBeNull();
    expect(await repo.requeue(stale, { nextAttemptAt: at(1), lastError: 'x' })).toBeNull();
    const requeued = await repo.requeue(
      { id: claimed._id, owner: 'inst-a', attemptCount: 1 },
      { nextAttemptAt: at(2_000), lastError: 'device_timeout: no reply', attemptDelta: 0 },
    );
    expect(requeued).toMatchObject({ status: 'pending', attemptCount: 1, lastError: 'device_timeout: no reply' });
    expect(requeued?.leaseOwner).toBeUndefined();
    expect(requeued?.nextAttemptAt).toEqual(at(2_000));
  });

  it('does not count a send that never left the server', async () => {
    await repo.insert(op());
    const claimed = (await claim('SN1', 'inst-a', at(0), 30_000))!;
    const rec = await repo.requeue(
      { id: claimed._id, owner: 'inst-a', attemptCount: 1 },
      { nextAttemptAt: at(0), lastError: 'terminal_disconnected: not connected', attemptDelta: -1 },
    );
    expect(rec?.attemptCount).toBe(0);
  });

  it('renews and reclaims leases: only expired ones go back', async () => {
    await repo.insert(op({ createdAt: at(0) }));
    await repo.insert(op({ sn: 'SN2', createdAt: at(1) }));
    const a = (await claim('SN1', 'inst-a', at(0), 1_000))!;
    const b = (await claim('SN2', 'inst-b', at(0), 1_000))!;
    expect(await repo.renewLeases([a._id], 'inst-a', at(5_000))).toBe(1);
    expect(await repo.renewLeases([b._id], 'inst-a', at(5_000))).toBe(0);

    const expired = await repo.findExpiredLeases(at(2_000), 10);
    expect(expired.map((e) => e._id.toHexString())).toEqual([b._id.toHexString()]);
    expect(await repo.reclaimExpired(a, at(2_000), { status: OperationStatus.Pending, lastError: 'x' })).toBeNull();
    const back = await repo.reclaimExpired(b, at(2_000), {
      status: OperationStatus.Pending,
      lastError: 'lease_expired',
    });
    expect(back).toMatchObject({ status: 'pending', attemptCount: 1, nextAttemptAt: at(2_000) });
  });

  it('cancels only pending or failed operations', async () => {
    const pending = await repo.insert(op());
    const failed = await repo.insert(op({ status: OperationStatus.Failed }));
    await repo.insert(op({ sn: 'SN3' }));
    const sent = (await claim('SN3', 'inst-a', at(0), 1_000))!;
    expect((await repo.cancel(pending._id, at(1)))?.status).toBe('canceled');
    expect((await repo.cancel(failed._id, at(1)))?.completedAt).toEqual(at(1));
    expect(await repo.cancel(sent._id, at(1))).toBeNull();
    expect(await repo.cancel(pending._id, at(2))).toBeNull();
  });

  it('lists newest first with _id breaking ties, filtered, and counts the same set', async () => {
    const day1 = new Date('2025-11-01T23:59:59.999Z');
    const day2 = new Date('2025-11-02T00:00:00.000Z');
    const a = await repo.insert(op({ createdAt: day2, type: 'settime' }));
    const b = await repo.insert(op({ createdAt: day2, type: 'settime', sn: 'SN2' }));
    const c = await repo.insert(op({ createdAt: day1, status: OperationStatus.Failed }));
    const all = await repo.list({}, 0, 10);
    expect(all.total).toBe(3);
    expect(all.items.map((i) => i._id.toHexString())).toEqual([b, a, c].map((r) => r._id.toHexString()));

    const onDay2 = await repo.list({ createdAt: { $gte: day2, $lt: new Date('2025-11-03T00:00:00Z') } }, 0, 1);
    expect(onDay2.total).toBe(2);
    expect(onDay2.items).toHaveLength(1);
    expect((await repo.list({ sn: 'SN2' }, 0, 10)).total).toBe(1);
    expect((await repo.list({ status: OperationStatus.Failed }, 0, 10)).total).toBe(1);

    const stats = await repo.stats({});
    expect(stats.total).toBe(3);
    expect(stats.byStatus).toEqual([
      { _id: 'pending', count: 2 },
      { _id: 'failed', count: 1 },
    ]);
    expect(stats.byType).toEqual([
      { _id: 'settime', count: 2 },
      { _id: 'getdevinfo', count: 1 },
    ]);
    expect((await repo.stats({ sn: 'SN1' })).total).toBe(2);
  });

  it('removes only finished operations older than the cutoff', async () => {
    const old = at(-100 * 86_400_000);
    await repo.insert(op({ status: OperationStatus.Failed, createdAt: old, completedAt: old }));
    await repo.insert(op({ status: OperationStatus.Failed, createdAt: old, completedAt: at(0) }));
    await repo.insert(op({ createdAt: old }));
    expect(await repo.deleteFinishedBefore(at(-90 * 86_400_000))).toBe(1);
    expect((await repo.list({}, 0, 10)).total).toBe(2);
  });
});
