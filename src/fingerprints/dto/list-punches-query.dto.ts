import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';

const BOOLEAN_TEXT = ['true', 'false'];

class PagingQueryDto {
  @ApiPropertyOptional({ example: 1, minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page?: number;

  @ApiPropertyOptional({ description: 'Page size; above 100 is clamped to 100', minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  limit?: number;

  @ApiPropertyOptional({ example: '2025-02-01T00:00:00.000Z', description: 'ISO 8601: punches at or after' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({
    example: '2025-02-05T23:59:59.000Z',
    description: 'ISO 8601: punches at or before (a date alone means the whole of that UTC day)',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ enum: BOOLEAN_TEXT })
  @IsOptional()
  @IsIn(BOOLEAN_TEXT, { message: 'is_send must be true or false' })
  is_send?: string;
}

/** The app's listing (unknown query keys are dropped, as on every listing). */
export class EmployeePunchesQueryDto extends PagingQueryDto {
  @ApiPropertyOptional({ example: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  event?: number;

  @ApiPropertyOptional({ example: 'App', maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  device_sn?: string;
}

export class MobileLogsQueryDto extends PagingQueryDto {
  @ApiPropertyOptional({ enum: BOOLEAN_TEXT })
  @IsOptional()
  @IsIn(BOOLEAN_TEXT, { message: 'send_failed must be true or false' })
  send_failed?: string;
}

export class DeviceLogsQueryDto extends MobileLogsQueryDto {
  @ApiPropertyOptional({ example: 'ZXRE06022863', maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  sn?: string;

  @ApiPropertyOptional({ example: '121', description: 'Terminal user id' })
  @IsOptional()
  @Matches(/^\d{1,12}$/, { message: 'enrollid must be a number' })
  enrollid?: string;
}

/** The retry routes take an empty body. */
export class RetryFailedDto {}
