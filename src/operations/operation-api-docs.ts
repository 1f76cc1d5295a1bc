/** Swagger examples of the operation routes, in the contract's shapes. */
export const OPERATION_EXAMPLE = {
  _id: '673bd98fa14b34d6c9db2009',
  sn: 'ZXRE06022863',
  type: 'setuserinfo',
  payload: { enrollid: 2, name: 'Sally', backupnum: 0, admin: 0, record: '...' },
  response: { ret: 'setuserinfo', sn: 'ZXRE06022863', result: true, enrollid: 2 },
  status: 'success',
  attemptCount: 1,
  maxAttempts: 5,
  dependsOn: [],
  requestedBy: '679a312fba856722da62098d',
  createdAt: '2025-11-08T10:00:00.000Z',
  updatedAt: '2025-11-08T10:00:01.000Z',
  sentAt: '2025-11-08T10:00:00.120Z',
  completedAt: '2025-11-08T10:00:01.000Z',
};

export const NOT_FOUND_EXAMPLE = { success: false, error: 'operation_not_found', message: 'No operation with this id' };
export const OFFLINE_EXAMPLE = { success: false, error: 'device_offline_or_not_registered' };
export const TIMEOUT_EXAMPLE = { success: false, error: 'device_timeout', opId: '673bd98fa14b34d6c9db2009' };
