import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { buildCommand, CommandFrame, Json, replyMatchesCommand, ServerCommand, toInt } from '@app/device-protocol';
import { operationsConfig, OperationsConfig } from '../config/operations.config';
import { withLogFields } from '../logging/log-context';
import { observeDispatch } from '../metrics/hooks';
import { AttemptReport, decideAttemptOutcome } from './attempt-outcome';
import { ExchangeResult, ExecutionContext, ExecutionResult } from './executors/operation-executor';
import { OperationExecutors } from './executors/operation-executors';
import { OPERATION_CLOCK, OperationClock } from './operation-clock';
import { OperationDependencies } from './operation-dependencies';
import { DispatchStoppedError, ExchangeTimeoutError, PreemptedError, TerminalGoneError } from './operation-errors';
import { OperationEvents } from './operation-events';
import {
  TERMINAL_LINK,
  TerminalDisconnectedEvent,
  TerminalLink,
  TerminalRegisteredEvent,
  TerminalReplyEvent,
} from './operation-ports';
import { OperationRecord } from './operation.view';
import { ClaimResult, LeaseFence, NewOperation, OperationsRepository } from './operations.repository';
import { OperationStatus } from './schemas/operation.schema';
import { CallBatcher, describeError } from '@app/common';

type ExchangeOutcome =
  | { kind: 'reply'; frame: Json }
  | { kind: 'timeout' }
  | { kind: 'gone'; reason: string }
  | { kind: 'stopped' }
  | { kind: 'preempted' };

/** The command in flight to one terminal, waiting for its reply. */
interface Exchange {
  cmd: string;
  enrollid?: number;
  settle(outcome: ExchangeOutcome): void;
}

/** This instance's dispatch state for one terminal. */
interface Lane {
  /** A drain loop is running: at most one per terminal, so at most one command in flight. */
  running: boolean;
  /** Something arrived while the loop ran: look again before it stops. */
  again: boolean;
  exchange?: Exchange;
  /** The operation being executed (its lease is renewed while it is). */
  holding?: LeaseFence;
  /** The operation being executed is background work (an API operation may preempt it). */
  holdingBackground?: boolean;
  /**
   * A command given up by preemption that the terminal may still answer: its late reply (one, until
   * then) is dropped, so it cannot pass for the reply to the same command sent again.
   */
  abandoned?: { cmd: string; until: number };
  wakeAt?: number;
  cancelWake?: () => void;
}

const EXPIRED_LEASES_PER_POLL = 100;

/**
 * Sends queued operations to the terminals connected to this instance: per terminal one command
 * in flight, oldest first, each claimed atomically in the database with a lease so that several
 * instances can share the queue.
 */
@Injectable()
export class OperationDispatcher implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OperationDispatcher');
  private readonly lanes = new Map<string, Lane>();
  private readonly drains = new Set<Promise<void>>();
  private started = false;
  private stopped = false;
  /**
   * Terminals that just registered, asked together whether anything is open for them (pending, or
   * sent by an earlier socket or instance): a fleet reconnecting costs one read, not one each.
   */
  private readonly registeredWork: CallBatcher<string, boolean>;
  /** Shutting down: commands in flight may finish, nothing new is claimed. */
  private quiescing = false;
  private polling = false;
  private cancelRenewal?: () => void;
  /**
   * Terminals whose current socket has been checked for a command another instance left in flight
   * (sent before the terminal moved here). While the socket lasts only this instance sends to it,
   * so the check is made once per socket, not before every drain.
   */
  private readonly checkedSockets = new Set<string>();
  /** Checks under way, by terminal: a new socket meanwhile withdraws its token, so the check is not remembered. */
  private readonly checking = new Map<string, object>();

  constructor(
    private readonly repo: OperationsRepository,
    private readonly deps: OperationDependencies,
    private readonly executors: OperationExecutors,
    private readonly events: OperationEvents,
    @Inject(TERMINAL_LINK) private readonly link: TerminalLink,
    @Inject(operationsConfig.KEY) private readonly cfg: OperationsConfig,
    @Inject(OPERATION_CLOCK) private readonly clock: OperationClock,
  ) {
    // Under a burst (a fleet back after a restart) one read per OP_REGISTERED_CHECK_INTERVAL.
    this.registeredWork = new CallBatcher(
      async (sns) => {
        const withWork = new Set(await this.repo.snsWithOpenWork(sns));
        return sns.map((sn) => withWork.has(sn));
      },
      1000,
      { minIntervalMs: cfg.registeredCheckIntervalMs },
    );
  }

  onModuleInit(): void {
    this.start();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.recoverOwnLeases();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /**
   * The instance id survives restarts (DATA_DIR/instance-id): operations still `sent` under it
   * were in flight when this instance last stopped, and nothing of this run holds them yet.
   */
  async recoverOwnLeases(): Promise<void> {
    try {
      const released = await this.repo.releaseAllOwnedBy(
        this.link.instanceId,
        this.clock.now(),
        'instance_restarted: the instance that sent it stopped before the outcome was known',
      );
      if (released > 0) this.logger.warn(`${released} operation(s) in flight at the last shutdown queued again`);
    } catch (err) {
      this.logger.warn(
        `Operations of the previous run not recovered (their leases will expire): ${describeError(err)}`,
      );
    }
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.link.on('registered', this.onRegistered);
    this.link.on('disconnected', this.onDisconnected);
    this.link.on('reply', this.onReply);
    this.events.on('ready', this.onReady);
    this.scheduleLeaseRenewal();
  }

  /**
   * Shutdown: commands in flight are abandoned without a write, as if the instance died; their
   * leases expire and another instance (or this one, restarted) sends them again.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.link.off('registered', this.onRegistered);
    this.link.off('disconnected', this.onDisconnected);
    this.link.off('reply', this.onReply);
    this.events.off('ready', this.onReady);
    this.cancelRenewal?.();
    for (const lane of this.lanes.values()) {
      lane.exchange?.settle({ kind: 'stopped' });
      lane.cancelWake?.();
    }
    await Promise.allSettled([...this.drains]);
  }

  /**
   * Shutdown, first step (readiness is already off): nothing new is claimed; resolves when the
   * commands in flight have ended, or after `ms`, whichever comes first.
   */
  async quiesce(ms: number): Promise<void> {
    this.quiescing = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([Promise.allSettled([...this.drains]), deadline]);
    clearTimeout(timer);
  }

  /** Starts sending the due operations of `sn` if it is connected here and nothing runs for it yet. */
  kick(sn: string): void {
    if (this.stopped || !this.link.isConnected(sn)) return;
    const lane = this.laneOf(sn);
    if (lane.running) {
      lane.again = true;
      return;
    }
    this.startDrain(sn, lane);
  }

  /**
   * Stores a new operation and sends it at once when its terminal is connected here and idle (its
   * socket checked, nothing in flight, no backoff pending) and nothing asked through the API waits
   * before it: stored already claimed, so one write instead of an insert, a wake-up and a claim.
   * Undefined when it does not apply: the caller stores the operation pending instead.
   */
  async sendNow(doc: NewOperation): Promise<OperationRecord | undefined> {
    const { sn } = doc;
    if (doc.status !== OperationStatus.Pending || doc.depsPending || doc.group || doc.background) return undefined;
    if (this.stopped || this.quiescing || !this.link.isConnected(sn) || !this.checkedSockets.has(sn)) return undefined;
    const known = this.lanes.get(sn);
    if (known && (known.running || known.exchange || known.cancelWake)) return undefined;
    const lane = known ?? this.laneOf(sn);
    // Held while the queue is read, so no drain for this terminal starts meanwhile.
    lane.running = true;
    let head: { background: boolean } | null | undefined;
    try {
      head = await this.repo.queueHead(sn);
    } catch (err) {
      this.logger.debug(`Queue of ${sn} not read (${describeError(err)}); the operation is queued instead`);
    }
    let rec: OperationRecord | undefined;
    try {
      if (
        (head === null || head?.background === true) &&
        !this.stopped &&
        !this.quiescing &&
        this.link.isConnected(sn)
      ) {
        rec = await this.repo.insertClaimed(doc, this.link.instanceId, this.clock.now(), this.cfg.leaseTtlMs);
      }
    } finally {
      lane.running = false;
      if (rec) this.startDrain(sn, lane, { op: rec, more: head !== null });
      // Not sent now: what was kicked meanwhile, or is queued before it, goes the usual way.
      else if (lane.again || head) this.kick(sn);
      else if (!lane.exchange && !lane.cancelWake && this.lanes.get(sn) === lane) this.lanes.delete(sn);
    }
    return rec;
  }

  private startDrain(sn: string, lane: Lane, claimed?: { op: OperationRecord; more: boolean }): void {
    lane.running = true;
    const drain: Promise<void> = withLogFields({ sn }, () => this.drain(sn, lane, claimed))
      .catch((err: unknown) => this.logger.error(`Dispatch to ${sn} stopped: ${describeError(err)}`))
      .finally(() => {
        lane.running = false;
        this.drains.delete(drain);
        // A kick that landed after the loop's last look, before this callback, is not lost.
        if (lane.again) {
          lane.again = false;
          this.kick(sn);
        } else if (!lane.exchange && !lane.cancelWake && this.lanes.get(sn) === lane) {
          this.lanes.delete(sn);
        }
      });
    this.drains.add(drain);
  }

  /**
   * The scheduled pass (guarded against overlapping runs): takes back operations whose instance
   * died, settles dependency waits, and starts every connected terminal that has due work
   * (new operations from other instances, retries whose backoff ended).
   */
  async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      await this.reclaimExpiredLeases();
      await this.deps.sweep();
      const due = await this.repo.snsWithDueWork(this.link.connectedSns(), this.clock.now());
      for (const sn of due) {
        this.kick(sn);
        // An API operation created on another instance is learnt here, not from an in-process event.
        this.preemptBackground(sn);
      }
    } catch (err) {
      this.logger.warn(`Queue poll failed: ${describeError(err)}`);
    } finally {
      this.polling = false;
    }
  }

  // ---------------------------------------------------------------- events

  private readonly onRegistered = (e: TerminalRegisteredEvent): void => {
    if (e.firstOnSocket) {
      this.checking.delete(e.sn);
      this.checkedSockets.delete(e.sn);
    }
    const lane = this.lanes.get(e.sn);
    // A new socket: whatever was sent on the old one will not be answered.
    if (e.firstOnSocket && lane?.exchange) lane.exchange.settle({ kind: 'gone', reason: 'terminal reconnected' });
    if (lane) {
      this.kick(e.sn);
      return;
    }
    // Nothing open for the terminal: its socket is checked (what the first claim's read would have
    // answered), unless it changed or a drain took over meanwhile.
    const token = {};
    this.checking.set(e.sn, token);
    this.registeredWork
      .add(e.sn)
      .then((open) => {
        const stillThisSocket = this.checking.get(e.sn) === token;
        if (stillThisSocket) this.checking.delete(e.sn);
        if (open) this.kick(e.sn);
        else if (stillThisSocket && this.link.isConnected(e.sn)) this.checkedSockets.add(e.sn);
      })
      .catch((err: unknown) => {
        if (this.checking.get(e.sn) === token) this.checking.delete(e.sn);
        this.logger.warn(`Pending work of ${e.sn} not read at its registration: ${describeError(err)}`);
        this.kick(e.sn);
      });
  };

  private readonly onDisconnected = (e: TerminalDisconnectedEvent): void => {
    this.checking.delete(e.sn);
    this.checkedSockets.delete(e.sn);
    const lane = this.lanes.get(e.sn);
    if (!lane) return;
    lane.exchange?.settle({ kind: 'gone', reason: e.reason });
    lane.cancelWake?.();
    lane.cancelWake = undefined;
    lane.wakeAt = undefined;
  };

  private readonly onReply = (e: TerminalReplyEvent): void => {
    const lane = this.lanes.get(e.sn);
    if (lane?.abandoned && replyMatchesCommand(lane.abandoned.cmd, e.ret)) {
      const late = lane.abandoned.until >= this.clock.now().getTime();
      lane.abandoned = undefined;
      if (late) {
        this.logger.debug(`Late reply "${e.ret}" from ${e.sn} to a preempted command: ignored`);
        return;
      }
    }
    const exchange = lane?.exchange;
    if (!exchange) {
      this.logger.warn(`Reply "${e.ret}" from ${e.sn} answers no command in flight (late or unsolicited): ignored`);
      return;
    }
    if (!replyMatchesCommand(exchange.cmd, e.ret)) {
      this.logger.warn(`Reply "${e.ret}" from ${e.sn} while "${exchange.cmd}" is in flight: ignored`);
      return;
    }
    const enrollid = toInt(e.frame.enrollid);
    if (exchange.enrollid !== undefined && enrollid !== undefined && enrollid !== exchange.enrollid) {
      this.logger.warn(
        `Reply "${e.ret}" from ${e.sn} for enrollid ${enrollid} while enrollid ${exchange.enrollid} is in flight: ignored`,
      );
      return;
    }
    exchange.settle({ kind: 'reply', frame: e.frame });
  };

  private readonly onReady = (sn: string): void => {
    this.kick(sn);
    this.preemptBackground(sn);
  };

  /**
   * People before housekeeping: when an operation asked through the API is due for a terminal whose
   * command in flight is background work (a catch-up page the terminal may never answer), that
   * exchange is given up so the API operation is sent now, not after the page timeout. A late reply
   * to the abandoned command does not match the new command in flight and is ignored.
   */
  private preemptBackground(sn: string): void {
    const lane = this.lanes.get(sn);
    const exchange = lane?.exchange;
    if (!lane || !exchange || !lane.holdingBackground) return;
    void this.repo
      .hasDueInteractive(sn, this.clock.now())
      .then((due) => {
        if (!due || lane.exchange !== exchange || !lane.holdingBackground) return;
        lane.abandoned = { cmd: exchange.cmd, until: this.clock.now().getTime() + this.cfg.catchUpPageTimeoutMs };
        exchange.settle({ kind: 'preempted' });
      })
      .catch((err: unknown) => this.logger.warn(`Preemption check for ${sn} failed: ${describeError(err)}`));
  }

  // ---------------------------------------------------------------- dispatch

  private laneOf(sn: string): Lane {
    let lane = this.lanes.get(sn);
    if (!lane) {
      lane = { running: false, again: false };
      this.lanes.set(sn, lane);
    }
    return lane;
  }

  private async drain(sn: string, lane: Lane, claimed?: { op: OperationRecord; more: boolean }): Promise<void> {
    // Sent at once by sendNow: the drain goes on only when something was queued behind it or kicked meanwhile.
    if (claimed && (await this.dispatch(sn, lane, claimed.op)) && !claimed.more && !lane.again) return;
    // A command another instance sent to this terminal (before it moved here) must end first:
    // its lease expires if that instance died. Checked with the first claim on each socket.
    let first = !this.checkedSockets.has(sn);
    do {
      lane.again = false;
      while (!this.stopped && !this.quiescing && this.link.isConnected(sn)) {
        const token = {};
        if (first) this.checking.set(sn, token);
        let stillThisSocket = false;
        let claim: ClaimResult;
        try {
          claim = await this.repo.claimNext(sn, this.link.instanceId, this.clock.now(), this.cfg.leaseTtlMs, {
            unlessInFlight: first,
          });
        } finally {
          stillThisSocket = first && this.checking.get(sn) === token;
          if (stillThisSocket) this.checking.delete(sn);
        }
        if (claim.kind === 'busy') return;
        if (stillThisSocket && this.link.isConnected(sn)) this.checkedSockets.add(sn);
        first = false;
        if (claim.kind === 'wait') this.wakeAt(sn, lane, claim.until);
        if (claim.kind !== 'claimed') break;
        const finished = await this.dispatch(sn, lane, claim.op);
        // Nothing was queued behind it and it is done: work that arrives later kicks (lane.again),
        // so the read that would only find the queue empty is skipped.
        if (finished && !claim.more) break;
      }
    } while (lane.again && !this.stopped && this.link.isConnected(sn));
  }

  private dispatch(sn: string, lane: Lane, op: OperationRecord): Promise<boolean> {
    observeDispatch(op);
    return withLogFields({ opId: op._id.toHexString() }, () => this.run(sn, lane, op));
  }

  /** Sends one claimed operation and records the outcome; true when it finished (success or failed). */
  private async run(sn: string, lane: Lane, op: OperationRecord): Promise<boolean> {
    const fence: LeaseFence = { id: op._id, owner: this.link.instanceId, attemptCount: op.attemptCount };
    const attempt = { framesSent: 0 };
    const ctx: ExecutionContext = {
      op,
      sn,
      replyTimeoutMs: this.cfg.replyTimeoutMs,
      // Housekeeping must not hold a terminal's queue for long when the terminal ignores it.
      pageTimeoutMs: op.background === true ? this.cfg.catchUpPageTimeoutMs : this.cfg.pageTimeoutMs,
      exchange: (cmd, payload, timeoutMs) =>
        this.exchange(sn, lane, attempt, cmd, payload, timeoutMs ?? this.cfg.replyTimeoutMs),
      sendOnly: (cmd, payload) => this.sendOnly(sn, attempt, cmd, payload),
    };
    lane.holding = fence;
    lane.holdingBackground = op.background === true;
    let result: ExecutionResult | undefined;
    let failure: unknown;
    try {
      result = await this.executors.forOperation(op).execute(ctx);
    } catch (err) {
      failure = err;
    } finally {
      lane.holding = undefined;
      lane.holdingBackground = undefined;
      lane.exchange = undefined;
    }
    try {
      return await this.record(sn, lane, op, fence, { op, framesSent: attempt.framesSent, result, failure });
    } catch (err) {
      this.logger.error(
        `Outcome of operation ${op._id.toHexString()} not recorded (${describeError(err)}); it is retried when its lease expires`,
      );
      return false;
    }
  }

  /**
   * Writes what one attempt came to (decided by decideAttemptOutcome), fenced by the lease so that
   * a stale instance cannot overwrite; true when the operation finished.
   */
  private async record(
    sn: string,
    lane: Lane,
    op: OperationRecord,
    fence: LeaseFence,
    report: AttemptReport,
  ): Promise<boolean> {
    const now = this.clock.now();
    const decision = decideAttemptOutcome(report, {
      now,
      retryBaseMs: this.cfg.retryBaseMs,
      retryMaxMs: this.cfg.retryMaxMs,
      random: this.clock.random(),
    });
    if (decision.kind === 'abandon') return false;
    const id = op._id.toHexString();
    if (decision.unexpected) this.logger.warn(`Operation ${id} on ${sn}: ${decision.unexpected}`);

    if (decision.kind === 'requeue') {
      const { nextAttemptAt, lastError, attemptDelta } = decision;
      const requeued = await this.repo.requeue(fence, { nextAttemptAt, lastError, attemptDelta });
      if (!requeued) this.logger.warn(`Operation ${id}: lease lost before its outcome was written; outcome dropped`);
      else if (decision.backoff) this.wakeAt(sn, lane, decision.nextAttemptAt);
      return false;
    }
    const alongside = report.result?.status === 'success' ? report.result.alongside : undefined;
    const { status, response, lastError, attemptDelta } = decision;
    const [finished] = await Promise.all([
      this.repo.finish(fence, { status, now, response, lastError, attemptDelta }),
      alongside,
    ]);
    if (!finished) {
      this.logger.warn(`Operation ${id}: lease lost before its outcome was written; outcome dropped`);
      return false;
    }
    this.logger.debug(`Operation ${id} on ${sn}: ${finished.status} after ${finished.attemptCount} send(s)`);
    await this.deps.finished(finished);
    return true;
  }

  private async exchange(
    sn: string,
    lane: Lane,
    attempt: { framesSent: number },
    cmd: ServerCommand,
    payload: Json,
    timeoutMs: number,
  ): Promise<ExchangeResult> {
    const frame = buildCommand(cmd, payload);
    if (this.stopped) throw new DispatchStoppedError();
    return new Promise<ExchangeResult>((resolve, reject) => {
      let cancelTimer: () => void = () => undefined;
      const exchange: Exchange = {
        cmd,
        enrollid: typeof frame.enrollid === 'number' ? frame.enrollid : undefined,
        settle: (outcome) => {
          if (lane.exchange !== exchange) return;
          lane.exchange = undefined;
          cancelTimer();
          switch (outcome.kind) {
            case 'reply':
              resolve({ sent: frame, reply: outcome.frame });
              return;
            case 'timeout':
              reject(new ExchangeTimeoutError(cmd, timeoutMs));
              return;
            case 'gone':
              reject(new TerminalGoneError(outcome.reason));
              return;
            case 'stopped':
              reject(new DispatchStoppedError());
              return;
            case 'preempted':
              reject(new PreemptedError());
              return;
          }
        },
      };
      lane.exchange = exchange;
      cancelTimer = this.clock.setTimer(timeoutMs, () => exchange.settle({ kind: 'timeout' }));
      attempt.framesSent++;
      if (!this.link.send(sn, frame)) {
        attempt.framesSent--;
        exchange.settle({ kind: 'gone', reason: 'not connected' });
      }
    });
  }

  private sendOnly(sn: string, attempt: { framesSent: number }, cmd: ServerCommand, payload: Json): CommandFrame {
    const frame = buildCommand(cmd, payload);
    if (this.stopped) throw new DispatchStoppedError();
    if (!this.link.send(sn, frame)) throw new TerminalGoneError('not connected');
    attempt.framesSent++;
    return frame;
  }

  /** Kicks `sn` when a retry's backoff ends (the poll would too, later). */
  private wakeAt(sn: string, lane: Lane, at: Date): void {
    if (this.stopped) return;
    if (lane.cancelWake && lane.wakeAt !== undefined && lane.wakeAt <= at.getTime()) return;
    lane.cancelWake?.();
    lane.wakeAt = at.getTime();
    lane.cancelWake = this.clock.setTimer(Math.max(0, at.getTime() - this.clock.now().getTime()), () => {
      lane.cancelWake = undefined;
      lane.wakeAt = undefined;
      this.kick(sn);
    });
  }

  // ---------------------------------------------------------------- leases

  private scheduleLeaseRenewal(): void {
    if (this.stopped) return;
    const every = Math.max(100, Math.floor(this.cfg.leaseTtlMs / 3));
    this.cancelRenewal = this.clock.setTimer(every, () => {
      void this.renewLeases().finally(() => this.scheduleLeaseRenewal());
    });
  }

  private async renewLeases(): Promise<void> {
    const held = [...this.lanes.values()].flatMap((lane) => (lane.holding ? [lane.holding.id] : []));
    if (held.length === 0) return;
    const until = new Date(this.clock.now().getTime() + this.cfg.leaseTtlMs);
    try {
      await this.repo.renewLeases(held, this.link.instanceId, until);
    } catch (err) {
      this.logger.warn(`Leases not renewed: ${describeError(err)}`);
    }
  }

  private isHolding(id: string): boolean {
    for (const lane of this.lanes.values()) if (lane.holding?.id.toHexString() === id) return true;
    return false;
  }

  /** Operations left `sent` by an instance that stopped renewing its leases go back to the queue. */
  private async reclaimExpiredLeases(): Promise<void> {
    const now = this.clock.now();
    const expired = await this.repo.findExpiredLeases(now, EXPIRED_LEASES_PER_POLL);
    for (const op of expired) {
      const id = op._id.toHexString();
      // Still ours and running: the renewal is merely late.
      if (op.leaseOwner === this.link.instanceId && this.isHolding(id)) continue;
      const exhausted = op.attemptCount >= op.maxAttempts;
      const lastError = `lease_expired: instance ${op.leaseOwner ?? '?'} stopped before the outcome was known`;
      const rec = await this.repo.reclaimExpired(
        op,
        now,
        exhausted ? { status: OperationStatus.Failed, lastError } : { status: OperationStatus.Pending, lastError },
      );
      if (!rec) continue;
      withLogFields({ sn: rec.sn, opId: id }, () =>
        this.logger.warn(`Operation ${id} on ${rec.sn}: ${lastError}; now ${rec.status}`),
      );
      if (rec.status === OperationStatus.Failed) await this.deps.finished(rec);
      else this.kick(rec.sn);
    }
  }
}
