import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { LoginAttempt } from './schemas/login-attempt.schema';
import { isDuplicateKeyError } from '@app/common';

/** Counters shared by all instances; every change is one atomic update of one document. */
@Injectable()
export class LoginAttemptsRepository implements OnModuleInit {
  constructor(@InjectModel(LoginAttempt.name) private readonly model: Model<LoginAttempt>) {}

  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  /**
   * Adds one to the key's counter and returns the new count. A window that has run out starts over
   * at 1. Concurrent first attempts race on the insert; the loser retries and increments.
   */
  async increment(key: string, windowMs: number, now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - windowMs);
    const fresh = { count: 1, windowStart: now, expiresAt: new Date(now.getTime() + windowMs) };
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.model
        .findOneAndUpdate(
          { _id: key, windowStart: { $gt: cutoff } },
          { $inc: { count: 1 } },
          { returnDocument: 'after' },
        )
        .lean<{ count: number }>()
        .exec();
      if (current) return current.count;
      const restarted = await this.model.updateOne({ _id: key, windowStart: { $lte: cutoff } }, { $set: fresh }).exec();
      if (restarted.modifiedCount === 1) return 1;
      try {
        await this.model.create({ _id: key, ...fresh });
        return 1;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    throw new Error(`Could not count a login attempt for ${key}: too much contention`);
  }

  /** Takes back one increment (an attempt that turned out not to be a failure). */
  async decrement(key: string): Promise<void> {
    await this.model.updateOne({ _id: key, count: { $gt: 0 } }, { $inc: { count: -1 } }).exec();
  }

  async reset(key: string): Promise<void> {
    await this.model.deleteOne({ _id: key }).exec();
  }

  async find(key: string): Promise<{ count: number; windowStart: Date } | null> {
    return this.model.findById(key, { count: 1, windowStart: 1 }).lean<{ count: number; windowStart: Date }>().exec();
  }
}
