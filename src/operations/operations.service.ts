import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import { isPlainObject } from '@app/device-protocol';
import { operationsConfig, OperationsConfig } from '../config/operations.config';
import { OperationExecutors } from './executors/operation-executors';
import { OPERATION_CLOCK, OperationClock } from './operation-clock';
import { OperationDependencies } from './operation-dependencies';
import { OperationDispatcher } from './operation-dispatcher';
import { deviceOffline, invalidTransition, operationNotFound, toObjectId } from './operation-errors';
import { OperationEvents } from './operation-events';
import { TERMINAL_DIRECTORY, TERMINAL_LINK, TerminalDirectory, TerminalLink } from './operation-ports';
import { OperationRecord, OperationView, toOperationView } from './operation.view';
import { NewOperation, OperationsRepository } from './operations.repository';
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
  /**
   * For a caller that waits for the outcome: when the terminal is connected here and idle, the
   * operation is stored already sent (the view returned says `sent`) instead of pending.
   */
  sendNow?: boolean;
}

/**
 * The queue's commands: storing operations (one, or many in order), canceling and retrying them.
 * Waiting for an outcome, parents of multi-step work and reads each have a service of their own.
 */
@Injectable()
export class OperationsService {
  constructor(
    private readonly repo: OperationsRepository,
    private readonly deps: OperationDependencies,
    private readonly executors: OperationExecutors,
    private readonly events: OperationEvents,
    private readonly dispatcher: OperationDispatcher,
    @Inject(TERMINAL_LINK) private readonly link: TerminalLink,
    @Inject(TERMINAL_DIRECTORY) private readonly terminals: TerminalDirectory,
    @Inject(operationsConfig.KEY) private readonly cfg: OperationsConfig,
    @Inject(OPERATION_CLOCK) private readonly clock: OperationClock,
  ) {}

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
    const parentId = opts.parentId !== undefined ? toObjectId(opts.parentId, 'parentId') : undefined;
    const dependsOn = [...new Set(opts.dependsOn ?? [])].map((id) => toObjectId(id, 'dependsOn'));
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
    const doc: NewOperation = {
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
    };
    const sent = opts.sendNow ? await this.dispatcher.sendNow(doc) : undefined;
    if (sent) return toOperationView(sent);
    const rec = await this.repo.insert(doc);
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

  /** pending or failed -> canceled (never sent afterwards); 409 for any other state. */
  async cancel(id: string): Promise<OperationView> {
    const oid = toObjectId(id, 'id');
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
    const oid = toObjectId(id, 'id');
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

  private async isReachable(sn: string): Promise<boolean> {
    return this.link.isConnected(sn) || (await this.terminals.isOnline(sn));
  }
}
