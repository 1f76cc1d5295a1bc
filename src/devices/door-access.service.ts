import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { devicesConfig } from '../config/devices.config';
import { EmployeesService, type EmployeeView } from '../employees';
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

  /**
   * The employees of the frame's enroll ids when the door decision reads them (policy `known`), for
   * `forRecords` and for the punch store to share one read; undefined otherwise.
   */
  employeesOf(records: readonly { enrollid: number }[]): Promise<EmployeeView[]> | undefined {
    if (this.cfg.accessPolicy !== 'known') return undefined;
    const ids = personIds(records);
    return ids.length > 0 ? this.employees.findByEnrollIds(ids.map(String)) : undefined;
  }

  /**
   * 1 only when every person in the frame is known for terminal `sn` and not disabled. `employees`:
   * what `employeesOf(records)` returned, when the caller read it already.
   */
  async forRecords(
    sn: string,
    records: readonly { enrollid: number }[],
    employees?: Promise<readonly EmployeeView[]>,
  ): Promise<Access> {
    const policy = this.cfg.accessPolicy;
    if (policy !== 'known') return frameAccess(policy, [], () => ({ employees: [] }));
    const ids = personIds(records);
    if (ids.length === 0) return 1;
    const [users, found] = await Promise.all([
      this.deviceUsers.standings(sn, ids),
      employees ?? this.employees.findByEnrollIds(ids.map(String)),
    ]);
    const standing = new Map<number, EnrollIdStanding>(ids.map((id) => [id, { employees: [] }]));
    for (const u of users) {
      const s = standing.get(u.enrollid);
      if (s) s.deviceUser = u.enabled === undefined ? {} : { enabled: u.enabled };
    }
    for (const e of found) standing.get(Number(e.enroll_id))?.employees.push({ isActive: e.isActive });
    return frameAccess(policy, ids, (id) => standing.get(id) ?? { employees: [] });
  }

  /** Requests that carry no enroll id the server can check (QR codes, PINs): only `always` opens. */
  forUncheckable(): Access {
    return this.cfg.accessPolicy === 'always' ? 1 : 0;
  }
}

/** The enroll ids of the people in a frame (0 marks a door event, not a person), each once. */
function personIds(records: readonly { enrollid: number }[]): number[] {
  return [...new Set(records.map((r) => r.enrollid).filter((id) => id !== 0))];
}
