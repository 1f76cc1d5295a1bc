import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsNumber, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { LenientBody } from '@app/common';

export class PunchLocationDto {
  @ApiProperty({ example: 33.3096307, minimum: -90, maximum: 90 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-90)
  @Max(90)
  latitude: number;

  @ApiProperty({ example: 44.4490251, minimum: -180, maximum: 180 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-180)
  @Max(180)
  longitude: number;
}

/** The mobile app's punch. Unknown keys are dropped (app versions differ), not refused. */
@LenientBody()
export class CreateAppPunchDto {
  @ApiProperty({ example: 1, description: 'Event code (0 normal, 1-16 custom: check-in, check-out...)' })
  @IsInt()
  @Min(0)
  @Max(65535)
  event: number;

  @ApiProperty({ type: PunchLocationDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => PunchLocationDto)
  location: PunchLocationDto;

  @ApiPropertyOptional({ example: 'App', maxLength: 64, description: 'Defaults to "App"' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  device_sn?: string;

  @ApiPropertyOptional({ example: 'App', maxLength: 128 })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  device_name?: string;

  @ApiPropertyOptional({ example: 'aa:bb:cc:dd:ee:ff', maxLength: 512 })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  macs?: string;

  @ApiPropertyOptional({
    example: 'data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ...',
    description: 'Optional photo: a JPEG or PNG data URL, at most PUNCH_IMAGE_MAX_BYTES decoded (default 2 MB)',
  })
  @IsOptional()
  @IsString()
  image?: string;
}
