import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { devicesConfig } from '../config/devices.config';
import { DeviceLogImageUsageRepository } from './device-log-image-usage.repository';

const DAY_MS = 86_400_000;

/** Decoded size of a base64 photo (or data URL), from its length alone. */
export function base64DecodedSize(image: string): number {
  const comma = image.startsWith('data:') ? image.indexOf(',') + 1 : 0;
  const length = image.length - comma;
  const padding = image.endsWith('==') ? 2 : image.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((length * 3) / 4) - padding);
}

/**
 * DEVICE_LOG_IMAGE_BUDGET: photo bytes one serial may store through POST /api/device-log per UTC
 * day. Records whose photo no longer fits lose the photo and keep the punch. Photos larger than
 * DEVICE_LOG_IMAGE_MAX are dropped later anyway, so they do not use the budget.
 */
@Injectable()
export class DeviceLogImageBudgetService {
  private readonly logger = new Logger('DeviceLog');

  constructor(
    private readonly usage: DeviceLogImageUsageRepository,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
  ) {}

  /** Removes the photos past the budget from `records` (in place); returns how many were removed. */
  async apply(sn: string, records: { image?: string }[], now = new Date()): Promise<number> {
    const sizes = records.map((r) =>
      typeof r.image === 'string' && r.image.length > 0 ? base64DecodedSize(r.image) : 0,
    );
    const charged = sizes.map((size) => (size <= this.cfg.logImageMaxBytes ? size : 0));
    const wanted = charged.reduce((a, b) => a + b, 0);
    if (wanted === 0) return 0;
    const dayStart = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
    const key = `${sn}|${new Date(dayStart).toISOString().slice(0, 10)}`;
    const total = await this.usage.add(key, wanted, new Date(dayStart + 2 * DAY_MS));
    let room = this.cfg.deviceLogImageBudgetBytes - (total - wanted);
    let dropped = 0;
    let refunded = 0;
    records.forEach((record, i) => {
      if (charged[i] === 0) return;
      if (charged[i] <= room) {
        room -= charged[i];
        return;
      }
      delete record.image;
      dropped++;
      refunded += charged[i];
    });
    if (refunded > 0) {
      await this.usage.add(key, -refunded, new Date(dayStart + 2 * DAY_MS));
      this.logger.warn(
        `${sn}: DEVICE_LOG_IMAGE_BUDGET (${this.cfg.deviceLogImageBudgetBytes} bytes a day) reached: ${dropped} punch(es) stored without photo`,
      );
    }
    return dropped;
  }
}
