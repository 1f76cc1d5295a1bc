import { Inject, Injectable, Logger } from '@nestjs/common';
import { OPERATION_CLOCK, OperationClock } from './operation-clock';
import { OperationDispatcher } from './operation-dispatcher';
import { TERMINAL_LINK, type TerminalLink } from './operation-ports';
import { OperationsRepository } from './operations.repository';
import { QueueWakeService } from './queue-wake.service';

/**
 * Graceful shutdown of the queue (main.ts, on SIGTERM, after readiness went off): commands in
 * flight may finish while nothing new is claimed; what is still in flight then is handed back
 * (pending, lease cleared) so that the instance the terminal reconnects to sends it at once,
 * instead of waiting for the lease to expire.
 */
@Injectable()
export class OperationDrainService {
  private readonly logger = new Logger('OperationDispatcher');

  constructor(
    private readonly dispatcher: OperationDispatcher,
    private readonly repo: OperationsRepository,
    private readonly wake: QueueWakeService,
    @Inject(TERMINAL_LINK) private readonly link: TerminalLink,
    @Inject(OPERATION_CLOCK) private readonly clock: OperationClock,
  ) {}

  /** Stops claiming; resolves when the commands in flight ended or after `ms`. */
  quiesce(ms: number): Promise<void> {
    return this.dispatcher.quiesce(ms);
  }

  /** Stops the dispatcher and hands back every operation this instance still holds; returns how many. */
  async handBack(): Promise<number> {
    const held = this.link.connectedSns();
    await this.dispatcher.stop();
    const released = await this.repo.releaseAllOwnedBy(
      this.link.instanceId,
      this.clock.now(),
      'instance_stopping: handed back at shutdown before the terminal answered',
    );
    if (released > 0) {
      this.logger.log(`${released} operation(s) in flight handed back to the queue at shutdown`);
      await this.wake.notify(held).catch(() => undefined);
    }
    return released;
  }
}
