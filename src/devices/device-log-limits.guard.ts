import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import type { Request } from 'express';
import { ApiError } from '@app/common';
import { devicesConfig } from '../config/devices.config';
import { DevicesService } from './devices.service';

/** The serial number syntax of DeviceLogDto; anything else is left to validation (400). */
const SN_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function tooManyRecords(max: number, count: number): ApiError {
  return new ApiError(413, 'too_many_records', `A device-log body may carry at most ${max} records (got ${count})`, {
    max,
  });
}

export function deviceNotAllowed(sn: string): ApiError {
  return new ApiError(
    403,
    'device_not_allowed',
    `Terminal ${sn} is not known to this server: it must register over the gateway or be created with POST /api/devices`,
    { sn },
  );
}

/**
 * POST /api/device-log before validation runs (guards run before pipes): a body with more than
 * DEVICE_LOG_MAX_RECORDS records is refused by its array length alone, and without
 * DEVICE_LOG_TOKEN only serials the server knows may post (unless DEVICE_LOG_ALLOW_UNKNOWN).
 */
@Injectable()
export class DeviceLogLimitsGuard implements CanActivate {
  constructor(
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
    private readonly devices: DevicesService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const body: unknown = context.switchToHttp().getRequest<Request>().body;
    if (typeof body !== 'object' || body === null) return true;
    const { record, sn } = body as { record?: unknown; sn?: unknown };
    if (Array.isArray(record) && record.length > this.cfg.deviceLogMaxRecords) {
      throw tooManyRecords(this.cfg.deviceLogMaxRecords, record.length);
    }
    // A token holder is trusted with any serial, as is everyone when the operator opened the route.
    if (this.cfg.deviceLogToken || this.cfg.deviceLogAllowUnknown) return true;
    if (typeof sn !== 'string' || !SN_RE.test(sn)) return true;
    if ((await this.devices.findAdmission(sn)) === null) throw deviceNotAllowed(sn);
    return true;
  }
}
