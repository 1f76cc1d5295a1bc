import { ValidationFailedError } from './errors';
import { flattenValidationErrors } from './validation';

describe('validation messages', () => {
  it('puts the type error first, so the summary message names the real mistake', () => {
    const [first] = flattenValidationErrors([
      {
        property: 'record',
        constraints: {
          arrayMaxSize: 'record must contain no more than 1000 elements',
          isArray: 'record must be an array',
        },
        children: [],
      },
    ]);
    expect(first.messages[0]).toBe('record must be an array');
    expect(new ValidationFailedError([first]).message).toBe('record: record must be an array');
  });
});
