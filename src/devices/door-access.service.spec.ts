import mongoose, { type Connection, type Model } from 'mongoose';
import { type EmbeddedMongo, start } from '@app/embedded-mongo';
import type { EmployeeRef, EmployeesService } from '../employees';
import { DoorAccessService } from './door-access.service';
import { DeviceUser, DeviceUserSchema } from './stored-users/device-user.schema';
import { StoredUsersRepository } from './stored-users/stored-users.repository';

jest.setTimeout(30_000);

const records = (...enrollids: number[]) => enrollids.map((enrollid) => ({ enrollid }));

describe('DoorAccessService under DEVICE_ACCESS_POLICY=known (embedded database)', () => {
  let server: EmbeddedMongo;
  let conn: Connection;
  let model: Model<DeviceUser>;
  let repo: StoredUsersRepository;
  let access: DoorAccessService;
  const employeeLookups: string[][] = [];

  beforeAll(async () => {
    server = await start({ port: 0, quiet: true });
    conn = await mongoose.createConnection(`${server.uri}/door_access`).asPromise();
    model = conn.model<DeviceUser>(DeviceUser.name, DeviceUserSchema);
    await model.init();
    await model.insertMany([
      { sn: 'T-1', enrollid: 5, enabled: true },
      { sn: 'T-2', enrollid: 5, enabled: false },
      { sn: 'T-3', enrollid: 6 },
      ...Array.from({ length: 150 }, (_, i) => ({ sn: `M-${i}`, enrollid: 1 })),
    ]);
    repo = new StoredUsersRepository(model);
    const employees = {
      findRefsByEnrollIds: (ids: string[]): Promise<EmployeeRef[]> => {
        employeeLookups.push(ids);
        // Enroll id 9: a deactivated employee; 10: an active one (no user on any terminal).
        const all: EmployeeRef[] = [
          { _id: 'e9', enroll_id: '9', owner: 'o', isActive: false },
          { _id: 'e10', enroll_id: '10', owner: 'o', isActive: true },
        ];
        return Promise.resolve(all.filter((e) => ids.includes(e.enroll_id)));
      },
    } as unknown as EmployeesService;
    access = new DoorAccessService(repo, employees, {
      accessPolicy: 'known',
    } as ConstructorParameters<typeof DoorAccessService>[2]);
  });

  afterAll(async () => {
    await conn?.dropDatabase();
    await conn?.close();
    await server?.stop();
  });

  afterEach(() => jest.restoreAllMocks());

  it("answers frames of several terminals read together, each from its own terminal's users", async () => {
    const reads = jest.spyOn(repo, 'standingsMany');
    const decided = await Promise.all([
      access.forRecords('T-1', records(5)),
      access.forRecords('T-2', records(5)), // disabled on T-2
      access.forRecords('T-3', records(6)),
      access.forRecords('T-4', records(5)), // 5 is a user of T-1 and T-2, not of T-4
      access.forRecords('T-1', records(5, 9)), // 9: a deactivated employee
      access.forRecords('T-4', records(10, 0)), // an active employee and a door event
      access.forRecords('T-1', records(0)), // door events only: nobody to check
    ]);
    expect(decided).toEqual([1, 0, 1, 0, 0, 1, 1]);
    expect(reads).toHaveBeenCalledTimes(1);
    expect([...reads.mock.calls[0][0]]).toEqual([
      ['T-1', [5, 9]],
      ['T-2', [5]],
      ['T-3', [6]],
      ['T-4', [5, 10]],
    ]);
  });

  it('splits a batch of many terminals into queries of at most 100 terminals', async () => {
    const finds = jest.spyOn(model, 'find');
    const decided = await Promise.all(Array.from({ length: 150 }, (_, i) => access.forRecords(`M-${i}`, records(1))));
    expect(decided.every((a) => a === 1)).toBe(true);
    expect(finds).toHaveBeenCalledTimes(2);
    // The same frames each on the wrong terminal's id: nobody known.
    expect(await Promise.all([access.forRecords('M-0', records(2)), access.forRecords('M-1', records(2))])).toEqual([
      0, 0,
    ]);
  });

  it('fails the frames of a read that failed, and reads again for the next ones', async () => {
    jest.spyOn(repo, 'standingsMany').mockRejectedValueOnce(new Error('database gone'));
    const outcomes = await Promise.allSettled([
      access.forRecords('T-1', records(5)),
      access.forRecords('T-3', records(6)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(await access.forRecords('T-1', records(5))).toBe(1);
  });

  it('shares the employees read with the punch store when given it', async () => {
    employeeLookups.length = 0;
    const employees = access.employeesOf(records(10, 0, 10));
    expect(employeeLookups).toEqual([['10']]);
    expect(await access.forRecords('T-9', records(10), employees)).toBe(1);
    expect(employeeLookups).toHaveLength(1);
  });
});
