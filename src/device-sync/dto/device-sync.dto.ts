import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsMongoId, IsOptional, IsString, Length } from 'class-validator';
import { ApiError, Trim } from '@app/common';
import { MAX_IDS_PER_REQUEST } from '../../user-management/dto/delete-users.dto';
import { EnrollIdList } from '../../user-management/dto/id-array';
import { checkDifferentTerminals } from '../../user-management/dto/transfer-users.dto';

export class PlanSyncDto {
  @ApiPropertyOptional({ example: 'ZXRE06022863', description: 'Terminal whose users the target should hold (online)' })
  @IsOptional()
  @Trim()
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
  @Trim()
  @IsString()
  @Length(1, 64)
  toSn: string;

  @ApiPropertyOptional({ example: [2, 3], type: [Number], description: 'Only these users; absent = every user' })
  @IsOptional()
  @EnrollIdList(MAX_IDS_PER_REQUEST)
  enrollIds?: number[];
}

/** A plan compares with exactly one source (another terminal or the stored copy), never the target itself. */
export function checkPlanSource(dto: PlanSyncDto): void {
  if ((dto.fromSn === undefined) === (dto.fromBackup !== true)) {
    throw new ApiError(400, 'invalid_source', 'Give either fromSn or fromBackup: true');
  }
  checkDifferentTerminals(dto.fromSn, dto.toSn);
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
