import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { DoorEvent } from './schemas/door-event.schema';
import { isDuplicateKeyError } from '@app/common';

export type NewDoorEvent = Omit<DoorEvent, 'receivedAt'>;
export type DoorEventRecord = DoorEvent & { _id: unknown; receivedAt: Date };

/** The only class touching the DoorEvent model. */
@Injectable()
export class DoorEventsRepository {
  constructor(@InjectModel(DoorEvent.name) private readonly model: Model<DoorEvent>) {}

  /** Stores each event once (dedupe on sn, instant, event, inout); resolves when written. */
  async insertDeduplicated(events: NewDoorEvent[]): Promise<{ stored: number; duplicates: number }> {
    let stored = 0;
    for (const e of events) {
      const key = { sn: e.sn, at: e.at, event: e.event, inout: e.inout };
      try {
        const res = await this.model.updateOne(key, { $setOnInsert: e }, { upsert: true }).exec();
        if (res.upsertedCount > 0) stored++;
      } catch (err) {
        // Two writers inserting the same event at once: the loser's copy already exists.
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    return { stored, duplicates: events.length - stored };
  }

  async listBySn(sn: string, skip: number, limit: number): Promise<{ total: number; items: DoorEventRecord[] }> {
    const [total, items] = await Promise.all([
      this.model.countDocuments({ sn }).exec(),
      this.model.find({ sn }).sort({ at: -1, _id: -1 }).skip(skip).limit(limit).lean<DoorEventRecord[]>().exec(),
    ]);
    return { total, items };
  }
}
