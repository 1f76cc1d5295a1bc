import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Min } from 'class-validator';
import { ToInt } from './dto-fields';

export class PageQueryDto {
  @ApiPropertyOptional({ example: 1, default: 1, minimum: 1 })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  page?: number;

  @ApiPropertyOptional({ example: 20, default: 20, minimum: 1, description: 'Above 100 is clamped to 100' })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  limit?: number;
}

export class ListDevicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only online (true) or offline (false) terminals' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'online must be true or false' })
  online?: 'true' | 'false';
}
