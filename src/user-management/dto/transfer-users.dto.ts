import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';
import { ApiError, Trim } from '@app/common';
import { MAX_IDS_PER_REQUEST } from './delete-users.dto';
import { EnrollIdList } from './id-array';

export class TransferUsersDto {
  @ApiProperty({ example: 'ZXRE06022863', description: 'Source terminal (must be online)' })
  @Trim()
  @IsString()
  @Length(1, 64)
  fromSn: string;

  @ApiProperty({
    example: 'TYSG18086518',
    description: 'Target terminal (known; pushes wait in its queue while offline)',
  })
  @Trim()
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

/** Copying users from a terminal to itself is a mistake in the request: 400 `same_terminal`. */
export function checkDifferentTerminals(fromSn: string | undefined, toSn: string): void {
  if (fromSn === toSn) throw new ApiError(400, 'same_terminal', 'fromSn and toSn must be different terminals');
}
