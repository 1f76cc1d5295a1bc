import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Connection } from 'mongoose';

/** One document per terminal: `v` grows each time work is queued for it on an instance that does not hold it. */
interface WakeDoc {
  _id: string;
  at: Date;
  v: number;
}

/**
 * The cross-instance wake-up's notes. Bounded by the number of terminals (one upserted document
 * each), read through an index on `at`, so the frequent poll costs one small index range read.
 */
@Injectable()
export class QueueWakeRepository implements OnModuleInit {
  private readonly collection: Collection<WakeDoc>;

  constructor(@InjectConnection() connection: Connection) {
    this.collection = connection.collection<WakeDoc>('queue_wakeups');
  }

  async onModuleInit(): Promise<void> {
    await this.collection.createIndex({ at: 1 });
  }

  async touch(sns: string[], at: Date): Promise<void> {
    if (sns.length === 0) return;
    await this.collection.bulkWrite(
      sns.map((sn) => ({
        updateOne: { filter: { _id: sn }, update: { $set: { at }, $inc: { v: 1 } }, upsert: true },
      })),
      { ordered: false },
    );
  }

  async touchedSince(since: Date, limit: number): Promise<WakeDoc[]> {
    return this.collection.find({ at: { $gte: since } }, { limit, projection: { v: 1, at: 1 } }).toArray();
  }
}
