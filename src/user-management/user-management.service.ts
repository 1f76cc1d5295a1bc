import { Injectable } from '@nestjs/common';
import { ADDUSER_FLAG_AUTO, BACKUPNUM } from '@app/device-protocol';
import { ApiError } from '@app/common';
import { DevicesService, StoredUsersService } from '../devices';
import {
  deviceOffline,
  OperationStatus,
  OperationsService,
  OperationWaitsService,
  unreadCredentials,
  userListResultOf,
  type OperationView,
} from '../operations';
import { commandFailed, replyReason } from './device-command-errors';
import type { AddUserDto } from './dto/add-user.dto';
import { toUserRecords, UserRecord } from './user-records';

/** `adduser` refused because the enroll id is taken (reference §4, #35). */
const REASON_ID_EXISTS = 2;
export interface CommandAnswer {
  success: boolean;
  opId: string;
  status: string;
  response?: Record<string, unknown>;
}

export interface ListUsersAnswer {
  records: UserRecord[];
  raw: Record<string, unknown>;
}

export interface DeleteUsersAnswer {
  sn: string;
  count: number;
  results: { enrollid: number; opId: string; status: string }[];
}

function answer(op: OperationView): CommandAnswer {
  return {
    success: op.status === OperationStatus.Success,
    opId: op._id,
    status: op.status,
    response: op.response ?? {},
  };
}

/** The user-management use cases that talk to one terminal through the operation queue. */
@Injectable()
export class UserManagementService {
  constructor(
    private readonly operations: OperationsService,
    private readonly waits: OperationWaitsService,
    private readonly devices: DevicesService,
    private readonly deviceUsers: StoredUsersService,
  ) {}

  /**
   * Reads the terminal's users: every page of getuserlist, and with `templates` a getuserinfo per
   * credential (all in one operation, which also refreshes the server's copy).
   */
  async listUsers(sn: string, templates: boolean, requestedBy?: string): Promise<ListUsersAnswer> {
    const op = await this.waits.enqueueAndWait(sn, 'getuserlist', { templates }, { requireOnline: true, requestedBy });
    if (op.status !== OperationStatus.Success) throw commandFailed(op, `Reading the users of ${sn}`);
    const stored = await this.deviceUsers.findBySn(sn);
    const result = userListResultOf(op);
    const records = toUserRecords(result?.rows, stored, templates, unreadCredentials(result));
    return { records, raw: op.response ?? {} };
  }

  /**
   * Remote enrolment: the terminal captures the credential itself. `aliasid` stays on the server:
   * it rides in the operation's payload, and the queue updates the server's copy of the user
   * (name, admin, aliasid) when the terminal accepts, before the operation finishes.
   */
  async addUser(sn: string, dto: AddUserDto, requestedBy?: string): Promise<CommandAnswer> {
    const wirePayload = {
      enrollid: dto.enrollid,
      name: dto.name,
      backupnum: dto.backupnum,
      admin: 0,
      flag: ADDUSER_FLAG_AUTO,
    };
    const op = await this.waits.enqueueAndWait(
      sn,
      'adduserinfo',
      { ...wirePayload, ...(dto.aliasid !== undefined && { aliasid: dto.aliasid }) },
      { requireOnline: true, requestedBy, wire: { cmd: 'adduser', payload: wirePayload } },
    );
    if (op.status !== OperationStatus.Success) {
      if (op.status === OperationStatus.Failed && replyReason(op) === REASON_ID_EXISTS) {
        throw new ApiError(409, 'user_already_exists', `Enroll id ${dto.enrollid} already exists on terminal ${sn}`, {
          opId: op._id,
        });
      }
      throw commandFailed(op, `Adding user ${dto.enrollid} to ${sn}`);
    }
    // The server's copy (name, admin, aliasid) was written by the queue before the operation finished.
    return answer(op);
  }

  /**
   * One `deleteuser` (whole user) per id, queued: a known terminal that is offline gets them when it
   * reconnects. The server's copy follows each delete as the terminal confirms it.
   */
  async deleteUsers(sn: string, enrollIds: number[], requestedBy?: string): Promise<DeleteUsersAnswer> {
    if (!(await this.devices.findBySn(sn))) throw deviceOffline();
    // One ordered write: creation order is the order the terminal's queue sends them in.
    const ops = await this.operations.enqueueMany(
      sn,
      'deleteuser',
      enrollIds.map((enrollid) => ({ enrollid, backupnum: BACKUPNUM.WHOLE_USER })),
      { requestedBy },
    );
    const results: DeleteUsersAnswer['results'] = ops.map((op, i) => ({
      enrollid: enrollIds[i],
      opId: op._id,
      status: op.status,
    }));
    return { sn, count: results.length, results };
  }

  async cleanLog(sn: string, requestedBy?: string): Promise<CommandAnswer> {
    const op = await this.waits.enqueueAndWait(sn, 'cleanlog', {}, { requireOnline: true, requestedBy });
    if (op.status !== OperationStatus.Success) throw commandFailed(op, `Cleaning the log of ${sn}`);
    return answer(op);
  }
}
