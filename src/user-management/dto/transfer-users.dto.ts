import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
} from 'class-validator';
import { MAX_IDS_PER_REQUEST } from './delete-users.dto';
import { ArrayDistinct, TruncateArrayPast } from './id-array';
import { MAX_ENROLL_ID, MIN_ENROLL_ID } from './enroll-id';

const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

export class TransferUsersDto {
  @ApiProperty({ example: 'ZXRE06022863', description: 'Source terminal (must be online)' })
  @Transform(trim)
  @IsString()
  @Length(1, 64)
  fromSn: string;

  @ApiProperty({
    example: 'TYSG18086518',
    description: 'Target terminal (known; pushes wait in its queue while offline)',
  })
  @Transform(trim)
  @IsString()
  @Length(1, 64)
  toSn: string;

  @ApiPropertyOptional({
    example: [2, 3],
    type: [Number],
    description: 'Users to transfer; absent = every user on the source',
  })
  @IsOptional()
  @TruncateArrayPast(MAX_IDS_PER_REQUEST)
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(MAX_IDS_PER_REQUEST)
  @ArrayDistinct('enrollIds must not contain duplicates')
  @IsInt({ each: true })
  @Min(MIN_ENROLL_ID, { each: true })
  @Max(MAX_ENROLL_ID, { each: true })
  enrollIds?: number[];

  @ApiProperty({
    example: false,
    description: 'true = move (each user is deleted from the source once the target confirmed all its credentials)',
  })
  @IsBoolean()
  deleteFromSource: boolean;
}
