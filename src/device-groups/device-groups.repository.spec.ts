import mongoose, { type Connection, Types } from 'mongoose';
import { type EmbeddedMongo, start } from '@app/embedded-mongo';
import { DeviceGroupsRepository } from './device-groups.repository';
import { DeviceGroup, DeviceGroupSchema } from './schemas/device-group.schema';
import { GroupUserMark, GroupUserMarkSchema } from './schemas/group-user-mark.schema';

jest.setTimeout(30_000);

const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

describe('DeviceGroupsRepository (embedded database)', () => {
  let server: EmbeddedMongo;
  let conn: Connection;
  let repo: DeviceGroupsRepository;
  let dbIndex = 0;
  const groupId = new Types.ObjectId();

  beforeAll(async () => {
    server = await start({ port: 0, quiet: true });
  });

  afterAll(async () => {
    await server?.stop();
  });

  beforeEach(async () => {
    conn = await mongoose.createConnection(`${server.uri}/groups_repo_${dbIndex++}`).asPromise();
    const groups = conn.model<DeviceGroup>(DeviceGroup.name, DeviceGroupSchema);
    const marks = conn.model<GroupUserMark>(GroupUserMark.name, GroupUserMarkSchema);
    await Promise.all([groups.init(), marks.init()]);
    repo = new DeviceGroupsRepository(groups, marks);
  });

  afterEach(async () => {
    await conn.dropDatabase();
    await conn.close();
  });

  const mark = (ms: number, sourceSn: string, propagationId: string, backupnum = 0) => ({
    groupId,
    enrollid: 7,
    backupnum,
    receivedAt: at(ms),
    sourceSn,
    propagationId,
  });

  it('keeps the newest version of a credential: a newer one replaces, an older one is refused', async () => {
    expect(await repo.claimNewest(mark(100, 'A', 'p1'))).toBeNull();
    const replaced = await repo.claimNewest(mark(200, 'B', 'p2'));
    expect(replaced).toMatchObject({ sourceSn: 'A', propagationId: 'p1' });
    expect(await repo.claimNewest(mark(150, 'C', 'p3'))).toBe('older');
    // Another slot of the same user is its own version.
    expect(await repo.claimNewest(mark(50, 'C', 'p4', 1))).toBeNull();
    const taken = await repo.takeMarksOfUser(groupId, 7, at(300));
    expect(taken.map((m) => m.propagationId).sort()).toEqual(['p2', 'p4']);
    expect(await repo.takeMarksOfUser(groupId, 7, at(300))).toEqual([]);
  });

  it('finds the group of a terminal, the groups holding serials, and claims due drift checks once', async () => {
    const g1 = await repo.create({ name: 'one', sns: ['A', 'B'], syncUsers: true, driftDueAt: at(0) });
    const g2 = await repo.create({ name: 'two', sns: ['C'], syncUsers: false, driftDueAt: at(10_000) });
    expect((await repo.findBySn('B'))?._id).toEqual(g1._id);
    expect(await repo.findBySn('Z')).toBeNull();
    expect((await repo.findHolding(['C', 'B'])).map((g) => g.name).sort()).toEqual(['one', 'two']);
    expect(await repo.findHolding(['C'], g2._id.toHexString())).toEqual([]);

    const claimed = await repo.claimDueDrift(at(1_000), at(61_000));
    expect(claimed?.name).toBe('one');
    expect(await repo.claimDueDrift(at(1_000), at(61_000))).toBeNull();
    expect((await repo.claimDueDrift(at(20_000), at(80_000)))?.name).toBe('two');
  });

  it('finds the groups of several terminals in one read (terminals in no group are left out)', async () => {
    const g1 = await repo.create({ name: 'one', sns: ['A', 'B'], syncUsers: true });
    const g2 = await repo.create({ name: 'two', sns: ['C'], syncUsers: false });
    await repo.recordDrift(g1._id.toHexString(), {
      checkedAt: at(0),
      refreshed: false,
      members: [],
      total: { missing: 0, extra: 0, differing: 0 },
    });
    const bySn = await repo.findBySns(['B', 'C', 'Z', 'A', 'B']);
    expect([...bySn.keys()].sort()).toEqual(['A', 'B', 'C']);
    expect(bySn.get('A')?._id).toEqual(g1._id);
    expect(bySn.get('B')).toMatchObject({ name: 'one', sns: ['A', 'B'], syncUsers: true });
    expect(bySn.get('C')).toMatchObject({ _id: g2._id, syncUsers: false });
    // The drift report is not needed for propagation and not read.
    expect(bySn.get('A')?.drift).toBeUndefined();
    expect((await repo.findBySns([])).size).toBe(0);
  });
});
