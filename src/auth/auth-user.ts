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
}
