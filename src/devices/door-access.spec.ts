import { frameAccess, mayOpen } from './door-access';

describe('door decisions', () => {
  it('opens for a user of the terminal or an active employee, not for strangers', () => {
    expect(mayOpen({ deviceUser: {}, employees: [] })).toBe(true);
    expect(mayOpen({ employees: [{ isActive: true }] })).toBe(true);
    expect(mayOpen({ employees: [] })).toBe(false);
  });

  it('keeps the door shut for a user disabled on the terminal or a deactivated employee', () => {
    expect(mayOpen({ deviceUser: { enabled: false }, employees: [{ isActive: true }] })).toBe(false);
    expect(mayOpen({ deviceUser: { enabled: true }, employees: [{ isActive: false }] })).toBe(false);
    expect(mayOpen({ deviceUser: {}, employees: [{ isActive: false }, { isActive: true }] })).toBe(true);
  });

  it('needs every person of the frame; door events decide nothing; always/never override', () => {
    const known = new Set([5]);
    const standing = (id: number) => (known.has(id) ? { deviceUser: {}, employees: [] } : { employees: [] });
    expect(frameAccess('known', [5, 0], standing)).toBe(1);
    expect(frameAccess('known', [5, 6], standing)).toBe(0);
    expect(frameAccess('known', [0], standing)).toBe(1);
    expect(frameAccess('always', [6], standing)).toBe(1);
    expect(frameAccess('never', [5], standing)).toBe(0);
  });
});
