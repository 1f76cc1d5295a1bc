import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  Post,
  Query,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { ApiError, pageCounters, pageWindow, ParseObjectIdPipe, type PageWindow, type Slice } from '@app/common';
import { AdminAuth, ApiErrorResponse, ERROR_EXAMPLES, validationExample } from '../auth';
import { appConfig, type AppConfig } from '../config';
import { CurrentEmployee, EmployeeAuth } from '../employees';
import type { EmployeeView } from '../employees';
import { CreateAppPunchDto } from './dto/create-app-punch.dto';
import {
  DeviceLogsQueryDto,
  EmployeePunchesQueryDto,
  MobileLogsQueryDto,
  RetryFailedDto,
} from './dto/list-punches-query.dto';
import { FingerprintsService } from './fingerprints.service';
import type { RetryReport } from './forward-outbox.service';
import { PunchImagesService } from './punch-images.service';

/** The contract's message of a stored app punch ("mobile punch recorded successfully"). */
const APP_PUNCH_MESSAGE = 'تم تسجيل بصمة الموبايل بنجاح';

const APP_LOG_EXAMPLE = {
  _id: '6925d3b4c8227c3a1972328b',
  enrollid: '121',
  event: 1,
  time: '2025-11-25T16:05:08.665Z',
  device_sn: 'App',
  device_name: 'App',
  device_type: 'mobile_app',
  employee: '69256416bd792a2ff963a6c9',
  owner: '690f78b6dcccc75fb6722fe2',
  location: { latitude: 33.3096307, longitude: 44.4490251 },
  macs: 'aa:bb:cc:dd:ee:ff',
  imageId: null,
  source: 'app',
  is_send: true,
  send_failed: false,
  forwardedAt: '2025-11-25T16:05:09.000Z',
  forwardResponse: { success: true, forwarded: true },
  last_attempt_error: null,
  last_attempt_at: '2025-11-25T16:05:09.000Z',
  forward_attempts: 1,
  next_attempt_at: null,
  createdAt: '2025-11-25T16:05:08.665Z',
  updatedAt: '2025-11-25T16:05:09.000Z',
};
const DEVICE_LOG_EXAMPLE = {
  _id: '6925d3b4c8227c3a19723290',
  enrollid: '121',
  name: 'mustafa',
  event: 0,
  time: '2025-11-08T06:00:00.000Z',
  device_sn: 'ZXRE06022863',
  device_name: 'Front door',
  device_type: 'terminal',
  raw_time: '2025-11-08 09:00:00',
  local_time: '2025-11-08T09:00:00',
  time_zone: 'Asia/Baghdad',
  mode: 8,
  inout: 0,
  verifymode: null,
  temp: null,
  logindex: 17,
  source: 'sendlog',
  is_send: true,
  send_failed: true,
  forwardedAt: null,
  forwardResponse: null,
  last_attempt_error: 'Remote server did not confirm receipt',
  forward_attempts: 3,
  next_attempt_at: '2025-11-08T06:00:16.000Z',
};
const RETRY_EXAMPLE = {
  success: true,
  message: 'Retry finished',
  count: 2,
  successCount: 1,
  failedCount: 1,
  results: [
    { id: '6925d3b4c8227c3a1972328b', ok: true, response: { success: true, forwarded: true } },
    { id: '6925d3b4c8227c3a1972328c', ok: false, error: 'Remote server did not confirm receipt' },
  ],
};
/** The employee's own listing pages by 10 (the contract's default there); the admin listings by 20. */
const page = (items: unknown[], limit: number) => ({ totalCount: 1, currentPage: 1, limit, totalPages: 1, items });

/** The admin punch listings' answer: `{ success, items, totalCount, currentPage, limit, totalPages }`. */
function adminPunchPage<T>(window: PageWindow, slice: Slice<T>) {
  return { success: true as const, items: slice.items, ...pageCounters(window, slice.total) };
}

function retryAnswer(report: RetryReport) {
  return { success: true as const, message: 'Retry finished' as const, ...report };
}

@ApiTags('fingerprints')
@Controller('fingerprints')
export class FingerprintsController {
  constructor(
    private readonly fingerprints: FingerprintsService,
    private readonly images: PunchImagesService,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
  ) {}

  @Post('app')
  @EmployeeAuth()
  @ApiOperation({
    summary: 'Mobile app punch, stored then forwarded once to FORWARD_FINGERPRINT_URL. Employee token.',
    description:
      "The server's clock is the punch time; enrollid and owner come from the employee. The punch is stored " +
      'even when forwarding fails (`forwarded: false`; the outbox keeps retrying). Unknown body keys are dropped.',
  })
  @ApiBody({
    type: CreateAppPunchDto,
    examples: {
      punch: {
        value: {
          event: 1,
          location: { latitude: 33.3096307, longitude: 44.4490251 },
          device_sn: 'App',
          device_name: 'App',
          macs: 'aa:bb:cc:dd:ee:ff',
        },
      },
    },
  })
  @ApiCreatedResponse({
    description: 'Stored (and forwarded when `forwarded` is true)',
    schema: { example: { success: true, message: APP_PUNCH_MESSAGE, data: APP_LOG_EXAMPLE, forwarded: true } },
  })
  @ApiErrorResponse(
    400,
    'Invalid field or image (invalid_image)',
    validationExample('location.latitude', 'latitude must not be greater than 90'),
  )
  @ApiErrorResponse(413, 'Photo above PUNCH_IMAGE_MAX_BYTES', {
    success: false,
    error: 'image_too_large',
    message: 'image exceeds 2097152 bytes',
    maxBytes: 2097152,
  })
  async createAppPunch(@CurrentEmployee() employee: EmployeeView, @Body() body: CreateAppPunchDto) {
    const { punch, forwarded } = await this.fingerprints.recordAppPunch(employee, body);
    return { success: true, message: APP_PUNCH_MESSAGE, data: punch, forwarded };
  }

  @Get('employee')
  @EmployeeAuth()
  @ApiOperation({
    summary:
      "The employee's own punches (app, and terminals under the employee's enroll_id), newest first (limit default " +
      '10, max 100). Employee token.',
  })
  @ApiOkResponse({
    schema: {
      example: {
        logs: [APP_LOG_EXAMPLE],
        totalCount: 1,
        currentPage: 1,
        limit: 20,
        totalPages: 1,
      },
    },
  })
  @ApiErrorResponse(
    400,
    'Invalid date, boolean or number',
    validationExample('from', 'from must be a valid ISO 8601 date string'),
  )
  async listOwn(@CurrentEmployee() employee: EmployeeView, @Query() query: EmployeePunchesQueryDto) {
    if (employee.app_permissions.can_view_fingerprint === false) {
      throw new ApiError(403, 'fingerprint_view_not_allowed', 'This employee may not view fingerprint logs');
    }
    const window = pageWindow(query, this.app.pageSizes.employeeLogs, this.app.pageSizes.max);
    const { total, items } = await this.fingerprints.listForEmployee(employee, query.filter(), window);
    return { logs: items, ...pageCounters(window, total) };
  }

  @Get('mobile-logs')
  @AdminAuth()
  @ApiOperation({
    summary: 'All mobile-app punches with forwarding state, newest first (limit default 20, max 100). Admin token.',
  })
  @ApiOkResponse({
    schema: { example: { success: true, ...page([{ ...APP_LOG_EXAMPLE, name: 'mustafa' }], 20) } },
  })
  @ApiErrorResponse(
    400,
    'Invalid date or boolean',
    validationExample('send_failed', 'send_failed must be true or false'),
  )
  async listMobile(@Query() query: MobileLogsQueryDto) {
    const window = pageWindow(query, this.app.pageSizes.default, this.app.pageSizes.max);
    return adminPunchPage(window, await this.fingerprints.listMobileLogs(query.filter(), window));
  }

  @Get('device-logs')
  @AdminAuth()
  @ApiOperation({
    summary:
      'Terminal and /api/device-log punches with forwarding state, newest first (limit default 20, max 100). Admin token.',
  })
  @ApiOkResponse({ schema: { example: { success: true, ...page([DEVICE_LOG_EXAMPLE], 20) } } })
  @ApiErrorResponse(
    400,
    'Invalid date, boolean or enrollid',
    validationExample('enrollid', 'enrollid must be a number'),
  )
  async listDevice(@Query() query: DeviceLogsQueryDto) {
    const window = pageWindow(query, this.app.pageSizes.default, this.app.pageSizes.max);
    return adminPunchPage(window, await this.fingerprints.listDeviceLogs(query.filter(), window));
  }

  @Post('retry-failed')
  @AdminAuth()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Forward again the mobile-app punches that failed or were never sent, one request each. Admin token.',
    description:
      'Selects device_type = "mobile_app" AND ((is_send AND send_failed) OR NOT is_send), oldest first, at most ' +
      'FORWARD_RETRY_FAILED_MAX (default 500) per call. A punch being forwarded at that moment is reported failed ' +
      'with "A forward of this punch is already in progress".',
  })
  @ApiBody({ type: RetryFailedDto, required: false, examples: { empty: { value: {} } } })
  @ApiOkResponse({ schema: { example: RETRY_EXAMPLE } })
  @ApiErrorResponse(400, 'A body key (the body is empty)', validationExample('x', 'property x should not exist'))
  async retryMobile(@Body() _body: RetryFailedDto) {
    return retryAnswer(await this.fingerprints.retryFailedMobile());
  }

  @Post('device-logs/retry-failed')
  @AdminAuth()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Forward again the terminal punches that failed or were never sent, batched per terminal. Admin token.',
    description:
      'Same rule and answer as retry-failed, for device_type = "terminal". Each result carries the outcome of ' +
      'the batch its punch was sent in.',
  })
  @ApiBody({ type: RetryFailedDto, required: false, examples: { empty: { value: {} } } })
  @ApiOkResponse({ schema: { example: RETRY_EXAMPLE } })
  @ApiErrorResponse(400, 'A body key (the body is empty)', validationExample('x', 'property x should not exist'))
  async retryDevice(@Body() _body: RetryFailedDto) {
    return retryAnswer(await this.fingerprints.retryFailedDevice());
  }

  @Get('images/:id')
  @AdminAuth()
  @ApiOperation({ summary: 'A punch photo (imageId of a punch), as image/jpeg or image/png. Admin token.' })
  @ApiParam({ name: 'id', example: '6925d3b4c8227c3a1972328d' })
  @ApiProduces('image/jpeg', 'image/png')
  @ApiOkResponse({ description: 'The photo bytes' })
  @ApiErrorResponse(400, 'Malformed id', ERROR_EXAMPLES.invalidId)
  @ApiErrorResponse(404, 'No photo with this id', {
    success: false,
    error: 'image_not_found',
    message: 'No punch image with this id',
  })
  async image(@Param('id', ParseObjectIdPipe) id: string): Promise<StreamableFile> {
    const image = await this.images.findById(id);
    if (!image) throw new ApiError(404, 'image_not_found', 'No punch image with this id');
    return new StreamableFile(image.data, { type: image.mime, length: image.size });
  }
}
