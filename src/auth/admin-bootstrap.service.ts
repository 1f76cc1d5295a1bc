import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { authConfig, DEFAULT_ADMIN_PASSWORD } from '../config/auth.config';
import { ConfigValidationError } from '../config/env';
import { AdminUsersRepository } from './admin-users.repository';
import { PasswordHasher } from './password-hasher.service';
import { isDuplicateKeyError } from '@app/common';

/**
 * Creates the first admin from ADMIN_EMAIL / ADMIN_PASSWORD when there is none. An existing admin is
 * never touched, so a changed password survives restarts and a changed ADMIN_PASSWORD.
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly admins: AdminUsersRepository,
    private readonly hasher: PasswordHasher,
    @Inject(authConfig.KEY) private readonly cfg: ConfigType<typeof authConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureFirstAdmin();
    await this.warnAboutDefaultPassword();
  }

  async ensureFirstAdmin(): Promise<boolean> {
    if ((await this.admins.count()) > 0) return false;
    if (this.cfg.production && this.cfg.adminPassword === DEFAULT_ADMIN_PASSWORD) {
      throw new ConfigValidationError(
        'ADMIN_PASSWORD',
        `must be set to a password of your own when NODE_ENV=production: the first admin (${this.cfg.adminEmail}) ` +
          `is not created with the default password "${DEFAULT_ADMIN_PASSWORD}"`,
      );
    }
    try {
      await this.admins.create({
        email: this.cfg.adminEmail,
        name: this.cfg.adminName,
        passwordHash: await this.hasher.hash(this.cfg.adminPassword),
      });
    } catch (err) {
      // Another instance booting at the same time created it first.
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
    this.logger.log(`Created the first admin ${this.cfg.adminEmail}`);
    return true;
  }

  private async warnAboutDefaultPassword(): Promise<void> {
    for (const admin of await this.admins.findAll()) {
      if (await this.hasher.verify(admin.passwordHash, DEFAULT_ADMIN_PASSWORD)) {
        this.logger.warn(
          `SECURITY: admin ${admin.email} still has the default password "${DEFAULT_ADMIN_PASSWORD}". ` +
            (this.cfg.production
              ? 'In production its logins only get a token for POST /api/auth/change-password: change it now.'
              : 'Change it now (POST /api/auth/change-password) or set ADMIN_PASSWORD before the first start.'),
        );
      }
    }
  }
}
