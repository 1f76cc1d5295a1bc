import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsTimeZone } from './dto-fields';

const trim = Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** Operator settings of a terminal; `null` clears a field. */
export class UpdateDeviceDto {
  @ApiPropertyOptional({ type: String, example: 'Main entrance', nullable: true, maxLength: 100 })
  @IsOptional()
  @trim
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string | null;

  @ApiPropertyOptional({
    type: String,
    example: 'Asia/Baghdad',
    nullable: true,
    description: "IANA zone of the terminal's clock; null = DEVICE_DEFAULT_TIMEZONE",
  })
  @IsOptional()
  @IsString()
  @IsTimeZone()
  timeZone?: string | null;

  @ApiPropertyOptional({
    type: Boolean,
    example: true,
    nullable: true,
    description:
      'true = admitted even when not on DEVICE_ALLOWLIST; false = always refused; null = the allow-list decides',
  })
  @IsOptional()
  @IsBoolean()
  allowed?: boolean | null;

  @ApiPropertyOptional({ type: String, example: 'Replaced the reader in May', nullable: true, maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  notes?: string | null;
}
