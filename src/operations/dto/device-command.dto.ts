import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsObject, IsOptional } from 'class-validator';
import { SERVER_COMMANDS } from '@app/device-protocol';

export class DeviceCommandDto {
  @ApiProperty({ enum: SERVER_COMMANDS, example: 'settime', description: 'A command of the protocol reference §4' })
  @IsIn(SERVER_COMMANDS, { message: 'cmd must be a terminal command of the protocol reference (§4)' })
  cmd: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { cloudtime: '2025-11-08 10:00:00' },
    description: 'Fields of the command, as in the protocol reference; checked before anything is queued',
  })
  @IsOptional()
  @IsObject({ message: 'payload must be an object' })
  payload?: Record<string, unknown>;

  @ApiPropertyOptional({
    default: false,
    description: 'true = wait for the terminal (409 when offline, 504 after OP_WAIT_TIMEOUT); false = queue',
  })
  @IsOptional()
  @IsBoolean({ message: 'wait must be true or false' })
  wait?: boolean;
}
