import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Unknown query keys (cache busters and the like) are dropped by the global pipe, as on every listing. */
export class ListEmployeesQueryDto {
  @ApiPropertyOptional({
    example: 'mustafa',
    description: 'Case-insensitive text searched in username, fullName, phone and email (taken literally)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}
