import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '@app/common';
import type { AuthUser } from './auth-user';
import { Role } from './role.enum';
import { ROLES_KEY } from './roles.decorator';

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles || roles.length === 0) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    // Reached without JwtAuthGuard in front: refuse rather than let an anonymous call through.
    if (!user) throw new ApiError(401, 'unauthorized', 'Missing bearer token');
    if (!roles.includes(user.role)) {
      throw new ApiError(403, 'forbidden', `This route requires a ${roles.join(' or ')} token`);
    }
    return true;
  }
}
