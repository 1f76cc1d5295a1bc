import { Inject, Injectable, Logger } from '@nestjs/common';
import { describeError } from '@app/common';
import { operationsConfig, OperationsConfig } from '../config/operations.config';
import { OPERATION_CLOCK, OperationClock } from './operation-clock';
import { OperationsRepository } from './operations.repository';

/** Retention: finished operations are kept OP_RETENTION_DAYS, then removed. */
@Injectable()
export class OperationRetentionService {
  private readonly logger = new Logger(OperationRetentionService.name);
  private purging = false;

  constructor(
    private readonly repo: OperationsRepository,
    @Inject(operationsConfig.KEY) private readonly cfg: OperationsConfig,
    @Inject(OPERATION_CLOCK) private readonly clock: OperationClock,
  ) {}

  /** Scheduled, guarded against overlapping runs: removes old finished operations. */
  async purgeExpired(): Promise<number> {
    if (this.purging) return 0;
    this.purging = true;
    try {
      const cutoff = new Date(this.clock.now().getTime() - this.cfg.retentionDays * 86_400_000);
      const removed = await this.repo.deleteFinishedBefore(cutoff);
      if (removed > 0)
        this.logger.log(`Removed ${removed} finished operations older than ${this.cfg.retentionDays} days`);
      return removed;
    } catch (err) {
      this.logger.warn(`Operation retention failed: ${describeError(err)}`);
      return 0;
    } finally {
      this.purging = false;
    }
  }
}
