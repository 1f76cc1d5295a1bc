import { Inject, Injectable, Logger } from '@nestjs/common';
import { OPERATION_CLOCK, OperationClock } from './operation-clock';
import { OperationEvents } from './operation-events';
import { OperationRecord } from './operation.view';
import { OperationsRepository } from './operations.repository';
import { OperationStatus } from './schemas/operation.schema';

export const DEPENDENCY_FAILED = 'dependency_failed';

/**
 * `dependsOn`: an operation is sent only after all its dependencies succeeded, and is canceled
 * when one of them fails or is canceled. `depsPending` is the flag the claim reads; every instance
 * re-evaluates waiting operations on its poll, so a crash between two writes heals.
 */
@Injectable()
export class OperationDependencies {
  private readonly logger = new Logger('OperationDependencies');

  constructor(
    private readonly repo: OperationsRepository,
    private readonly events: OperationEvents,
    @Inject(OPERATION_CLOCK) private readonly clock: OperationClock,
  ) {}

  /** Releases or cancels a waiting operation once its dependencies allow; returns its new state. */
  async evaluate(op: OperationRecord): Promise<OperationRecord> {
    if (op.status !== OperationStatus.Pending || !op.depsPending) return op;
    const verdict = await this.verdict(op);
    if (verdict === 'wait') return op;
    if (verdict === 'blocked') {
      const canceled = await this.repo.cancelPending(op._id, this.clock.now(), DEPENDENCY_FAILED);
      if (!canceled) return (await this.repo.findById(op._id)) ?? op;
      await this.finished(canceled);
      return canceled;
    }
    const ready = await this.repo.markDependenciesMet(op._id);
    if (!ready) return (await this.repo.findById(op._id)) ?? op;
    this.events.emit('ready', ready.sn);
    return ready;
  }

  /**
   * 'ready' when every dependency succeeded, 'blocked' when one failed, was canceled or no longer
   * exists (a destructive step is never sent on a guess), else 'wait'.
   */
  async verdict(op: Pick<OperationRecord, 'dependsOn'>): Promise<'ready' | 'blocked' | 'wait'> {
    if (op.dependsOn.length === 0) return 'ready';
    const statuses = await this.repo.findStatuses(op.dependsOn);
    let ready = true;
    for (const id of op.dependsOn) {
      const status = statuses.get(id.toHexString());
      if (status === undefined || status === OperationStatus.Failed || status === OperationStatus.Canceled) {
        return 'blocked';
      }
      if (status !== OperationStatus.Success) ready = false;
    }
    return ready ? 'ready' : 'wait';
  }

  /** Announces a finished operation and settles the operations that waited on it. */
  async finished(op: OperationRecord): Promise<void> {
    this.events.emit('finished', op);
    // Dependents are flagged on their dependencies before they are evaluated, so an operation without
    // the flag has none to settle (and the poll's sweep catches any race).
    if (!op.hasDependents) return;
    const dependents = await this.repo.findPendingDependents(op._id);
    for (const dependent of dependents) await this.evaluate(dependent);
  }

  /** Poll: settles waiting operations whose dependencies finished without notice (another instance, a crash). */
  async sweep(limit = 200): Promise<void> {
    const waiting = await this.repo.findWaitingOnDependencies(limit);
    for (const op of waiting) {
      try {
        await this.evaluate(op);
      } catch (err) {
        this.logger.warn(`Dependencies of ${op._id.toHexString()} not evaluated: ${String(err)}`);
      }
    }
  }
}
