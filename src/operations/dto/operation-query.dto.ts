import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, MaxLength, MinLength, ValidateBy } from 'class-validator';
import { dayRange, parseUtcDay } from '@app/common';
import type { ListOperationsQuery } from '../operation-queries.service';
import type { OperationFilter } from '../operations.repository';
import { OPERATION_STATUSES, OperationStatus } from '../schemas/operation.schema';

/** `YYYY-MM-DD` naming a day that exists (2025-02-30 and 2025-13-01 are refused). */
function IsUtcDay(): PropertyDecorator {
  return ValidateBy({
    name: 'isUtcDay',
    validator: {
      validate: (value: unknown, args) => {
        if (typeof value !== 'string') return false;
        try {
          parseUtcDay(value, args?.property ?? 'date');
          return true;
        } catch {
          return false;
        }
      },
      defaultMessage: (args) => `${args?.property ?? 'date'} must be a date YYYY-MM-DD`,
    },
  });
}

/**
 * Filters shared by the listing and the stats. No `example` on optional filters: Swagger UI's
 * "Try it out" would send it (and find nothing); examples are in the descriptions.
 */
export class OperationFilterQueryDto {
  @ApiPropertyOptional({ description: 'Terminal serial number, e.g. ZXRE06022863' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  sn?: string;

  @ApiPropertyOptional({ description: 'Operation type, e.g. adduserinfo, setuserinfo, getuserlist' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  type?: string;

  @ApiPropertyOptional({ enum: OPERATION_STATUSES, description: 'e.g. failed' })
  @IsOptional()
  @IsIn(OPERATION_STATUSES, { message: `status must be one of ${OPERATION_STATUSES.join(', ')}` })
  status?: OperationStatus;

  @ApiPropertyOptional({ format: 'date', description: 'UTC day, e.g. 2025-11-01: createdAt on or after its start' })
  @IsOptional()
  @IsUtcDay()
  from?: string;

  @ApiPropertyOptional({
    format: 'date',
    description: 'UTC day, inclusive, e.g. 2025-11-10: createdAt before the end of that day',
  })
  @IsOptional()
  @IsUtcDay()
  to?: string;

  /** The validated keys as the repository's filter (from/to as a createdAt range of whole UTC days). */
  filter(): OperationFilter {
    const filter: OperationFilter = {};
    if (this.sn !== undefined) filter.sn = this.sn;
    if (this.type !== undefined) filter.type = this.type;
    if (this.status !== undefined) filter.status = this.status;
    const createdAt = dayRange(this.from, this.to);
    if (createdAt) filter.createdAt = createdAt;
    return filter;
  }
}

export class ListOperationsQueryDto extends OperationFilterQueryDto {
  @ApiPropertyOptional({ default: 1, minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'page must be an integer' })
  page?: number;

  @ApiPropertyOptional({ default: 20, maximum: 100, description: 'Values above 100 are treated as 100' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  limit?: number;

  /** The listing's filter and page (clamped by the service with the shared paging helpers). */
  query(): ListOperationsQuery {
    return { filter: this.filter(), page: this.page, limit: this.limit };
  }
}
