import { Injectable } from '@nestjs/common';
import { OperationsRepository } from './operations.repository';

export interface QueueStats {
  byStatusAndType: { status: string; type: string; count: number }[];
  pending: number;
  /** Creation time of the oldest pending operation. */
  oldestPendingAt?: Date;
}

/** The queue as metrics see it: one aggregation over the operations (kept short by retention). */
@Injectable()
export class QueueStatsService {
  constructor(private readonly repo: OperationsRepository) {}

  async read(): Promise<QueueStats> {
    const rows = await this.repo.countsByStatusAndType();
    let pending = 0;
    let oldestPendingAt: Date | undefined;
    for (const r of rows) {
      if (r.status !== 'pending') continue;
      pending += r.count;
      if (r.oldest && (!oldestPendingAt || r.oldest < oldestPendingAt)) oldestPendingAt = r.oldest;
    }
    return {
      byStatusAndType: rows.map(({ status, type, count }) => ({ status, type, count })),
      pending,
      ...(oldestPendingAt ? { oldestPendingAt } : {}),
    };
  }
}
