import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isObjectIdString } from '@app/common';
import { AdminUser } from './schemas/admin-user.schema';
import { findPasswordChangedAt } from './password-stamp';

export interface AdminRecord {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  passwordChangedAt: Date | null;
}

interface AdminLean {
  _id: { toString(): string };
  email: string;
  name: string;
  passwordHash: string;
  passwordChangedAt?: Date | null;
}

function toRecord(doc: AdminLean): AdminRecord {
  return {
    id: doc._id.toString(),
    email: doc.email,
    name: doc.name,
    passwordHash: doc.passwordHash,
    passwordChangedAt: doc.passwordChangedAt ?? null,
  };
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

  /** Only what the token check needs; null when the admin no longer exists. */
  async findPasswordChangedAt(id: string): Promise<{ passwordChangedAt: Date | null } | null> {
    return findPasswordChangedAt(this.model, id);
  }

  async create(input: { email: string; name: string; passwordHash: string }): Promise<AdminRecord> {
    const doc = await this.model.create(input);
    return toRecord(doc.toObject());
  }

  /** Stores the new hash and stamps the change (which revokes the admin's older tokens). */
  async setPasswordHash(id: string, passwordHash: string, changedAt: Date): Promise<boolean> {
    const res = await this.model
      .updateOne({ _id: id }, { $set: { passwordHash, passwordChangedAt: changedAt } })
      .exec();
    return res.matchedCount === 1;
  }
}
