import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '@app/common';
import type { AuthUser } from './auth-user';
import { Role } from './role.enum';
import { Roles } from './roles.decorator';
import { RolesGuard } from './roles.guard';

class Routes {
  @Roles(Role.Admin)
  adminOnly(): void {}

  @Roles(Role.Admin, Role.Employee)
  either(): void {}

  open(): void {}
}

@Roles(Role.Employee)
class EmployeeRoutes {
  inherited(): void {}

  @Roles(Role.Admin)
  overridden(): void {}
}

function contextFor(cls: new () => object, method: string, user?: AuthUser): ExecutionContext {
  const handler = (cls.prototype as Record<string, () => void>)[method];
  return {
    getHandler: () => handler,
    getClass: () => cls,
    switchToHttp: () => ({ getRequest: () => ({ user }) }),
  } as unknown as ExecutionContext;
}

const admin: AuthUser = { sub: 'a1', role: Role.Admin, owner: 'a1' };
const employee: AuthUser = { sub: 'e1', role: Role.Employee, owner: 'a1' };

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('RolesGuard', () => {
  const guard = new RolesGuard(new Reflector());

  it('lets the listed role through', () => {
    expect(guard.canActivate(contextFor(Routes, 'adminOnly', admin))).toBe(true);
    expect(guard.canActivate(contextFor(Routes, 'either', employee))).toBe(true);
    expect(guard.canActivate(contextFor(Routes, 'either', admin))).toBe(true);
  });

  it('answers 403 forbidden to another role', () => {
    const err = errorOf(() => guard.canActivate(contextFor(Routes, 'adminOnly', employee)));
    expect(err.getStatus()).toBe(403);
    expect(err.getResponse()).toEqual({
      success: false,
      error: 'forbidden',
      message: 'This route requires a ADMIN token',
    });
  });

  it('answers 401 when no verified user is on the request', () => {
    const err = errorOf(() => guard.canActivate(contextFor(Routes, 'adminOnly')));
    expect(err.getStatus()).toBe(401);
    expect(err.getResponse()).toMatchObject({ success: false, error: 'unauthorized' });
  });

  it('does not restrict a route without roles', () => {
    expect(guard.canActivate(contextFor(Routes, 'open'))).toBe(true);
  });

  it('uses the class roles unless the handler sets its own', () => {
    expect(guard.canActivate(contextFor(EmployeeRoutes, 'inherited', employee))).toBe(true);
    expect(errorOf(() => guard.canActivate(contextFor(EmployeeRoutes, 'inherited', admin))).getStatus()).toBe(403);
    expect(guard.canActivate(contextFor(EmployeeRoutes, 'overridden', admin))).toBe(true);
    expect(errorOf(() => guard.canActivate(contextFor(EmployeeRoutes, 'overridden', employee))).getStatus()).toBe(403);
  });
});
