import { SetMetadata } from '@nestjs/common';
import { Role } from './role.enum';

export const ROLES_KEY = 'auth:roles';

/** Roles allowed on a handler or controller; checked by `RolesGuard` after `JwtAuthGuard`. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
