import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { deviceGroupsConfig } from '../config/device-groups.config';
import { operationsConfig } from '../config/operations.config';
import { DeviceGroupRecord, DeviceGroupsRepository } from './device-groups.repository';
import { DeviceGroupsService } from './device-groups.service';
import { groupDrift, type MemberDrift } from './roster-compare';
import { RosterReaderService, type RosterReadStatus } from './roster-reader.service';
import type { StoredDrift } from './schemas/device-group.schema';

export const DRIFT_REQUESTER = 'system:group-drift';

export interface GroupDrift {
  groupId: string;
  checkedAt: Date;
  refreshed: boolean;
  members: (MemberDrift & { read?: { status: RosterReadStatus; opId?: string; error?: string } })[];
  total: { missing: number; extra: number; differing: number };
}

/** Which users each member lacks, holds in excess or holds with other credentials. */
@Injectable()
export class GroupDriftService {
  private readonly logger = new Logger('GroupDrift');
  private checking = false;

  constructor(
    private readonly groups: DeviceGroupsService,
    private readonly repo: DeviceGroupsRepository,
    private readonly rosters: RosterReaderService,
    @Inject(deviceGroupsConfig.KEY) private readonly cfg: ConfigType<typeof deviceGroupsConfig>,
    @Inject(operationsConfig.KEY) private readonly opsCfg: ConfigType<typeof operationsConfig>,
  ) {}

  /** The drift of one group; with `refresh`, after re-reading every online member (504 past OP_WAIT_TIMEOUT). */
  async drift(id: string, refresh: boolean, requestedBy?: string): Promise<GroupDrift> {
    const group = await this.groups.get(id);
    return this.check(group, refresh ? { waitMs: this.opsCfg.waitTimeoutMs, strict: true, requestedBy } : undefined);
  }

  /** Scheduled: checks every group whose check is due, one at a time; never overlaps itself. */
  async checkDue(): Promise<number> {
    if (this.checking || this.cfg.driftIntervalMs <= 0) return 0;
    this.checking = true;
    let checked = 0;
    try {
      for (;;) {
        const now = new Date();
        const group = await this.repo.claimDueDrift(now, new Date(now.getTime() + this.cfg.driftIntervalMs));
        if (!group) break;
        try {
          await this.check(group, { waitMs: this.cfg.driftReadTimeoutMs, strict: false, requestedBy: DRIFT_REQUESTER });
          checked++;
        } catch (err) {
          this.logger.warn(`Drift check of group ${group._id.toHexString()} failed: ${String(err)}`);
        }
      }
    } finally {
      this.checking = false;
    }
    return checked;
  }

  private async check(
    group: DeviceGroupRecord,
    refresh?: { waitMs: number; strict: boolean; requestedBy?: string },
  ): Promise<GroupDrift> {
    const reads = refresh
      ? await this.rosters.read(group.sns, {
          waitMs: refresh.waitMs,
          templates: true,
          strict: refresh.strict,
          ...(refresh.requestedBy && { requestedBy: refresh.requestedBy }),
        })
      : undefined;
    const members = await Promise.all(
      group.sns.map(async (sn) => ({
        sn,
        roster: await this.rosters.current(sn, reads?.find((r) => r.sn === sn)?.unread),
      })),
    );
    const drift = groupDrift(members).map((m) => {
      const read = reads?.find((r) => r.sn === m.sn);
      return {
        ...m,
        ...(read && {
          read: {
            status: read.status,
            ...(read.opId && { opId: read.opId }),
            ...(read.error && { error: read.error }),
          },
        }),
      };
    });
    const checkedAt = new Date();
    const stored: StoredDrift = {
      checkedAt,
      refreshed: refresh !== undefined,
      members: drift.map((m) => ({
        sn: m.sn,
        missing: m.missing.length,
        extra: m.extra.length,
        differing: m.differing.length,
      })),
      total: { missing: 0, extra: 0, differing: 0 },
    };
    for (const m of stored.members) {
      stored.total.missing += m.missing;
      stored.total.extra += m.extra;
      stored.total.differing += m.differing;
    }
    await this.repo.recordDrift(group._id.toHexString(), stored);
    return {
      groupId: group._id.toHexString(),
      checkedAt,
      refreshed: refresh !== undefined,
      members: drift,
      total: stored.total,
    };
  }
}
