import { Body, Controller, Get, HttpCode, HttpStatus, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { PageQueryDto, pageAnswer, pageWindow, PageWindow, Slice } from '@app/common';
import { AdminAuth, ApiErrorResponse, validationExample } from '../auth';
import { appConfig, type AppConfig } from '../config';
import { toDoorEventResponse } from './door-event.response';
import {
  ApiTerminalPage,
  DEVICE_DETAIL_EXAMPLE,
  DEVICE_EXAMPLE,
  DOOR_EVENT_EXAMPLE,
  INVALID_SN_EXAMPLE,
  NOT_FOUND_EXAMPLE,
  REJECTED_LOG_EXAMPLE,
  SN_EXAMPLE,
  STORED_USER_EXAMPLE,
} from './devices-api-docs';
import { DevicesService } from './devices.service';
import { ListDevicesQueryDto } from './dto/list-devices-query.dto';
import { toSettingsPatch, UpdateDeviceDto } from './dto/update-device.dto';
import { ParseSnPipe } from './parse-sn.pipe';
import { deviceNotFound } from './sn-errors';
import { toStoredUserResponse } from './stored-users/stored-user.response';
import { TerminalFieldService } from './terminal-field.service';
import { TerminalRecordsService } from './terminal-records.service';
import { TerminalTrustService } from './terminal-trust.service';

@ApiTags('devices')
@Controller('devices')
@AdminAuth()
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly records: TerminalRecordsService,
    private readonly trust: TerminalTrustService,
    private readonly field: TerminalFieldService,
    @Inject(appConfig.KEY) private readonly app: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Terminals, most recently seen first, with online state, capacities and usage. Admin token.',
  })
  @ApiOkResponse({
    description: 'One page of terminals',
    schema: { example: { success: true, total: 1, page: 1, items: [DEVICE_EXAMPLE] } },
  })
  @ApiErrorResponse(
    400,
    'online is not true/false, or page/limit not a positive integer',
    validationExample('online', 'online must be true or false'),
  )
  async list(@Query() query: ListDevicesQueryDto) {
    const window = pageWindow(query, this.app.pageSizes.default, this.app.pageSizes.max);
    return pageAnswer(window, await this.devices.list({ ...window, online: query.online }));
  }

  @Get(':sn')
  @ApiOperation({
    summary:
      'One terminal with everything it reported at registration (devinfo), its pinned hardware identity and the ' +
      'last 20 refused registrations for its serial (identityConflicts). Admin token.',
  })
  @ApiParam({ name: 'sn', example: SN_EXAMPLE })
  @ApiOkResponse({
    description:
      'The terminal; `rejectedLogs` counts the log records it sent that could not be stored (see rejected-logs), ' +
      '`clock` its measured clock offset, `catchUp` whether it answers the background getnewlog',
    schema: { example: { success: true, item: { ...DEVICE_DETAIL_EXAMPLE, rejectedLogs: 0 } } },
  })
  @ApiErrorResponse(400, 'Malformed serial number', INVALID_SN_EXAMPLE)
  @ApiErrorResponse(404, 'No terminal with this sn', NOT_FOUND_EXAMPLE)
  async get(@Param('sn', ParseSnPipe) sn: string) {
    const item = await this.devices.findBySn(sn);
    if (!item) throw deviceNotFound(sn);
    return { success: true, item: { ...item, rejectedLogs: await this.field.rejectedCount(sn) } };
  }

  @Patch(':sn')
  @ApiOperation({
    summary:
      'Operator settings of a terminal: name, clock time zone, admission (allowed: true approves a pending terminal, ' +
      'false blocks it), notes. Admin token.',
  })
  @ApiParam({ name: 'sn', example: SN_EXAMPLE })
  @ApiBody({
    type: UpdateDeviceDto,
    examples: {
      rename: { value: { name: 'Main entrance' } },
      zone: { value: { timeZone: 'Asia/Baghdad' } },
      admit: { value: { allowed: true } },
      clear: { value: { name: null, timeZone: null, allowed: null } },
    },
  })
  @ApiOkResponse({
    description: 'The updated terminal',
    schema: { example: { success: true, item: DEVICE_DETAIL_EXAMPLE } },
  })
  @ApiErrorResponse(
    400,
    'Unknown field, wrong type, unknown time zone, or nothing to change',
    validationExample('timeZone', 'timeZone must be an IANA time zone such as Asia/Baghdad'),
  )
  @ApiErrorResponse(404, 'No terminal with this sn', NOT_FOUND_EXAMPLE)
  async update(@Param('sn', ParseSnPipe) sn: string, @Body() body: UpdateDeviceDto) {
    const item = await this.devices.update(sn, toSettingsPatch(body));
    if (!item) throw deviceNotFound(sn);
    return { success: true, item };
  }

  @Post(':sn/identity/reset')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary:
      "Forget the terminal's pinned hardware identity (cpusn, mac): its next registration is accepted and pinned as " +
      'the new identity (after a mainboard swap). Conflicts recorded so far are kept. Admin token.',
  })
  @ApiParam({ name: 'sn', example: SN_EXAMPLE })
  @ApiOkResponse({
    description: 'The terminal, with no identity pinned until its next registration',
    schema: { example: { success: true, item: { ...DEVICE_DETAIL_EXAMPLE, identity: null } } },
  })
  @ApiErrorResponse(400, 'Malformed serial number', INVALID_SN_EXAMPLE)
  @ApiErrorResponse(404, 'No terminal with this sn', NOT_FOUND_EXAMPLE)
  async resetIdentity(@Param('sn', ParseSnPipe) sn: string) {
    if (!(await this.trust.resetIdentity(sn))) throw deviceNotFound(sn);
    const item = await this.devices.findBySn(sn);
    if (!item) throw deviceNotFound(sn);
    return { success: true, item };
  }

  @Get(':sn/door-events')
  @ApiOperation({ summary: "A terminal's door events (log records with enrollid 0), newest first. Admin token." })
  @ApiTerminalPage('One page of door events', DOOR_EVENT_EXAMPLE)
  doorEventsOf(@Param('sn', ParseSnPipe) sn: string, @Query() query: PageQueryDto) {
    return this.terminalPage(sn, query, (w) => this.records.doorEventsOf(sn, w), toDoorEventResponse);
  }

  @Get(':sn/stored-users')
  @ApiOperation({
    summary:
      "The server's copy of a terminal's users (kept from senduser and every user read or write), by enrollid. " +
      'Templates are not included; onDevice=false marks users or credentials the terminal no longer lists. Admin token.',
  })
  @ApiTerminalPage('One page of stored users', STORED_USER_EXAMPLE)
  storedUsers(@Param('sn', ParseSnPipe) sn: string, @Query() query: PageQueryDto) {
    return this.terminalPage(sn, query, (w) => this.records.storedUsersOf(sn, w), toStoredUserResponse);
  }

  @Get(':sn/rejected-logs')
  @ApiOperation({
    summary:
      'Log records a terminal sent that could not be stored (an impossible time, an id out of range...), kept as ' +
      'they came with the reason, newest first. The other records of their frame were stored. Admin token.',
  })
  @ApiTerminalPage('One page of rejected records', REJECTED_LOG_EXAMPLE)
  rejectedLogsOf(@Param('sn', ParseSnPipe) sn: string, @Query() query: PageQueryDto) {
    return this.terminalPage(
      sn,
      query,
      (w) => this.records.rejectedLogsOf(sn, w),
      (r) => r,
    );
  }

  /** One page of a per-terminal listing, or 404 when no terminal has this serial. */
  private async terminalPage<T, U>(
    sn: string,
    query: PageQueryDto,
    read: (window: PageWindow) => Promise<Slice<T> | null>,
    toResponse: (item: T) => U,
  ) {
    const window = pageWindow(query, this.app.pageSizes.default, this.app.pageSizes.max);
    const slice = await read(window);
    if (!slice) throw deviceNotFound(sn);
    return pageAnswer(window, slice, toResponse);
  }
}
