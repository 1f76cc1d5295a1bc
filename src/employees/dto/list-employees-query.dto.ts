import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { LenientBody } from '@app/common';

// Unknown query parameters (cache busters and the like) are ignored rather than refused.
@LenientBody()
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
