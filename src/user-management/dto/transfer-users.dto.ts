import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';
import { MAX_IDS_PER_REQUEST } from './delete-users.dto';
import { EnrollIdList } from './id-array';

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
  @EnrollIdList(MAX_IDS_PER_REQUEST)
  enrollIds?: number[];

  @ApiProperty({
    example: false,
    description: 'true = move (each user is deleted from the source once the target confirmed all its credentials)',
  })
  @IsBoolean()
  deleteFromSource: boolean;
}
