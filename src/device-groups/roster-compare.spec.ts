import { credentialHash, diffRosters, groupDrift, rosterDigest, rosterFromCopy, type CopyUser } from './roster-compare';

const at = new Date('2026-12-01T00:00:00Z');
function user(enrollid: number, creds: Record<number, string | number | null>, onDevice = true): CopyUser {
  return {
    enrollid,
    onDevice,
    credentials: Object.entries(creds).map(([b, record]) => ({
      backupnum: Number(b),
      record,
      updatedAt: at,
      onDevice: true,
    })),
  };
}
const live = (users: CopyUser[]) => rosterFromCopy(users, { onDeviceOnly: true });

describe('credentialHash', () => {
  it('hashes the record as written: a quoted card equals the number, a photo data URL its base64', () => {
    expect(credentialHash(11, '0012345')).toBe(credentialHash(11, 12345));
    expect(credentialHash(50, 'data:image/jpeg;base64,QUJD')).toBe(credentialHash(50, 'QUJD'));
    expect(credentialHash(0, 'AAA')).not.toBe(credentialHash(1, 'AAA'));
    expect(credentialHash(0, null)).toBeUndefined();
  });
});

describe('diffRosters', () => {
  it('finds missing, extra and differing users by id and credential hash, not by position', () => {
    const source = live([user(1, { 0: 'A' }), user(2, { 0: 'B', 11: 5 }), user(3, { 0: 'C' })]);
    const target = live([user(3, { 0: 'C' }), user(2, { 0: 'B', 11: 6 }), user(9, { 0: 'Z' })]);
    expect(diffRosters(source, target)).toEqual({
      missing: [1],
      extra: [9],
      differing: [{ enrollid: 2, backupnums: [11] }],
    });
    expect(diffRosters(source, target, [2, 9])).toEqual({
      missing: [],
      extra: [9],
      differing: [{ enrollid: 2, backupnums: [11] }],
    });
  });

  it('does not judge a credential whose record is unknown, but notices it missing', () => {
    const source = live([user(1, { 0: 'A', 1: 'B' })]);
    const target = live([user(1, { 0: null })]);
    expect(diffRosters(source, target).differing).toEqual([{ enrollid: 1, backupnums: [1] }]);
  });

  it('a backup keeps users and credentials the terminal no longer lists, and drops unrestorable ones', () => {
    const gone: CopyUser = { ...user(4, { 0: 'D' }), onDevice: false };
    const backup = rosterFromCopy([gone, user(5, { 0: null })], { onDeviceOnly: false });
    expect([...backup.keys()]).toEqual([4]);
    expect(live([gone]).size).toBe(0);
  });
});

describe('groupDrift', () => {
  it('reports users removed from one member as missing there, a stray user as extra, and the odd template', () => {
    const full = [user(1, { 0: 'A' }), user(2, { 0: 'B' }), user(3, { 0: 'C' })];
    const drift = groupDrift([
      { sn: 'A', roster: live(full) },
      { sn: 'B', roster: live([full[0], user(3, { 0: 'X' })]) },
      { sn: 'C', roster: live([...full, user(7, { 0: 'S' })]) },
    ]);
    expect(drift).toEqual([
      { sn: 'A', missing: [], extra: [], differing: [] },
      { sn: 'B', missing: [2], extra: [], differing: [{ enrollid: 3, backupnums: [0] }] },
      { sn: 'C', missing: [], extra: [7], differing: [] },
    ]);
  });

  it('with two members a user on one of them is missing on the other (propagation adds)', () => {
    const drift = groupDrift([
      { sn: 'A', roster: live([user(1, { 0: 'A' })]) },
      { sn: 'B', roster: live([]) },
    ]);
    expect(drift[1]).toEqual({ sn: 'B', missing: [1], extra: [], differing: [] });
  });
});

describe('rosterDigest', () => {
  it('changes with any user, slot or record, not with order', () => {
    const a = live([user(1, { 0: 'A' }), user(2, { 0: 'B' })]);
    expect(rosterDigest(a)).toBe(rosterDigest(live([user(2, { 0: 'B' }), user(1, { 0: 'A' })])));
    expect(rosterDigest(a)).not.toBe(rosterDigest(live([user(1, { 0: 'A' }), user(2, { 0: 'b' })])));
    expect(rosterDigest(a)).not.toBe(rosterDigest(live([user(1, { 0: 'A' })])));
  });
});
