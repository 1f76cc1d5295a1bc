import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError, clampLimit, clampPage } from '@app/common';
import { AdminAuth, ApiErrorResponse } from '../auth';
import { DevicesService } from './devices.service';
import { PageQueryDto } from './dto/list-devices-query.dto';
import { ParseSnPipe } from './parse-sn.pipe';
import { TerminalFieldService } from './terminal-field.service';

const SN_EXAMPLE = 'ZXRE06022863';

@ApiTags('devices')
@Controller('devices')
@AdminAuth()
export class RejectedLogsController {
  constructor(
    private readonly devices: DevicesService,
    private readonly field: TerminalFieldService,
  ) {}

  @Get(':sn/rejected-logs')
  @ApiOperation({
    summary:
      'Log records a terminal sent that could not be stored (an impossible time, an id out of range...), kept as ' +
      'they came with the reason, newest first. The other records of their frame were stored. Admin token.',
  })
  @ApiParam({ name: 'sn', example: SN_EXAMPLE })
  @ApiOkResponse({
    description: 'One page of rejected records',
    schema: {
      example: {
        success: true,
        total: 1,
        page: 1,
        items: [
          {
            _id: '6910a8c2f1d2c3b4a5968779',
            sn: SN_EXAMPLE,
            raw: { enrollid: 22, time: '0000-00-00 00:00:00', mode: 1, inout: 0, event: 0 },
            reason: 'time "0000-00-00 00:00:00" is not a terminal time',
            source: 'sendlog',
            receivedAt: '2026-05-01T08:00:01.000Z',
          },
        ],
      },
    },
  })
  @ApiErrorResponse(400, 'Malformed serial number or paging', {
    success: false,
    error: 'invalid_sn',
    message: 'sn must be 1-64 letters, digits, ".", "_" or "-"',
  })
  @ApiErrorResponse(404, 'No terminal with this sn', {
    success: false,
    error: 'device_not_found',
    message: `No terminal with sn ${SN_EXAMPLE}`,
  })
  async rejectedLogsOf(@Param('sn', ParseSnPipe) sn: string, @Query() query: PageQueryDto) {
    if (!(await this.devices.findRecord(sn))) {
      throw new ApiError(404, 'device_not_found', `No terminal with sn ${sn}`);
    }
    const page = clampPage(query.page);
    const limit = clampLimit(query.limit, 20);
    const { total, items } = await this.field.rejectedPage(sn, page, limit);
    return { success: true, total, page, items };
  }
}
