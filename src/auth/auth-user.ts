import { Role } from './role.enum';

/** The verified JWT payload, as handlers see it through `@CurrentUser()`. */
export interface AuthUser {
  /** Admin id or employee id. */
  sub: string;
  role: Role;
  /** Id of the admin who owns the subject; an admin owns itself. */
  owner: string;
  enrollId?: string;
  username?: string;
  /** The account's password stamp when the token was issued (see CredentialStampsService); 0 = never changed. */
  passwordStamp?: number;
  /** Issued for a default password in production: only POST /api/auth/change-password accepts it. */
  passwordChangeOnly?: boolean;
}
