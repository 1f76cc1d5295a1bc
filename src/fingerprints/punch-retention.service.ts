import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { databaseConfig } from '../config/database.config';
import { FingerPrintLogRepository } from './fingerprint-log.repository';
import { PunchDeviceType } from './schemas/fingerprint-log.schema';
import { describeError } from '@app/common';

const SWEEP_INTERVAL_MS = 3_600_000;
/** Deleted per round trip, so a first sweep over years of history never holds the database long. */
const BATCH = 1000;

/**
 * PUNCH_RETENTION_DAYS (0 = keep everything): every hour, and once at start, removes punches that
 * were delivered to the HR server and are older than that. Undelivered punches are never removed.
 */
@Injectable()
export class PunchRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('PunchRetention');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly repo: FingerPrintLogRepository,
    @Inject(databaseConfig.KEY) private readonly cfg: ConfigType<typeof databaseConfig>,
  ) {}

  onApplicationBootstrap(): void {
    if (this.cfg.punchRetentionDays <= 0) return;
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
    void this.sweep();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One sweep (runs are never concurrent); resolves with the number of punches removed. */
  sweep(now = new Date()): Promise<number> {
    this.running ??= this.sweepOnce(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweepOnce(now: Date): Promise<number> {
    const days = this.cfg.punchRetentionDays;
    if (days <= 0) return 0;
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    let removed = 0;
    try {
      for (const type of Object.values(PunchDeviceType)) {
        for (;;) {
          const n = await this.repo.deleteDeliveredBefore(type, cutoff, BATCH);
          removed += n;
          if (n < BATCH) break;
        }
      }
    } catch (err) {
      this.logger.warn(`Retention sweep stopped after ${removed} punches: ${describeError(err)}`);
    }
    if (removed > 0) {
      this.logger.log(`Removed ${removed} delivered punches older than ${days} days (PUNCH_RETENTION_DAYS)`);
    }
    return removed;
  }
}
