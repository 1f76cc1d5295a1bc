import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { DEFAULT_PAGE_SIZE, PageQueryDto, pageAnswer, pageWindow } from '@app/common';
import { AdminAuth, ApiErrorResponse } from '../auth';
import { INVALID_SN_EXAMPLE, NOT_FOUND_EXAMPLE, REJECTED_LOG_EXAMPLE, SN_EXAMPLE } from './devices.examples';
import { ParseSnPipe } from './parse-sn.pipe';
import { deviceNotFound } from './sn-errors';
import { TerminalRecordsService } from './terminal-records.service';

@ApiTags('devices')
@Controller('devices')
@AdminAuth()
export class RejectedLogsController {
  constructor(private readonly records: TerminalRecordsService) {}

  @Get(':sn/rejected-logs')
  @ApiOperation({
    summary:
      'Log records a terminal sent that could not be stored (an impossible time, an id out of range...), kept as ' +
      'they came with the reason, newest first. The other records of their frame were stored. Admin token.',
  })
  @ApiParam({ name: 'sn', example: SN_EXAMPLE })
  @ApiOkResponse({
    description: 'One page of rejected records',
    schema: { example: { success: true, total: 1, page: 1, items: [REJECTED_LOG_EXAMPLE] } },
  })
  @ApiErrorResponse(400, 'Malformed serial number or paging', INVALID_SN_EXAMPLE)
  @ApiErrorResponse(404, 'No terminal with this sn', NOT_FOUND_EXAMPLE)
  async rejectedLogsOf(@Param('sn', ParseSnPipe) sn: string, @Query() query: PageQueryDto) {
    const window = pageWindow(query, DEFAULT_PAGE_SIZE);
    const rejected = await this.records.rejectedLogsOf(sn, window);
    if (!rejected) throw deviceNotFound(sn);
    return pageAnswer(window, rejected);
  }
}
