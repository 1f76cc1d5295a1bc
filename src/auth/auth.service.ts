import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiError } from '@app/common';
import { authConfig, DEFAULT_ADMIN_PASSWORD } from '../config/auth.config';
import { AdminUsersRepository } from './admin-users.repository';
import { CredentialStampsService, passwordStampOf } from './credential-stamps.service';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordHasher } from './password-hasher.service';
import { Role } from './role.enum';
import { TokenService } from './token.service';

export interface AdminLoginResult {
  token: string;
  user: { email: string; name: string; role: Role.Admin };
  /** Only present (true) when the token is accepted by POST /api/auth/change-password alone. */
  passwordChangeRequired?: true;
}

export const INVALID_ADMIN_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService implements OnModuleInit {
  constructor(
    private readonly admins: AdminUsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottleService,
    private readonly stamps: CredentialStampsService,
    @Inject(authConfig.KEY) private readonly cfg: ConfigType<typeof authConfig>,
  ) {}

  onModuleInit(): void {
    this.stamps.register(Role.Admin, async (id) => {
      const found = await this.admins.findPasswordChangedAt(id);
      return found ? passwordStampOf(found.passwordChangedAt) : null;
    });
  }

  async login(email: string, password: string, ip: string | undefined): Promise<AdminLoginResult> {
    const normalised = email.trim().toLowerCase();
    const ticket = await this.throttle.begin('admin', normalised, ip);
    const admin = await this.admins.findByEmail(normalised);
    const ok = admin
      ? await this.hasher.verify(admin.passwordHash, password)
      : await this.hasher.verifyAgainstNothing(password);
    if (!admin || !ok) throw new ApiError(401, 'invalid_credentials', INVALID_ADMIN_CREDENTIALS);
    await ticket.succeeded();
    // In production the well-known default password only buys the right to replace it.
    const changeOnly = this.cfg.production && password === DEFAULT_ADMIN_PASSWORD;
    const token = await this.tokens.issue({
      sub: admin.id,
      role: Role.Admin,
      owner: admin.id,
      passwordStamp: passwordStampOf(admin.passwordChangedAt),
      ...(changeOnly ? { passwordChangeOnly: true } : {}),
    });
    const user = { email: admin.email, name: admin.name, role: Role.Admin } as const;
    return changeOnly ? { token, user, passwordChangeRequired: true } : { token, user };
  }

  async changePassword(
    adminId: string,
    currentPassword: string,
    newPassword: string,
    ip: string | undefined,
  ): Promise<void> {
    const admin = await this.admins.findById(adminId);
    if (!admin) throw new ApiError(401, 'unauthorized', 'The admin of this token no longer exists');
    // Guessing the current password with a stolen token is a brute-force attempt like any other.
    const ticket = await this.throttle.begin('admin', admin.email, ip);
    if (!(await this.hasher.verify(admin.passwordHash, currentPassword))) {
      throw new ApiError(400, 'invalid_current_password', 'The current password is not correct');
    }
    await ticket.succeeded();
    if (this.cfg.production && newPassword === DEFAULT_ADMIN_PASSWORD) {
      throw new ApiError(400, 'validation_failed', 'newPassword: must not be the default password', {
        errors: [{ field: 'newPassword', messages: ['must not be the default password'] }],
      });
    }
    const hash = await this.hasher.hash(newPassword);
    const updated = await this.admins.setPasswordHash(admin.id, hash, new Date());
    this.stamps.forget(Role.Admin, admin.id);
    if (!updated) throw new ApiError(401, 'unauthorized', 'The admin of this token no longer exists');
  }
}
