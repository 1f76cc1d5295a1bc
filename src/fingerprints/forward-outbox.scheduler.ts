import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { forwardingConfig } from '../config/forwarding.config';
import { ForwardOutboxService } from './forward-outbox.service';

const INTERVAL_NAME = 'forward-outbox';

/**
 * Polls the outbox. The period comes from configuration (FORWARD_POLL_INTERVAL), which a literal
 * `@Interval(ms)` cannot read, so the interval is registered with the SchedulerRegistry instead.
 * It holds no logic: `drain()` is guarded against overlapping runs.
 */
@Injectable()
export class ForwardOutboxScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    private readonly outbox: ForwardOutboxService,
    private readonly registry: SchedulerRegistry,
    @Inject(forwardingConfig.KEY) private readonly cfg: ConfigType<typeof forwardingConfig>,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.outbox.drain(), this.cfg.pollIntervalMs);
    this.registry.addInterval(INTERVAL_NAME, timer);
    // Punches left undelivered by the previous run go out without waiting a period.
    this.outbox.wake();
  }

  onModuleDestroy(): void {
    if (this.registry.doesExist('interval', INTERVAL_NAME)) this.registry.deleteInterval(INTERVAL_NAME);
  }
}
