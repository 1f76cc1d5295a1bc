import {
  OperationStatus,
  type OperationsService,
  type OperationView,
  type OperationWaitsService,
  type ParentOperationsService,
} from '../operations';
import type { DevicesService, StoredUsersService } from '../devices';
import type { TransferUserResult } from './transfer-progress';
import { TRANSFER_TYPE, TransferService } from './transfer.service';

/** An in-memory stand-in for the queue's parent API (the real one is covered by the e2e specs). */
class FakeOperations {
  parents = new Map<string, OperationView>();
  children = new Map<string, { _id: string; status: OperationStatus }[]>();
  updates: { id: string; update: Record<string, unknown> }[] = [];

  findChildStatuses = async (id: string) => this.children.get(id) ?? [];
  updateParent = async (
    id: string,
    update: { response?: Record<string, unknown>; status?: string; lastError?: string },
  ) => {
    this.updates.push({ id, update });
    const parent = this.parents.get(id);
    if (!parent || parent.status !== OperationStatus.Pending) return null;
    const next = {
      ...parent,
      ...(update.response && { response: update.response }),
      ...(update.status && { status: update.status as OperationStatus }),
      ...(update.lastError && { lastError: update.lastError }),
    };
    this.parents.set(id, next);
    return next;
  };
}

const WAIT_MS = 1_000;

function parent(id: string, createdAgoMs: number, response?: Record<string, unknown>): OperationView {
  const createdAt = new Date(Date.now() - createdAgoMs);
  return {
    _id: id,
    sn: 'SRC',
    type: TRANSFER_TYPE,
    payload: { fromSn: 'SRC', toSn: 'DST', enrollIds: null, deleteFromSource: true },
    ...(response && { response }),
    status: OperationStatus.Pending,
    attemptCount: 0,
    maxAttempts: 5,
    dependsOn: [],
    createdAt,
    updatedAt: createdAt,
  };
}

const results: TransferUserResult[] = [
  {
    enrollid: 2,
    steps: [
      { backupnum: 0, action: 'fetch', result: 'success' },
      { backupnum: 0, action: 'push', opId: 'p1', result: 'pending' },
      { action: 'delete_from_source', opId: 'd1', result: 'pending' },
    ],
  },
];

describe('TransferService.reconcile', () => {
  let ops: FakeOperations;
  let service: TransferService;
  /** What TransferReconciler does with an open parent it found: reconcile it as stored now. */
  const reconcile = (id: string) => service.reconcile(ops.parents.get(id)!);

  beforeEach(() => {
    ops = new FakeOperations();
    service = new TransferService(
      {} as OperationsService,
      {} as OperationWaitsService,
      ops as unknown as ParentOperationsService,
      {} as DevicesService,
      {} as StoredUsersService,
      { waitTimeoutMs: WAIT_MS } as never,
    );
  });

  it('leaves a transfer whose source is still being read', async () => {
    ops.parents.set('a', parent('a', 10));
    expect(await reconcile('a')).toBe(false);
    expect(ops.updates).toEqual([]);
  });

  it('fails a transfer whose request died before planning', async () => {
    ops.parents.set('a', parent('a', WAIT_MS * 2 + 61_000));
    expect(await reconcile('a')).toBe(true);
    expect(ops.parents.get('a')).toMatchObject({
      status: 'failed',
      lastError: 'transfer interrupted while reading the source; nothing was pushed or deleted',
    });
  });

  it('records progress, then finishes when every step finished', async () => {
    ops.parents.set('a', parent('a', 10, { fromSn: 'SRC', toSn: 'DST', deleteFromSource: true, results }));
    ops.children.set('a', [
      { _id: 'p1', status: OperationStatus.Success },
      { _id: 'd1', status: OperationStatus.Sent },
    ]);
    expect(await reconcile('a')).toBe(false);
    expect(ops.parents.get('a')!.status).toBe('pending');
    const progress = ops.parents.get('a')!.response as {
      results: TransferUserResult[];
      summary: { finished: boolean };
    };
    expect(progress.results[0].steps.map((s) => s.result)).toEqual(['success', 'success', 'pending']);
    expect(progress.summary.finished).toBe(false);

    // Nothing changed: nothing written.
    const writes = ops.updates.length;
    await reconcile('a');
    expect(ops.updates).toHaveLength(writes);

    ops.children.set('a', [
      { _id: 'p1', status: OperationStatus.Success },
      { _id: 'd1', status: OperationStatus.Success },
    ]);
    expect(await reconcile('a')).toBe(true);
    expect(ops.parents.get('a')).toMatchObject({
      status: 'success',
      response: { summary: { finished: true, ok: true, usersMoved: 1 } },
    });
  });

  it('fails a finished transfer with what went wrong', async () => {
    ops.parents.set('a', parent('a', 10, { fromSn: 'SRC', toSn: 'DST', deleteFromSource: true, results }));
    ops.children.set('a', [
      { _id: 'p1', status: OperationStatus.Failed },
      { _id: 'd1', status: OperationStatus.Canceled },
    ]);
    expect(await reconcile('a')).toBe(true);
    expect(ops.parents.get('a')).toMatchObject({
      status: 'failed',
      lastError: '1 push(es) to the target failed; 1 user(s) kept on the source',
    });
  });

  it('leaves a transfer that already finished', async () => {
    ops.parents.set('b', { ...parent('b', WAIT_MS * 2 + 61_000), status: OperationStatus.Success });
    expect(await reconcile('b')).toBe(false);
    expect(ops.updates).toEqual([]);
  });
});
