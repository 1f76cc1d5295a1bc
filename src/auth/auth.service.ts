import { Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import { AdminUsersRepository } from './admin-users.repository';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordHasher } from './password-hasher.service';
import { Role } from './role.enum';
import { TokenService } from './token.service';

export interface AdminLoginResult {
  success: true;
  token: string;
  user: { email: string; name: string; role: Role.Admin };
}

export const INVALID_ADMIN_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService {
  constructor(
    private readonly admins: AdminUsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottleService,
  ) {}

  async login(email: string, password: string, ip: string | undefined): Promise<AdminLoginResult> {
    const normalised = email.trim().toLowerCase();
    const ticket = await this.throttle.begin('admin', normalised, ip);
    const admin = await this.admins.findByEmail(normalised);
    const ok = admin
      ? await this.hasher.verify(admin.passwordHash, password)
      : await this.hasher.verifyAgainstNothing(password);
    if (!admin || !ok) throw new ApiError(401, 'invalid_credentials', INVALID_ADMIN_CREDENTIALS);
    await ticket.succeeded();
    const token = await this.tokens.issue({ sub: admin.id, role: Role.Admin, owner: admin.id });
    return { success: true, token, user: { email: admin.email, name: admin.name, role: Role.Admin } };
  }

  async changePassword(
    adminId: string,
    currentPassword: string,
    newPassword: string,
    ip: string | undefined,
  ): Promise<{ success: true; message: string }> {
    const admin = await this.admins.findById(adminId);
    if (!admin) throw new ApiError(401, 'unauthorized', 'The admin of this token no longer exists');
    // Guessing the current password with a stolen token is a brute-force attempt like any other.
    const ticket = await this.throttle.begin('admin', admin.email, ip);
    if (!(await this.hasher.verify(admin.passwordHash, currentPassword))) {
      throw new ApiError(400, 'invalid_current_password', 'The current password is not correct');
    }
    await ticket.succeeded();
    const updated = await this.admins.setPasswordHash(admin.id, await this.hasher.hash(newPassword));
    if (!updated) throw new ApiError(401, 'unauthorized', 'The admin of this token no longer exists');
    return { success: true, message: 'Password changed' };
  }
}
