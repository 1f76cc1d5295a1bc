import { StoredUser, toUserRecords } from './user-records';

describe('toUserRecords', () => {
  const stored: StoredUser[] = [
    {
      enrollid: 1,
      name: 'John',
      aliasid: 'J1',
      admin: 1,
      credentials: [
        { backupnum: 50, record: 'base64photo' },
        { backupnum: 0, record: 'fp0' },
      ],
    },
    { enrollid: 2, name: 'Sally', aliasid: null, admin: 0, credentials: [{ backupnum: 11, record: 123456 }] },
  ];

  it('joins the terminal rows with the server copy, in the terminal order', () => {
    const rows = [
      { enrollid: 2, backupnum: 11, admin: 0 },
      { enrollid: 1, backupnum: 0, admin: 1 },
      { enrollid: 1, backupnum: 50, admin: 1 },
      { enrollid: 3, backupnum: 10, admin: 0 },
    ];
    expect(toUserRecords(rows, stored, true)).toEqual([
      { enrollid: 2, name: 'Sally', backupnum: 11, admin: 0, record: 123456 },
      { enrollid: 1, name: 'John', aliasid: 'J1', backupnum: 0, admin: 1, record: 'fp0' },
      { enrollid: 1, name: 'John', aliasid: 'J1', backupnum: 50, admin: 1, record: 'base64photo' },
      { enrollid: 3, backupnum: 10, admin: 0 },
    ]);
  });

  it('leaves record out for the roster-only variant and prefers the terminal name', () => {
    const rows = [{ enrollid: 1, backupnum: 0, name: 'Johnny' }];
    const records = toUserRecords(rows, stored, false);
    expect(records).toEqual([{ enrollid: 1, name: 'Johnny', aliasid: 'J1', backupnum: 0, admin: 1 }]);
    expect(Object.keys(records[0])).toEqual(['enrollid', 'name', 'aliasid', 'backupnum', 'admin']);
  });

  it('falls back to the server copy when the response has no rows', () => {
    expect(toUserRecords(undefined, stored, true).map((r) => [r.enrollid, r.backupnum])).toEqual([
      [1, 0],
      [1, 50],
      [2, 11],
    ]);
  });
});

describe('credentials that could not be read', () => {
  it('leaves the stale record out', () => {
    const unread = new Map([['1:0', 'device_error: reason 1']]);
    const stored: StoredUser[] = [{ enrollid: 1, name: 'A', credentials: [{ backupnum: 0, record: 'old' }] }];
    expect(toUserRecords([{ enrollid: 1, backupnum: 0 }], stored, true, unread)).toEqual([
      { enrollid: 1, name: 'A', backupnum: 0, admin: 0 },
    ]);
  });
});
