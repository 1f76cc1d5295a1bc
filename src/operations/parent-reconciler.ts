import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { OperationEvents, type OperationEventMap } from './operation-events';
import type { OperationView } from './operation.view';
import { ParentOperationsService } from './parent-operations.service';
import { OperationStatus } from './schemas/operation.schema';

/**
 * Keeps parents of one operation type up to date: promptly when one of their steps finishes on this
 * instance, and on an interval (and at start) for steps finished elsewhere or before a restart.
 * Runs never overlap. `reconcile` returns true when it finished the parent.
 */
export class ParentReconciler {
  private readonly logger: Logger;
  private readonly dirty = new Set<string>();
  private debounce?: NodeJS.Timeout;
  private running?: Promise<void>;
  private sweepAll = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly type: string,
    private readonly parents: ParentOperationsService,
    private readonly events: OperationEvents,
    private readonly scheduler: SchedulerRegistry,
    private readonly intervalMs: number,
    private readonly reconcile: (parent: OperationView) => Promise<boolean>,
    /**
     * Steps finish in bursts: one check per burst is enough. A check reads the status of every step,
     * so parents with thousands of steps (a device-sync apply) are checked less often.
     */
    private readonly debounceMs = 100,
  ) {
    this.logger = new Logger(name);
  }

  start(): void {
    this.events.on('finished', this.onFinished);
    this.scheduler.addInterval(
      this.name,
      setInterval(() => this.request(true), this.intervalMs),
    );
    this.request(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.events.off('finished', this.onFinished);
    if (this.scheduler.doesExist('interval', this.name)) this.scheduler.deleteInterval(this.name);
    clearTimeout(this.debounce);
    await this.running;
  }

  /** Checks one parent soon (a step of it changed). */
  touch(parentId: string): void {
    this.dirty.add(parentId);
    this.debounce ??= setTimeout(() => {
      this.debounce = undefined;
      this.request(false);
    }, this.debounceMs);
  }

  private readonly onFinished = (...[op]: OperationEventMap['finished']): void => {
    if (op.parentId) this.touch(op.parentId.toHexString());
  };

  private request(all: boolean): void {
    if (this.stopped) return;
    if (all) this.sweepAll = true;
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && (this.sweepAll || this.dirty.size > 0)) {
      const all = this.sweepAll;
      const ids = [...this.dirty];
      this.sweepAll = false;
      this.dirty.clear();
      try {
        const parents = all
          ? await this.parents.findOpenParents(this.type, 200)
          : await Promise.all(ids.map((id) => this.parents.findParent(id)));
        for (const parent of parents) {
          if (!parent || parent.type !== this.type || parent.status !== OperationStatus.Pending) continue;
          await this.reconcile(parent).catch((err: unknown) =>
            this.logger.warn(`${this.type} ${parent._id} not reconciled: ${String(err)}`),
          );
        }
      } catch (err) {
        this.logger.warn(`Reconciliation of ${this.type} failed: ${String(err)}`);
      }
    }
  }
}
