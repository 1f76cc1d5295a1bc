import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { devicesConfig } from '../config/devices.config';
import { EmployeesService } from '../employees';
import { StoredUsersRepository } from './stored-users/stored-users.repository';
import { Access, EnrollIdStanding, frameAccess } from './door-access';

/** Door decisions (`access` in sendlog acks) under DEVICE_ACCESS_POLICY. */
@Injectable()
export class DoorAccessService {
  constructor(
    private readonly deviceUsers: StoredUsersRepository,
    private readonly employees: EmployeesService,
    @Inject(devicesConfig.KEY) private readonly cfg: ConfigType<typeof devicesConfig>,
  ) {}

  get policy(): ConfigType<typeof devicesConfig>['accessPolicy'] {
    return this.cfg.accessPolicy;
  }

  /** 1 only when every person in the frame is known for terminal `sn` and not disabled. */
  async forRecords(sn: string, records: readonly { enrollid: number }[]): Promise<Access> {
    const policy = this.cfg.accessPolicy;
    if (policy !== 'known') return frameAccess(policy, [], () => ({ employees: [] }));
    const ids = [...new Set(records.map((r) => r.enrollid).filter((id) => id !== 0))];
    if (ids.length === 0) return 1;
    const [users, employees] = await Promise.all([
      this.deviceUsers.standings(sn, ids),
      this.employees.findByEnrollIds(ids.map(String)),
    ]);
    const standing = new Map<number, EnrollIdStanding>(ids.map((id) => [id, { employees: [] }]));
    for (const u of users) {
      const s = standing.get(u.enrollid);
      if (s) s.deviceUser = u.enabled === undefined ? {} : { enabled: u.enabled };
    }
    for (const e of employees) standing.get(Number(e.enroll_id))?.employees.push({ isActive: e.isActive });
    return frameAccess(policy, ids, (id) => standing.get(id) ?? { employees: [] });
  }

  /** Requests that carry no enroll id the server can check (QR codes, PINs): only `always` opens. */
  forUncheckable(): Access {
    return this.cfg.accessPolicy === 'always' ? 1 : 0;
  }
}
