import { Body, Controller, Get, HttpCode, HttpStatus, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiError, clampLimit, clampPage } from '@app/common';
import { AdminAuth, ApiErrorResponse, validationExample } from '../auth';
import { doorEventMeaning } from './door-events';
import { DoorEventsRepository, DoorEventRecord } from './door-events.repository';
import { StoredUsersService } from './stored-users/stored-users.service';
import { DevicesService } from './devices.service';
import { ListDevicesQueryDto, PageQueryDto } from './dto/list-devices-query.dto';
import { UpdateDeviceDto } from './dto/update-device.dto';
import { ParseSnPipe } from './parse-sn.pipe';
import { TerminalTrustService } from './terminal-trust.service';
import { TerminalFieldService } from './terminal-field.service';
import { credentialKind } from '@app/device-protocol';

const SN_EXAMPLE = 'ZXRE06022863';
const DEVICE_EXAMPLE = {
  sn: SN_EXAMPLE,
  name: 'Main entrance',
  model: 'AiFace',
  firmware: 'ai806_f06v_v5.17',
  online: true,
  lastSeenAt: '2025-11-08T10:00:05.000Z',
  connectedAt: '2025-11-08T07:59:12.000Z',
  timeZone: 'Asia/Baghdad',
  timeZoneConfigured: true,
  allowed: null,
  admission: 'admitted',
  notes: null,
  capacities: { users: 3000, fingerprints: 3000, faces: 3000, palms: null, cards: 3000, passwords: 3000, logs: 100000 },
  usage: {
    users: 120,
    fingerprints: 240,
    faces: 118,
    palms: null,
    cards: 30,
    passwords: 4,
    logs: 5210,
    newLogs: 0,
    realtimeLogs: null,
  },
};
const DEVICE_DETAIL_EXAMPLE = {
  ...DEVICE_EXAMPLE,
  cpusn: '0B1C2D3E',
  devinfo: {
    modelname: 'AiFace',
    usersize: 3000,
    useduser: 120,
    firmware: 'ai806_f06v_v5.17',
    mac: '00-01-A9-00-00-01',
  },
  remoteAddress: '10.0.0.21',
  urlPath: '/pub/chat',
  instanceId: 'app-1-3f9a2c1d',
  disconnectedAt: null,
  disconnectReason: null,
  lastDeviceLogAt: null,
  createdAt: '2025-10-01T08:00:00.000Z',
  identity: { cpusn: '0B1C2D3E', mac: '0001A9000001', pinnedAt: '2025-10-01T08:00:00.000Z' },
  identityConflicts: [
    {
      at: '2025-11-08T10:02:00.000Z',
      remoteAddress: '203.0.113.9',
      cpusn: 'FFFF0000',
      reason: 'identity',
      devinfo: { modelname: 'AiFace', firmware: 'ai806_f06v_v5.17', mac: '00-01-A9-FF-FF-FF' },
    },
  ],
  clock: { offsetSeconds: 2, measuredAt: '2025-11-08T07:59:12.000Z', source: 'reg' },
  catchUp: { supported: true, lastError: null },
};
const NOT_FOUND_EXAMPLE = { success: false, error: 'device_not_found', message: `No terminal with sn ${SN_EXAMPLE}` };
const INVALID_SN_EXAMPLE = {
  success: false,
  error: 'invalid_sn',
  message: 'sn must be 1-64 letters, digits, ".", "_" or "-"',
};

function notFound(sn: string): ApiError {
  return new ApiError(404, 'device_not_found', `No terminal with sn ${sn}`);
}

function toDoorEventResponse(e: DoorEventRecord) {
  return {
    _id: String(e._id),
    sn: e.sn,
    event: e.event,
    eventName: e.eventName,
    description: doorEventMeaning(e.event).description,
    time: e.time,
    at: e.at,
    timeZone: e.timeZone,
    inout: e.inout,
    mode: e.mode ?? null,
    source: e.source,
    receivedAt: e.receivedAt,
  };
}

@ApiTags('devices')
@Controller('devices')
@AdminAuth()
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly doorEvents: DoorEventsRepository,
    private readonly deviceUsers: StoredUsersService,
    private readonly trust: TerminalTrustService,
    private readonly field: TerminalFieldService,
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
    const page = clampPage(query.page);
    const limit = clampLimit(query.limit, 20);
    const online = query.online === undefined ? undefined : query.online === 'true';
    const { total, items } = await this.devices.list({ page, limit, ...(online !== undefined ? { online } : {}) });
    return { success: true, total, page, items };
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
    if (!item) throw notFound(sn);
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
    const keys = (['name', 'timeZone', 'allowed', 'notes'] as const).filter((k) => body[k] !== undefined);
    if (keys.length === 0) {
      throw new ApiError(400, 'validation_failed', 'Nothing to update: give name, timeZone, allowed or notes', {
        errors: [{ field: 'body', messages: ['at least one of name, timeZone, allowed, notes is required'] }],
      });
    }
    const item = await this.devices.update(sn, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.timeZone !== undefined
        ? { timeZone: body.timeZone === null ? null : canonicalZone(body.timeZone) }
        : {}),
      ...(body.allowed !== undefined ? { allowed: body.allowed } : {}),
      ...(body.notes !== undefined ? { notes: body.notes } : {}),
    });
    if (!item) throw notFound(sn);
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
    if (!(await this.trust.resetIdentity(sn))) throw notFound(sn);
    const item = await this.devices.findBySn(sn);
    if (!item) throw notFound(sn);
    return { success: true, item };
  }

  @Get(':sn/door-events')
  @ApiOperation({ summary: "A terminal's door events (log records with enrollid 0), newest first. Admin token." })
  @ApiParam({ name: 'sn', example: SN_EXAMPLE })
  @ApiOkResponse({
    description: 'One page of door events',
    schema: {
      example: {
        success: true,
        total: 1,
        page: 1,
        items: [
          {
            _id: '6910a8c2f1d2c3b4a5968778',
            sn: SN_EXAMPLE,
            event: 1,
            eventName: 'door_opened',
            description: 'Door opened',
            time: '2025-11-08 09:00:00',
            at: '2025-11-08T06:00:00.000Z',
            timeZone: 'Asia/Baghdad',
            inout: 1,
            mode: 0,
            source: 'sendlog',
            receivedAt: '2025-11-08T06:00:01.000Z',
          },
        ],
      },
    },
  })
  @ApiErrorResponse(400, 'Malformed serial number or paging', INVALID_SN_EXAMPLE)
  @ApiErrorResponse(404, 'No terminal with this sn', NOT_FOUND_EXAMPLE)
  async doorEventsOf(@Param('sn', ParseSnPipe) sn: string, @Query() query: PageQueryDto) {
    if (!(await this.devices.findRecord(sn))) throw notFound(sn);
    const page = clampPage(query.page);
    const limit = clampLimit(query.limit, 20);
    const { total, items } = await this.doorEvents.listBySn(sn, (page - 1) * limit, limit);
    return { success: true, total, page, items: items.map(toDoorEventResponse) };
  }

  @Get(':sn/stored-users')
  @ApiOperation({
    summary:
      "The server's copy of a terminal's users (kept from senduser and every user read or write), by enrollid. " +
      'Templates are not included; onDevice=false marks users or credentials the terminal no longer lists. Admin token.',
  })
  @ApiParam({ name: 'sn', example: SN_EXAMPLE })
  @ApiOkResponse({
    description: 'One page of stored users',
    schema: {
      example: {
        success: true,
        total: 1,
        page: 1,
        items: [
          {
            enrollid: 1,
            name: 'John',
            aliasid: 'J1',
            admin: 0,
            onDevice: true,
            credentials: [
              { backupnum: 0, kind: 'fingerprint', onDevice: true, updatedAt: '2025-11-08T06:00:01.000Z' },
              { backupnum: 11, kind: 'card', onDevice: true, updatedAt: '2025-11-08T06:00:01.000Z' },
            ],
            updatedAt: '2025-11-08T06:00:01.000Z',
          },
        ],
      },
    },
  })
  @ApiErrorResponse(400, 'Malformed serial number or paging', INVALID_SN_EXAMPLE)
  @ApiErrorResponse(404, 'No terminal with this sn', NOT_FOUND_EXAMPLE)
  async storedUsers(@Param('sn', ParseSnPipe) sn: string, @Query() query: PageQueryDto) {
    if (!(await this.devices.findRecord(sn))) throw notFound(sn);
    const page = clampPage(query.page);
    const limit = clampLimit(query.limit, 20);
    const { total, items } = await this.deviceUsers.page(sn, (page - 1) * limit, limit);
    return {
      success: true,
      total,
      page,
      items: items.map((u) => ({
        enrollid: u.enrollid,
        name: u.name ?? null,
        aliasid: u.aliasid ?? null,
        admin: u.admin ?? null,
        onDevice: u.onDevice,
        ...(u.missingSince ? { missingSince: u.missingSince } : {}),
        credentials: u.credentials.map((c) => ({
          backupnum: c.backupnum,
          kind: credentialKind(c.backupnum),
          onDevice: c.onDevice,
          updatedAt: c.updatedAt,
        })),
        updatedAt: u.updatedAt ?? null,
      })),
    };
  }
}

function canonicalZone(zone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}
