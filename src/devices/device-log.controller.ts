import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse, validationExample } from '../auth';
import { DeviceLogImageBudgetService } from './device-log-image-budget.service';
import { DeviceLogLimitsGuard } from './device-log-limits.guard';
import { DeviceLogTokenGuard } from './device-log-token.guard';
import { DeviceLogService } from './device-log.service';
import { DeviceLogDto } from './dto/device-log.dto';

@ApiTags('device-log')
@Controller('device-log')
export class DeviceLogController {
  constructor(
    private readonly deviceLog: DeviceLogService,
    private readonly imageBudget: DeviceLogImageBudgetService,
  ) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  // In this order, all before validation: the token, then the record count and the sender.
  @UseGuards(DeviceLogTokenGuard, DeviceLogLimitsGuard)
  // Either no token (default) or the DEVICE_LOG_TOKEN bearer: the empty requirement makes it optional.
  @ApiSecurity({})
  @ApiSecurity('bearer')
  @ApiOperation({
    summary:
      'Punches from terminals or gateways over HTTP. With DEVICE_LOG_TOKEN set, requires ' +
      '`Authorization: Bearer <DEVICE_LOG_TOKEN>`; without it, no token but only for serials the server knows ' +
      '(registered over the gateway or created with POST /api/devices; DEVICE_LOG_ALLOW_UNKNOWN=true opens it to ' +
      'any serial). At most DEVICE_LOG_MAX_RECORDS records; photos count against DEVICE_LOG_IMAGE_BUDGET per ' +
      'serial and day (past it the punch is stored without its photo). Stored once (same dedupe as the gateway; ' +
      'enrollid 0 = door event), then one forward attempt to FORWARD_LOG_URL; the outbox retries what was not confirmed.',
  })
  @ApiBody({
    type: DeviceLogDto,
    examples: {
      contract: { value: { sn: 'ZXRE06022863', record: [{ enrollid: 2, time: '2025-11-08T09:00:00' }] } },
      full: {
        value: {
          sn: 'ZXRE06022863',
          record: [
            { enrollid: 2, time: '2025-11-08 09:00:00', event: 0, mode: 1, inout: 0, verifymode: 1 },
            { enrollid: 0, time: '2025-11-08 09:00:03', event: 1, mode: 0, inout: 1 },
          ],
        },
      },
    },
  })
  @ApiOkResponse({
    description:
      'Stored. forwarded=true, retryLater=false when the HR server confirmed; forwarded=false, retryLater=true ' +
      'otherwise (the outbox delivers later); both false when the records were only door events (nothing to forward). ' +
      '`rejected: N` when N records could not be stored (an impossible time, an id out of range...): the others are ' +
      'stored, those are listed at GET /api/devices/:sn/rejected-logs.',
    schema: { example: { success: true, forwarded: false, retryLater: true, rejected: 1 } },
  })
  @ApiErrorResponse(
    400,
    'Missing or wrongly typed sn, record, enrollid or time',
    validationExample('record', 'each record must be an object'),
  )
  @ApiErrorResponse(401, 'DEVICE_LOG_TOKEN is set and the bearer token is missing or wrong', {
    success: false,
    error: 'unauthorized',
    message: 'This route requires the device-log bearer token',
  })
  @ApiErrorResponse(
    403,
    'No DEVICE_LOG_TOKEN and the serial is unknown; or DEVICE_ALLOWLIST is set and the sn is not on it (or the terminal is blocked)',
    {
      success: false,
      error: 'device_not_allowed',
      message:
        'Terminal ZXRE06022863 is not known to this server: it must register over the gateway or be created with POST /api/devices',
      sn: 'ZXRE06022863',
    },
  )
  @ApiErrorResponse(
    413,
    'More than DEVICE_LOG_MAX_RECORDS records (too_many_records), or a body larger than HTTP_BODY_LIMIT (payload_too_large)',
    {
      success: false,
      error: 'too_many_records',
      message: 'A device-log body may carry at most 1000 records (got 100000)',
      max: 1000,
    },
  )
  async ingest(@Body() body: DeviceLogDto) {
    await this.imageBudget.apply(body.sn, body.record);
    return { success: true, ...(await this.deviceLog.ingest(body)) };
  }
}
