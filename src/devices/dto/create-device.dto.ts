import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsSn, IsTimeZone, ToCanonicalTimeZone, Trim } from '@app/common';

/** A terminal made known before it ever connects (so it may post /api/device-log). */
export class CreateDeviceDto {
  @ApiProperty({ example: 'ZXRE06022863', description: 'Serial number: 1-64 letters, digits, ".", "_" or "-"' })
  @IsString()
  @IsSn()
  sn: string;

  @ApiPropertyOptional({ example: 'Main entrance', maxLength: 100 })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ example: 'Asia/Baghdad', description: "IANA zone of the terminal's clock" })
  @IsOptional()
  @IsString()
  @IsTimeZone()
  @ToCanonicalTimeZone()
  timeZone?: string;
}
