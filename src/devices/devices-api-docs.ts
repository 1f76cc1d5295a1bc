import { applyDecorators } from '@nestjs/common';
import { ApiOkResponse, ApiParam } from '@nestjs/swagger';
import { ApiErrorResponse } from '../auth';
import { deviceNotFound, invalidSn } from './sn-errors';

/** Swagger of the devices API: examples, and the decorators its per-terminal listings share. */
export const SN_EXAMPLE = 'ZXRE06022863';
export const DEVICE_EXAMPLE = {
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
export const DEVICE_DETAIL_EXAMPLE = {
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
export const NOT_FOUND_EXAMPLE = deviceNotFound(SN_EXAMPLE).getResponse();
export const INVALID_SN_EXAMPLE = invalidSn().getResponse();
export const DOOR_EVENT_EXAMPLE = {
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
};
export const STORED_USER_EXAMPLE = {
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
};
export const REJECTED_LOG_EXAMPLE = {
  _id: '6910a8c2f1d2c3b4a5968779',
  sn: SN_EXAMPLE,
  raw: { enrollid: 22, time: '0000-00-00 00:00:00', mode: 1, inout: 0, event: 0 },
  reason: 'time "0000-00-00 00:00:00" is not a terminal time',
  source: 'sendlog',
  receivedAt: '2026-05-01T08:00:01.000Z',
};

/** A per-terminal listing (`/api/devices/:sn/...`): the sn parameter, one page of `item`, 400 and 404. */
export function ApiTerminalPage(description: string, item: object): MethodDecorator {
  return applyDecorators(
    ApiParam({ name: 'sn', example: SN_EXAMPLE }),
    ApiOkResponse({ description, schema: { example: { success: true, total: 1, page: 1, items: [item] } } }),
    ApiErrorResponse(400, 'Malformed serial number or paging', INVALID_SN_EXAMPLE),
    ApiErrorResponse(404, 'No terminal with this sn', NOT_FOUND_EXAMPLE),
  );
}
