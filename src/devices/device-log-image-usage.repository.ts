import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { DeviceLogImageUsage } from './schemas/device-log-image-usage.schema';

/** Per-serial daily photo counters, shared by all instances; each change is one atomic update. */
@Injectable()
export class DeviceLogImageUsageRepository {
  constructor(@InjectModel(DeviceLogImageUsage.name) private readonly model: Model<DeviceLogImageUsage>) {}

  /** Adds `bytes` to the key's counter (created at 0) and returns the new total. */
  async add(key: string, bytes: number, expiresAt: Date): Promise<number> {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: key },
        { $inc: { bytes }, $setOnInsert: { expiresAt } },
        { upsert: true, returnDocument: 'after' },
      )
      .lean<{ bytes: number }>()
      .exec();
    return doc?.bytes ?? bytes;
  }

  async find(key: string): Promise<number> {
    const doc = await this.model.findById(key, { bytes: 1 }).lean<{ bytes: number }>().exec();
    return doc?.bytes ?? 0;
  }
}
