import { Inject, Injectable } from '@nestjs/common';
import { isObjectIdString, pageWindow } from '@app/common';
import { appConfig, type AppConfig } from '../config';
import { OperationView, toOperationView } from './operation.view';
import { CountBucket, OperationFilter, OperationsRepository } from './operations.repository';

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
  constructor(
    private readonly repo: OperationsRepository,
    @Inject(appConfig.KEY) private readonly app: Pick<AppConfig, 'pageSizes'>,
  ) {}

  async findById(id: string): Promise<OperationView | null> {
    if (!isObjectIdString(id)) return null;
    const rec = await this.repo.findById(id);
    return rec ? toOperationView(rec) : null;
  }

  /** Newest first; a page outside 1.. is the first, limits clamp to 1..PAGE_SIZE_MAX. */
  async list(query: ListOperationsQuery): Promise<OperationPage> {
    const sizes = this.app.pageSizes;
    const { page, limit, skip } = pageWindow(query, sizes.default, sizes.max);
    const { total, items } = await this.repo.list(query.filter ?? {}, skip, limit);
    return { total, page, items: items.map(toOperationView) };
  }

  /** Counts by status and by type, over the same filters as the listing. */
  async stats(filter: OperationFilter = {}): Promise<OperationStats> {
    return this.repo.stats(filter);
  }
}
