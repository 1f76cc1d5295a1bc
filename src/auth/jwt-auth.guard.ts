import { ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ApiError } from '@app/common';
import type { AuthUser } from './auth-user';
import { CredentialStampsService } from './credential-stamps.service';
import { JWT_STRATEGY } from './jwt.strategy';
import { PASSWORD_CHANGE_ROUTE_KEY } from './password-change-route.decorator';
import { Role } from './role.enum';
import { VerifiedTokens } from './verified-tokens';

export const TOKEN_REVOKED_MESSAGE = 'This token was issued before the last password change; log in again';
export const PASSWORD_CHANGE_REQUIRED_MESSAGE =
  'The default admin password must be changed first (POST /api/auth/change-password)';

function hasBearerHeader(context: ExecutionContext): boolean {
  const header = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
  return typeof header === 'string' && /^bearer\s+\S/i.test(header);
}

/**
 * Checks signature, expiry and shape of the bearer token (every failure is the 401 envelope), then
 * that the token is not older than its account's last password change, and that a
 * password-change-only token is used on the password-change route alone.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  /** Tokens already verified (signature, expiry, shape): the same token again skips the signature check. */
  private readonly verified = new VerifiedTokens();

  constructor(
    private readonly stamps: CredentialStampsService,
    private readonly reflector: Reflector,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, unknown>; user?: AuthUser }>();
    const header = req.headers.authorization;
    const known = typeof header === 'string' ? this.verified.get(header) : undefined;
    if (known) req.user = known;
    else {
      await super.canActivate(context);
      if (req.user && typeof header === 'string') this.verified.remember(header, req.user);
    }
    const user = req.user;
    if (!user) throw new ApiError(401, 'unauthorized', 'Missing bearer token');
    await this.checkNotRevoked(user);
    if (user.passwordChangeOnly && !this.isPasswordChangeRoute(context)) {
      throw new ApiError(403, 'password_change_required', PASSWORD_CHANGE_REQUIRED_MESSAGE);
    }
    return true;
  }

  override handleRequest<TUser = AuthUser>(
    err: unknown,
    user: TUser | false | null,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (err instanceof HttpException) throw err;
    if (!err && user) return user;
    if (!hasBearerHeader(context)) throw new ApiError(401, 'unauthorized', 'Missing bearer token');
    if (info instanceof Error && info.name === 'TokenExpiredError') {
      throw new ApiError(401, 'unauthorized', 'Token expired');
    }
    throw new ApiError(401, 'unauthorized', 'Invalid token');
  }

  private async checkNotRevoked(user: AuthUser): Promise<void> {
    const current = await this.stamps.current(user.role, user.sub);
    if (current === undefined) return;
    if (current === null) {
      // A deleted employee keeps today's answers (ActiveEmployeeGuard on employee routes, the role check elsewhere).
      if (user.role === Role.Employee) return;
      throw new ApiError(401, 'unauthorized', 'The admin of this token no longer exists');
    }
    if ((user.passwordStamp ?? 0) !== current) throw new ApiError(401, 'token_revoked', TOKEN_REVOKED_MESSAGE);
  }

  private isPasswordChangeRoute(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(PASSWORD_CHANGE_ROUTE_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }
}
