import {
  buildForwardPayload,
  chunk,
  forwardEnrollId,
  forwardTime,
  newBatchKey,
  isConfirmed,
  targetFor,
} from './forward-payload';

describe('forward payload', () => {
  const appPunch = {
    enrollid: '121',
    event: 1,
    time: new Date('2025-11-25T16:05:08.665Z'),
    device_type: 'mobile_app' as const,
  };
  const terminalPunch = {
    enrollid: '2',
    event: 0,
    time: new Date('2025-11-08T06:00:00.000Z'),
    device_type: 'terminal' as const,
    local_time: '2025-11-08T09:00:00',
  };

  it('builds exactly the contract shape for an app punch: enrollid a number, time ISO UTC with Z', () => {
    expect(buildForwardPayload('App', [appPunch])).toEqual({
      sn: 'App',
      record: [{ enrollid: 121, time: '2025-11-25T16:05:08.665Z', event: 1 }],
    });
  });

  it("sends a terminal punch with the terminal's own wall time, without a zone", () => {
    expect(buildForwardPayload('ZXRE06022863', [terminalPunch])).toEqual({
      sn: 'ZXRE06022863',
      record: [{ enrollid: 2, time: '2025-11-08T09:00:00', event: 0 }],
    });
    expect(JSON.stringify(buildForwardPayload('S', [terminalPunch]).record[0])).toBe(
      '{"enrollid":2,"time":"2025-11-08T09:00:00","event":0}',
    );
  });

  it('keeps the record order of the batch', () => {
    const records = buildForwardPayload('S', [
      { ...terminalPunch, enrollid: '3' },
      { ...terminalPunch, enrollid: '1' },
      { ...terminalPunch, enrollid: '2' },
    ]).record;
    expect(records.map((r) => r.enrollid)).toEqual([3, 1, 2]);
  });

  it('falls back to the UTC wall time when a terminal punch lacks its local time', () => {
    expect(forwardTime({ ...terminalPunch, local_time: null })).toBe('2025-11-08T06:00:00');
  });

  it('forwards a 12-digit enroll id (Topdata readers) as an exact JSON number', () => {
    expect(forwardEnrollId('999999999999')).toBe(999_999_999_999);
    expect(JSON.stringify({ enrollid: forwardEnrollId('123456789012') })).toBe('{"enrollid":123456789012}');
  });

  it('sends a non-numeric enroll id as it is, never NaN', () => {
    expect(forwardEnrollId('00121')).toBe(121);
    expect(forwardEnrollId('EMP-7')).toBe('EMP-7');
  });

  it('routes app punches to the fingerprint endpoint and the rest to the log endpoint', () => {
    expect(targetFor('mobile_app')).toBe('fingerprint');
    expect(targetFor('terminal')).toBe('log');
  });
});

describe('newBatchKey', () => {
  it('is 40 hex digits and new for every batch (the stored key, not the records, ties a retry to its batch)', () => {
    const keys = new Set(Array.from({ length: 100 }, () => newBatchKey()));
    expect(keys.size).toBe(100);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('chunk', () => {
  it('cuts in order with a short last batch', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});

describe('isConfirmed', () => {
  const rule = { required: true, field: 'success' };

  it('needs a 2xx answer whose JSON body has success === true', () => {
    expect(isConfirmed(200, { success: true, forwarded: true }, rule)).toBe(true);
    expect(isConfirmed(201, { success: true }, rule)).toBe(true);
  });

  it('refuses a 2xx answer that does not confirm', () => {
    expect(isConfirmed(200, { success: false }, rule)).toBe(false);
    expect(isConfirmed(200, { success: 'true' }, rule)).toBe(false);
    expect(isConfirmed(200, {}, rule)).toBe(false);
    expect(isConfirmed(200, 'OK', rule)).toBe(false);
    expect(isConfirmed(204, null, rule)).toBe(false);
  });

  it('refuses any non-2xx answer, even one saying success', () => {
    expect(isConfirmed(500, { success: true }, rule)).toBe(false);
    expect(isConfirmed(302, { success: true }, rule)).toBe(false);
  });

  it('uses the configured field, or any 2xx when confirmation is off', () => {
    expect(isConfirmed(200, { ok: true }, { required: true, field: 'ok' })).toBe(true);
    expect(isConfirmed(200, { success: true }, { required: true, field: 'ok' })).toBe(false);
    expect(isConfirmed(204, undefined, { required: false, field: 'success' })).toBe(true);
    expect(isConfirmed(503, undefined, { required: false, field: 'success' })).toBe(false);
  });
});
