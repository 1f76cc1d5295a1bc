import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { PageQueryDto, ToBoolean } from '@app/common';

export class ListDevicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ type: Boolean, description: 'Only online (true) or offline (false) terminals' })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'online must be true or false' })
  online?: boolean;
}
