import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { createHash } from 'node:crypto';
import { RejectedRecord } from './schemas/rejected-record.schema';

export interface NewRejectedRecord {
  sn: string;
  raw: unknown;
  reason: string;
  source: string;
}
export type RejectedRecordRow = Omit<RejectedRecord, 'dedupeKey'> & { _id: unknown; receivedAt: Date };

function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

function dedupeKeyOf(rec: NewRejectedRecord): string {
  return createHash('sha256')
    .update(JSON.stringify([rec.sn, rec.raw ?? null]))
    .digest('base64url');
}

/** The only class touching the RejectedRecord model. */
@Injectable()
export class RejectedRecordsRepository {
  constructor(@InjectModel(RejectedRecord.name) private readonly model: Model<RejectedRecord>) {}

  /** Stores each record once per terminal (a resent frame adds nothing); resolves when written. */
  async insertDeduplicated(records: NewRejectedRecord[]): Promise<number> {
    let stored = 0;
    for (const rec of records) {
      const dedupeKey = dedupeKeyOf(rec);
      try {
        const res = await this.model
          .updateOne({ dedupeKey }, { $setOnInsert: { ...rec, dedupeKey } }, { upsert: true })
          .exec();
        if (res.upsertedCount > 0) stored++;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    return stored;
  }

  async countBySn(sn: string): Promise<number> {
    return this.model.countDocuments({ sn }).exec();
  }

  async listBySn(sn: string, skip: number, limit: number): Promise<{ total: number; items: RejectedRecordRow[] }> {
    const [total, items] = await Promise.all([
      this.countBySn(sn),
      this.model
        .find({ sn }, { dedupeKey: 0 })
        .sort({ receivedAt: -1, _id: -1 })
        .skip(skip)
        .limit(limit)
        .lean<RejectedRecordRow[]>()
        .exec(),
    ]);
    return { total, items };
  }
}
