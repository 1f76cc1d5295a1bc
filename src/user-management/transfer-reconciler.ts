import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { deviceUsersConfig } from '../config/device-users.config';
import { OperationEvents, ParentOperationsService, ParentReconciler } from '../operations';
import { TRANSFER_TYPE, TransferService } from './transfer.service';

/** Children of one transfer finish in bursts: one check per burst is enough. */
const DEBOUNCE_MS = 200;

/**
 * Finishes transfer parents: promptly when one of their children finishes on this instance, and on
 * an interval for children finished elsewhere or before a restart. Runs never overlap.
 */
@Injectable()
export class TransferReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly reconciler: ParentReconciler;

  constructor(
    transfers: TransferService,
    parents: ParentOperationsService,
    events: OperationEvents,
    scheduler: SchedulerRegistry,
    @Inject(deviceUsersConfig.KEY) cfg: ConfigType<typeof deviceUsersConfig>,
  ) {
    this.reconciler = new ParentReconciler(
      'user-management.transfer-reconcile',
      TRANSFER_TYPE,
      parents,
      events,
      scheduler,
      cfg.transferReconcileIntervalMs,
      (parent) => transfers.reconcile(parent),
      DEBOUNCE_MS,
    );
  }

  onApplicationBootstrap(): void {
    this.reconciler.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reconciler.stop();
  }
}
