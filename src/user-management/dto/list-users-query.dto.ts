import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';

function queryBool({ value }: { value: unknown }): unknown {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
}

export class ListUsersQueryDto {
  @ApiPropertyOptional({
    default: true,
    description: 'false = the roster only (one row per credential, no `record`), without a getuserinfo per credential',
  })
  @IsOptional()
  @Transform(queryBool)
  @IsBoolean({ message: 'templates must be true or false' })
  templates?: boolean;
}
