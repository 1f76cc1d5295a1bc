import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, QueryFilter, Types } from 'mongoose';
import { FINGERPRINT_LOG_MODEL, FingerPrintLog, PunchDeviceType } from './schemas/fingerprint-log.schema';
import { DUPLICATE_KEY } from '@app/common';

export type FingerPrintLogRecord = FingerPrintLog;

/** A punch's forwarding state: written by this repository only (services store punches, the outbox moves them). */
type OutboxState = Pick<
  FingerPrintLog,
  | 'is_send'
  | 'send_failed'
  | 'forwardedAt'
  | 'forwardResponse'
  | 'last_attempt_error'
  | 'last_attempt_at'
  | 'forward_attempts'
  | 'forward_pending'
  | 'forward_isolated'
  | 'forward_rejections'
  | 'forward_key'
  | 'next_attempt_at'
  | 'claim_token'
  | 'lease_until'
>;
/** A punch as a service hands it over to be stored: everything but its forwarding state. */
export type NewFingerPrintLog = Omit<FingerPrintLog, 'createdAt' | 'updatedAt' | keyof OutboxState>;

/** The attempt that holds a punch from the moment it is stored, and the key of the batch it goes in. */
export interface OutboxClaim {
  token: string;
  leaseUntil: Date;
  key: string;
}

/** What forwarding needs of a punch. */
export interface OutboxPunch {
  _id: string;
  enrollid: string;
  event: number;
  time: Date;
  device_type: PunchDeviceType;
  device_sn: string;
  local_time: string | null;
  forward_attempts: number;
  forward_pending: boolean;
  /** Refused by the HR server on its own: sent alone, and does not hold back later punches. */
  forward_isolated?: boolean;
  forward_rejections?: number;
  /** Idempotency-Key of the batch it was last sent in, kept until HR gives that batch a definite answer. */
  forward_key?: string | null;
  last_attempt_at?: Date | null;
  next_attempt_at: Date | null;
  lease_until: Date;
  claim_token?: string | null;
}

export interface OutboxStream {
  deviceType: PunchDeviceType;
  sn: string;
}

export interface LogListCriteria {
  deviceType?: PunchDeviceType;
  /** An employee's own punches: app punches of the employee, terminal punches of the enroll id. */
  ownedBy?: { employeeId: string; enrollId: string };
  sn?: string;
  enrollid?: string;
  event?: number;
  from?: Date;
  to?: Date;
  /** `to` is the first instant excluded (a whole day was asked for). */
  toExclusive?: boolean;
  isSend?: boolean;
  sendFailed?: boolean;
}

const UNCLAIMED = new Date(0);
const OUTBOX_FIELDS = {
  _id: 1,
  enrollid: 1,
  event: 1,
  time: 1,
  device_type: 1,
  device_sn: 1,
  local_time: 1,
  forward_attempts: 1,
  forward_pending: 1,
  forward_isolated: 1,
  forward_rejections: 1,
  forward_key: 1,
  last_attempt_at: 1,
  next_attempt_at: 1,
  lease_until: 1,
  claim_token: 1,
} as const;
/** Listings: newest first (the listing indexes end with these fields, in this order). */
export const LIST_SORT = { time: -1, _id: -1 } as const;
/** Listings never carry the raw record nor anything of the claim machinery. */
const LIST_EXCLUDED = { raw: 0, dedupe_key: 0, claim_token: 0, lease_until: 0, forward_key: 0 } as const;

interface WriteErrorLike {
  code?: number;
  index?: number;
  errmsg?: string;
}

/** The punches of one frame refused as duplicates of stored ones (positions in the frame). */
export interface FrameInsertResult {
  duplicateIndexes: Set<number>;
}

function writeErrorsOf(err: unknown): WriteErrorLike[] | null {
  if (typeof err !== 'object' || err === null || !('writeErrors' in err)) return null;
  const list: unknown = err.writeErrors;
  if (Array.isArray(list)) return list as WriteErrorLike[];
  return list && typeof list === 'object' ? [list] : null;
}

type OutboxRow = Omit<OutboxPunch, '_id'> & { _id: Types.ObjectId };
const toOutboxPunch = (row: OutboxRow): OutboxPunch => ({ ...row, _id: row._id.toHexString() });

/** What forwarding needs of a stored punch (the fields the outbox reads from the database). */
export function outboxPunchOf(row: FingerPrintLogRecord): OutboxPunch {
  return {
    _id: row._id.toHexString(),
    enrollid: row.enrollid,
    event: row.event,
    time: row.time,
    device_type: row.device_type,
    device_sn: row.device_sn,
    local_time: row.local_time,
    forward_attempts: row.forward_attempts,
    forward_pending: row.forward_pending,
    forward_isolated: row.forward_isolated,
    forward_rejections: row.forward_rejections,
    forward_key: row.forward_key,
    last_attempt_at: row.last_attempt_at,
    next_attempt_at: row.next_attempt_at,
    lease_until: row.lease_until,
    claim_token: row.claim_token,
  };
}

/** A new punch waits to be forwarded, due now; with a claim it is already held by that attempt. */
function newOutboxState(now: Date, claim?: OutboxClaim): OutboxState {
  return {
    is_send: false,
    send_failed: false,
    forwardedAt: null,
    forwardResponse: null,
    last_attempt_error: null,
    last_attempt_at: null,
    forward_attempts: 0,
    forward_pending: true,
    forward_isolated: false,
    forward_rejections: 0,
    forward_key: claim?.key ?? null,
    next_attempt_at: now,
    claim_token: claim?.token ?? null,
    lease_until: claim?.leaseUntil ?? UNCLAIMED,
  };
}
/**
 * The row stored for a new punch: its fields, the outbox state and the timestamps. Copied with
 * Object.assign: a literal spreading two objects into one this wide cost V8 about 35 us per row
 * (the slowest step of storing a frame), the copy about 1.5 us.
 */
function newRow(doc: NewFingerPrintLog, state: OutboxState, now: Date): FingerPrintLogRecord {
  return Object.assign({}, doc, state, { createdAt: now, updatedAt: now });
}

const objectIds = (ids: string[]): Types.ObjectId[] => ids.map((id) => new Types.ObjectId(id));

@Injectable()
export class FingerPrintLogRepository {
  constructor(@InjectModel(FINGERPRINT_LOG_MODEL) private readonly model: Model<FingerPrintLog>) {}

  /**
   * One unordered insert for a whole frame. Returns the positions refused as duplicates of
   * `dedupe_key`; any other write error is thrown (the caller must not acknowledge).
   */
  async insertManyDeduplicated(docs: NewFingerPrintLog[]): Promise<{ duplicateIndexes: Set<number> }> {
    const [result] = await this.insertFramesDeduplicated([docs]);
    if (result instanceof Error) throw result;
    return result;
  }

  /**
   * The punches of several frames in one unordered insert. Answers each frame in order: the
   * positions (in that frame) refused as duplicates of `dedupe_key`, or an Error when one of its
   * punches hit any other write error (that frame must not be acknowledged; the other frames'
   * punches are written). Throws when the insert as a whole failed or was not durably written
   * (no frame may be acknowledged).
   */
  async insertFramesDeduplicated(frames: NewFingerPrintLog[][]): Promise<Array<FrameInsertResult | Error>> {
    const results: Array<FrameInsertResult | Error> = frames.map(() => ({ duplicateIndexes: new Set<number>() }));
    const now = new Date();
    const state = newOutboxState(now);
    const rows: FingerPrintLogRecord[] = [];
    /** The frame of each row, and the row's position in that frame. */
    const owner: Array<{ frame: number; index: number }> = [];
    frames.forEach((docs, frame) =>
      docs.forEach((d, index) => {
        rows.push(newRow(d, state, now));
        owner.push({ frame, index });
      }),
    );
    if (rows.length === 0) return results;
    try {
      await this.model.collection.insertMany(rows, { ordered: false });
    } catch (err) {
      const writeErrors = writeErrorsOf(err);
      if (!writeErrors || writeErrors.length === 0) throw err;
      // A write concern error beside the write errors: nothing is known to be durably written.
      if ((err as { writeConcernErrors?: unknown[] }).writeConcernErrors?.length) throw err;
      for (const we of writeErrors) {
        const at = typeof we.index === 'number' ? owner[we.index] : undefined;
        if (!at) throw err;
        const result = results[at.frame];
        if (result instanceof Error) continue;
        if (we.code === DUPLICATE_KEY) result.duplicateIndexes.add(at.index);
        else results[at.frame] = new Error(`punch ${at.index} not stored: ${we.errmsg ?? `code ${we.code}`}`);
      }
    }
    return results;
  }

  /**
   * Stores one punch waiting to be forwarded; with `claim`, held by that attempt under its batch key
   * from the start (one write), so no other attempt sends it first. Returns the row as stored.
   */
  async insertPunch(doc: NewFingerPrintLog, claim?: OutboxClaim): Promise<FingerPrintLogRecord> {
    const now = new Date();
    const row = newRow(doc, newOutboxState(now, claim), now);
    await this.model.collection.insertOne({ ...row });
    return row;
  }

  async idsByDedupeKeys(keys: string[]): Promise<Map<string, string>> {
    const rows = await this.model
      .find({ dedupe_key: { $in: keys } }, { _id: 1, dedupe_key: 1 })
      .lean<Array<{ _id: Types.ObjectId; dedupe_key: string }>>()
      .exec();
    return new Map(rows.map((r) => [r.dedupe_key, r._id.toHexString()]));
  }

  async findById(id: string): Promise<FingerPrintLogRecord | null> {
    if (!Types.ObjectId.isValid(id)) return null;
    return this.model.findById(id, LIST_EXCLUDED).lean<FingerPrintLogRecord>().exec();
  }

  // ---- outbox ----

  /** Terminals (and app device ids) that have a due, unclaimed punch, most overdue first. */
  async dueStreams(deviceTypes: PunchDeviceType[], now: Date, scanLimit: number): Promise<OutboxStream[]> {
    const rows = await this.model
      .find(
        {
          forward_pending: true,
          next_attempt_at: { $lte: now },
          lease_until: { $lte: now },
          device_type: { $in: deviceTypes },
        },
        { device_type: 1, device_sn: 1 },
      )
      .sort({ next_attempt_at: 1, _id: 1 })
      .limit(scanLimit)
      .lean<Array<{ device_type: PunchDeviceType; device_sn: string }>>()
      .exec();
    const seen = new Map<string, OutboxStream>();
    for (const r of rows) {
      const key = `${r.device_type}\u0000${r.device_sn}`;
      if (!seen.has(key)) seen.set(key, { deviceType: r.device_type, sn: r.device_sn });
    }
    return [...seen.values()];
  }

  async findOutboxPunches(ids: string[]): Promise<OutboxPunch[]> {
    const rows = await this.model
      .find({ _id: { $in: objectIds(ids) } }, OUTBOX_FIELDS)
      .sort({ time: 1, _id: 1 })
      .lean<OutboxRow[]>()
      .exec();
    return rows.map(toOutboxPunch);
  }

  /**
   * Claims punches: the condition (undelivered, lease free, and due unless `ignoreBackoff`) is
   * checked atomically per document by the update itself, so concurrent claimers (other instances,
   * retry routes) each win a disjoint set; then reads back the ones this token won, oldest first.
   */
  async claim(
    ids: string[],
    token: string,
    now: Date,
    leaseUntil: Date,
    opts: { ignoreBackoff?: boolean } = {},
  ): Promise<OutboxPunch[]> {
    if (ids.length === 0) return [];
    await this.model.updateMany(
      {
        _id: { $in: objectIds(ids) },
        forward_pending: true,
        lease_until: { $lte: now },
        ...(opts.ignoreBackoff ? {} : { next_attempt_at: { $lte: now } }),
      },
      { $set: { claim_token: token, lease_until: leaseUntil } },
    );
    const rows = await this.model
      .find({ _id: { $in: objectIds(ids) }, claim_token: token }, OUTBOX_FIELDS)
      .sort({ time: 1, _id: 1 })
      .lean<OutboxRow[]>()
      .exec();
    return rows.map(toOutboxPunch);
  }

  /**
   * Fixes a new batch: the punches of `ids` still held by `token` and in no batch get `key`, which
   * is written before the request goes out. Returns the batch's members as stored, oldest first:
   * that set, and only it, is ever sent under `key`.
   */
  async assignKey(ids: string[], token: string, key: string): Promise<OutboxPunch[]> {
    if (ids.length === 0) return [];
    await this.model.updateMany(
      { _id: { $in: objectIds(ids) }, claim_token: token, forward_pending: true, forward_key: null },
      { $set: { forward_key: key } },
    );
    return this.batchMembers(key);
  }

  /** Every punch stored under `key` (delivered or not), in the order they are sent. */
  async batchMembers(key: string): Promise<OutboxPunch[]> {
    const rows = await this.model
      .find({ forward_key: key }, OUTBOX_FIELDS)
      .sort({ time: 1, _id: 1 })
      .lean<OutboxRow[]>()
      .exec();
    return rows.map(toOutboxPunch);
  }

  /**
   * Claims the undelivered members of the batch `key` for `token`. The batch goes out whole or not
   * at all: `held` is false (and what this call took is given back) when another attempt holds a
   * member.
   */
  async claimBatch(
    key: string,
    token: string,
    now: Date,
    leaseUntil: Date,
    opts: { ignoreBackoff?: boolean } = {},
  ): Promise<{ members: OutboxPunch[]; held: boolean }> {
    await this.model.updateMany(
      {
        forward_key: key,
        forward_pending: true,
        lease_until: { $lte: now },
        ...(opts.ignoreBackoff ? {} : { next_attempt_at: { $lte: now } }),
      },
      { $set: { claim_token: token, lease_until: leaseUntil } },
    );
    const members = await this.batchMembers(key);
    const pending = members.filter((p) => p.forward_pending);
    const held = pending.length > 0 && pending.every((p) => p.claim_token === token);
    if (!held) {
      await this.release(
        pending.filter((p) => p.claim_token === token).map((p) => p._id),
        token,
      );
    }
    return { members, held };
  }

  /** Gives claims back; `unsent` also takes them out of a batch that never went out. */
  async release(ids: string[], token: string, opts: { unsent?: boolean } = {}): Promise<void> {
    if (ids.length === 0) return;
    await this.model.updateMany(
      { _id: { $in: objectIds(ids) }, claim_token: token },
      { $set: { claim_token: null, lease_until: UNCLAIMED, ...(opts.unsent ? { forward_key: null } : {}) } },
    );
  }

  /**
   * PUNCH_RETENTION_DAYS: removes up to `limit` delivered punches (sent, not failed, not pending)
   * whose time is before `cutoff`, through the (device_type, is_send, send_failed, time) index.
   */
  async deleteDeliveredBefore(deviceType: PunchDeviceType, cutoff: Date, limit: number): Promise<number> {
    const ids = await this.model
      .find(
        { device_type: deviceType, is_send: true, send_failed: false, time: { $lt: cutoff }, forward_pending: false },
        { _id: 1 },
      )
      .limit(limit)
      .lean();
    if (ids.length === 0) return 0;
    const res = await this.model.deleteMany({ _id: { $in: ids.map((d) => d._id) }, forward_pending: false });
    return res.deletedCount;
  }

  /**
   * The result of one punch's attempt, and the punch as that write left it; null when `token` no
   * longer held it (the write changed nothing).
   */
  async recordResultOf(record: ForwardOutcomeRecord & { ids: [string] }): Promise<FingerPrintLogRecord | null> {
    const { filter, update } =
      record.kind === 'delivered'
        ? deliveredUpdate(record.ids, record.token, record.response, record.at)
        : failedUpdate(record.ids, record.token, record);
    return this.model
      .findOneAndUpdate(filter, update, { returnDocument: 'after', projection: LIST_EXCLUDED })
      .lean<FingerPrintLogRecord>()
      .exec();
  }

  /** The results of many batches in one write (the outbox's bulk round). */
  async recordResults(results: ForwardOutcomeRecord[]): Promise<void> {
    if (results.length === 0) return;
    await this.model.bulkWrite(
      results.map((r) => ({
        updateMany:
          r.kind === 'delivered' ? deliveredUpdate(r.ids, r.token, r.response, r.at) : failedUpdate(r.ids, r.token, r),
      })),
      { ordered: false },
    );
  }

  /**
   * The oldest undelivered punches of many streams in one read (`perStream` at most each, `max` in
   * all). Read oldest first across all of them, so what a stream gets is always its own head.
   */
  async streamHeads(streams: OutboxStream[], perStream: number, max: number): Promise<Map<string, OutboxPunch[]>> {
    const heads = new Map<string, OutboxPunch[]>();
    if (streams.length === 0) return heads;
    const byType = new Map<PunchDeviceType, string[]>();
    for (const s of streams) byType.set(s.deviceType, [...(byType.get(s.deviceType) ?? []), s.sn]);
    const or = [...byType].map(([deviceType, sns]) => ({ device_type: deviceType, device_sn: { $in: sns } }));
    const rows = await this.model
      .find({ forward_pending: true, ...(or.length === 1 ? or[0] : { $or: or }) }, OUTBOX_FIELDS)
      .sort({ time: 1, _id: 1 })
      .limit(max)
      .lean<OutboxRow[]>()
      .exec();
    for (const row of rows) {
      const key = streamKey(row.device_type, row.device_sn);
      const head = heads.get(key) ?? [];
      if (head.length < perStream) head.push(toOutboxPunch(row));
      heads.set(key, head);
    }
    return heads;
  }

  /**
   * The outbox's claim of new batches in one write: the due, unclaimed punches of each batch that
   * are in no batch yet are claimed and given that batch's key together. Returns what `token` won,
   * by key, oldest first.
   */
  async claimNewBatches(
    batches: Array<{ ids: string[]; key: string }>,
    token: string,
    now: Date,
    leaseUntil: Date,
  ): Promise<Map<string, OutboxPunch[]>> {
    const won = new Map<string, OutboxPunch[]>();
    if (batches.length === 0) return won;
    await this.model.bulkWrite(
      batches.map((b) => ({
        updateMany: {
          filter: {
            _id: { $in: objectIds(b.ids) },
            forward_pending: true,
            lease_until: { $lte: now },
            next_attempt_at: { $lte: now },
            forward_key: null,
          },
          update: { $set: { claim_token: token, lease_until: leaseUntil, forward_key: b.key } },
        },
      })),
      { ordered: false },
    );
    const rows = await this.model
      .find({ claim_token: token }, OUTBOX_FIELDS)
      .sort({ time: 1, _id: 1 })
      .lean<OutboxRow[]>()
      .exec();
    for (const row of rows) {
      if (!row.forward_key) continue;
      won.set(row.forward_key, [...(won.get(row.forward_key) ?? []), toOutboxPunch(row)]);
    }
    return won;
  }

  /** The contract's retry rule: (is_send AND send_failed) OR NOT is_send, oldest first. */
  async retryCandidates(deviceType: PunchDeviceType, limit: number): Promise<OutboxPunch[]> {
    const rows = await this.model
      .find({ device_type: deviceType, $or: [{ is_send: true, send_failed: true }, { is_send: false }] }, OUTBOX_FIELDS)
      .sort({ time: 1, _id: 1 })
      .limit(limit)
      .lean<OutboxRow[]>()
      .exec();
    return rows.map(toOutboxPunch);
  }

  // ---- listings ----

  /** Punches not yet confirmed by the HR server, and when the oldest of them was stored (health, metrics). */
  async outboxBacklog(): Promise<{ count: number; oldestAt?: Date }> {
    const [count, oldest] = await Promise.all([
      this.model.countDocuments({ forward_pending: true }).exec(),
      this.model
        .findOne({ forward_pending: true }, { createdAt: 1 })
        .sort({ createdAt: 1 })
        .lean<{ createdAt?: Date }>()
        .exec(),
    ]);
    return { count, ...(oldest?.createdAt ? { oldestAt: oldest.createdAt } : {}) };
  }

  /**
   * One page, newest first, and the total. Every filter the listings offer is an equality prefix of
   * one index followed by the sort, so the page and the count are read from that index's range
   * (with the embedded server, the count visits no document). An employee's own punches are two
   * disjoint streams (app punches by employee, terminal punches by enroll id): each is read from its
   * own index, the totals added and the pages merged.
   */
  async list(
    criteria: LogListCriteria,
    page: number,
    limit: number,
  ): Promise<{ rows: FingerPrintLogRecord[]; total: number }> {
    const skip = (page - 1) * limit;
    const filters = branchFilters(criteria);
    if (filters.length === 1) {
      const [rows, total] = await Promise.all([this.page(filters[0], skip, limit), this.count(filters[0])]);
      return { rows, total };
    }
    const parts = await Promise.all(
      filters.map(async (f) => {
        const [rows, total] = await Promise.all([this.page(f, 0, skip + limit), this.count(f)]);
        return { rows, total };
      }),
    );
    const merged = parts.flatMap((p) => p.rows).sort(newestFirst);
    return { rows: merged.slice(skip, skip + limit), total: parts.reduce((n, p) => n + p.total, 0) };
  }

  private page(filter: QueryFilter<FingerPrintLog>, skip: number, limit: number): Promise<FingerPrintLogRecord[]> {
    return this.model
      .find(filter, LIST_EXCLUDED)
      .sort(LIST_SORT)
      .skip(skip)
      .limit(limit)
      .lean<FingerPrintLogRecord[]>()
      .exec();
  }

  private count(filter: QueryFilter<FingerPrintLog>): Promise<number> {
    return this.model.countDocuments(filter).exec();
  }
}

function newestFirst(a: FingerPrintLogRecord, b: FingerPrintLogRecord): number {
  const t = b.time.getTime() - a.time.getTime();
  if (t !== 0) return t;
  const x = a._id.toHexString();
  const y = b._id.toHexString();
  return x < y ? 1 : x > y ? -1 : 0;
}

/** The filters a listing reads: one, or one per stream of an employee's own punches. */
export function branchFilters(c: LogListCriteria): QueryFilter<FingerPrintLog>[] {
  const base = toFilter(c);
  if (!c.ownedBy) return [base];
  const out: QueryFilter<FingerPrintLog>[] = [];
  if (!c.deviceType || c.deviceType === PunchDeviceType.MobileApp) {
    out.push({ ...base, device_type: PunchDeviceType.MobileApp, employee: new Types.ObjectId(c.ownedBy.employeeId) });
  }
  const enrollid = c.ownedBy.enrollId;
  if (
    (!c.deviceType || c.deviceType === PunchDeviceType.Terminal) &&
    (c.enrollid === undefined || c.enrollid === enrollid)
  ) {
    out.push({ ...base, device_type: PunchDeviceType.Terminal, enrollid });
  }
  // Neither stream can match: an impossible filter (counts 0 from the index) keeps one code path.
  if (out.length === 0) out.push({ ...base, device_type: { $in: [] } });
  return out;
}

/**
 * A flat conjunction, shaped for the listing indexes: the equality fields, then the time range.
 * Filtering on one of is_send / send_failed asks for both values of the other, so the
 * `(device_type, is_send, send_failed, time)` index serves either alone.
 */
function toFilter(c: LogListCriteria): QueryFilter<FingerPrintLog> {
  const f: Record<string, unknown> = {};
  if (c.deviceType) f.device_type = c.deviceType;
  if (c.sn !== undefined) f.device_sn = c.sn;
  if (c.enrollid !== undefined) f.enrollid = c.enrollid;
  if (c.event !== undefined) f.event = c.event;
  if (c.isSend !== undefined || c.sendFailed !== undefined) {
    f.is_send = c.isSend ?? { $in: [false, true] };
    f.send_failed = c.sendFailed ?? { $in: [false, true] };
  }
  if (c.from || c.to) {
    const range: Record<string, Date> = {};
    if (c.from) range.$gte = c.from;
    if (c.to) range[c.toExclusive ? '$lt' : '$lte'] = c.to;
    f.time = range;
  }
  return f;
}

export function streamKey(deviceType: PunchDeviceType, sn: string): string {
  return `${deviceType}\u0000${sn}`;
}

export interface ForwardFailure {
  error: string;
  response: unknown;
  at: Date;
  nextAttemptAt: Date;
  /** HR refused the content (a definite answer): the batch is dissolved, its punches may be re-batched. */
  rejected?: boolean;
  isolate?: boolean;
}

export type ForwardOutcomeRecord =
  | { kind: 'delivered'; ids: string[]; token: string; response: unknown; at: Date }
  | ({ kind: 'failed'; ids: string[]; token: string } & ForwardFailure);

/** Only punches still held by `token`: a late answer never overwrites another attempt's result. */
function deliveredUpdate(ids: string[], token: string, response: unknown, at: Date) {
  return {
    filter: { _id: { $in: objectIds(ids) }, claim_token: token },
    update: {
      $set: {
        is_send: true,
        send_failed: false,
        forwardedAt: at,
        forwardResponse: response ?? null,
        last_attempt_error: null,
        last_attempt_at: at,
        forward_pending: false,
        next_attempt_at: null,
        claim_token: null,
        lease_until: UNCLAIMED,
      },
      $inc: { forward_attempts: 1 },
    },
  };
}

function failedUpdate(ids: string[], token: string, failure: ForwardFailure) {
  return {
    filter: { _id: { $in: objectIds(ids) }, claim_token: token, forward_pending: true },
    update: {
      $set: {
        is_send: true,
        send_failed: true,
        forwardResponse: failure.response ?? null,
        last_attempt_error: failure.error,
        last_attempt_at: failure.at,
        next_attempt_at: failure.nextAttemptAt,
        claim_token: null,
        lease_until: UNCLAIMED,
        ...(failure.isolate ? { forward_isolated: true } : {}),
        ...(failure.rejected ? { forward_key: null } : {}),
      },
      $inc: { forward_attempts: 1, forward_rejections: failure.rejected ? 1 : 0 },
    },
  };
}
