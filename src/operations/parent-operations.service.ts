import { Inject, Injectable } from '@nestjs/common';
import { Types } from 'mongoose';
import { ApiError, isObjectIdString } from '@app/common';
import { isPlainObject } from '@app/device-protocol';
import { operationsConfig, OperationsConfig } from '../config/operations.config';
import { OPERATION_CLOCK, OperationClock } from './operation-clock';
import { OperationDependencies } from './operation-dependencies';
import { toObjectId } from './operation-errors';
import { isFinished, OperationView, toOperationView } from './operation.view';
import { OperationsRepository } from './operations.repository';
import { OperationStatus } from './schemas/operation.schema';

/** Most open parents of one type a caller reads at once. */
const MAX_OPEN_PARENTS = 1_000;

/**
 * Parents of multi-step work (a transfer, a group propagation, a device-sync apply): stored
 * `pending` and never sent; their steps are ordinary operations enqueued with `{ parentId }`, and
 * the parent's owner records progress and finishes it here.
 */
@Injectable()
export class ParentOperationsService {
  constructor(
    private readonly repo: OperationsRepository,
    private readonly deps: OperationDependencies,
    @Inject(operationsConfig.KEY) private readonly cfg: OperationsConfig,
    @Inject(OPERATION_CLOCK) private readonly clock: OperationClock,
  ) {}

  /**
   * A parent operation (e.g. a transfer): stored `pending`, never sent to a terminal. Its steps are
   * enqueued with `{ parentId }` (on any terminal); its owner finishes it with updateParent.
   */
  async createParent(
    sn: string,
    type: string,
    payload: Record<string, unknown> = {},
    opts: { requestedBy?: string } = {},
  ): Promise<OperationView> {
    if (typeof sn !== 'string' || sn.trim() === '') throw new ApiError(400, 'invalid_sn', 'sn must not be empty');
    if (!isPlainObject(payload)) throw new ApiError(400, 'invalid_payload', 'payload must be an object');
    const now = this.clock.now();
    const rec = await this.repo.insert({
      sn,
      type,
      payload,
      status: OperationStatus.Pending,
      maxAttempts: this.cfg.maxAttempts,
      nextAttemptAt: now,
      createdAt: now,
      dependsOn: [],
      depsPending: false,
      group: true,
      ...(opts.requestedBy ? { requestedBy: opts.requestedBy } : {}),
    });
    return toOperationView(rec);
  }

  /** A parent by id; null when there is none (or the id is an ordinary operation's). */
  async findParent(id: string): Promise<OperationView | null> {
    if (!isObjectIdString(id)) return null;
    const rec = await this.repo.findById(id);
    return rec?.group ? toOperationView(rec) : null;
  }

  /** Status of every step of a parent, oldest first (no payloads: pushes carry photos). */
  async findChildStatuses(parentId: string): Promise<{ _id: string; status: OperationStatus }[]> {
    const rows = await this.repo.findChildStatuses(toObjectId(parentId, 'parentId'));
    return rows.map((r) => ({ _id: r._id.toHexString(), status: r.status }));
  }

  /**
   * Records a parent's progress (`response`) and, with a final status, finishes it (completedAt set,
   * waiters told). Only while it is pending: null when it is not a pending parent.
   */
  async updateParent(
    id: string,
    update: { response?: Record<string, unknown>; status?: 'success' | 'failed'; lastError?: string },
  ): Promise<OperationView | null> {
    if (!isObjectIdString(id)) return null;
    const status =
      update.status === undefined
        ? undefined
        : update.status === 'success'
          ? OperationStatus.Success
          : OperationStatus.Failed;
    const rec = await this.repo.updateOpenGroup(
      new Types.ObjectId(id),
      {
        ...(update.response !== undefined ? { response: update.response } : {}),
        ...(update.lastError !== undefined ? { lastError: update.lastError } : {}),
        ...(status ? { status } : {}),
      },
      this.clock.now(),
    );
    if (!rec) return null;
    if (isFinished(rec.status)) await this.deps.finished(rec);
    return toOperationView(rec);
  }

  /** Pending parents of one type, oldest first. */
  async findOpenParents(type: string, limit = 50): Promise<OperationView[]> {
    return (await this.repo.findOpenGroups(type, Math.max(1, Math.min(limit, MAX_OPEN_PARENTS)))).map(toOperationView);
  }
}
