import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isObjectIdString } from '@app/common';
import { AdminUser } from './schemas/admin-user.schema';

export interface AdminRecord {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
}

interface AdminLean {
  _id: { toString(): string };
  email: string;
  name: string;
  passwordHash: string;
}

function toRecord(doc: AdminLean): AdminRecord {
  return { id: doc._id.toString(), email: doc.email, name: doc.name, passwordHash: doc.passwordHash };
}

@Injectable()
export class AdminUsersRepository implements OnModuleInit {
  constructor(@InjectModel(AdminUser.name) private readonly model: Model<AdminUser>) {}

  /** The unique email index must exist before the first admin is created (two instances booting). */
  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  async count(): Promise<number> {
    return this.model.countDocuments().exec();
  }

  async findAll(): Promise<AdminRecord[]> {
    const docs = await this.model.find().lean<AdminLean[]>().exec();
    return docs.map(toRecord);
  }

  async findByEmail(email: string): Promise<AdminRecord | null> {
    const doc = await this.model.findOne({ email: email.toLowerCase() }).lean<AdminLean>().exec();
    return doc ? toRecord(doc) : null;
  }

  async findById(id: string): Promise<AdminRecord | null> {
    if (!isObjectIdString(id)) return null;
    const doc = await this.model.findById(id).lean<AdminLean>().exec();
    return doc ? toRecord(doc) : null;
  }

  async create(input: { email: string; name: string; passwordHash: string }): Promise<AdminRecord> {
    const doc = await this.model.create(input);
    return toRecord(doc.toObject());
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<boolean> {
    const res = await this.model
      .updateOne({ _id: id }, { $set: { passwordHash, passwordChangedAt: new Date() } })
      .exec();
    return res.matchedCount === 1;
  }
}
