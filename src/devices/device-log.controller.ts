import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse, validationExample } from '../auth';
import { DeviceLogTokenGuard } from './device-log-token.guard';
import { DeviceLogService } from './device-log.service';
import { DeviceLogDto } from './dto/device-log.dto';

@ApiTags('device-log')
@Controller('device-log')
export class DeviceLogController {
  constructor(private readonly deviceLog: DeviceLogService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @UseGuards(DeviceLogTokenGuard)
  // Either no token (default) or the DEVICE_LOG_TOKEN bearer: the empty requirement makes it optional.
  @ApiSecurity({})
  @ApiSecurity('bearer')
  @ApiOperation({
    summary:
      'Punches from terminals or gateways over HTTP. Public; with DEVICE_LOG_TOKEN set, requires ' +
      '`Authorization: Bearer <DEVICE_LOG_TOKEN>`. Stored once (same dedupe as the gateway; enrollid 0 = door ' +
      'event), then one forward attempt to FORWARD_LOG_URL; the outbox retries what was not confirmed.',
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
  @ApiErrorResponse(403, 'DEVICE_ALLOWLIST is set and the sn is not on it (or the terminal is blocked)', {
    success: false,
    error: 'device_not_allowed',
    message: 'Terminal ZXRE06022863 is not allowed to send logs (allow-list)',
    sn: 'ZXRE06022863',
  })
  @ApiErrorResponse(413, 'Body larger than HTTP_BODY_LIMIT', {
    success: false,
    error: 'payload_too_large',
    message: 'Request body exceeds 8mb',
  })
  ingest(@Body() body: DeviceLogDto) {
    return this.deviceLog.ingest(body);
  }
}
