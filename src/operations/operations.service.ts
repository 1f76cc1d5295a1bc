import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { Types } from 'mongoose';
import { ApiError, clampLimit, clampPage, dayRange, describeError, isObjectIdString } from '@app/common';
import { isPlainObject, toInt } from '@app/device-protocol';
import { operationsConfig, OperationsConfig } from '../config/operations.config';
import { OperationExecutors } from './executors/operation-executors';
import { OPERATION_CLOCK, OperationClock } from './operation-clock';
import { OperationDependencies } from './operation-dependencies';
import { deviceOffline, deviceTimeout } from './operation-errors';
import { OperationEvents } from './operation-events';
import {
  CATCH_UP_MEMORY,
  CatchUpMemory,
  TERMINAL_DIRECTORY,
  TERMINAL_LINK,
  TerminalDirectory,
  TerminalLink,
  TerminalRegisteredEvent,
} from './operation-ports';
import { isFinished, OperationRecord, OperationView, toOperationView } from './operation.view';
import { CountBucket, NewOperation, OperationFilter, OperationsRepository } from './operations.repository';
import { OperationStatus } from './schemas/operation.schema';

export interface EnqueueOptions {
  /** The operation this one is a step of (multi-step work such as a transfer). */
  parentId?: string;
  /** Operations that must all succeed first; if one fails or is canceled, this one is canceled. */
  dependsOn?: string[];
  /** Who asked (an admin id, `system:catch-up`, ...), for the audit trail. */
  requestedBy?: string;
  /** Housekeeping the server queues itself: sent after every operation asked through the API. */
  background?: boolean;
  /** Sends before the operation is failed (default OP_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Refuse at once (409, nothing stored) when the terminal is unknown or offline. */
  requireOnline?: boolean;
  /** Send this command and payload instead of `type` and `payload` (which stay as the recorded request). */
  wire?: { cmd: string; payload?: Record<string, unknown> };
}

export interface ListOperationsQuery {
  page?: number;
  limit?: number;
  sn?: string;
  type?: string;
  status?: OperationStatus;
  from?: string;
  to?: string;
}

export interface OperationPage {
  total: number;
  page: number;
  items: OperationView[];
}

export interface OperationStats {
  total: number;
  byStatus: CountBucket[];
  byType: CountBucket[];
}

export const DEFAULT_PAGE_SIZE = 20;
export const CATCH_UP_REQUESTER = 'system:catch-up';
/** The catch-up is tried at most this many times per registration (a terminal may ignore getnewlog). */
export const CATCH_UP_MAX_ATTEMPTS = 2;

/** Re-reads of a waited-for operation that another instance runs: quick, the only way to learn the outcome. */
const REMOTE_FIRST_PAUSE_MS = 100;
const REMOTE_MAX_PAUSE_MS = 1_000;
/** Re-reads while the terminal is connected here (the outcome comes as an in-process event). */
const LOCAL_FIRST_PAUSE_MS = 2_000;
const LOCAL_MAX_PAUSE_MS = 5_000;

function operationNotFound(): ApiError {
  return new ApiError(404, 'operation_not_found', 'No operation with this id');
}

function invalidTransition(message: string): ApiError {
  return new ApiError(409, 'invalid_transition', message);
}

function objectId(value: string, field: string): Types.ObjectId {
  if (!isObjectIdString(value)) throw new ApiError(400, 'invalid_id', `${field} must be a 24-character hex ObjectId`);
  return new Types.ObjectId(value);
}

/** The queue's use cases: what other modules and the HTTP API call. */
@Injectable()
export class OperationsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('OperationsService');
  private purging = false;
  /** Callers of waitFor / enqueueAndWait, by operation id. */
  private readonly waiters = new Map<string, Set<(rec: OperationRecord) => void>>();

  constructor(
    private readonly repo: OperationsRepository,
    private readonly deps: OperationDependencies,
    private readonly executors: OperationExecutors,
    private readonly events: OperationEvents,
    @Inject(TERMINAL_LINK) private readonly link: TerminalLink,
    @Inject(TERMINAL_DIRECTORY) private readonly terminals: TerminalDirectory,
    @Inject(operationsConfig.KEY) private readonly cfg: OperationsConfig,
    @Inject(OPERATION_CLOCK) private readonly clock: OperationClock,
    @Optional() @Inject(CATCH_UP_MEMORY) private readonly catchUpMemory?: CatchUpMemory,
  ) {}

  onModuleInit(): void {
    this.link.on('registered', this.onRegistered);
    this.events.on('finished', this.noteCatchUpOutcome);
  }

  onModuleDestroy(): void {
    this.link.off('registered', this.onRegistered);
    this.events.off('finished', this.noteCatchUpOutcome);
  }

  /**
   * Stores a new operation for `sn` (pending; or failed at once, never sent, when its payload is
   * not a valid command) and wakes the dispatcher when the terminal is connected here.
   */
  async enqueue(
    sn: string,
    type: string,
    payload: Record<string, unknown> = {},
    opts: EnqueueOptions = {},
  ): Promise<OperationView> {
    if (typeof sn !== 'string' || sn.trim() === '') throw new ApiError(400, 'invalid_sn', 'sn must not be empty');
    if (!isPlainObject(payload)) throw new ApiError(400, 'invalid_payload', 'payload must be an object');
    if (opts.wire !== undefined && (typeof opts.wire.cmd !== 'string' || !isPlainObject(opts.wire.payload ?? {}))) {
      throw new ApiError(400, 'invalid_payload', 'wire must be { cmd, payload? }');
    }
    if (!this.executors.knows(type, opts.wire?.cmd)) {
      throw new ApiError(400, 'unknown_command', `"${opts.wire?.cmd ?? type}" is not a terminal command`);
    }
    const maxAttempts = opts.maxAttempts ?? this.cfg.maxAttempts;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
      throw new ApiError(400, 'invalid_max_attempts', 'maxAttempts must be an integer from 1 to 100');
    }
    const parentId = opts.parentId !== undefined ? objectId(opts.parentId, 'parentId') : undefined;
    const dependsOn = [...new Set(opts.dependsOn ?? [])].map((id) => objectId(id, 'dependsOn'));
    if (opts.requireOnline && !(await this.isReachable(sn))) throw deviceOffline();
    if (dependsOn.length > 0) {
      const known = await this.repo.markHasDependents(dependsOn);
      const missing = dependsOn.filter((id) => !known.has(id.toHexString()));
      if (missing.length > 0) {
        throw new ApiError(400, 'unknown_dependency', `No operation ${missing.map(String).join(', ')}`);
      }
    }

    const problem = this.executors.validate({
      type,
      payload,
      ...(opts.wire ? { wireCmd: opts.wire.cmd, wirePayload: opts.wire.payload ?? {} } : {}),
    });
    const now = this.clock.now();
    const rec = await this.repo.insert({
      sn,
      type,
      payload,
      status: problem ? OperationStatus.Failed : OperationStatus.Pending,
      maxAttempts,
      nextAttemptAt: now,
      createdAt: now,
      dependsOn,
      depsPending: dependsOn.length > 0 && !problem,
      ...(problem ? { lastError: `invalid_payload: ${problem}`, completedAt: now } : {}),
      ...(parentId ? { parentId } : {}),
      ...(opts.requestedBy ? { requestedBy: opts.requestedBy } : {}),
      ...(opts.background ? { background: true } : {}),
      ...(opts.wire ? { wireCmd: opts.wire.cmd, wirePayload: opts.wire.payload ?? {} } : {}),
    });
    let current: OperationRecord = rec;
    if (problem) await this.deps.finished(rec);
    else if (rec.depsPending) current = await this.deps.evaluate(rec);
    else this.events.emit('ready', sn);
    return toOperationView(current);
  }

  /**
   * Many operations of one type for one terminal (a bulk delete), stored in one ordered write and in
   * that order; each is checked as `enqueue` checks one, and an invalid payload is stored failed.
   * For operations without dependencies or a parent.
   */
  async enqueueMany(
    sn: string,
    type: string,
    payloads: Array<Record<string, unknown>>,
    opts: Pick<EnqueueOptions, 'requestedBy' | 'background'> = {},
  ): Promise<OperationView[]> {
    if (typeof sn !== 'string' || sn.trim() === '') throw new ApiError(400, 'invalid_sn', 'sn must not be empty');
    if (!this.executors.knows(type)) throw new ApiError(400, 'unknown_command', `"${type}" is not a terminal command`);
    const now = this.clock.now();
    const docs = payloads.map((payload): NewOperation => {
      if (!isPlainObject(payload)) throw new ApiError(400, 'invalid_payload', 'payload must be an object');
      const problem = this.executors.validate({ type, payload });
      return {
        sn,
        type,
        payload,
        status: problem ? OperationStatus.Failed : OperationStatus.Pending,
        maxAttempts: this.cfg.maxAttempts,
        nextAttemptAt: now,
        createdAt: now,
        dependsOn: [],
        depsPending: false,
        ...(problem ? { lastError: `invalid_payload: ${problem}`, completedAt: now } : {}),
        ...(opts.requestedBy ? { requestedBy: opts.requestedBy } : {}),
        ...(opts.background ? { background: true } : {}),
      };
    });
    const recs = await this.repo.insertMany(docs);
    for (const rec of recs) if (rec.status === OperationStatus.Failed) await this.deps.finished(rec);
    if (recs.some((r) => r.status === OperationStatus.Pending)) this.events.emit('ready', sn);
    return recs.map(toOperationView);
  }

  /**
   * Enqueues and waits for the outcome (success, failed or canceled). By default refuses an
   * unknown or offline terminal at once (409, nothing stored); after `waitMs` (OP_WAIT_TIMEOUT)
   * answers 504 with the operation id while the operation carries on.
   */
  async enqueueAndWait(
    sn: string,
    type: string,
    payload: Record<string, unknown> = {},
    opts: EnqueueOptions & { waitMs?: number } = {},
  ): Promise<OperationView> {
    const { waitMs, ...enqueueOpts } = opts;
    const op = await this.enqueue(sn, type, payload, { ...enqueueOpts, requireOnline: opts.requireOnline ?? true });
    if (isFinished(op.status)) return op;
    // Just stored and still open: no need to read it back before the first pause.
    return this.awaitOutcome(new Types.ObjectId(op._id), waitMs ?? this.cfg.waitTimeoutMs, op.sn);
  }

  /**
   * Resolves with the operation once finished: at once from an in-process event when this instance
   * ran it, else by re-reading the document with a growing pause (another instance runs it).
   * Rejects with 504 `device_timeout` after `waitMs`, 404 when it does not exist.
   */
  async waitFor(opId: string, waitMs: number = this.cfg.waitTimeoutMs): Promise<OperationView> {
    return this.awaitOutcome(objectId(opId, 'id'), waitMs);
  }

  /**
   * `knownOpenOn`: the operation was just stored for this terminal, so the first read is skipped.
   * While the terminal is connected here, this instance's dispatcher announces the outcome in
   * process, and the re-reads are only a slow safety net (the terminal may move to another instance).
   */
  private awaitOutcome(id: Types.ObjectId, waitMs: number, knownOpenOn?: string): Promise<OperationView> {
    const key = id.toHexString();
    return new Promise<OperationView>((resolve, reject) => {
      let done = false;
      let cancelRead: () => void = () => undefined;
      let cancelDeadline: () => void = () => undefined;
      let sn = knownOpenOn;
      const end = (outcome: () => void): void => {
        if (done) return;
        done = true;
        this.removeWaiter(key, onFinished);
        cancelRead();
        cancelDeadline();
        outcome();
      };
      const onFinished = (rec: OperationRecord): void => end(() => resolve(toOperationView(rec)));
      const read = async (final: boolean): Promise<void> => {
        let rec: OperationRecord | null;
        try {
          rec = await this.repo.findById(id);
        } catch (err) {
          if (final) end(() => reject(err instanceof Error ? err : new Error(String(err))));
          return;
        }
        if (!rec) end(() => reject(operationNotFound()));
        else if (isFinished(rec.status)) end(() => resolve(toOperationView(rec)));
        else if (final) end(() => reject(deviceTimeout(key)));
        else sn = rec.sn;
      };
      let remotePause = REMOTE_FIRST_PAUSE_MS;
      let localPause = LOCAL_FIRST_PAUSE_MS;
      const schedule = (): void => {
        if (done) return;
        let pause: number;
        if (sn !== undefined && this.link.isConnected(sn)) {
          pause = localPause;
          localPause = Math.min(localPause * 2, LOCAL_MAX_PAUSE_MS);
        } else {
          pause = remotePause;
          remotePause = Math.min(remotePause * 2, REMOTE_MAX_PAUSE_MS);
        }
        cancelRead = this.clock.setTimer(pause, poll);
      };
      const poll = (): void => {
        void read(false).then(schedule);
      };
      this.addWaiter(key, onFinished);
      cancelDeadline = this.clock.setTimer(Math.max(0, waitMs), () => {
        cancelRead();
        void read(true);
      });
      if (knownOpenOn === undefined) poll();
      else schedule();
    });
  }

  private addWaiter(key: string, waiter: (rec: OperationRecord) => void): void {
    if (this.waiters.size === 0) this.events.on('finished', this.onFinished);
    let set = this.waiters.get(key);
    if (!set) {
      set = new Set();
      this.waiters.set(key, set);
    }
    set.add(waiter);
  }

  private removeWaiter(key: string, waiter: (rec: OperationRecord) => void): void {
    const set = this.waiters.get(key);
    if (!set) return;
    set.delete(waiter);
    if (set.size > 0) return;
    this.waiters.delete(key);
    if (this.waiters.size === 0) this.events.off('finished', this.onFinished);
  }

  /** One listener for every waiter: a finished operation is looked up by id, not offered to each. */
  private readonly onFinished = (rec: OperationRecord): void => {
    const set = this.waiters.get(rec._id.toHexString());
    if (set) for (const waiter of [...set]) waiter(rec);
  };

  // ---------------------------------------------------------------- parents of multi-step work

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

  /** Status of every step of a parent, oldest first (no payloads: pushes carry photos). */
  async findChildStatuses(parentId: string): Promise<{ _id: string; status: OperationStatus }[]> {
    const rows = await this.repo.findChildStatuses(objectId(parentId, 'parentId'));
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
    return (await this.repo.findOpenGroups(type, Math.max(1, Math.min(limit, 1_000)))).map(toOperationView);
  }

  async findById(id: string): Promise<OperationView | null> {
    if (!isObjectIdString(id)) return null;
    const rec = await this.repo.findById(id);
    return rec ? toOperationView(rec) : null;
  }

  /** pending or failed -> canceled (never sent afterwards); 409 for any other state. */
  async cancel(id: string): Promise<OperationView> {
    const oid = objectId(id, 'id');
    const rec = await this.repo.cancel(oid, this.clock.now());
    if (!rec) {
      const current = await this.repo.findById(oid);
      if (!current) throw operationNotFound();
      throw invalidTransition(`Only pending or failed operations can be canceled; this one is ${current.status}`);
    }
    await this.deps.finished(rec);
    if (rec.group) await this.cancelPendingChildren(rec);
    return toOperationView(rec);
  }

  /** Canceling a parent cancels the steps that have not been sent yet. */
  private async cancelPendingChildren(parent: OperationRecord): Promise<void> {
    for (const child of await this.repo.findPendingChildren(parent._id)) {
      const canceled = await this.repo.cancelPending(child._id, this.clock.now(), 'parent_canceled');
      if (canceled) await this.deps.finished(canceled);
    }
  }

  /**
   * failed or canceled -> pending with a fresh budget of sends (attemptCount keeps counting every
   * send; maxAttempts moves up by OP_MAX_ATTEMPTS). 409 for any other state, or while a
   * dependency is failed or canceled (retry that one first).
   */
  async retry(id: string): Promise<OperationView> {
    const oid = objectId(id, 'id');
    const current = await this.repo.findById(oid);
    if (!current) throw operationNotFound();
    if (current.status !== OperationStatus.Failed && current.status !== OperationStatus.Canceled) {
      throw invalidTransition(`Only failed or canceled operations can be retried; this one is ${current.status}`);
    }
    if (current.group) {
      throw invalidTransition('This operation groups the steps of multi-step work; retry its steps instead');
    }
    const verdict = await this.deps.verdict(current);
    if (verdict === 'blocked') {
      throw invalidTransition('A dependency of this operation failed or was canceled; retry the dependency first');
    }
    const rec = await this.repo.requeueFinished(current, {
      now: this.clock.now(),
      maxAttempts: current.attemptCount + this.cfg.maxAttempts,
      depsPending: verdict === 'wait',
    });
    if (!rec) throw invalidTransition('The operation changed meanwhile; read it again');
    if (!rec.depsPending) this.events.emit('ready', rec.sn);
    return toOperationView(rec);
  }

  async list(query: ListOperationsQuery): Promise<OperationPage> {
    const page = clampPage(query.page);
    const limit = clampLimit(query.limit, DEFAULT_PAGE_SIZE);
    const { total, items } = await this.repo.list(this.filterOf(query), (page - 1) * limit, limit);
    return { total, page, items: items.map(toOperationView) };
  }

  /** Counts by status and by type, over the same filters as the listing. */
  async stats(query: Omit<ListOperationsQuery, 'page' | 'limit'> = {}): Promise<OperationStats> {
    return this.repo.stats(this.filterOf(query));
  }

  /**
   * The generic command route: `cmd` and `payload` are checked before anything is stored. With
   * `wait`, like enqueueAndWait; without, queued for any terminal that has registered once.
   */
  async submitCommand(
    sn: string,
    cmd: string,
    payload: Record<string, unknown>,
    opts: { wait: boolean; requestedBy?: string },
  ): Promise<OperationView> {
    if (!this.executors.knows(cmd)) throw new ApiError(400, 'unknown_command', `"${cmd}" is not a terminal command`);
    const problem = this.executors.validate({ type: cmd, payload });
    if (problem) throw new ApiError(400, 'invalid_payload', problem);
    const requester = opts.requestedBy ? { requestedBy: opts.requestedBy } : {};
    if (opts.wait) return this.enqueueAndWait(sn, cmd, payload, requester);
    if (!this.link.isConnected(sn) && !(await this.terminals.context(sn)).known) {
      throw new ApiError(404, 'device_not_found', `No terminal with sn ${sn} has registered`);
    }
    return this.enqueue(sn, cmd, payload, requester);
  }

  /** Retention (scheduled, guarded against overlapping runs): removes old finished operations. */
  async purgeExpired(): Promise<number> {
    if (this.purging) return 0;
    this.purging = true;
    try {
      const cutoff = new Date(this.clock.now().getTime() - this.cfg.retentionDays * 86_400_000);
      const removed = await this.repo.deleteFinishedBefore(cutoff);
      if (removed > 0)
        this.logger.log(`Removed ${removed} finished operations older than ${this.cfg.retentionDays} days`);
      return removed;
    } catch (err) {
      this.logger.warn(`Operation retention failed: ${describeError(err)}`);
      return 0;
    } finally {
      this.purging = false;
    }
  }

  private async isReachable(sn: string): Promise<boolean> {
    return this.link.isConnected(sn) || (await this.terminals.isOnline(sn));
  }

  private filterOf(query: Omit<ListOperationsQuery, 'page' | 'limit'>): OperationFilter {
    const filter: OperationFilter = {};
    if (query.sn) filter.sn = query.sn;
    if (query.type) filter.type = query.type;
    if (query.status) filter.status = query.status;
    const createdAt = dayRange(query.from, query.to);
    if (createdAt) filter.createdAt = createdAt;
    return filter;
  }

  /** Catch-up: a terminal that (re)connects with unsent punches is asked for them. */
  private readonly onRegistered = (e: TerminalRegisteredEvent): void => {
    if (!e.firstOnSocket) return;
    const unsent = toInt(e.devinfo.usednewlog);
    if (unsent === undefined || unsent <= 0) return;
    void this.catchUp(e.sn).catch((err: unknown) =>
      this.logger.warn(`Catch-up getnewlog for ${e.sn} not queued: ${describeError(err)}`),
    );
  };

  /**
   * Housekeeping: runs after what admins ask for, waits OP_CATCHUP_PAGE_TIMEOUT per page, is tried
   * at most twice, and is not queued again for a terminal known to ignore getnewlog.
   */
  private async catchUp(sn: string): Promise<void> {
    const known = await this.catchUpMemory?.catchUpState(sn);
    if (known?.supported === false) {
      this.logger.debug(`${sn}: no catch-up getnewlog (the terminal did not answer it: ${known.lastError ?? '?'})`);
      return;
    }
    if (await this.repo.hasActive(sn, 'getnewlog')) return;
    await this.enqueue(
      sn,
      'getnewlog',
      {},
      { requestedBy: CATCH_UP_REQUESTER, background: true, maxAttempts: CATCH_UP_MAX_ATTEMPTS },
    );
  }

  /**
   * Remembers whether a terminal answers getnewlog: a catch-up that never got a single page means
   * it does not (not asked again at each reg); any getnewlog that succeeds means it does.
   */
  private readonly noteCatchUpOutcome = (rec: OperationRecord): void => {
    if (rec.type !== 'getnewlog' || !this.catchUpMemory) return;
    let state: { supported: boolean; lastError: string | null } | undefined;
    if (rec.status === OperationStatus.Success) state = { supported: true, lastError: null };
    else if (rec.status === OperationStatus.Failed && rec.requestedBy === CATCH_UP_REQUESTER) {
      const pages = typeof rec.response?.pages === 'number' ? rec.response.pages : 0;
      const lastError = rec.lastError ?? 'failed';
      // Never a page, only timeouts: the terminal ignores getnewlog. Anything else may pass.
      state = { supported: pages > 0 || !lastError.startsWith('device_timeout'), lastError };
    }
    if (!state) return;
    this.catchUpMemory.recordCatchUp(rec.sn, state.supported, state.lastError).catch((err: unknown) => {
      this.logger.warn(`${rec.sn}: catch-up outcome not recorded: ${describeError(err)}`);
    });
  };
}
