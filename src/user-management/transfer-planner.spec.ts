import { FetchedUser, planTransfer, selectRosterUsers } from './transfer-planner';

const fp = 'AABB(12)CCDD';

function user(enrollid: number, creds: FetchedUser['credentials'], extra: Partial<FetchedUser> = {}): FetchedUser {
  return { enrollid, name: `User ${enrollid}`, admin: 0, credentials: creds, ...extra };
}

describe('planTransfer', () => {
  const source: FetchedUser[] = [
    user(3, [
      { backupnum: 11, ok: true, record: '0012345' },
      { backupnum: 0, ok: true, record: fp, name: 'Three', admin: 1 },
      { backupnum: 10, ok: true, record: 1234 },
      { backupnum: 50, ok: true, record: 'data:image/jpeg;base64,/9j/AA==' },
    ]),
    user(2, [{ backupnum: 1, ok: true, record: fp }]),
  ];

  it('transfers every source user in enrollid order, name and admin kept, card and password numeric', () => {
    const plan = planTransfer(source, undefined, false);
    expect(plan.map((p) => p.enrollid)).toEqual([2, 3]);
    const three = plan[1];
    expect(three).toEqual({
      kind: 'transfer',
      enrollid: 3,
      unreadable: [],
      deleteFromSource: false,
      pushes: [
        { backupnum: 0, payload: { enrollid: 3, name: 'Three', backupnum: 0, admin: 1, record: fp } },
        { backupnum: 10, payload: { enrollid: 3, name: 'Three', backupnum: 10, admin: 1, record: 1234 } },
        { backupnum: 11, payload: { enrollid: 3, name: 'Three', backupnum: 11, admin: 1, record: 12345 } },
        { backupnum: 50, payload: { enrollid: 3, name: 'Three', backupnum: 50, admin: 1, record: '/9j/AA==' } },
      ],
    });
  });

  it('keeps the order asked and reports ids the source does not hold', () => {
    const plan = planTransfer(source, [3, 99, 2], true);
    expect(plan.map((p) => [p.enrollid, p.kind])).toEqual([
      [3, 'transfer'],
      [99, 'not_found'],
      [2, 'transfer'],
    ]);
    expect(plan.every((p) => p.kind === 'not_found' || p.deleteFromSource)).toBe(true);
  });

  it('never deletes a user from the source when a credential could not be read or written', () => {
    const plan = planTransfer(
      [
        user(4, [
          { backupnum: 0, ok: true, record: fp },
          { backupnum: 1, ok: false, error: 'terminal answered result:false' },
        ]),
        user(5, [
          { backupnum: 0, ok: true, record: fp },
          { backupnum: 10, ok: true, record: 'abc' },
        ]),
        user(6, [{ backupnum: 0, ok: true, record: '' }]),
      ],
      undefined,
      true,
    );
    expect(plan).toEqual([
      expect.objectContaining({
        enrollid: 4,
        deleteFromSource: false,
        unreadable: [{ backupnum: 1, reason: 'terminal answered result:false' }],
      }),
      expect.objectContaining({
        enrollid: 5,
        deleteFromSource: false,
        unreadable: [{ backupnum: 10, reason: expect.stringContaining('password') }],
      }),
      expect.objectContaining({ enrollid: 6, deleteFromSource: false, pushes: [] }),
    ]);
  });

  it('pushes a slot once and refuses slots that are not credentials', () => {
    const [plan] = planTransfer(
      [
        user(7, [
          { backupnum: 0, ok: true, record: fp },
          { backupnum: 0, ok: true, record: 'other' },
          { backupnum: 13, ok: true, record: 'x' },
        ]),
      ],
      undefined,
      true,
    );
    expect(plan.kind === 'transfer' && plan.pushes.map((p) => p.payload.record)).toEqual([fp]);
    expect(plan.kind === 'transfer' && plan.unreadable.map((u) => u.backupnum)).toEqual([13]);
    expect(plan.kind === 'transfer' && plan.deleteFromSource).toBe(false);
  });

  it('sends an empty name rather than none, and a sane admin level', () => {
    const [plan] = planTransfer(
      [{ enrollid: 8, admin: -3, credentials: [{ backupnum: 0, ok: true, record: fp }] }],
      undefined,
      false,
    );
    expect(plan.kind === 'transfer' && plan.pushes[0].payload).toEqual({
      enrollid: 8,
      name: '',
      backupnum: 0,
      admin: 0,
      record: fp,
    });
  });
});

describe('selectRosterUsers', () => {
  const rows = [
    { enrollid: 1, backupnum: 0 },
    { enrollid: 2, backupnum: 0 },
    { enrollid: 1, backupnum: 50 },
    { enrollid: 1, backupnum: 50 },
  ];

  it('groups rows per user without duplicate slots', () => {
    expect([...selectRosterUsers(rows, undefined)]).toEqual([
      [
        1,
        [
          { enrollid: 1, backupnum: 0 },
          { enrollid: 1, backupnum: 50 },
        ],
      ],
      [2, [{ enrollid: 2, backupnum: 0 }]],
    ]);
  });

  it('keeps only the users asked for', () => {
    expect([...selectRosterUsers(rows, [2, 9]).keys()]).toEqual([2]);
  });
});
