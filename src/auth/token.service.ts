import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { JwtService } from '@nestjs/jwt';
import { authConfig } from '../config/auth.config';
import type { AuthUser } from './auth-user';
import { Role } from './role.enum';

export const JWT_ALGORITHM = 'HS256';

/** Issues the tokens of both roles, each with its configured lifetime. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    @Inject(authConfig.KEY) private readonly cfg: ConfigType<typeof authConfig>,
  ) {}

  issue(user: AuthUser): Promise<string> {
    const ttlMs = user.role === Role.Admin ? this.cfg.adminTokenTtlMs : this.cfg.employeeTokenTtlMs;
    const payload: Record<string, string | number | boolean> = { sub: user.sub, role: user.role, owner: user.owner };
    if (user.enrollId !== undefined) payload.enrollId = user.enrollId;
    if (user.username !== undefined) payload.username = user.username;
    payload.pws = user.passwordStamp ?? 0;
    if (user.passwordChangeOnly) payload.pco = true;
    return this.jwt.signAsync(payload, { algorithm: JWT_ALGORITHM, expiresIn: Math.floor(ttlMs / 1000) });
  }
}
