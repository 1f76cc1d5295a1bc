import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsSn, ToBoolean, Trim } from '@app/common';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsNotEmpty,
  IsOptional,
  IsString,
  Length,
} from 'class-validator';

/** Terminals one group may hold. */
export const MAX_GROUP_MEMBERS = 100;

/** Members of a group: distinct serial numbers, at most MAX_GROUP_MEMBERS (listed bottom-up, as decorators apply). */
const IsMemberList = () =>
  applyDecorators(
    IsSn({ each: true, message: 'each sn must be 1-64 letters, digits, . _ or -' }),
    IsString({ each: true }),
    ArrayUnique({ message: 'sns must not contain duplicates' }),
    ArrayMaxSize(MAX_GROUP_MEMBERS),
    IsArray(),
    Trim({ each: true }),
  );

export class CreateDeviceGroupDto {
  @ApiProperty({ example: 'Main site', description: 'Name shown to admins (1-100 characters)' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @Length(1, 100)
  name: string;

  @ApiProperty({
    example: ['ZXRE06022863', 'TYSG18086518'],
    type: [String],
    description: `Serial numbers of registered terminals (at most ${MAX_GROUP_MEMBERS}); each in no other group`,
  })
  @IsMemberList()
  sns: string[];

  @ApiProperty({ example: true, description: 'Push a user enrolled on one member to every other member' })
  @IsBoolean()
  syncUsers: boolean;
}

export class UpdateDeviceGroupDto {
  @ApiPropertyOptional({ example: 'Main site' })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ example: ['ZXRE06022863', 'TYSG18086518', 'AYTH09089112'], type: [String] })
  @IsOptional()
  @IsMemberList()
  sns?: string[];

  @ApiPropertyOptional({ example: false })
  @IsOptional()
  @IsBoolean()
  syncUsers?: boolean;
}

export class DriftQueryDto {
  @ApiPropertyOptional({
    example: true,
    description: "true = re-read every online member's roster first (queued operations) and answer when done",
  })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'refresh must be true or false' })
  refresh?: boolean;
}
