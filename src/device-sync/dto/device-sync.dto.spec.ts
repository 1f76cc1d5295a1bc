import { ApiError } from '@app/common';
import { checkPlanSource, PlanSyncDto } from './device-sync.dto';

function codeOf(dto: Partial<PlanSyncDto>): string | undefined {
  try {
    checkPlanSource(Object.assign(new PlanSyncDto(), dto));
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return `${err.getStatus()} ${err.code}`;
    throw err;
  }
}

describe('checkPlanSource', () => {
  it('takes exactly one source', () => {
    expect(codeOf({ fromSn: 'A', toSn: 'B' })).toBeUndefined();
    expect(codeOf({ fromBackup: true, toSn: 'B' })).toBeUndefined();
    expect(codeOf({ toSn: 'B' })).toBe('400 invalid_source');
    expect(codeOf({ fromBackup: false, toSn: 'B' })).toBe('400 invalid_source');
    expect(codeOf({ fromSn: 'A', fromBackup: true, toSn: 'B' })).toBe('400 invalid_source');
  });

  it('refuses the target as its own source', () => {
    expect(codeOf({ fromSn: 'B', toSn: 'B' })).toBe('400 same_terminal');
  });
});
