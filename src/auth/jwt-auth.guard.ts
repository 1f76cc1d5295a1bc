import { ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ApiError } from '@app/common';
import type { AuthUser } from './auth-user';
import { JWT_STRATEGY } from './jwt.strategy';

function hasBearerHeader(context: ExecutionContext): boolean {
  const header = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
  return typeof header === 'string' && /^bearer\s+\S/i.test(header);
}

/** Checks signature, expiry and shape of the bearer token; every failure is the 401 envelope. */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
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
}
