import { Injectable } from '@nestjs/common';
import { FingerPrintLogRepository } from './fingerprint-log.repository';

export interface ForwardBacklog {
  /** Punches not yet confirmed by the HR server. */
  count: number;
  /** Age of the oldest of them, in ms (0 when none). */
  oldestAgeMs: number;
  readAt: Date;
}

/**
 * The forwarding backlog as health and metrics see it. Reads are shared: a probe and a scrape
 * arriving together, or every few seconds, cost one pair of indexed queries per `maxAgeMs`.
 */
@Injectable()
export class ForwardBacklogService {
  private last?: { value: ForwardBacklog; oldestAt?: Date };
  private reading?: Promise<{ value: ForwardBacklog; oldestAt?: Date }>;

  constructor(private readonly logs: FingerPrintLogRepository) {}

  async read(maxAgeMs: number): Promise<ForwardBacklog> {
    const now = Date.now();
    if (this.last && now - this.last.value.readAt.getTime() < maxAgeMs) {
      // The age keeps growing between reads.
      const oldestAgeMs = this.last.oldestAt ? Math.max(0, now - this.last.oldestAt.getTime()) : 0;
      return { ...this.last.value, oldestAgeMs };
    }
    this.reading ??= this.logs
      .outboxBacklog()
      .then(({ count, oldestAt }) => {
        const readAt = new Date();
        const value = { count, oldestAgeMs: oldestAt ? Math.max(0, readAt.getTime() - oldestAt.getTime()) : 0, readAt };
        this.last = { value, oldestAt };
        return this.last;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return (await this.reading).value;
  }
}
