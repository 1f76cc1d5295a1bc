import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsSn, IsTimeZone, ToCanonicalTimeZone } from '@app/common';

const trim = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** A terminal made known before it ever connects (so it may post /api/device-log). */
export class CreateDeviceDto {
  @ApiProperty({ example: 'ZXRE06022863', description: 'Serial number: 1-64 letters, digits, ".", "_" or "-"' })
  @IsString()
  @IsSn()
  sn: string;

  @ApiPropertyOptional({ example: 'Main entrance', maxLength: 100 })
  @IsOptional()
  @trim
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
