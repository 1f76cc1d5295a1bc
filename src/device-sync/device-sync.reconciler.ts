import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { deviceGroupsConfig } from '../config/device-groups.config';
import { OperationEvents, ParentOperationsService, ParentReconciler } from '../operations';
import { DEVICE_SYNC_TYPE, DeviceSyncService } from './device-sync.service';

/** An apply has up to thousands of steps: its progress is counted at most about once a second. */
const PROGRESS_CHECK_MS = 1_000;

/** Progress and completion of applies; resumes one whose queueing a restart interrupted. */
@Injectable()
export class DeviceSyncReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly reconciler: ParentReconciler;

  constructor(
    sync: DeviceSyncService,
    parents: ParentOperationsService,
    events: OperationEvents,
    scheduler: SchedulerRegistry,
    @Inject(deviceGroupsConfig.KEY) cfg: ConfigType<typeof deviceGroupsConfig>,
  ) {
    this.reconciler = new ParentReconciler(
      'device-sync.apply-reconcile',
      DEVICE_SYNC_TYPE,
      parents,
      events,
      scheduler,
      cfg.reconcileIntervalMs,
      (parent) => sync.reconcile(parent),
      PROGRESS_CHECK_MS,
    );
  }

  onApplicationBootstrap(): void {
    this.reconciler.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reconciler.stop();
  }
}
