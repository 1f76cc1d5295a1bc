import { planTransfer } from './transfer-planner';
import { buildTransferResults, QueuedUser, refreshResults, stepResultOf, summarise } from './transfer-progress';

const fp = 'AABB';

function queued(move: boolean): QueuedUser[] {
  const plan = planTransfer(
    [
      {
        enrollid: 2,
        name: 'Two',
        credentials: [
          { backupnum: 50, ok: true, record: 'AAAA' },
          { backupnum: 0, ok: true, record: fp },
        ],
      },
      {
        enrollid: 3,
        name: 'Three',
        credentials: [
          { backupnum: 0, ok: true, record: fp },
          { backupnum: 1, ok: false, error: 'timeout' },
        ],
      },
    ],
    [2, 3, 4],
    move,
  );
  return plan.map((p) => {
    if (p.kind === 'not_found') return { plan: p, pushes: new Map() };
    const pushes = new Map(
      p.pushes.map((push) => [push.backupnum, { opId: `push-${p.enrollid}-${push.backupnum}`, status: 'pending' }]),
    );
    return {
      plan: p,
      pushes,
      delete: p.deleteFromSource ? { opId: `del-${p.enrollid}`, status: 'pending' } : undefined,
    };
  });
}

describe('stepResultOf', () => {
  it('maps operation statuses', () => {
    expect(['pending', 'sent', 'success', 'failed', 'canceled'].map(stepResultOf)).toEqual([
      'pending',
      'pending',
      'success',
      'failed',
      'canceled',
    ]);
  });
});

describe('buildTransferResults', () => {
  it('answers the contract shape for a move', () => {
    expect(buildTransferResults(queued(true), true)).toEqual([
      {
        enrollid: 2,
        steps: [
          { backupnum: 0, action: 'fetch', result: 'success' },
          { backupnum: 0, action: 'push', opId: 'push-2-0', result: 'pending' },
          { backupnum: 50, action: 'fetch', result: 'success' },
          { backupnum: 50, action: 'push', opId: 'push-2-50', result: 'pending' },
          { action: 'delete_from_source', opId: 'del-2', result: 'pending' },
        ],
      },
      {
        enrollid: 3,
        steps: [
          { backupnum: 0, action: 'fetch', result: 'success' },
          { backupnum: 0, action: 'push', opId: 'push-3-0', result: 'pending' },
          { backupnum: 1, action: 'fetch', result: 'failed', reason: 'timeout' },
          {
            action: 'delete_from_source',
            result: 'skipped',
            reason: 'not every credential could be read from the source',
          },
        ],
      },
      { enrollid: 4, steps: [{ action: 'fetch', result: 'not_found' }] },
    ]);
  });

  it('has no delete step for a copy', () => {
    const results = buildTransferResults(queued(false), false);
    expect(results.flatMap((r) => r.steps).some((s) => s.action === 'delete_from_source')).toBe(false);
  });
});

describe('refreshResults and summarise', () => {
  it('follows the operations to the end', () => {
    const results = buildTransferResults(queued(true), true);
    const open = summarise(results);
    expect(open).toMatchObject({ users: 3, notFound: 1, finished: false, ok: false });
    expect(open.pushes).toEqual({ success: 0, pending: 3, failed: 0, canceled: 0 });

    const statuses: Record<string, string> = {
      'push-2-0': 'success',
      'push-2-50': 'failed',
      'del-2': 'canceled',
      'push-3-0': 'sent',
    };
    const midway = refreshResults(results, (id) => statuses[id]);
    expect(midway[0].steps.map((s) => s.result)).toEqual(['success', 'success', 'success', 'failed', 'canceled']);
    expect(summarise(midway)).toMatchObject({ finished: false, usersCopied: 0 });

    statuses['push-3-0'] = 'success';
    const done = summarise(refreshResults(results, (id) => statuses[id]));
    expect(done).toEqual({
      users: 3,
      notFound: 1,
      pushes: { success: 2, pending: 0, failed: 1, canceled: 0 },
      deletes: { success: 0, pending: 0, failed: 0, canceled: 1, skipped: 1 },
      usersCopied: 1,
      usersMoved: 0,
      finished: true,
      ok: false,
    });
  });

  it('is ok when everything succeeded', () => {
    const plan = queued(true).slice(0, 1);
    const results = refreshResults(buildTransferResults(plan, true), () => 'success');
    expect(summarise(results)).toMatchObject({ finished: true, ok: true, usersCopied: 1, usersMoved: 1 });
  });
});
