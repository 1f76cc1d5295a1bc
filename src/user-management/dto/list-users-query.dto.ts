import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { ToBoolean } from '@app/common';

export class ListUsersQueryDto {
  @ApiPropertyOptional({
    default: true,
    description: 'false = the roster only (one row per credential, no `record`), without a getuserinfo per credential',
  })
  @IsOptional()
  @ToBoolean({ digits: true })
  @IsBoolean({ message: 'templates must be true or false' })
  templates?: boolean;
}
