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
    const [rows, oldestPendingAt] = await Promise.all([
      this.repo.countsByStatusAndType(),
      this.repo.oldestPendingCreatedAt(),
    ]);
    const pending = rows.filter((r) => r.status === 'pending').reduce((n, r) => n + r.count, 0);
    return {
      byStatusAndType: rows,
      pending,
      ...(oldestPendingAt ? { oldestPendingAt } : {}),
    };
  }
}
