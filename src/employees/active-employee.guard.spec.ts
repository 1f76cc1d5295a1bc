import { ExecutionContext } from '@nestjs/common';
import { ApiError } from '@app/common';
import { AuthUser, Role } from '../auth';
import { ActiveEmployeeGuard, EmployeeRequest } from './active-employee.guard';
import type { EmployeeView } from './employee.view';
import type { EmployeesService } from './employees.service';

const OWNER = '690f78b6dcccc75fb6722fe2';
const ID = '69256416bd792a2ff963a6c9';

function employee(overrides: Partial<EmployeeView> = {}): EmployeeView {
  return {
    _id: ID,
    enroll_id: '121',
    username: 'asd',
    fullName: 'Mustafa',
    phone: '',
    email: '',
    isActive: true,
    app_permissions: { can_login_app: true, can_view_fingerprint: true },
    owner: OWNER,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...overrides,
  };
}

const token: AuthUser = { sub: ID, role: Role.Employee, owner: OWNER, enrollId: '121', username: 'asd' };

function setup(stored: EmployeeView | null) {
  const lookups: string[] = [];
  const service = {
    findById: async (id: string) => {
      lookups.push(id);
      return stored;
    },
  } as unknown as EmployeesService;
  return { guard: new ActiveEmployeeGuard(service), lookups };
}

function contextFor(request: EmployeeRequest): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

async function refusal(promise: Promise<unknown>): Promise<{ status: number; body: unknown }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(err)}`);
  return { status: err.getStatus(), body: err.getResponse() };
}

describe('ActiveEmployeeGuard', () => {
  it('lets an existing active employee through and puts them on the request', async () => {
    const stored = employee();
    const { guard, lookups } = setup(stored);
    const request: EmployeeRequest = { user: token };
    await expect(guard.canActivate(contextFor(request))).resolves.toBe(true);
    expect(lookups).toEqual([ID]);
    expect(request.employee).toBe(stored);
  });

  it('a missing app_permissions.can_login_app counts as allowed', async () => {
    const { guard } = setup(employee({ app_permissions: { can_view_fingerprint: false } }));
    await expect(guard.canActivate(contextFor({ user: token }))).resolves.toBe(true);
  });

  it('401 when the employee was deleted', async () => {
    const { guard } = setup(null);
    expect(await refusal(guard.canActivate(contextFor({ user: token })))).toEqual({
      status: 401,
      body: { success: false, error: 'unauthorized', message: 'The employee of this token no longer exists' },
    });
  });

  it('401 when the employee now belongs to another owner than the token says', async () => {
    const { guard } = setup(employee({ owner: '690f78b6dcccc75fb6722fe3' }));
    expect((await refusal(guard.canActivate(contextFor({ user: token })))).status).toBe(401);
  });

  it('403 account_inactive when deactivated', async () => {
    const { guard } = setup(employee({ isActive: false }));
    const request: EmployeeRequest = { user: token };
    expect(await refusal(guard.canActivate(contextFor(request)))).toEqual({
      status: 403,
      body: { success: false, error: 'account_inactive', message: 'This employee account is deactivated' },
    });
    expect(request.employee).toBeUndefined();
  });

  it('403 app_login_not_allowed when can_login_app was turned off', async () => {
    const { guard } = setup(employee({ app_permissions: { can_login_app: false } }));
    expect(await refusal(guard.canActivate(contextFor({ user: token })))).toEqual({
      status: 403,
      body: {
        success: false,
        error: 'app_login_not_allowed',
        message: 'This employee is not allowed to use the mobile app',
      },
    });
  });

  it('refuses without looking anything up when there is no employee token', async () => {
    const { guard, lookups } = setup(employee());
    expect((await refusal(guard.canActivate(contextFor({})))).status).toBe(401);
    const adminToken: AuthUser = { sub: OWNER, role: Role.Admin, owner: OWNER };
    expect(await refusal(guard.canActivate(contextFor({ user: adminToken })))).toEqual({
      status: 403,
      body: { success: false, error: 'forbidden', message: 'This route requires a EMPLOYEE token' },
    });
    expect(lookups).toEqual([]);
  });
});
