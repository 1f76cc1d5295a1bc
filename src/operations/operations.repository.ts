import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { QueryFilter, Model, Types } from 'mongoose';
import { bulkWriteErrors, CallBatcher, isObjectIdString } from '@app/common';
import { OperationRecord } from './operation.view';
import {
  FINISHED_STATUSES,
  Operation,
  OPERATION_MODEL,
  OPERATION_STATUSES,
  OperationStatus,
} from './schemas/operation.schema';

export interface NewOperation {
  sn: string;
  type: string;
  payload: Record<string, unknown>;
  status: OperationStatus.Pending | OperationStatus.Failed;
  maxAttempts: number;
  nextAttemptAt: Date;
  createdAt: Date;
  lastError?: string;
  completedAt?: Date;
  parentId?: Types.ObjectId;
  dependsOn: Types.ObjectId[];
  depsPending: boolean;
  group?: boolean;
  requestedBy?: string;
  /** Housekeeping (catch-up, scheduled work): claimed after every interactive operation of the terminal. */
  background?: boolean;
  wireCmd?: string;
  wirePayload?: Record<string, unknown>;
}

/** Identifies one send of an operation held by one instance: writes about it apply only while it still holds. */
export interface LeaseFence {
  id: Types.ObjectId;
  owner: string;
  attemptCount: number;
}

export interface OperationFilter {
  sn?: string;
  type?: string;
  status?: OperationStatus;
  createdAt?: { $gte?: Date; $lt?: Date };
}

export type ClaimResult =
  | {
      kind: 'claimed';
      op: OperationRecord;
      /** Another operation was due behind it when it was taken (so the drain must look again). */
      more: boolean;
    }
  | { kind: 'wait'; until: Date }
  | { kind: 'empty' }
  /** `unlessInFlight` was asked and some instance has a command in flight to the terminal. */
  | { kind: 'busy' };

export interface QueueHead {
  background: boolean;
}

export interface CountBucket {
  _id: string;
  count: number;
}

const AFTER = { returnDocument: 'after' as const };

function fenceQuery(fence: LeaseFence): QueryFilter<Operation> {
  return { _id: fence.id, status: OperationStatus.Sent, leaseOwner: fence.owner, attemptCount: fence.attemptCount };
}

function toQuery(filter: OperationFilter): QueryFilter<Operation> {
  const q: QueryFilter<Operation> = {};
  if (filter.sn !== undefined) q.sn = filter.sn;
  if (filter.type !== undefined) q.type = filter.type;
  if (filter.status !== undefined) q.status = filter.status;
  if (filter.createdAt) q.createdAt = filter.createdAt;
  return q;
}

/** The fields of `doc` that have a value (the driver would store an undefined one as null). */
function definedOnly<T extends object>(doc: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) if (value !== undefined) out[key] = value;
  return out as T;
}

/**
 * The only class touching the Operation model; returns plain objects. The dispatcher's per-command
 * queries (claim, finish, the in-flight check) go to the driver collection directly: their values
 * are already of the stored types, and Mongoose's casting of each was a visible share of a command's
 * CPU. Those writes set `updatedAt` themselves (the schema's timestamps are Mongoose's doing).
 */
@Injectable()
export class OperationsRepository {
  /**
   * Queue heads asked while the previous read is in the database, answered together: one read finds
   * which of the terminals have anything waiting (mostly none), then one read per terminal that has.
   */
  private readonly heads = new CallBatcher<string, QueueHead | null>(async (sns) => {
    const open = await this.snsWithPending([...new Set(sns)]);
    const bySn = new Map<string, QueueHead | null>();
    await Promise.all([...open].map(async (sn) => bySn.set(sn, await this.readQueueHead(sn))));
    return sns.map((sn) => bySn.get(sn) ?? null);
  });
  /**
   * Operations stored already sent, gathered while the previous write is in the database and
   * written as one unordered insert (each has its own id: one failing does not stop the others).
   */
  private readonly claimedInserts = new CallBatcher<OperationRecord, true>(async (recs) => {
    try {
      await this.model.collection.insertMany(recs, { ordered: false });
      return recs.map((): true => true);
    } catch (err) {
      const failed = bulkWriteErrors(err);
      if (failed.size === 0) throw err;
      return recs.map((_, i) => failed.get(i) ?? true);
    }
  });

  constructor(@InjectModel(OPERATION_MODEL) private readonly model: Model<Operation>) {}

  /**
   * Stores a new operation as the schema would (every default, both timestamps) but through the
   * driver: building, validating and converting a hydrated document cost more than the write
   * itself on the queue's hot path. `NewOperation` is already complete and typed.
   */
  async insert(doc: NewOperation): Promise<OperationRecord> {
    const rec = newRecord(doc);
    await this.model.collection.insertOne(rec);
    return rec;
  }

  /**
   * Stores a new operation already taken by `owner` (sent, leased, its first send counted): for an
   * operation sent at once to an idle terminal, one write instead of an insert and a claim. Stored
   * when this resolves; written together with the ones asked at the same time.
   */
  async insertClaimed(doc: NewOperation, owner: string, now: Date, leaseMs: number): Promise<OperationRecord> {
    const rec: OperationRecord = {
      ...newRecord(doc),
      status: OperationStatus.Sent,
      attemptCount: 1,
      leaseOwner: owner,
      leaseUntil: new Date(now.getTime() + leaseMs),
      sentAt: now,
    };
    await this.claimedInserts.add(rec);
    return rec;
  }

  /**
   * The head of `sn`'s queue as `claimNext` orders it (operations asked through the API first, then
   * FIFO), due or not; null when nothing waits. Only whether it is background work. Reads asked at
   * the same time for several terminals share the database's answers.
   */
  async queueHead(sn: string): Promise<QueueHead | null> {
    return this.heads.add(sn);
  }

  /** Which of `sns` have an operation waiting to be claimed (due or not). */
  private async snsWithPending(sns: string[]): Promise<Set<string>> {
    if (sns.length === 0) return new Set();
    const found = await this.model.collection.distinct('sn', {
      sn: sns.length === 1 ? sns[0] : { $in: sns },
      status: OperationStatus.Pending,
      depsPending: false,
      group: false,
    });
    return new Set(found.map(String));
  }

  private async readQueueHead(sn: string): Promise<QueueHead | null> {
    const [head] = await this.model.collection
      .find<{ background?: boolean }>(
        { sn, status: OperationStatus.Pending, depsPending: false, group: false },
        { projection: { _id: 0, background: 1 }, sort: { background: 1, createdAt: 1, _id: 1 }, limit: 1 },
      )
      .toArray();
    return head ? { background: head.background === true } : null;
  }

  /** Several new operations in one ordered write: their ids (and so their queue order) follow the input. */
  async insertMany(docs: NewOperation[]): Promise<OperationRecord[]> {
    const recs = docs.map(newRecord);
    if (recs.length > 0) await this.model.collection.insertMany(recs, { ordered: true });
    return recs;
  }

  async findById(id: string | Types.ObjectId): Promise<OperationRecord | null> {
    if (typeof id === 'string' && !isObjectIdString(id)) return null;
    return this.model.findById(id).lean<OperationRecord>().exec();
  }

  /** Marks `ids` as having dependents; returns the status of each one found. */
  async markHasDependents(ids: Types.ObjectId[]): Promise<Map<string, OperationStatus>> {
    await this.model.updateMany({ _id: { $in: ids } }, { $set: { hasDependents: true } }).exec();
    return this.findStatuses(ids);
  }

  async findStatuses(ids: Types.ObjectId[]): Promise<Map<string, OperationStatus>> {
    const docs = await this.model
      .find({ _id: { $in: ids } }, { status: 1 })
      .lean<{ _id: Types.ObjectId; status: OperationStatus }[]>()
      .exec();
    return new Map(docs.map((d) => [d._id.toHexString(), d.status]));
  }

  /** An operation of this type for this terminal that is waiting or in flight. */
  async hasActive(sn: string, type: string): Promise<boolean> {
    const found = await this.model
      .exists({ sn, type, status: { $in: [OperationStatus.Pending, OperationStatus.Sent] } })
      .exec();
    return found !== null;
  }

  /** Whether some instance has a command in flight to this terminal. */
  async hasInFlight(sn: string): Promise<boolean> {
    const found = await this.model.collection.findOne({ sn, status: OperationStatus.Sent }, { projection: { _id: 1 } });
    return found !== null;
  }

  /**
   * Takes the oldest pending operation of `sn` whose dependencies have all succeeded, atomically
   * (pending -> sent, leased to `owner`, one more send counted). Operations asked through the API
   * come before background ones (catch-up, scheduled work); FIFO within each class. When the head
   * waits for its retry backoff, nothing behind it is taken (`wait`). With `unlessInFlight`, takes
   * nothing while a command is in flight to `sn` (`busy`); that check is read alongside the head,
   * after one read that finds whether anything is open for `sn` at all.
   */
  async claimNext(
    sn: string,
    owner: string,
    now: Date,
    leaseMs: number,
    opts: { unlessInFlight?: boolean } = {},
  ): Promise<ClaimResult> {
    if (opts.unlessInFlight) {
      // A terminal that (re)connects mostly has nothing open: one read then answers both questions.
      const open = await this.model.collection.findOne(
        { sn, status: { $in: [OperationStatus.Pending, OperationStatus.Sent] }, group: false },
        { projection: { _id: 1 } },
      );
      if (!open) return { kind: 'empty' };
    }
    for (let tries = 0; tries < 5; tries++) {
      const [inFlight, heads] = await Promise.all([
        opts.unlessInFlight && tries === 0 ? this.hasInFlight(sn) : false,
        // Two: whether another one waits behind the head saves the drain a read after this one.
        this.model.collection
          .find<{ _id: Types.ObjectId; nextAttemptAt: Date }>(
            { sn, status: OperationStatus.Pending, depsPending: false, group: false },
            { projection: { nextAttemptAt: 1 }, sort: { background: 1, createdAt: 1, _id: 1 }, limit: 2 },
          )
          .toArray(),
      ]);
      if (inFlight) return { kind: 'busy' };
      const head = heads[0];
      if (!head) return { kind: 'empty' };
      if (head.nextAttemptAt.getTime() > now.getTime()) return { kind: 'wait', until: head.nextAttemptAt };
      const claimed = await this.model.collection.findOneAndUpdate(
        { _id: head._id, status: OperationStatus.Pending, depsPending: false, nextAttemptAt: { $lte: now } },
        {
          $set: {
            status: OperationStatus.Sent,
            leaseOwner: owner,
            leaseUntil: new Date(now.getTime() + leaseMs),
            sentAt: now,
            updatedAt: new Date(),
          },
          $inc: { attemptCount: 1 },
        },
        AFTER,
      );
      if (claimed) return { kind: 'claimed', op: claimed as OperationRecord, more: heads.length > 1 };
      // Canceled or taken meanwhile: look at the new head.
    }
    return { kind: 'empty' };
  }

  /** Whether an operation asked through the API (not background work) may be sent to `sn` now. */
  async hasDueInteractive(sn: string, now: Date): Promise<boolean> {
    const found = await this.model.collection.findOne(
      {
        sn,
        status: OperationStatus.Pending,
        depsPending: false,
        group: false,
        background: { $ne: true },
        nextAttemptAt: { $lte: now },
      },
      { projection: { _id: 1 } },
    );
    return found !== null;
  }

  /** Extends the leases this instance holds; returns how many still held. */
  async renewLeases(ids: Types.ObjectId[], owner: string, until: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const res = await this.model
      .updateMany(
        { _id: { $in: ids }, status: OperationStatus.Sent, leaseOwner: owner },
        { $set: { leaseUntil: until } },
      )
      .exec();
    return res.matchedCount;
  }

  /** Ends a send: success or failed. Null when the lease was lost meanwhile. */
  async finish(
    fence: LeaseFence,
    outcome: {
      status: OperationStatus.Success | OperationStatus.Failed;
      now: Date;
      response?: Record<string, unknown>;
      lastError?: string;
      /** -1 when the command never left the server (it is not counted as a send). */
      attemptDelta?: number;
    },
  ): Promise<OperationRecord | null> {
    const set: Record<string, unknown> = { status: outcome.status, completedAt: outcome.now, updatedAt: new Date() };
    if (outcome.response !== undefined) set.response = outcome.response;
    if (outcome.lastError !== undefined) set.lastError = outcome.lastError;
    const rec = await this.model.collection.findOneAndUpdate(
      { _id: fence.id, status: OperationStatus.Sent, leaseOwner: fence.owner, attemptCount: fence.attemptCount },
      {
        $set: set,
        $unset: { leaseOwner: 1, leaseUntil: 1 },
        ...(outcome.attemptDelta ? { $inc: { attemptCount: outcome.attemptDelta } } : {}),
      },
      AFTER,
    );
    return rec as OperationRecord | null;
  }

  /** Puts a send back in the queue (timeout, lost connection). Null when the lease was lost meanwhile. */
  async requeue(
    fence: LeaseFence,
    change: { nextAttemptAt: Date; lastError: string; attemptDelta?: number },
  ): Promise<OperationRecord | null> {
    return this.model
      .findOneAndUpdate(
        fenceQuery(fence),
        {
          $set: { status: OperationStatus.Pending, nextAttemptAt: change.nextAttemptAt, lastError: change.lastError },
          $unset: { leaseOwner: 1, leaseUntil: 1 },
          ...(change.attemptDelta ? { $inc: { attemptCount: change.attemptDelta } } : {}),
        },
        AFTER,
      )
      .lean<OperationRecord>()
      .exec();
  }

  /** Operations a previous run of this instance left in flight go back to the queue at once. */
  async releaseAllOwnedBy(owner: string, now: Date, lastError: string): Promise<number> {
    const res = await this.model
      .updateMany(
        { status: OperationStatus.Sent, leaseOwner: owner },
        {
          $set: { status: OperationStatus.Pending, nextAttemptAt: now, lastError },
          $unset: { leaseOwner: 1, leaseUntil: 1 },
        },
      )
      .exec();
    return res.modifiedCount;
  }

  async findExpiredLeases(now: Date, limit: number): Promise<OperationRecord[]> {
    return this.model
      .find({ status: OperationStatus.Sent, leaseUntil: { $lt: now } })
      .sort({ leaseUntil: 1 })
      .limit(limit)
      .lean<OperationRecord[]>()
      .exec();
  }

  /** Takes back a send whose lease expired (its instance died), unless it moved on meanwhile. */
  async reclaimExpired(
    op: Pick<OperationRecord, '_id' | 'attemptCount' | 'leaseOwner'>,
    now: Date,
    outcome: { status: OperationStatus.Pending | OperationStatus.Failed; lastError: string },
  ): Promise<OperationRecord | null> {
    const set: Record<string, unknown> = { status: outcome.status, lastError: outcome.lastError };
    if (outcome.status === OperationStatus.Pending) set.nextAttemptAt = now;
    else set.completedAt = now;
    return this.model
      .findOneAndUpdate(
        {
          _id: op._id,
          status: OperationStatus.Sent,
          leaseOwner: op.leaseOwner,
          attemptCount: op.attemptCount,
          leaseUntil: { $lt: now },
        },
        { $set: set, $unset: { leaseOwner: 1, leaseUntil: 1 } },
        AFTER,
      )
      .lean<OperationRecord>()
      .exec();
  }

  /** Terminals among `sns` with a pending operation that may be sent now. */
  /**
   * Of these terminals, those with an operation open (pending or sent): for the others a freshly
   * registered socket has nothing to wait for and nothing to send, read for many sockets at once.
   */
  async snsWithOpenWork(sns: string[]): Promise<string[]> {
    if (sns.length === 0) return [];
    const found = await this.model.collection.distinct('sn', {
      sn: { $in: sns },
      status: { $in: [OperationStatus.Pending, OperationStatus.Sent] },
      group: false,
    });
    return found.map(String);
  }

  async snsWithDueWork(sns: string[], now: Date): Promise<string[]> {
    if (sns.length === 0) return [];
    const found = await this.model
      .distinct('sn', {
        sn: { $in: sns },
        status: OperationStatus.Pending,
        depsPending: false,
        group: false,
        nextAttemptAt: { $lte: now },
      })
      .exec();
    return found.map(String);
  }

  /** pending or failed -> canceled. Null when the operation is in another state (or gone). */
  async cancel(id: Types.ObjectId, now: Date, lastError?: string): Promise<OperationRecord | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, status: { $in: [OperationStatus.Pending, OperationStatus.Failed] } },
        {
          $set: { status: OperationStatus.Canceled, completedAt: now, ...(lastError ? { lastError } : {}) },
          $unset: { leaseOwner: 1, leaseUntil: 1 },
        },
        AFTER,
      )
      .lean<OperationRecord>()
      .exec();
  }

  /** A pending operation whose dependency will never succeed. */
  async cancelPending(id: Types.ObjectId, now: Date, lastError: string): Promise<OperationRecord | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, status: OperationStatus.Pending },
        { $set: { status: OperationStatus.Canceled, completedAt: now, lastError } },
        AFTER,
      )
      .lean<OperationRecord>()
      .exec();
  }

  /**
   * failed/canceled -> pending with a fresh budget of sends, unless it changed since `seen` was
   * read (then null).
   */
  async requeueFinished(
    seen: Pick<OperationRecord, '_id' | 'status' | 'attemptCount'>,
    change: { now: Date; maxAttempts: number; depsPending: boolean },
  ): Promise<OperationRecord | null> {
    return this.model
      .findOneAndUpdate(
        { _id: seen._id, status: seen.status, attemptCount: seen.attemptCount },
        {
          $set: {
            status: OperationStatus.Pending,
            maxAttempts: change.maxAttempts,
            nextAttemptAt: change.now,
            depsPending: change.depsPending,
          },
          $unset: { completedAt: 1, leaseOwner: 1, leaseUntil: 1 },
        },
        AFTER,
      )
      .lean<OperationRecord>()
      .exec();
  }

  /** Pending operations that wait on `id`. */
  async findPendingDependents(id: Types.ObjectId): Promise<OperationRecord[]> {
    return this.model
      .find({ dependsOn: id, status: OperationStatus.Pending, depsPending: true })
      .lean<OperationRecord[]>()
      .exec();
  }

  async findWaitingOnDependencies(limit: number): Promise<OperationRecord[]> {
    return this.model
      .find({ depsPending: true, status: OperationStatus.Pending })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .lean<OperationRecord[]>()
      .exec();
  }

  async markDependenciesMet(id: Types.ObjectId): Promise<OperationRecord | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, status: OperationStatus.Pending, depsPending: true },
        { $set: { depsPending: false } },
        AFTER,
      )
      .lean<OperationRecord>()
      .exec();
  }

  async findChildStatuses(parentId: Types.ObjectId): Promise<{ _id: Types.ObjectId; status: OperationStatus }[]> {
    return this.model
      .find({ parentId }, { status: 1 })
      .sort({ createdAt: 1, _id: 1 })
      .lean<{ _id: Types.ObjectId; status: OperationStatus }[]>()
      .exec();
  }

  async findPendingChildren(parentId: Types.ObjectId): Promise<OperationRecord[]> {
    return this.model.find({ parentId, status: OperationStatus.Pending }).lean<OperationRecord[]>().exec();
  }

  /** Updates a parent while it is still pending; a final status also sets completedAt. */
  async updateOpenGroup(
    id: Types.ObjectId,
    update: {
      response?: Record<string, unknown>;
      status?: OperationStatus.Success | OperationStatus.Failed;
      lastError?: string;
    },
    now: Date,
  ): Promise<OperationRecord | null> {
    const set: Record<string, unknown> = {};
    if (update.response !== undefined) set.response = update.response;
    if (update.lastError !== undefined) set.lastError = update.lastError;
    if (update.status !== undefined) {
      set.status = update.status;
      set.completedAt = now;
    }
    return this.model
      .findOneAndUpdate({ _id: id, group: true, status: OperationStatus.Pending }, { $set: set }, AFTER)
      .lean<OperationRecord>()
      .exec();
  }

  async findOpenGroups(type: string, limit: number): Promise<OperationRecord[]> {
    return this.model
      .find({ group: true, type, status: OperationStatus.Pending })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .lean<OperationRecord[]>()
      .exec();
  }

  async list(
    filter: OperationFilter,
    skip: number,
    limit: number,
  ): Promise<{ total: number; items: OperationRecord[] }> {
    const q = toQuery(filter);
    const [total, items] = await Promise.all([
      this.model.countDocuments(q).exec(),
      this.model.find(q).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean<OperationRecord[]>().exec(),
    ]);
    return { total, items };
  }

  /**
   * Counts by status and by type over the listing's filters, each one count over an index range
   * (no document read): one per status, and one per type found by a distinct scan of the type
   * index. The total is the sum of the status counts.
   */
  async stats(filter: OperationFilter): Promise<{ total: number; byStatus: CountBucket[]; byType: CountBucket[] }> {
    const q = toQuery(filter);
    const statuses = filter.status !== undefined ? [filter.status] : OPERATION_STATUSES;
    const types =
      filter.type !== undefined
        ? [filter.type]
        : (await this.model.distinct('type').exec()).filter((t): t is string => typeof t === 'string');
    const countEach = (field: 'status' | 'type', values: readonly string[]): Promise<CountBucket[]> =>
      Promise.all(
        values.map(async (v) => ({
          _id: v,
          count: await this.model.countDocuments({ ...q, [field]: v }).exec(),
        })),
      );
    const [byStatus, byType] = await Promise.all([countEach('status', statuses), countEach('type', types)]);
    const byCount = (a: CountBucket, b: CountBucket): number =>
      b.count - a.count || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
    const nonZero = (list: CountBucket[]): CountBucket[] => list.filter((c) => c.count > 0).sort(byCount);
    const status = nonZero(byStatus);
    return { total: status.reduce((n, c) => n + c.count, 0), byStatus: status, byType: nonZero(byType) };
  }

  /**
   * Operations by status and type (metrics), each count read from the `{type, status, createdAt}`
   * index rather than by grouping the whole collection.
   */
  async countsByStatusAndType(): Promise<{ status: string; type: string; count: number }[]> {
    const types = (await this.model.distinct('type').exec()).filter((t): t is string => typeof t === 'string');
    const rows = await Promise.all(
      types.flatMap((type) =>
        OPERATION_STATUSES.map(async (status) => ({
          status,
          type,
          count: await this.model.countDocuments({ type, status }).exec(),
        })),
      ),
    );
    return rows.filter((r) => r.count > 0);
  }

  /** Creation time of the oldest pending operation (metrics), from the `{status, createdAt}` index. */
  async oldestPendingCreatedAt(): Promise<Date | undefined> {
    const row = await this.model
      .findOne({ status: OperationStatus.Pending }, { createdAt: 1 })
      .sort({ status: 1, createdAt: 1 })
      .lean<{ createdAt?: Date }>()
      .exec();
    return row?.createdAt;
  }

  /** Retention: finished operations completed (or, lacking that, created) before `cutoff`. */
  async deleteFinishedBefore(cutoff: Date): Promise<number> {
    const res = await this.model
      .deleteMany({
        status: { $in: FINISHED_STATUSES },
        $or: [{ completedAt: { $lt: cutoff } }, { completedAt: { $exists: false }, createdAt: { $lt: cutoff } }],
      })
      .exec();
    return res.deletedCount;
  }
}

/** A new operation as stored: a fresh id, nothing attempted, no dependents, then the caller's fields. */
function newRecord(doc: NewOperation): OperationRecord {
  return {
    _id: new Types.ObjectId(),
    attemptCount: 0,
    hasDependents: false,
    group: false,
    background: false,
    ...definedOnly(doc),
    updatedAt: new Date(),
  };
}
