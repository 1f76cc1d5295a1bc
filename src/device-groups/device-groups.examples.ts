import { validationExample } from '../auth';

const GROUP_ID = '675a1b2c3d4e5f6a7b8c9d01';

const group = {
  _id: GROUP_ID,
  name: 'Main site',
  sns: ['ZXRE06022863', 'TYSG18086518', 'AYTH09089112'],
  syncUsers: true,
  drift: {
    checkedAt: '2026-12-06T04:00:00.000Z',
    refreshed: true,
    members: [
      { sn: 'ZXRE06022863', missing: 0, extra: 0, differing: 0 },
      { sn: 'TYSG18086518', missing: 2, extra: 0, differing: 1 },
      { sn: 'AYTH09089112', missing: 0, extra: 1, differing: 0 },
    ],
    total: { missing: 2, extra: 1, differing: 1 },
  },
  createdAt: '2026-12-01T08:00:00.000Z',
  updatedAt: '2026-12-06T04:00:00.000Z',
};

/** Swagger examples of the terminal-group routes. */
export const GROUP_EXAMPLES = {
  item: { success: true, item: { ...group, drift: null } },
  list: { success: true, items: [group] },
  detail: {
    success: true,
    item: {
      ...group,
      members: [
        {
          sn: 'ZXRE06022863',
          name: 'Entrance',
          online: true,
          lastSeenAt: '2026-12-06T04:10:00.000Z',
          users: 212,
          pendingOperations: 0,
          drift: { missing: 0, extra: 0, differing: 0 },
        },
        {
          sn: 'TYSG18086518',
          name: 'Warehouse',
          online: false,
          lastSeenAt: '2026-12-05T22:41:07.000Z',
          users: 209,
          pendingOperations: 3,
          drift: { missing: 2, extra: 0, differing: 1 },
        },
      ],
    },
  },
  deleted: { success: true },
  drift: {
    success: true,
    groupId: GROUP_ID,
    checkedAt: '2026-12-06T04:12:31.000Z',
    refreshed: true,
    members: [
      {
        sn: 'ZXRE06022863',
        missing: [],
        extra: [],
        differing: [],
        read: { status: 'read', opId: '675a1b2c3d4e5f6a7b8c9d10' },
      },
      {
        sn: 'TYSG18086518',
        missing: [1004, 1007],
        extra: [],
        differing: [{ enrollid: 1012, backupnums: [0, 11] }],
        read: { status: 'offline' },
      },
    ],
    total: { missing: 2, extra: 0, differing: 1 },
  },
  notFound: { success: false, error: 'group_not_found', message: 'No terminal group with this id' },
  unknownDevices: {
    success: false,
    error: 'unknown_devices',
    message: 'No terminal registered with sn NOSUCH001',
    sns: ['NOSUCH001'],
  },
  inOtherGroup: {
    success: false,
    error: 'device_in_other_group',
    message: 'Terminal TYSG18086518 already belongs to group "Warehouse"',
    sns: ['TYSG18086518'],
    groupId: '675a1b2c3d4e5f6a7b8c9d02',
  },
  badBody: validationExample('syncUsers', 'syncUsers must be a boolean value'),
  badRefresh: validationExample('refresh', 'refresh must be true or false'),
  timeout: { success: false, error: 'device_timeout', opId: '675a1b2c3d4e5f6a7b8c9d10' },
  invalidId: { success: false, error: 'invalid_id', message: 'The id must be a 24-character hex ObjectId' },
} as const;
