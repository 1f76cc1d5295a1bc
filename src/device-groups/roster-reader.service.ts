import { Injectable } from '@nestjs/common';
import { DevicesService, StoredUsersService } from '../devices';
import {
  deviceTimeout,
  OperationStatus,
  OperationsService,
  OperationWaitsService,
  unreadCredentials,
  userListResultOf,
  type OperationView,
} from '../operations';
import { rosterFromCopy, type Roster } from './roster-compare';

export type RosterReadStatus = 'read' | 'offline' | 'failed' | 'timeout';

export interface RosterRead {
  sn: string;
  status: RosterReadStatus;
  opId?: string;
  error?: string;
  /** `enrollid:backupnum` of credentials whose record could not be read */
  unread: Set<string>;
}

/**
 * Re-reads terminals' rosters through ordinary queued `getuserlist` operations (which refresh the
 * server's copy) and builds comparable rosters from that copy.
 */
@Injectable()
export class RosterReaderService {
  constructor(
    private readonly operations: OperationsService,
    private readonly waits: OperationWaitsService,
    private readonly devices: DevicesService,
    private readonly deviceUsers: StoredUsersService,
  ) {}

  /**
   * Reads each terminal (in parallel: one queue per terminal). Offline terminals are skipped.
   * `strict`: a read that does not finish by the deadline rejects with the contract's 504.
   */
  async read(
    sns: string[],
    opts: { waitMs: number; templates: boolean; requestedBy?: string; parentId?: string; strict?: boolean },
  ): Promise<RosterRead[]> {
    const deadline = Date.now() + opts.waitMs;
    return Promise.all(
      sns.map(async (sn): Promise<RosterRead> => {
        if (!(await this.devices.isOnline(sn))) return { sn, status: 'offline', unread: new Set() };
        const op = await this.operations.enqueue(
          sn,
          'getuserlist',
          { templates: opts.templates },
          {
            ...(opts.requestedBy && { requestedBy: opts.requestedBy }),
            ...(opts.parentId && { parentId: opts.parentId }),
          },
        );
        let done: OperationView;
        try {
          done = await this.waits.waitFor(op._id, Math.max(1, deadline - Date.now()));
        } catch (err) {
          if (opts.strict) throw err instanceof Error ? err : deviceTimeout(op._id);
          return { sn, status: 'timeout', opId: op._id, unread: new Set() };
        }
        if (done.status !== OperationStatus.Success) {
          return { sn, status: 'failed', opId: op._id, error: done.lastError ?? done.status, unread: new Set() };
        }
        return { sn, status: 'read', opId: op._id, unread: new Set(unreadCredentials(userListResultOf(done)).keys()) };
      }),
    );
  }

  /** What the server's copy says the terminal holds now. */
  async current(sn: string, unread?: ReadonlySet<string>): Promise<Roster> {
    return rosterFromCopy(await this.deviceUsers.findBySn(sn), { onDeviceOnly: true, ...(unread && { unread }) });
  }
}
