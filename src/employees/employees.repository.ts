import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { escapeRegex, isDuplicateKeyError, isObjectIdString } from '@app/common';
import { EmployeeLean, EmployeeRef, EmployeeView, toEmployeeView } from './employee.view';
import { Employee } from './schemas/employee.schema';
import { findPasswordChangedAt } from '../auth';

/** A write hit a unique index: `field` says which one (`username` or `enroll_id`). */
export class EmployeeConflictError extends Error {
  constructor(readonly field: 'username' | 'enroll_id') {
    super(`duplicate ${field}`);
  }
}

function conflictOf(err: unknown): EmployeeConflictError | null {
  if (!isDuplicateKeyError(err)) return null;
  const e = err as { keyPattern?: Record<string, unknown>; message?: string };
  const fields = e.keyPattern ? Object.keys(e.keyPattern) : [];
  if (fields.includes('username')) return new EmployeeConflictError('username');
  if (fields.includes('enroll_id')) return new EmployeeConflictError('enroll_id');
  // Servers that leave out keyPattern still name the index in the message.
  if (typeof e.message === 'string' && e.message.includes('enroll_id')) return new EmployeeConflictError('enroll_id');
  return new EmployeeConflictError('username');
}

async function translateConflicts<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw conflictOf(err) ?? err;
  }
}

/** What creating an employee stores: the view's fields but the generated ones, and the password hash. */
export type NewEmployee = Omit<EmployeeView, '_id' | 'createdAt' | 'updatedAt'> & { passwordHash: string };

/** Fields set by an update; `app_permissions` keys are merged into the stored ones. */
export type EmployeeChanges = Partial<Omit<NewEmployee, 'owner'>> & {
  /** Set together with passwordHash. */
  passwordChangedAt?: Date;
};

const WITHOUT_HASH = { passwordHash: 0, passwordChangedAt: 0, __v: 0 } as const;
/**
 * Enroll ids asked in one query: an `$in` list longer than this is split (the embedded database
 * walks an index for at most 1,000 values and scans past that).
 */
const ENROLL_IDS_PER_QUERY = 1000;

@Injectable()
export class EmployeesRepository implements OnModuleInit {
  constructor(@InjectModel(Employee.name) private readonly model: Model<Employee>) {}

  /** Duplicates are caught by the unique indexes, so they must exist before the first write. */
  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  async create(input: NewEmployee): Promise<EmployeeView> {
    const doc = await translateConflicts(() => this.model.create({ ...input, owner: new Types.ObjectId(input.owner) }));
    return toEmployeeView(doc.toObject<EmployeeLean>());
  }

  /** Case-insensitive substring search; the text is matched literally. */
  async listByOwner(owner: string, q?: string): Promise<EmployeeView[]> {
    const filter: Record<string, unknown> = { owner: new Types.ObjectId(owner) };
    if (q) {
      const pattern = { $regex: escapeRegex(q), $options: 'i' };
      filter.$or = [{ username: pattern }, { fullName: pattern }, { phone: pattern }, { email: pattern }];
    }
    const docs = await this.model
      .find(filter, WITHOUT_HASH)
      .sort({ createdAt: -1, _id: -1 })
      .lean<EmployeeLean[]>()
      .exec();
    return docs.map(toEmployeeView);
  }

  async findById(id: string): Promise<EmployeeView | null> {
    if (!isObjectIdString(id)) return null;
    const doc = await this.model.findById(id, WITHOUT_HASH).lean<EmployeeLean>().exec();
    return doc ? toEmployeeView(doc) : null;
  }

  async findByIdForOwner(id: string, owner: string): Promise<EmployeeView | null> {
    const doc = await this.model
      .findOne({ _id: new Types.ObjectId(id), owner: new Types.ObjectId(owner) }, WITHOUT_HASH)
      .lean<EmployeeLean>()
      .exec();
    return doc ? toEmployeeView(doc) : null;
  }

  async findByEnrollIds(enrollIds: string[]): Promise<EmployeeView[]> {
    if (enrollIds.length === 0) return [];
    const docs = await this.model
      .find({ enroll_id: { $in: [...new Set(enrollIds)] } }, WITHOUT_HASH)
      .lean<EmployeeLean[]>()
      .exec();
    return docs.map(toEmployeeView);
  }

  /** The employees with these enroll ids, only what a terminal punch needs (see EmployeeRef). */
  async findRefsByEnrollIds(enrollIds: string[]): Promise<EmployeeRef[]> {
    const unique = [...new Set(enrollIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += ENROLL_IDS_PER_QUERY)
      chunks.push(unique.slice(i, i + ENROLL_IDS_PER_QUERY));
    const found = await Promise.all(
      chunks.map((ids) =>
        this.model
          .find({ enroll_id: { $in: ids } }, { _id: 1, enroll_id: 1, owner: 1, isActive: 1 })
          .lean<Array<Pick<EmployeeLean, '_id' | 'enroll_id' | 'owner' | 'isActive'>>>()
          .exec(),
      ),
    );
    return found.flat().map((d) => ({
      _id: d._id.toString(),
      enroll_id: d.enroll_id,
      owner: d.owner.toString(),
      isActive: d.isActive !== false,
    }));
  }

  /** The only read that returns the password hash: for the login check. */
  async findCredentialsByUsername(
    username: string,
  ): Promise<{ employee: EmployeeView; passwordHash: string; passwordChangedAt: Date | null } | null> {
    const doc = await this.model
      .findOne({ username })
      .lean<EmployeeLean & { passwordChangedAt?: Date | null }>()
      .exec();
    if (!doc || typeof doc.passwordHash !== 'string') return null;
    return {
      employee: toEmployeeView(doc),
      passwordHash: doc.passwordHash,
      passwordChangedAt: doc.passwordChangedAt ?? null,
    };
  }

  /** Only what the token check needs; null when the employee no longer exists. */
  async findPasswordChangedAt(id: string): Promise<{ passwordChangedAt: Date | null } | null> {
    return findPasswordChangedAt(this.model, id);
  }

  async updateForOwner(id: string, owner: string, changes: EmployeeChanges): Promise<EmployeeView | null> {
    const { app_permissions: permissions, ...fields } = changes;
    const set: Record<string, unknown> = { ...fields };
    for (const [key, value] of Object.entries(permissions ?? {})) set[`app_permissions.${key}`] = value;
    const filter = { _id: new Types.ObjectId(id), owner: new Types.ObjectId(owner) };
    const doc = await translateConflicts(() =>
      Object.keys(set).length === 0
        ? this.model.findOne(filter, WITHOUT_HASH).lean<EmployeeLean>().exec()
        : this.model
            .findOneAndUpdate(filter, { $set: set }, { returnDocument: 'after', projection: WITHOUT_HASH })
            .lean<EmployeeLean>()
            .exec(),
    );
    return doc ? toEmployeeView(doc) : null;
  }

  async deleteForOwner(id: string, owner: string): Promise<EmployeeView | null> {
    const doc = await this.model
      .findOneAndDelete({ _id: new Types.ObjectId(id), owner: new Types.ObjectId(owner) }, { projection: WITHOUT_HASH })
      .lean<EmployeeLean>()
      .exec();
    return doc ? toEmployeeView(doc) : null;
  }
}
