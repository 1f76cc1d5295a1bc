import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from '@app/common';
import { devicesConfig } from '../config/devices.config';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** POST /api/device-log is public unless DEVICE_LOG_TOKEN is set; then it needs that bearer token. */
@Injectable()
export class DeviceLogTokenGuard implements CanActivate {
  constructor(@Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>) {}

  canActivate(context: ExecutionContext): boolean {
    const token = this.cfg.deviceLogToken;
    if (!token) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new ApiError(401, 'unauthorized', 'This route requires the device-log bearer token');
    // Compare digests: equal length, constant time.
    if (!timingSafeEqual(digest(match[1]), digest(token))) {
      throw new ApiError(401, 'unauthorized', 'Invalid device-log token');
    }
    return true;
  }
}
