import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { CallBatcher } from '@app/common';
import { devicesConfig } from '../config/devices.config';
import { EmployeesService, type EmployeeRef } from '../employees';
import { StoredUsersRepository } from './stored-users/stored-users.repository';
import { Access, EnrollIdStanding, frameAccess } from './door-access';

/** The enroll ids of one frame on its terminal, whose standing in the server's copy is asked. */
interface StandingQuery {
  sn: string;
  enrollids: readonly number[];
}

type DeviceUserStanding = { enrollid: number; enabled?: boolean };

/** Door decisions (`access` in sendlog acks) under DEVICE_ACCESS_POLICY. */
@Injectable()
export class DoorAccessService {
  /**
   * The stored-user reads of frames arriving together (any terminals), answered by one query: a
   * read per frame was a database round trip per frame. Each frame still gets exactly the rows of
   * its own terminal and enroll ids, read after the frame arrived.
   */
  private readonly standingReads = new CallBatcher<StandingQuery, DeviceUserStanding[]>((queries) =>
    this.readStandings(queries),
  );

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
  employeesOf(records: readonly { enrollid: number }[]): Promise<EmployeeRef[]> | undefined {
    if (this.cfg.accessPolicy !== 'known') return undefined;
    const ids = personIds(records);
    return ids.length > 0 ? this.employees.findRefsByEnrollIds(ids.map(String)) : undefined;
  }

  /**
   * 1 only when every person in the frame is known for terminal `sn` and not disabled. `employees`:
   * what `employeesOf(records)` returned, when the caller read it already.
   */
  async forRecords(
    sn: string,
    records: readonly { enrollid: number }[],
    employees?: Promise<readonly EmployeeRef[]>,
  ): Promise<Access> {
    const policy = this.cfg.accessPolicy;
    if (policy !== 'known') return frameAccess(policy, [], () => ({ employees: [] }));
    const ids = personIds(records);
    if (ids.length === 0) return 1;
    const [users, found] = await Promise.all([
      this.standingReads.add({ sn, enrollids: ids }),
      employees ?? this.employees.findRefsByEnrollIds(ids.map(String)),
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

  /** One read for the frames' terminals and enroll ids; each frame gets the rows it asked for. */
  private async readStandings(queries: StandingQuery[]): Promise<DeviceUserStanding[][]> {
    const asked = new Map<string, Set<number>>();
    for (const q of queries) {
      const ids = asked.get(q.sn) ?? new Set<number>();
      for (const id of q.enrollids) ids.add(id);
      asked.set(q.sn, ids);
    }
    const rows = await this.deviceUsers.standingsMany(new Map([...asked].map(([sn, ids]) => [sn, [...ids]])));
    const bySn = new Map<string, Map<number, DeviceUserStanding>>();
    for (const r of rows) {
      const users = bySn.get(r.sn) ?? new Map<number, DeviceUserStanding>();
      users.set(
        r.enrollid,
        r.enabled === undefined ? { enrollid: r.enrollid } : { enrollid: r.enrollid, enabled: r.enabled },
      );
      bySn.set(r.sn, users);
    }
    return queries.map((q) => {
      const users = bySn.get(q.sn);
      const out: DeviceUserStanding[] = [];
      for (const id of q.enrollids) {
        const u = users?.get(id);
        if (u) out.push(u);
      }
      return out;
    });
  }
}

/** The enroll ids of the people in a frame (0 marks a door event, not a person), each once. */
function personIds(records: readonly { enrollid: number }[]): number[] {
  return [...new Set(records.map((r) => r.enrollid).filter((id) => id !== 0))];
}
