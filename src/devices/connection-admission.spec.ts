import { ConnectionAdmission } from './connection-admission';

const conn = (ready = false, open = true) => ({ ready, open });

describe('ConnectionAdmission', () => {
  const logger = { warn: jest.fn() };
  beforeEach(() => logger.warn.mockClear());

  it('admits while fewer than the limit are still registering, then sheds, counts and logs once per 10 s', () => {
    let now = 0;
    const admission = new ConnectionAdmission(2, logger, () => now);
    const a = conn();
    expect(admission.admit(a)).toBe(true);
    expect(admission.admit(conn())).toBe(true);
    expect(admission.admit(conn())).toBe(false);
    expect(admission.admit(conn())).toBe(false);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(admission.stats).toEqual({ accepted: 2, shed: 2, awaitingRegistration: 2 });
    now = 10_000;
    expect(admission.admit(conn())).toBe(false);
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(logger.warn.mock.calls[1][0]).toContain('2 new connection(s) refused (close 1013)');
    // One registers: there is room again.
    admission.settled(a);
    expect(admission.admit(conn())).toBe(true);
  });

  it('does not count connections that registered or closed meanwhile', () => {
    const admission = new ConnectionAdmission(1, logger);
    const registered = { ready: false, open: true };
    expect(admission.admit(registered)).toBe(true);
    registered.ready = true;
    expect(admission.admit(conn())).toBe(true);
    const closed = { ready: false, open: true };
    const b = new ConnectionAdmission(1, logger);
    b.admit(closed);
    closed.open = false;
    expect(b.admit(conn())).toBe(true);
  });

  it('never sheds when the limit is 0', () => {
    const admission = new ConnectionAdmission(0, logger);
    for (let i = 0; i < 100; i++) expect(admission.admit(conn())).toBe(true);
    expect(admission.stats.shed).toBe(0);
  });
});
