import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { operationsConfig, OperationsConfig } from '../config/operations.config';
import { OperationDispatcher } from './operation-dispatcher';
import { OperationRetentionService } from './operation-retention.service';

const POLL = 'operations.poll';
const RETENTION = 'operations.retention';

/**
 * The queue's timers. Their periods come from configuration, so they are registered with the
 * SchedulerRegistry at boot rather than with @Interval (whose period is fixed at compile time).
 * Each only calls one method that guards itself against overlapping runs.
 */
@Injectable()
export class OperationRetryScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    private readonly schedules: SchedulerRegistry,
    private readonly dispatcher: OperationDispatcher,
    private readonly retention: OperationRetentionService,
    @Inject(operationsConfig.KEY) private readonly cfg: OperationsConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedules.addInterval(
      POLL,
      setInterval(() => void this.dispatcher.poll(), this.cfg.pollIntervalMs),
    );
    this.schedules.addInterval(
      RETENTION,
      setInterval(() => void this.retention.purgeExpired(), this.cfg.retentionIntervalMs),
    );
  }

  onModuleDestroy(): void {
    for (const name of [POLL, RETENTION]) {
      if (this.schedules.doesExist('interval', name)) this.schedules.deleteInterval(name);
    }
  }
}
