import { SetMetadata } from '@nestjs/common';

export const PASSWORD_CHANGE_ROUTE_KEY = 'auth:password-change-route';

/** The one route a password-change-only token (default admin password in production) is accepted on. */
export const PasswordChangeRoute = () => SetMetadata(PASSWORD_CHANGE_ROUTE_KEY, true);
