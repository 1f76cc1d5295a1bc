import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsMongoId, IsOptional, IsString, Length } from 'class-validator';
import { MAX_IDS_PER_REQUEST } from '../../user-management/dto/delete-users.dto';
import { EnrollIdList } from '../../user-management/dto/id-array';

const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

export class PlanSyncDto {
  @ApiPropertyOptional({ example: 'ZXRE06022863', description: 'Terminal whose users the target should hold (online)' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @Length(1, 64)
  fromSn?: string;

  @ApiPropertyOptional({
    example: false,
    description: "true = compare with the server's stored copy of toSn's users (restore after a wipe or a new unit)",
  })
  @IsOptional()
  @IsBoolean()
  fromBackup?: boolean;

  @ApiProperty({ example: 'TYSG18086518', description: 'Terminal to repair (online)' })
  @Transform(trim)
  @IsString()
  @Length(1, 64)
  toSn: string;

  @ApiPropertyOptional({ example: [2, 3], type: [Number], description: 'Only these users; absent = every user' })
  @IsOptional()
  @EnrollIdList(MAX_IDS_PER_REQUEST)
  enrollIds?: number[];
}

export class ApplySyncDto {
  @ApiProperty({ example: '675a1b2c3d4e5f6a7b8c9d20', description: 'Id of a plan from POST /api/device-sync/plan' })
  @IsMongoId({ message: 'planId must be a 24-character hex ObjectId' })
  planId: string;

  @ApiPropertyOptional({ example: false, default: false, description: 'true = also delete the extra users' })
  @IsOptional()
  @IsBoolean()
  deleteExtra?: boolean;
}
