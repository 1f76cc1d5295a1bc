import { databasePerTest } from '@app/testing/embedded-database';
import { DeviceUser, DeviceUserSchema } from './device-user.schema';
import { StoredUsersRepository } from './stored-users.repository';

jest.setTimeout(30_000);

describe('StoredUsersRepository upserts (embedded database)', () => {
  const db = databasePerTest('stored_users_repo');
  let repo: StoredUsersRepository;

  beforeEach(async () => {
    const model = db.conn.model<DeviceUser>(DeviceUser.name, DeviceUserSchema);
    await model.init();
    repo = new StoredUsersRepository(model);
  });

  const raw = (sn: string, enrollid: number) => db.conn.collection('deviceusers').findOne({ sn, enrollid });

  it('creates the user as the schema would (timestamps, version key), then updates and unsets fields', async () => {
    await repo.upsert('A', 1, { name: 'Ann', admin: 0, onDevice: true }, ['missingSince']);
    const created = await raw('A', 1);
    expect(created).toMatchObject({ sn: 'A', enrollid: 1, name: 'Ann', admin: 0, onDevice: true, __v: 0 });
    expect(created?.createdAt).toBeInstanceOf(Date);
    expect(created?.updatedAt).toBeInstanceOf(Date);

    await db.conn.collection('deviceusers').updateOne({ sn: 'A', enrollid: 1 }, { $set: { missingSince: new Date() } });
    await repo.upsert('A', 1, { name: 'Anna', 'credentials.3.updatedAt': new Date(), onDevice: true }, [
      'missingSince',
    ]);
    const updated = await raw('A', 1);
    expect(updated).toMatchObject({ name: 'Anna', admin: 0, onDevice: true, __v: 0 });
    expect(updated?.missingSince).toBeUndefined();
    expect(updated?.credentials).toEqual({ '3': { updatedAt: expect.any(Date) } });
    expect(updated?.createdAt).toEqual(created?.createdAt);
    expect(await db.conn.collection('deviceusers').countDocuments()).toBe(1);
  });

  it('writes upserts asked together in the order asked: the last one for a user wins', async () => {
    await Promise.all([
      repo.upsert('A', 1, { name: 'first' }),
      repo.upsert('B', 2, { name: 'other' }),
      repo.upsert('A', 1, { name: 'second' }),
      repo.upsert('A', 1, { name: 'third', admin: 1 }),
    ]);
    expect(await raw('A', 1)).toMatchObject({ name: 'third', admin: 1 });
    expect(await raw('B', 2)).toMatchObject({ name: 'other' });
    expect(await db.conn.collection('deviceusers').countDocuments()).toBe(2);
  });

  it('fails only the upsert the database refuses; the ones after it in the same batch are written', async () => {
    const results = await Promise.allSettled([
      repo.upsert('A', 1, { name: 'before' }),
      // $set and $unset of the same path: refused by the database.
      repo.upsert('A', 2, { name: 'conflict' }, ['name']),
      repo.upsert('A', 3, { name: 'after' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await raw('A', 1)).toMatchObject({ name: 'before' });
    expect(await raw('A', 2)).toBeNull();
    expect(await raw('A', 3)).toMatchObject({ name: 'after' });
  });
});
