import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { OPERATION_STATUSES, OperationStatus } from '../schemas/operation.schema';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Filters shared by the listing and the stats. */
export class OperationFilterQueryDto {
  @ApiPropertyOptional({ example: 'ZXRE06022863', description: 'Terminal serial number' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  sn?: string;

  @ApiPropertyOptional({
    example: 'setuserinfo',
    description: 'Operation type (adduserinfo, setuserinfo, getuserlist, ...)',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  type?: string;

  @ApiPropertyOptional({ enum: OPERATION_STATUSES, example: 'failed' })
  @IsOptional()
  @IsIn(OPERATION_STATUSES, { message: `status must be one of ${OPERATION_STATUSES.join(', ')}` })
  status?: OperationStatus;

  @ApiPropertyOptional({ example: '2025-11-01', description: 'UTC day: createdAt on or after its start' })
  @IsOptional()
  @Matches(DAY, { message: 'from must be a date YYYY-MM-DD' })
  from?: string;

  @ApiPropertyOptional({
    example: '2025-11-10',
    description: 'UTC day, inclusive: createdAt before the end of that day',
  })
  @IsOptional()
  @Matches(DAY, { message: 'to must be a date YYYY-MM-DD' })
  to?: string;
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
}
