import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { instantRange, IsInstant, PageQueryDto, ToBoolean, ToInt } from '@app/common';
import type { LogListCriteria } from '../fingerprint-log.repository';

/** What a punch listing's query selects, read from its validated keys (no paging, no owner). */
export type PunchFilter = Omit<LogListCriteria, 'deviceType' | 'ownedBy'>;

/** Paging, time window and forwarding state: the keys every punch listing takes. */
class PunchQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: '2025-02-01T00:00:00.000Z', description: 'ISO 8601: punches at or after' })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({
    example: '2025-02-05T23:59:59.000Z',
    description: 'ISO 8601: punches at or before (a date alone means the whole of that UTC day)',
  })
  @IsOptional()
  @IsInstant()
  to?: string;

  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'is_send must be true or false' })
  is_send?: boolean;

  filter(): PunchFilter {
    return { ...instantRange(this.from, this.to), isSend: this.is_send };
  }
}

/** The app's listing (unknown query keys are dropped, as on every listing). */
export class EmployeePunchesQueryDto extends PunchQueryDto {
  @ApiPropertyOptional({ type: 'integer', example: 1 })
  @IsOptional()
  @ToInt()
  @IsInt()
  event?: number;

  @ApiPropertyOptional({ example: 'App', maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  device_sn?: string;

  override filter(): PunchFilter {
    return { ...super.filter(), event: this.event, sn: this.device_sn };
  }
}

export class MobileLogsQueryDto extends PunchQueryDto {
  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'send_failed must be true or false' })
  send_failed?: boolean;

  override filter(): PunchFilter {
    return { ...super.filter(), sendFailed: this.send_failed };
  }
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

  override filter(): PunchFilter {
    return { ...super.filter(), sn: this.sn, enrollid: this.enrollid };
  }
}

/** The retry routes take an empty body. */
export class RetryFailedDto {}
