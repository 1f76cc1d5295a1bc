import { toAuthUser } from './jwt-payload';
import { Role } from './role.enum';

describe('toAuthUser', () => {
  it('keeps the claims we issue and drops the rest', () => {
    expect(toAuthUser({ sub: 'a1', role: 'ADMIN', owner: 'a1', iat: 1, exp: 2, extra: true })).toEqual({
      sub: 'a1',
      role: Role.Admin,
      owner: 'a1',
    });
    expect(toAuthUser({ sub: 'e1', role: 'EMPLOYEE', owner: 'a1', enrollId: '7', username: 'bob' })).toEqual({
      sub: 'e1',
      role: Role.Employee,
      owner: 'a1',
      enrollId: '7',
      username: 'bob',
    });
  });

  it.each([
    ['not an object', 'x'],
    ['null', null],
    ['no sub', { role: 'ADMIN', owner: 'a1' }],
    ['empty sub', { sub: '', role: 'ADMIN', owner: 'a1' }],
    ['numeric sub', { sub: 5, role: 'ADMIN', owner: 'a1' }],
    ['no role', { sub: 'a1', owner: 'a1' }],
    ['unknown role', { sub: 'a1', role: 'ROOT', owner: 'a1' }],
    ['lower-case role', { sub: 'a1', role: 'admin', owner: 'a1' }],
    ['no owner', { sub: 'a1', role: 'ADMIN' }],
    ['bad enrollId', { sub: 'e1', role: 'EMPLOYEE', owner: 'a1', enrollId: 7 }],
    ['bad username', { sub: 'e1', role: 'EMPLOYEE', owner: 'a1', username: '' }],
  ])('refuses a payload with %s', (_case, payload) => {
    expect(toAuthUser(payload)).toBeNull();
  });
});
