import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { isTerminalTimeSyntax, MAX_ENROLL_ID } from '@app/device-protocol';
import { registerDecorator } from 'class-validator';
import { LenientBody, ToNumber } from '@app/common';

export const MAX_DEVICE_LOG_RECORDS = 1000;

function IsTerminalTime(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isTerminalTime',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: 'time must be a date and time like 2025-11-08 09:00:00 or 2025-11-08T09:00:00' },
      validator: { validate: (value: unknown) => isTerminalTimeSyntax(value) },
    });
  };
}

/**
 * One record, with the fields of a terminal's sendlog record. Documents the shape: the body's
 * records are read like a sendlog frame's, and one that cannot be stored is kept as a rejected
 * record (counted in the answer's `rejected`) instead of refusing the whole body.
 */
@LenientBody()
export class DeviceLogRecordDto {
  @ApiProperty({ example: 2, description: 'User id on the terminal; 0 = a door event' })
  @ToNumber()
  @IsInt()
  @Min(0)
  @Max(MAX_ENROLL_ID)
  enrollid: number;

  @ApiProperty({
    example: '2025-11-08T09:00:00',
    description:
      "The terminal's wall-clock time (space or T); read in the terminal's time zone unless it ends in Z or ±HH:MM",
  })
  @IsString()
  @IsTerminalTime()
  time: string;

  @ApiPropertyOptional({ example: 0, description: 'Function key (0 normal); with enrollid 0 the door event' })
  @IsOptional()
  @ToNumber()
  @IsInt()
  event?: number;

  @ApiPropertyOptional({ example: 1, description: 'Verification mode, raw' })
  @IsOptional()
  @ToNumber()
  @IsInt()
  mode?: number;

  @ApiPropertyOptional({ example: 0, description: '0 in, 1 out (raw)' })
  @IsOptional()
  @ToNumber()
  @IsInt()
  inout?: number;

  @ApiPropertyOptional({ example: 1 })
  @IsOptional()
  @ToNumber()
  @IsInt()
  verifymode?: number;

  @ApiPropertyOptional({ example: 36.6 })
  @IsOptional()
  @ToNumber()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  temp?: number;

  @ApiPropertyOptional({ example: 1024 })
  @IsOptional()
  @ToNumber()
  @IsInt()
  logindex?: number;

  @ApiPropertyOptional({ example: 'John' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ description: 'Punch photo, base64 JPEG (dropped when over DEVICE_LOG_IMAGE_MAX)' })
  @IsOptional()
  @IsString()
  image?: string;
}

@LenientBody()
export class DeviceLogDto {
  @ApiProperty({ example: 'ZXRE06022863' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: 'sn must be 1-64 letters, digits, ".", "_" or "-"',
  })
  sn: string;

  @ApiProperty({ type: [DeviceLogRecordDto], minItems: 1, maxItems: MAX_DEVICE_LOG_RECORDS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_DEVICE_LOG_RECORDS)
  @IsObject({ each: true, message: 'each record must be an object' })
  record: DeviceLogRecordDto[];
}
