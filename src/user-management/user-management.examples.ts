import { validationExample } from '../auth';

/** Swagger examples: the contract's bodies, and ours where the contract has none. */
export const EXAMPLES = {
  offline: { success: false, error: 'device_offline_or_not_registered' },
  timeout: { success: false, error: 'device_timeout', opId: '673bd98fa14b34d6c9db2009' },
  commandFailed: {
    success: false,
    error: 'device_command_failed',
    message: 'The terminal refused the command (reason 1)',
    opId: '673bd98fa14b34d6c9db2009',
    status: 'failed',
    response: { ret: 'cleanlog', result: false, reason: 1 },
  },
  userExists: {
    success: false,
    error: 'user_already_exists',
    opId: '673bd98fa14b34d6c9db2009',
    message: 'Enroll id 10012 already exists on terminal ZXRE06022863',
  },
  listUsers: {
    success: true,
    records: [
      { enrollid: 1, name: 'John', aliasid: 'J1', backupnum: 50, admin: 0, record: '/9j/4AAQSkZJRgABAQ...' },
      { enrollid: 2, name: 'Sally', backupnum: 2, admin: 0, record: 'AAB3(12)CC04...' },
      { enrollid: 2, name: 'Sally', backupnum: 11, admin: 0, record: 4200123 },
    ],
    raw: {
      ret: 'getuserlist',
      result: true,
      count: 3,
      pages: 1,
      rows: [
        { enrollid: 1, backupnum: 50, admin: 0 },
        { enrollid: 2, backupnum: 2, admin: 0 },
        { enrollid: 2, backupnum: 11, admin: 0 },
      ],
    },
  },
  addUser: {
    success: true,
    opId: '673bd98fa14b34d6c9db2009',
    status: 'success',
    response: { ret: 'adduser', result: true },
  },
  cleanLog: {
    success: true,
    opId: '673bd98fa14b34d6c9db2009',
    status: 'success',
    response: { ret: 'cleanlog', result: true },
  },
  deleteUsers: {
    success: true,
    sn: 'ZXRE06022863',
    count: 3,
    results: [
      { enrollid: 2, opId: '64f5a1c2e4b0a1b2c3d4e5f6', status: 'pending' },
      { enrollid: 3, opId: '650a1b2c3d4e5f6a7b8c9d0e', status: 'pending' },
      { enrollid: 15, opId: '650a1b2c3d4e5f6a7b8c9d0f', status: 'pending' },
    ],
  },
  transfer: {
    success: true,
    fromSn: 'ZXRE06022863',
    toSn: 'TYSG18086518',
    opId: '650a1b2c3d4e5f6a7b8c9d00',
    results: [
      {
        enrollid: 2,
        steps: [
          { backupnum: 50, action: 'fetch', result: 'success' },
          { backupnum: 50, action: 'push', opId: '64f5a1c2e4b0a1b2c3d4e5f6', result: 'pending' },
          { action: 'delete_from_source', opId: '650a1b2c3d4e5f6a7b8c9d0e', result: 'pending' },
        ],
      },
      { enrollid: 3, steps: [{ action: 'fetch', result: 'not_found' }] },
    ],
  },
  badEnrollIds: validationExample('enrollIds', 'enrollIds should not be empty'),
  badAddUser: validationExample('backupnum', 'backupnum must be 0-9 (fingerprint) or 50 (face)'),
  sameTerminal: {
    success: false,
    error: 'same_terminal',
    message: 'fromSn and toSn must be different terminals',
  },
  unknownTarget: {
    success: false,
    error: 'device_not_found',
    message: 'Target terminal TYSG18086518 is not registered',
  },
} as const;
