import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { deviceUsersConfig } from '../config/device-users.config';
import { OperationEvents, type OperationEventMap } from '../operations';
import { TransferService } from './transfer.service';

const INTERVAL_NAME = 'user-management.transfer-reconcile';
/** Children of one transfer finish in bursts: one check per burst is enough. */
const DEBOUNCE_MS = 200;

/**
 * Finishes transfer parents: promptly when one of their children finishes on this instance, and on
 * an interval for children finished elsewhere or before a restart. Runs never overlap.
 */
@Injectable()
export class TransferReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TransferReconciler');
  private readonly dirty = new Set<string>();
  private debounce?: NodeJS.Timeout;
  private running?: Promise<void>;
  private sweepAll = false;
  private stopped = false;

  constructor(
    private readonly transfers: TransferService,
    private readonly events: OperationEvents,
    private readonly scheduler: SchedulerRegistry,
    @Inject(deviceUsersConfig.KEY) private readonly cfg: ConfigType<typeof deviceUsersConfig>,
  ) {}

  onApplicationBootstrap(): void {
    this.events.on('finished', this.onFinished);
    this.scheduler.addInterval(
      INTERVAL_NAME,
      setInterval(() => this.request(true), this.cfg.transferReconcileIntervalMs),
    );
    this.request(true);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.events.off('finished', this.onFinished);
    if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
    clearTimeout(this.debounce);
    await this.running;
  }

  private readonly onFinished = (...[op]: OperationEventMap['finished']): void => {
    if (!op.parentId) return;
    this.dirty.add(op.parentId.toHexString());
    this.debounce ??= setTimeout(() => {
      this.debounce = undefined;
      this.request(false);
    }, DEBOUNCE_MS);
  };

  private request(all: boolean): void {
    if (this.stopped) return;
    if (all) this.sweepAll = true;
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Works until nothing is left to check; requests arriving meanwhile are picked up by the loop. */
  private async drain(): Promise<void> {
    while (!this.stopped && (this.sweepAll || this.dirty.size > 0)) {
      const all = this.sweepAll;
      const ids = [...this.dirty];
      this.sweepAll = false;
      this.dirty.clear();
      try {
        if (all) await this.transfers.reconcileOpen();
        else for (const id of ids) await this.transfers.reconcileById(id);
      } catch (err) {
        this.logger.warn(`Transfer reconciliation failed: ${String(err)}`);
      }
    }
  }
}
