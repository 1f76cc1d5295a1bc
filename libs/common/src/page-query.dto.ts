import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Min } from 'class-validator';
import { ToInt } from './dto-fields';

/** `page` and `limit` of every listing; `pageWindow()` turns them into the rows to read. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', example: 1, default: 1, minimum: 1 })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  page?: number;

  @ApiPropertyOptional({
    type: 'integer',
    example: 20,
    minimum: 1,
    description: "Page size (the route's default when absent); above 100 is clamped to 100",
  })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  limit?: number;
}
