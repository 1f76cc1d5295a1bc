import { OperationStatus } from '../schemas/operation.schema';
import {
  credentialKey,
  toUserListResponse,
  unreadCredentials,
  UserListResult,
  userListResultOf,
} from './user-list.result';

const rosterOnly: UserListResult = {
  ret: 'getuserlist',
  result: true,
  count: 3,
  pages: 1,
  rows: [
    { enrollid: 7, backupnum: 0, admin: 1 },
    { enrollid: 7, backupnum: 50, admin: 1, name: 'Huda' },
    { enrollid: 8, backupnum: 11 },
  ],
};
const fullRead: UserListResult = {
  ...rosterOnly,
  infoFetched: 2,
  infoFailed: [{ enrollid: 7, backupnum: 50, error: 'device_error: reason 1' }],
};

function op(response: unknown, extra: { type?: string; status?: OperationStatus } = {}) {
  return {
    type: extra.type ?? 'getuserlist',
    status: extra.status ?? OperationStatus.Success,
    response: response as Record<string, unknown>,
  };
}

/** As the operation comes back from the database: JSON types only. */
const stored = (result: UserListResult) => JSON.parse(JSON.stringify(toUserListResponse(result))) as unknown;

describe('userListResultOf', () => {
  it.each([
    ['the roster only', rosterOnly],
    ['with templates', fullRead],
  ])('reads back what the executor stored (%s)', (_what, result) => {
    expect(userListResultOf(op(stored(result)))).toEqual(result);
  });

  it('keeps the stored response in the shape GET /api/operations shows', () => {
    expect(toUserListResponse(fullRead)).toEqual({
      ret: 'getuserlist',
      result: true,
      count: 3,
      pages: 1,
      rows: fullRead.rows,
      infoFetched: 2,
      infoFailed: [{ enrollid: 7, backupnum: 50, error: 'device_error: reason 1' }],
    });
  });

  it('reads nothing from an operation that is not a successful getuserlist', () => {
    expect(userListResultOf(op(stored(rosterOnly), { status: OperationStatus.Failed }))).toBeUndefined();
    expect(userListResultOf(op(stored(rosterOnly), { type: 'getuserinfo' }))).toBeUndefined();
    expect(userListResultOf(op(undefined))).toBeUndefined();
    expect(userListResultOf(op(null))).toBeUndefined();
  });

  const row = rosterOnly.rows[0];
  it.each([
    ['a failed reply stored as the response', { ret: 'getuserlist', result: false, pages: 2 }],
    ['no row list', { ret: 'getuserlist', result: true, count: 0, pages: 1 }],
    ['a count that is not the row count', { ...rosterOnly, count: 2 }],
    ['an enrollid sent as text', { ...rosterOnly, count: 1, rows: [{ ...row, enrollid: '7' }] }],
    ['a fractional backupnum', { ...rosterOnly, count: 1, rows: [{ ...row, backupnum: 0.5 }] }],
    ['an admin level as text', { ...rosterOnly, count: 1, rows: [{ ...row, admin: '1' }] }],
    ['a name that is no text', { ...rosterOnly, count: 1, rows: [{ ...row, name: 5 }] }],
    ['a row that is no object', { ...rosterOnly, count: 1, rows: [null] }],
    ['infoFetched without infoFailed', { ...rosterOnly, infoFetched: 3 }],
    ['infoFailed without infoFetched', { ...rosterOnly, infoFailed: [] }],
    ['a failure without its reason', { ...fullRead, infoFailed: [{ enrollid: 7, backupnum: 50 }] }],
    ['no pages', { ...rosterOnly, pages: undefined }],
  ])('does not trust a response with %s', (_what, response) => {
    expect(userListResultOf(op(JSON.parse(JSON.stringify(response))))).toBeUndefined();
  });
});

describe('unreadCredentials', () => {
  it('keys the credentials the read could not fetch, with why', () => {
    expect([...unreadCredentials(fullRead)]).toEqual([[credentialKey(7, 50), 'device_error: reason 1']]);
    expect(unreadCredentials(rosterOnly).size).toBe(0);
    expect(unreadCredentials(undefined).size).toBe(0);
  });
});
