import { Inject, Injectable } from '@nestjs/common';
import { Types } from 'mongoose';
import { operationsConfig, OperationsConfig } from '../config/operations.config';
import { OPERATION_CLOCK, OperationClock } from './operation-clock';
import { deviceTimeout, operationNotFound, toObjectId } from './operation-errors';
import { OperationEvents } from './operation-events';
import { TERMINAL_LINK, TerminalLink } from './operation-ports';
import { isFinished, OperationRecord, OperationView, toOperationView } from './operation.view';
import { OperationsRepository } from './operations.repository';
import { EnqueueOptions, OperationsService } from './operations.service';

/** Re-reads of a waited-for operation that another instance runs: quick, the only way to learn the outcome. */
const REMOTE_FIRST_PAUSE_MS = 100;
const REMOTE_MAX_PAUSE_MS = 1_000;
/** Re-reads while the terminal is connected here (the outcome comes as an in-process event). */
const LOCAL_FIRST_PAUSE_MS = 2_000;
const LOCAL_MAX_PAUSE_MS = 5_000;

type Waiter = (rec: OperationRecord) => void;

/** Callers waiting for operations to finish: answered from this instance's events, else by re-reading. */
@Injectable()
export class OperationWaitsService {
  /** Callers of waitFor / enqueueAndWait, by operation id. */
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(
    private readonly operations: OperationsService,
    private readonly repo: OperationsRepository,
    private readonly events: OperationEvents,
    @Inject(TERMINAL_LINK) private readonly link: TerminalLink,
    @Inject(operationsConfig.KEY) private readonly cfg: OperationsConfig,
    @Inject(OPERATION_CLOCK) private readonly clock: OperationClock,
  ) {}

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
    const op = await this.operations.enqueue(sn, type, payload, {
      ...enqueueOpts,
      requireOnline: opts.requireOnline ?? true,
      sendNow: true,
    });
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
    return this.awaitOutcome(toObjectId(opId, 'id'), waitMs);
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

  private addWaiter(key: string, waiter: Waiter): void {
    if (this.waiters.size === 0) this.events.on('finished', this.onFinished);
    let set = this.waiters.get(key);
    if (!set) {
      set = new Set();
      this.waiters.set(key, set);
    }
    set.add(waiter);
  }

  private removeWaiter(key: string, waiter: Waiter): void {
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
}
