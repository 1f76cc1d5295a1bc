import { Body, Controller, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError } from '@app/common';
import { isValidSn } from '@app/device-protocol';
import { AdminAuth, ApiErrorResponse, AuthUser, CurrentUser, validationExample } from '../auth';
import { DeviceCommandDto } from './dto/device-command.dto';
import { OFFLINE_EXAMPLE, OPERATION_EXAMPLE, TIMEOUT_EXAMPLE } from './operation-api-docs';
import { DeviceCommandService } from './device-command.service';

@ApiTags('operations')
@AdminAuth()
@Controller('device')
export class DeviceCommandController {
  constructor(private readonly commands: DeviceCommandService) {}

  @Post(':sn/command')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Send any protocol command (reference §4) to a terminal through the queue. Admin token.',
    description:
      'settime, reboot, opendoor, getdevinfo, setdevinfo, getdevlock, ... The payload is checked before anything is ' +
      'queued. wait=true waits for the terminal and answers the finished operation (409 when the terminal is ' +
      'offline or unknown, 504 with the operation id after OP_WAIT_TIMEOUT while it carries on); otherwise the ' +
      'operation is queued for a known terminal, online or not. settime without cloudtime sends the current time ' +
      "in the terminal's zone; reboot succeeds once sent (terminals never answer it).",
  })
  @ApiParam({ name: 'sn', example: 'ZXRE06022863' })
  @ApiBody({
    type: DeviceCommandDto,
    examples: {
      settime: { value: { cmd: 'settime', payload: {}, wait: true } },
      opendoor: { value: { cmd: 'opendoor', payload: { doornum: 1 } } },
      setdevinfo: { value: { cmd: 'setdevinfo', payload: { volume: 6 }, wait: true } },
    },
  })
  @ApiOkResponse({
    description: 'The operation: finished with wait=true, pending otherwise',
    schema: {
      example: {
        success: true,
        op: {
          ...OPERATION_EXAMPLE,
          type: 'getdevinfo',
          payload: {},
          response: { ret: 'getdevinfo', sn: 'ZXRE06022863', result: true, volume: 6, language: 0 },
        },
      },
    },
  })
  @ApiErrorResponse(400, 'Unknown command, a payload the command does not accept, a malformed sn', {
    ...validationExample('cmd', 'cmd must be a terminal command of the protocol reference (§4)'),
  })
  @ApiErrorResponse(404, 'wait=false and no terminal with this sn has ever registered', {
    success: false,
    error: 'device_not_found',
    message: 'No terminal with sn ZXRE06022863 has registered',
  })
  @ApiErrorResponse(409, 'wait=true and the terminal is offline or unknown (nothing is queued)', OFFLINE_EXAMPLE)
  @ApiErrorResponse(504, 'wait=true and no answer within OP_WAIT_TIMEOUT; the operation carries on', TIMEOUT_EXAMPLE)
  async command(@Param('sn') sn: string, @Body() body: DeviceCommandDto, @CurrentUser() user: AuthUser) {
    if (!isValidSn(sn)) throw new ApiError(400, 'invalid_sn', 'sn is not a terminal serial number');
    const op = await this.commands.submit(sn, body.cmd, body.payload ?? {}, {
      wait: body.wait === true,
      requestedBy: user.sub,
    });
    return { success: true, op };
  }
}
