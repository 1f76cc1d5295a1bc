import { Injectable } from '@nestjs/common';
import { clampLimit, clampPage, isObjectIdString } from '@app/common';
import { OperationView, toOperationView } from './operation.view';
import { CountBucket, OperationFilter, OperationsRepository } from './operations.repository';

/** The listing's page size when the query gives none. */
export const DEFAULT_PAGE_SIZE = 20;

/** A listing's page of an already-parsed filter (see the query DTOs for parsing and 400s). */
export interface ListOperationsQuery {
  filter?: OperationFilter;
  page?: number;
  limit?: number;
}

export interface OperationPage {
  total: number;
  page: number;
  items: OperationView[];
}

export interface OperationStats {
  total: number;
  byStatus: CountBucket[];
  byType: CountBucket[];
}

/** Reads of the queue: one operation, a page of the listing, counts. */
@Injectable()
export class OperationQueriesService {
  constructor(private readonly repo: OperationsRepository) {}

  async findById(id: string): Promise<OperationView | null> {
    if (!isObjectIdString(id)) return null;
    const rec = await this.repo.findById(id);
    return rec ? toOperationView(rec) : null;
  }

  /** Newest first; a page outside 1.. is the first, limits clamp to 1..100. */
  async list(query: ListOperationsQuery): Promise<OperationPage> {
    const page = clampPage(query.page);
    const limit = clampLimit(query.limit, DEFAULT_PAGE_SIZE);
    const { total, items } = await this.repo.list(query.filter ?? {}, (page - 1) * limit, limit);
    return { total, page, items: items.map(toOperationView) };
  }

  /** Counts by status and by type, over the same filters as the listing. */
  async stats(filter: OperationFilter = {}): Promise<OperationStats> {
    return this.repo.stats(filter);
  }
}
