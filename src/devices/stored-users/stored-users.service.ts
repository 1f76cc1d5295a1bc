import { Injectable } from '@nestjs/common';
import type { AnyBulkWriteOperation } from 'mongoose';
import { DeviceUserRecord, StoredUsersRepository } from './stored-users.repository';
import type { DeviceUser } from './device-user.schema';

/** backupnum values that name a group in `deleteuser`, not a stored credential. */
export const ALL_FINGERPRINTS_BACKUPNUM = 12;
export const WHOLE_USER_BACKUPNUM = 13;

export interface DeviceUserCredentialView {
  backupnum: number;
  record?: string | number | null;
  updatedAt: Date;
  /** false when the last roster read from the terminal no longer listed it (the copy is kept). */
  onDevice: boolean;
}

export interface DeviceUserView {
  sn: string;
  enrollid: number;
  name?: string;
  aliasid?: string;
  admin?: number;
  credentials: DeviceUserCredentialView[];
  onDevice: boolean;
  missingSince?: Date;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface CredentialInput {
  enrollid: number;
  name?: string;
  admin?: number;
  backupnum: number;
  /** Template, card or password; absent = keep what is stored. */
  record?: string | number;
}

export interface UserInput {
  enrollid: number;
  name?: string;
  admin?: number;
  aliasid?: string;
}

/** One row of a terminal's user list (getuserlist), optionally with what getuserinfo returned. */
export interface RosterRowInput {
  enrollid: number;
  backupnum?: number;
  admin?: number;
  name?: string;
  record?: string | number;
}

function toView(doc: DeviceUserRecord): DeviceUserView {
  const credentials = Object.entries(doc.credentials ?? {})
    .filter(([key]) => /^\d+$/.test(key))
    .map(([key, c]) => ({
      backupnum: Number(key),
      ...(c.record !== undefined ? { record: c.record } : {}),
      updatedAt: c.updatedAt,
      onDevice: c.onDevice !== false,
    }))
    .sort((a, b) => a.backupnum - b.backupnum);
  return {
    sn: doc.sn,
    enrollid: doc.enrollid,
    ...(doc.name != null ? { name: doc.name } : {}),
    ...(doc.aliasid != null ? { aliasid: doc.aliasid } : {}),
    ...(doc.admin != null ? { admin: doc.admin } : {}),
    credentials,
    onDevice: doc.onDevice !== false,
    ...(doc.missingSince ? { missingSince: doc.missingSince } : {}),
    ...(doc.createdAt ? { createdAt: doc.createdAt } : {}),
    ...(doc.updatedAt ? { updatedAt: doc.updatedAt } : {}),
  };
}

function userFields(input: { name?: string; admin?: number; aliasid?: string }): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  if (input.name !== undefined) set.name = input.name;
  if (input.admin !== undefined) set.admin = input.admin;
  if (input.aliasid !== undefined) set.aliasid = input.aliasid;
  return set;
}

function credentialFields(backupnum: number, record: string | number | undefined, at: Date): Record<string, unknown> {
  const set: Record<string, unknown> = {
    [`credentials.${backupnum}.updatedAt`]: at,
    [`credentials.${backupnum}.onDevice`]: true,
  };
  if (record !== undefined) set[`credentials.${backupnum}.record`] = record;
  return set;
}

function checkBackupnum(backupnum: number): void {
  if (!Number.isInteger(backupnum) || backupnum < 0 || backupnum > 999) {
    throw new RangeError(`backupnum ${backupnum} is not a credential slot`);
  }
}

/**
 * The server's copy of terminal users (collection DeviceUser): refreshed whenever the server reads
 * or writes users, so a user that vanishes from a terminal can be restored from here.
 */
@Injectable()
export class StoredUsersService {
  constructor(private readonly repo: StoredUsersRepository) {}

  /** One credential (and the user's name/admin when given); the user is created when unknown. */
  async upsertCredential(sn: string, input: CredentialInput): Promise<void> {
    checkBackupnum(input.backupnum);
    const at = new Date();
    await this.repo.upsert(
      sn,
      input.enrollid,
      {
        ...userFields(input),
        ...credentialFields(input.backupnum, input.record, at),
        onDevice: true,
      },
      ['missingSince'],
    );
  }

  async upsertUser(sn: string, input: UserInput): Promise<void> {
    await this.repo.upsert(sn, input.enrollid, { ...userFields(input), onDevice: true }, ['missingSince']);
  }

  /** The terminal enabled or disabled the user (`enableuser`); a disabled user's punches open no door. */
  async setEnabled(sn: string, enrollid: number, enabled: boolean): Promise<void> {
    await this.repo.upsert(sn, enrollid, { enabled });
  }

  async find(sn: string, enrollid: number): Promise<DeviceUserView | null> {
    const doc = await this.repo.find(sn, enrollid);
    return doc ? toView(doc) : null;
  }

  async findBySn(sn: string): Promise<DeviceUserView[]> {
    return (await this.repo.findBySn(sn)).map(toView);
  }

  async countOnDevice(sn: string): Promise<number> {
    return this.repo.countOnDevice(sn);
  }

  async page(sn: string, skip: number, limit: number): Promise<{ total: number; items: DeviceUserView[] }> {
    const { total, items } = await this.repo.pageBySn(sn, skip, limit);
    return { total, items: items.map(toView) };
  }

  /** The user was deleted from the terminal by the server: the copy goes too. */
  async removeUser(sn: string, enrollid: number): Promise<boolean> {
    return this.repo.remove(sn, enrollid);
  }

  /** Mirrors `deleteuser`: 0-9 one finger, 10 password, 11 card, 12 every finger, 13 the whole user. */
  async removeCredential(sn: string, enrollid: number, backupnum: number): Promise<boolean> {
    if (backupnum === WHOLE_USER_BACKUPNUM) return this.removeUser(sn, enrollid);
    checkBackupnum(backupnum);
    const slots = backupnum === ALL_FINGERPRINTS_BACKUPNUM ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [backupnum];
    return this.repo.update(
      sn,
      enrollid,
      {},
      slots.map((b) => `credentials.${b}`),
    );
  }

  /**
   * Reconciles the copy with a full user list read from the terminal. Listed users and credentials
   * are upserted; what the terminal no longer lists is NOT deleted but flagged `onDevice: false`
   * (with `missingSince`), because users vanishing from terminals is exactly what this copy is for.
   */
  async replaceRoster(sn: string, rows: RosterRowInput[]): Promise<void> {
    const at = new Date();
    const listed = new Map<number, { rows: RosterRowInput[]; backupnums: Set<number>; complete: boolean }>();
    for (const row of rows) {
      let entry = listed.get(row.enrollid);
      if (!entry) {
        entry = { rows: [], backupnums: new Set(), complete: true };
        listed.set(row.enrollid, entry);
      }
      entry.rows.push(row);
      if (row.backupnum === undefined) entry.complete = false;
      else {
        checkBackupnum(row.backupnum);
        entry.backupnums.add(row.backupnum);
      }
    }
    const existing = new Map((await this.repo.findBySn(sn)).map((u) => [u.enrollid, u]));
    const ops: AnyBulkWriteOperation<DeviceUser>[] = [];

    for (const [enrollid, entry] of listed) {
      const set: Record<string, unknown> = { onDevice: true };
      for (const row of entry.rows) {
        Object.assign(set, userFields(row));
        if (row.backupnum !== undefined) Object.assign(set, credentialFields(row.backupnum, row.record, at));
      }
      const current = existing.get(enrollid);
      if (current && entry.complete) {
        for (const [key, cred] of Object.entries(current.credentials ?? {})) {
          if (!entry.backupnums.has(Number(key)) && cred.onDevice !== false) set[`credentials.${key}.onDevice`] = false;
        }
      }
      ops.push({
        updateOne: {
          filter: { sn, enrollid },
          update: { $set: set, $unset: { missingSince: '' } },
          upsert: true,
        },
      });
    }
    for (const [enrollid, user] of existing) {
      if (listed.has(enrollid) || user.onDevice === false) continue;
      ops.push({
        updateOne: { filter: { sn, enrollid }, update: { $set: { onDevice: false, missingSince: at } } },
      });
    }
    await this.repo.bulk(ops);
  }
}
