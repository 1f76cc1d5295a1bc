import { ApiError, ContractError, describeError, isDuplicateKeyError } from './errors';

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
