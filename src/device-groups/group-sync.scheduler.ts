import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { deviceGroupsConfig } from '../config/device-groups.config';
import { OperationEvents, ParentOperationsService, ParentReconciler } from '../operations';
import { GroupDriftService } from './group-drift.service';
import { GroupPropagationService, PROPAGATION_TYPE } from './group-propagation.service';

const DRIFT_INTERVAL_NAME = 'device-groups.drift-check';
/** How often due drift checks are looked for; the interval itself is per group (driftDueAt). */
const DRIFT_POLL_MS = 60_000;

/** Finishes propagations as their pushes finish, and runs the scheduled drift checks. */
@Injectable()
export class GroupSyncScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GroupSyncScheduler');
  private readonly propagations: ParentReconciler;
  private driftRun?: Promise<unknown>;

  constructor(
    propagation: GroupPropagationService,
    private readonly drift: GroupDriftService,
    parents: ParentOperationsService,
    events: OperationEvents,
    private readonly scheduler: SchedulerRegistry,
    @Inject(deviceGroupsConfig.KEY) private readonly cfg: ConfigType<typeof deviceGroupsConfig>,
  ) {
    this.propagations = new ParentReconciler(
      'device-groups.propagation-reconcile',
      PROPAGATION_TYPE,
      parents,
      events,
      scheduler,
      cfg.reconcileIntervalMs,
      (parent) => propagation.reconcile(parent),
    );
  }

  onApplicationBootstrap(): void {
    this.propagations.start();
    if (this.cfg.driftIntervalMs > 0) {
      this.scheduler.addInterval(
        DRIFT_INTERVAL_NAME,
        setInterval(() => this.checkDrift(), Math.min(DRIFT_POLL_MS, this.cfg.driftIntervalMs)),
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.scheduler.doesExist('interval', DRIFT_INTERVAL_NAME)) this.scheduler.deleteInterval(DRIFT_INTERVAL_NAME);
    // A drift check waiting on roster reads is not awaited: its reads carry on as operations.
    await this.propagations.stop();
  }

  private checkDrift(): void {
    if (this.driftRun) return;
    this.driftRun = this.drift
      .checkDue()
      .catch((err: unknown) => this.logger.warn(`Scheduled drift check failed: ${String(err)}`))
      .finally(() => {
        this.driftRun = undefined;
      });
  }
}
