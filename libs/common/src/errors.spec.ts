import { ApiError, bulkWriteErrors, ContractError, describeError, isDuplicateKeyError } from './errors';

describe('describeError', () => {
  it('names an API error by its code and message', () => {
    expect(describeError(new ApiError(409, 'user_already_exists', 'Enroll id 7 exists'))).toBe(
      'user_already_exists: Enroll id 7 exists',
    );
    expect(describeError(new ContractError(409, { success: false, error: 'device_offline_or_not_registered' }))).toBe(
      'device_offline_or_not_registered',
    );
  });

  it('falls back to the message, or the value itself', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('plain')).toBe('plain');
  });
});

describe('isDuplicateKeyError', () => {
  it('recognises E11000 only', () => {
    expect(isDuplicateKeyError({ code: 11000 })).toBe(true);
    expect(isDuplicateKeyError({ code: 11001 })).toBe(false);
    expect(isDuplicateKeyError(null)).toBe(false);
  });
});

describe('bulkWriteErrors', () => {
  it('gives each refused statement by its index, with the code kept', () => {
    const err = {
      writeErrors: [
        { index: 3, code: 11000, errmsg: 'E11000 duplicate key' },
        { index: 1, code: 2, errmsg: 'bad update' },
      ],
    };
    const got = bulkWriteErrors(err);
    expect([...got.keys()]).toEqual([3, 1]);
    expect(got.get(3)?.message).toBe('E11000 duplicate key');
    expect(isDuplicateKeyError(got.get(3))).toBe(true);
    expect(got.get(1)).toMatchObject({ message: 'bad update', code: 2 });
  });

  it('reads a single write error, and nothing from other failures', () => {
    expect([...bulkWriteErrors({ writeErrors: { index: 0, code: 11000 } }).keys()]).toEqual([0]);
    expect(bulkWriteErrors(new Error('connection closed')).size).toBe(0);
    expect(bulkWriteErrors({ writeErrors: [{ code: 1 }] }).size).toBe(0);
    expect(bulkWriteErrors(undefined).size).toBe(0);
  });
});
