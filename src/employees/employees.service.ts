import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiError, CallBatcher } from '@app/common';
import {
  CredentialStampsService,
  LoginThrottleService,
  PasswordHasher,
  passwordStampOf,
  Role,
  TokenService,
} from '../auth';
import { CreateEmployeeDto } from './dto/create-employee.dto';
import { UpdateEmployeeDto } from './dto/update-employee.dto';
import { canLoginApp, EmployeeRef, EmployeeView } from './employee.view';
import { EmployeeChanges, EmployeeConflictError, EmployeesRepository } from './employees.repository';
import { DEFAULT_APP_PERMISSIONS } from './schemas/employee.schema';

export const INVALID_EMPLOYEE_CREDENTIALS = 'Invalid username or password';
export const ACCOUNT_INACTIVE_MESSAGE = 'This employee account is deactivated';
export const APP_LOGIN_NOT_ALLOWED_MESSAGE = 'This employee is not allowed to use the mobile app';

export function employeeNotFound(): ApiError {
  return new ApiError(404, 'employee_not_found', 'No employee with this id');
}

function conflictToApiError(err: unknown): unknown {
  if (!(err instanceof EmployeeConflictError)) return err;
  return err.field === 'username'
    ? new ApiError(409, 'username_taken', 'This username is already taken')
    : new ApiError(409, 'enroll_id_taken', 'Another employee already has this enroll_id');
}

/** Why an employee may not use the app right now, or null when they may. */
export function appAccessRefusal(employee: EmployeeView): ApiError | null {
  if (!employee.isActive) return new ApiError(403, 'account_inactive', ACCOUNT_INACTIVE_MESSAGE);
  if (!canLoginApp(employee)) return new ApiError(403, 'app_login_not_allowed', APP_LOGIN_NOT_ALLOWED_MESSAGE);
  return null;
}

export interface EmployeeLoginResult {
  token: string;
  employee: EmployeeView;
}

@Injectable()
export class EmployeesService implements OnModuleInit {
  /**
   * The enroll-id lookups of terminal frames arriving together (many terminals sending at once),
   * answered by one read: a read per frame was a database round trip per frame.
   */
  private readonly enrollIdLookups = new CallBatcher<string[], EmployeeRef[]>((lists) => this.lookUpTogether(lists));

  constructor(
    private readonly repo: EmployeesRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottleService,
    private readonly stamps: CredentialStampsService,
  ) {}

  onModuleInit(): void {
    this.stamps.register(Role.Employee, async (id) => {
      const found = await this.repo.findPasswordChangedAt(id);
      return found ? passwordStampOf(found.passwordChangedAt) : null;
    });
  }

  findById(id: string): Promise<EmployeeView | null> {
    return this.repo.findById(id);
  }

  /** Employees with these terminal user ids (one organisation per installation). */
  findByEnrollIds(enrollIds: string[]): Promise<EmployeeView[]> {
    return this.repo.findByEnrollIds(enrollIds);
  }

  /**
   * The employees with these enroll ids, for a terminal frame (owner of its punches, the door
   * decision): read together with the other frames' lookups made at the same time.
   */
  findRefsByEnrollIds(enrollIds: string[]): Promise<EmployeeRef[]> {
    if (enrollIds.length === 0) return Promise.resolve([]);
    return this.enrollIdLookups.add(enrollIds);
  }

  private async lookUpTogether(lists: string[][]): Promise<EmployeeRef[][]> {
    const found = await this.repo.findRefsByEnrollIds(lists.flat());
    const byEnrollId = new Map<string, EmployeeRef[]>();
    for (const e of found) {
      const same = byEnrollId.get(e.enroll_id);
      if (same) same.push(e);
      else byEnrollId.set(e.enroll_id, [e]);
    }
    return lists.map((ids) => [...new Set(ids)].flatMap((id) => byEnrollId.get(id) ?? []));
  }

  list(owner: string, q?: string): Promise<EmployeeView[]> {
    return this.repo.listByOwner(owner, q);
  }

  async get(owner: string, id: string): Promise<EmployeeView> {
    const employee = await this.repo.findByIdForOwner(id, owner);
    if (!employee) throw employeeNotFound();
    return employee;
  }

  async create(owner: string, dto: CreateEmployeeDto): Promise<EmployeeView> {
    try {
      return await this.repo.create({
        enroll_id: dto.enroll_id,
        username: dto.username,
        passwordHash: await this.hasher.hash(dto.password),
        fullName: dto.fullName,
        phone: dto.phone ?? '',
        email: dto.email ?? '',
        isActive: dto.isActive ?? true,
        app_permissions: { ...DEFAULT_APP_PERMISSIONS, ...dto.app_permissions },
        owner,
      });
    } catch (err) {
      throw conflictToApiError(err);
    }
  }

  async update(owner: string, id: string, dto: UpdateEmployeeDto): Promise<EmployeeView> {
    const changes: EmployeeChanges = {};
    if (dto.enroll_id !== undefined) changes.enroll_id = dto.enroll_id;
    if (dto.username !== undefined) changes.username = dto.username;
    if (dto.password !== undefined) {
      changes.passwordHash = await this.hasher.hash(dto.password);
      changes.passwordChangedAt = new Date();
    }
    if (dto.fullName !== undefined) changes.fullName = dto.fullName;
    if (dto.phone !== undefined) changes.phone = dto.phone;
    if (dto.email !== undefined) changes.email = dto.email;
    if (dto.isActive !== undefined) changes.isActive = dto.isActive;
    if (dto.app_permissions !== undefined) changes.app_permissions = dto.app_permissions;
    let employee: EmployeeView | null;
    try {
      employee = await this.repo.updateForOwner(id, owner, changes);
    } catch (err) {
      throw conflictToApiError(err);
    }
    if (changes.passwordChangedAt) this.stamps.forget(Role.Employee, id);
    if (!employee) throw employeeNotFound();
    return employee;
  }

  async remove(owner: string, id: string): Promise<EmployeeView> {
    const employee = await this.repo.deleteForOwner(id, owner);
    if (!employee) throw employeeNotFound();
    return employee;
  }

  async login(username: string, password: string, ip: string | undefined): Promise<EmployeeLoginResult> {
    const ticket = await this.throttle.begin('employee', username, ip);
    const found = await this.repo.findCredentialsByUsername(username);
    const ok = found
      ? await this.hasher.verify(found.passwordHash, password)
      : await this.hasher.verifyAgainstNothing(password);
    if (!found || !ok) throw new ApiError(401, 'invalid_credentials', INVALID_EMPLOYEE_CREDENTIALS);
    // The password was right: this is not a failed guess, whatever the account's state.
    await ticket.succeeded();
    const { employee } = found;
    const refusal = appAccessRefusal(employee);
    if (refusal) throw refusal;
    const token = await this.tokens.issue({
      sub: employee._id,
      role: Role.Employee,
      owner: employee.owner,
      enrollId: employee.enroll_id,
      username: employee.username,
      passwordStamp: passwordStampOf(found.passwordChangedAt),
    });
    return { token, employee };
  }
}
