import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min, ValidateBy } from 'class-validator';
import { Trim } from '@app/common';
import { ENROLL_BACKUPNUMS, MAX_ENROLL_ID, MIN_ENROLL_ID } from './enroll-id';

/** Terminals store names in 64 bytes of UTF-8, not 64 characters. */
const MAX_NAME_BYTES = 64;
function MaxUtf8Bytes(max: number): PropertyDecorator {
  return ValidateBy({
    name: 'maxUtf8Bytes',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || Buffer.byteLength(value, 'utf8') <= max,
      defaultMessage: (args) => `${args?.property ?? 'value'} must be at most ${max} bytes of UTF-8`,
    },
  });
}

export class AddUserDto {
  @ApiProperty({ example: 10012, minimum: MIN_ENROLL_ID, maximum: MAX_ENROLL_ID })
  @IsInt()
  @Min(MIN_ENROLL_ID)
  @Max(MAX_ENROLL_ID)
  enrollid: number;

  @ApiProperty({ example: 'John Smith1', maxLength: MAX_NAME_BYTES, description: 'At most 64 bytes of UTF-8' })
  @Trim()
  @IsString()
  @Length(1, MAX_NAME_BYTES)
  @MaxUtf8Bytes(MAX_NAME_BYTES)
  name: string;

  @ApiPropertyOptional({
    example: 'JSMITH1',
    maxLength: 64,
    description: 'Kept on the server only (the HR key of this person); never sent to the terminal',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @Length(1, 64)
  aliasid?: string;

  @ApiProperty({
    example: 50,
    enum: ENROLL_BACKUPNUMS,
    description: 'Credential the terminal captures: 0-9 = fingerprint, 50 = face',
  })
  @IsInt()
  @IsIn(ENROLL_BACKUPNUMS, { message: 'backupnum must be 0-9 (fingerprint) or 50 (face)' })
  backupnum: number;
}
