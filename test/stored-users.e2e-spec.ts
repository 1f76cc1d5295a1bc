import { StoredUsersService } from '../src/devices';
import { createTestApp, TestApp } from './support/test-app';

/** The server's copy of terminal users, against the real database. */
describe('StoredUsersService (e2e, embedded database)', () => {
  let t: TestApp;
  let users: StoredUsersService;

  beforeAll(async () => {
    t = await createTestApp();
    users = t.app.get(StoredUsersService);
  });
  afterAll(async () => {
    await t?.close();
  });

  const creds = async (sn: string, enrollid: number) =>
    (await users.find(sn, enrollid))!.credentials.map((c) => [c.backupnum, c.record ?? null, c.onDevice]);

  it('keeps one credential per backupnum, replacing it on update and keeping the record when none is given', async () => {
    await users.upsertCredential('DU-1', { enrollid: 1, name: 'Ali', admin: 0, backupnum: 0, record: 'FP-A' });
    await users.upsertCredential('DU-1', { enrollid: 1, backupnum: 11, record: 123 });
    await users.upsertCredential('DU-1', { enrollid: 1, backupnum: 0, record: 'FP-B' });
    await users.upsertCredential('DU-1', { enrollid: 1, backupnum: 11 });
    expect(await creds('DU-1', 1)).toEqual([
      [0, 'FP-B', true],
      [11, 123, true],
    ]);
    expect(await users.find('DU-1', 1)).toMatchObject({
      sn: 'DU-1',
      enrollid: 1,
      name: 'Ali',
      admin: 0,
      onDevice: true,
    });
    expect(await t.connection.collection('deviceusers').countDocuments({ sn: 'DU-1' })).toBe(1);
  });

  it('concurrent writes of different credentials of a new user all land in one document', async () => {
    await Promise.all(
      [0, 1, 2, 3, 10, 11, 50].map((backupnum) =>
        users.upsertCredential('DU-2', {
          enrollid: 5,
          backupnum,
          record: backupnum >= 10 && backupnum <= 11 ? backupnum : `T${backupnum}`,
        }),
      ),
    );
    expect((await creds('DU-2', 5)).map(([b]) => b)).toEqual([0, 1, 2, 3, 10, 11, 50]);
    expect(await t.connection.collection('deviceusers').countDocuments({ sn: 'DU-2' })).toBe(1);
  });

  it('aliasid lives only here: set as add-user sets it, kept by later writes', async () => {
    await users.upsertUser('DU-3', { enrollid: 9, name: 'Huda' });
    await users.upsertUser('DU-3', { enrollid: 9, aliasid: 'HR-9' });
    await users.upsertCredential('DU-3', { enrollid: 9, name: 'Huda M.', backupnum: 0, record: 'X' });
    expect(await users.find('DU-3', 9)).toMatchObject({ name: 'Huda M.', aliasid: 'HR-9' });
    await users.upsertUser('DU-3', { enrollid: 10, aliasid: 'HR-10' });
    expect(await users.find('DU-3', 10)).toMatchObject({ enrollid: 10, aliasid: 'HR-10', credentials: [] });
  });

  it('removes credentials as deleteuser does: one slot, all fingers (12), the whole user (13)', async () => {
    for (const backupnum of [0, 1, 2, 10, 11])
      await users.upsertCredential('DU-4', { enrollid: 2, backupnum, record: backupnum });
    expect(await users.removeCredential('DU-4', 2, 10)).toBe(true);
    expect((await creds('DU-4', 2)).map(([b]) => b)).toEqual([0, 1, 2, 11]);
    await users.removeCredential('DU-4', 2, 12);
    expect((await creds('DU-4', 2)).map(([b]) => b)).toEqual([11]);
    expect(await users.removeCredential('DU-4', 2, 13)).toBe(true);
    expect(await users.find('DU-4', 2)).toBeNull();
    expect(await users.removeCredential('DU-4', 2, 0)).toBe(false);
    expect(await users.removeUser('DU-4', 2)).toBe(false);
  });

  it('reconciles with a roster read from the terminal without deleting what vanished', async () => {
    await users.upsertCredential('DU-5', { enrollid: 1, name: 'A', backupnum: 0, record: 'FP1' });
    await users.upsertCredential('DU-5', { enrollid: 1, backupnum: 1, record: 'FP2' });
    await users.upsertCredential('DU-5', { enrollid: 2, name: 'B', backupnum: 0, record: 'FP3' });
    await users.upsertUser('DU-5', { enrollid: 2, aliasid: 'HR-2' });

    // The terminal lost user 2 and finger 1 of user 1, and has a new user 3.
    await users.replaceRoster('DU-5', [
      { enrollid: 1, backupnum: 0, admin: 1 },
      { enrollid: 3, backupnum: 11, admin: 0, name: 'C' },
    ]);
    const all = await users.findBySn('DU-5');
    expect(all.map((u) => [u.enrollid, u.onDevice])).toEqual([
      [1, true],
      [2, false],
      [3, true],
    ]);
    expect(await creds('DU-5', 1)).toEqual([
      [0, 'FP1', true],
      [1, 'FP2', false],
    ]);
    expect(all[0].admin).toBe(1);
    // The vanished user keeps its templates and alias, ready to be restored.
    expect(all[1]).toMatchObject({ aliasid: 'HR-2', credentials: [{ backupnum: 0, record: 'FP3' }] });
    expect(all[1].missingSince).toBeInstanceOf(Date);
    expect(all[2]).toMatchObject({ name: 'C', credentials: [{ backupnum: 11, onDevice: true }] });

    // Back on the terminal: flagged present again.
    await users.replaceRoster('DU-5', [
      { enrollid: 1, backupnum: 0 },
      { enrollid: 1, backupnum: 1 },
      { enrollid: 2, backupnum: 0 },
      { enrollid: 3, backupnum: 11 },
    ]);
    const again = await users.findBySn('DU-5');
    expect(again.every((u) => u.onDevice && u.credentials.every((c) => c.onDevice))).toBe(true);
    expect(again[1].missingSince).toBeUndefined();
  });

  it('refuses a backupnum that is not a credential slot', async () => {
    await expect(users.upsertCredential('DU-6', { enrollid: 1, backupnum: -1 })).rejects.toThrow(RangeError);
    await expect(users.replaceRoster('DU-6', [{ enrollid: 1, backupnum: 1.5 }])).rejects.toThrow(RangeError);
    expect(await users.findBySn('DU-6')).toEqual([]);
  });
});
