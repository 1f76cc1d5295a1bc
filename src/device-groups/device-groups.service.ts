import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiError } from '@app/common';
import { deviceGroupsConfig } from '../config/device-groups.config';
import { DevicesService, StoredUsersService } from '../devices';
import { OperationQueriesService, OperationStatus } from '../operations';
import { DeviceGroupRecord, DeviceGroupsRepository } from './device-groups.repository';
import type { CreateDeviceGroupDto, UpdateDeviceGroupDto } from './dto/device-group.dto';
import type { StoredDrift } from './schemas/device-group.schema';

export interface DeviceGroupView {
  _id: string;
  name: string;
  sns: string[];
  syncUsers: boolean;
  /** counts of the last drift check (scheduled or asked), null before the first one */
  drift: StoredDrift | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface MemberStatus {
  sn: string;
  name: string | null;
  online: boolean;
  lastSeenAt: Date | null;
  /** users the server's copy says the terminal holds */
  users: number;
  /** operations waiting for this terminal (pushes of propagations among them) */
  pendingOperations: number;
  drift: { missing: number; extra: number; differing: number } | null;
}

export function toGroupView(g: DeviceGroupRecord): DeviceGroupView {
  return {
    _id: g._id.toHexString(),
    name: g.name,
    sns: g.sns,
    syncUsers: g.syncUsers,
    drift: g.drift ?? null,
    createdAt: g.createdAt,
    updatedAt: g.updatedAt,
  };
}

export function groupNotFound(): ApiError {
  return new ApiError(404, 'group_not_found', 'No terminal group with this id');
}

/** Terminal groups: membership rules (known terminals, one group per terminal) and the views. */
@Injectable()
export class DeviceGroupsService {
  constructor(
    private readonly repo: DeviceGroupsRepository,
    private readonly devices: DevicesService,
    private readonly deviceUsers: StoredUsersService,
    private readonly operationQueries: OperationQueriesService,
    @Inject(deviceGroupsConfig.KEY) private readonly cfg: ConfigType<typeof deviceGroupsConfig>,
  ) {}

  async create(dto: CreateDeviceGroupDto): Promise<DeviceGroupView> {
    await this.checkMembers(dto.sns);
    const group = await this.repo.create({
      name: dto.name,
      sns: dto.sns,
      syncUsers: dto.syncUsers,
      ...(this.cfg.driftIntervalMs > 0 && { driftDueAt: new Date(Date.now() + this.cfg.driftIntervalMs) }),
    });
    // Two requests racing for one terminal: the later one gives way.
    const clash = await this.repo.findHolding(dto.sns, group._id.toHexString());
    if (clash.some((g) => g._id.getTimestamp() <= group._id.getTimestamp())) {
      await this.repo.remove(group._id.toHexString());
      await this.checkMembers(dto.sns);
    }
    return toGroupView(group);
  }

  async list(): Promise<DeviceGroupView[]> {
    return (await this.repo.findAll()).map(toGroupView);
  }

  async get(id: string): Promise<DeviceGroupRecord> {
    const group = await this.repo.findById(id);
    if (!group) throw groupNotFound();
    return group;
  }

  async detail(id: string): Promise<DeviceGroupView & { members: MemberStatus[] }> {
    const group = await this.get(id);
    const members = await Promise.all(group.sns.map((sn) => this.memberStatus(sn, group.drift)));
    return { ...toGroupView(group), members };
  }

  async update(id: string, dto: UpdateDeviceGroupDto): Promise<DeviceGroupView> {
    await this.get(id);
    if (dto.sns !== undefined) await this.checkMembers(dto.sns, id);
    const set: Partial<Pick<DeviceGroupRecord, 'name' | 'sns' | 'syncUsers'>> = {};
    if (dto.name !== undefined) set.name = dto.name;
    if (dto.sns !== undefined) set.sns = dto.sns;
    if (dto.syncUsers !== undefined) set.syncUsers = dto.syncUsers;
    const updated = await this.repo.update(id, set);
    if (!updated) throw groupNotFound();
    return toGroupView(updated);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.repo.remove(id))) throw groupNotFound();
  }

  /** 400 for serials no terminal registered with; 409 for a terminal already in another group. */
  private async checkMembers(sns: string[], exceptId?: string): Promise<void> {
    const known = await Promise.all(sns.map(async (sn) => ((await this.devices.findBySn(sn)) ? null : sn)));
    const unknown = known.filter((sn): sn is string => sn !== null);
    if (unknown.length > 0) {
      throw new ApiError(400, 'unknown_devices', `No terminal registered with sn ${unknown.join(', ')}`, {
        sns: unknown,
      });
    }
    const holding = await this.repo.findHolding(sns, exceptId);
    if (holding.length > 0) {
      const taken = sns.filter((sn) => holding.some((g) => g.sns.includes(sn)));
      const other = holding[0];
      throw new ApiError(
        409,
        'device_in_other_group',
        `Terminal ${taken.join(', ')} already belongs to group "${other.name}"`,
        { sns: taken, groupId: other._id.toHexString() },
      );
    }
  }

  private async memberStatus(sn: string, drift: StoredDrift | undefined): Promise<MemberStatus> {
    const [device, users, stats] = await Promise.all([
      this.devices.findBySn(sn),
      this.deviceUsers.countOnDevice(sn),
      this.operationQueries.stats({ sn, status: OperationStatus.Pending }),
    ]);
    const d = drift?.members.find((m) => m.sn === sn);
    return {
      sn,
      name: device?.name ?? null,
      online: device?.online ?? false,
      lastSeenAt: device?.lastSeenAt ?? null,
      users,
      pendingOperations: stats.total,
      drift: d ? { missing: d.missing, extra: d.extra, differing: d.differing } : null,
    };
  }
}
