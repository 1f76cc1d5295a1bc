import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { ApiError, IsTimeZone, ToCanonicalTimeZone, Trim } from '@app/common';
import type { DeviceSettingsPatch } from '../devices.repository';

/** Operator settings of a terminal; `null` clears a field. */
export class UpdateDeviceDto {
  @ApiPropertyOptional({ type: String, example: 'Main entrance', nullable: true, maxLength: 100 })
  @IsOptional()
  @Trim()
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
  @ToCanonicalTimeZone()
  timeZone?: string | null;

  @ApiPropertyOptional({
    type: Boolean,
    example: true,
    nullable: true,
    description:
      'true = admitted even when not on DEVICE_ALLOWLIST, and approves a terminal pending under DEVICE_ADMISSION=approve; ' +
      'false = always refused; null = the allow-list and admission decide',
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

const SETTINGS = ['name', 'timeZone', 'allowed', 'notes'] as const;

/**
 * The settings an update asks for (the DTO has already spelled a time zone canonically); a body that
 * names none of them is a 400.
 */
export function toSettingsPatch(body: UpdateDeviceDto): DeviceSettingsPatch {
  if (SETTINGS.every((k) => body[k] === undefined)) {
    throw new ApiError(400, 'validation_failed', 'Nothing to update: give name, timeZone, allowed or notes', {
      errors: [{ field: 'body', messages: ['at least one of name, timeZone, allowed, notes is required'] }],
    });
  }
  return {
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(body.timeZone !== undefined ? { timeZone: body.timeZone } : {}),
    ...(body.allowed !== undefined ? { allowed: body.allowed } : {}),
    ...(body.notes !== undefined ? { notes: body.notes } : {}),
  };
}
