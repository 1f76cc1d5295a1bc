import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { SyncItem, SyncItemState } from './schemas/sync-item.schema';
import { SyncPlan } from './schemas/sync-plan.schema';

export type SyncPlanRecord = SyncPlan & { _id: Types.ObjectId };
export type SyncItemRecord = SyncItem & { _id: Types.ObjectId };

/** The only class touching the SyncPlan and SyncItem models. */
@Injectable()
export class DeviceSyncRepository {
  constructor(
    @InjectModel(SyncPlan.name) private readonly plans: Model<SyncPlan>,
    @InjectModel(SyncItem.name) private readonly items: Model<SyncItem>,
  ) {}

  async createPlan(plan: SyncPlan, items: Omit<SyncItem, 'planId' | 'state'>[]): Promise<SyncPlanRecord> {
    const doc = (await this.plans.create(plan)).toObject<SyncPlanRecord>();
    for (let i = 0; i < items.length; i += 200) {
      await this.items.insertMany(
        items.slice(i, i + 200).map((item) => ({ ...item, planId: doc._id, state: 'planned' })),
      );
    }
    return doc;
  }

  async findPlan(id: string): Promise<SyncPlanRecord | null> {
    return this.plans.findById(id).lean<SyncPlanRecord>().exec();
  }

  /** Marks the plan applied by `opId`; false when another apply got it first. */
  async claimPlan(id: string, opId: string): Promise<boolean> {
    const res = await this.plans
      .updateOne({ _id: new Types.ObjectId(id), applyOpId: { $exists: false } }, { $set: { applyOpId: opId } })
      .exec();
    return res.modifiedCount > 0;
  }

  /** Takes the next item to queue (or, resuming, one left half-queued by a dead run). */
  async claimItem(planId: string, kinds: ('push' | 'delete')[], states: SyncItemState[]) {
    return this.items
      .findOneAndUpdate(
        { planId: new Types.ObjectId(planId), kind: { $in: kinds }, state: { $in: states } },
        { $set: { state: 'queueing' } },
        { returnDocument: 'after', sort: { enrollid: 1 } },
      )
      .lean<SyncItemRecord>()
      .exec();
  }

  async markQueued(id: Types.ObjectId): Promise<void> {
    await this.items.updateOne({ _id: id }, { $set: { state: 'queued' } }).exec();
  }
}
