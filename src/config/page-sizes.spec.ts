import { ConfigValidationError } from './env';
import { pageSizesFrom } from './app.config';

describe('pageSizesFrom', () => {
  it("defaults to the contract's sizes", () => {
    expect(pageSizesFrom({})).toEqual({ default: 20, employeeLogs: 10, max: 100 });
  });

  it('reads each size from its variable', () => {
    expect(pageSizesFrom({ PAGE_SIZE_DEFAULT: '50', PAGE_SIZE_EMPLOYEE_LOGS: '25', PAGE_SIZE_MAX: '500' })).toEqual({
      default: 50,
      employeeLogs: 25,
      max: 500,
    });
  });

  it('refuses a default above the cap, naming the variable', () => {
    expect(() => pageSizesFrom({ PAGE_SIZE_DEFAULT: '200' })).toThrow(ConfigValidationError);
    expect(() => pageSizesFrom({ PAGE_SIZE_DEFAULT: '200' })).toThrow(/PAGE_SIZE_DEFAULT/);
    expect(() => pageSizesFrom({ PAGE_SIZE_MAX: '5' })).toThrow(/PAGE_SIZE_DEFAULT/);
    expect(() =>
      pageSizesFrom({ PAGE_SIZE_MAX: '15', PAGE_SIZE_DEFAULT: '10', PAGE_SIZE_EMPLOYEE_LOGS: '16' }),
    ).toThrow(/PAGE_SIZE_EMPLOYEE_LOGS/);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => pageSizesFrom({ PAGE_SIZE_MAX: '0' })).toThrow(/PAGE_SIZE_MAX/);
    expect(() => pageSizesFrom({ PAGE_SIZE_DEFAULT: 'twenty' })).toThrow(/PAGE_SIZE_DEFAULT/);
  });
});
