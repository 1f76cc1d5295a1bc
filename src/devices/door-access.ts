/** `access` in an ack: 1 lets a terminal in server mode open its door, 0 keeps it shut. */
export type Access = 0 | 1;

export type AccessPolicy = 'known' | 'always' | 'never';

/** What the server knows about one enroll id on one terminal. */
export interface EnrollIdStanding {
  /** a user of that terminal in the server's copy */
  deviceUser?: { enabled?: boolean };
  /** employees with that enroll_id (any owner) */
  employees: { isActive: boolean }[];
}

/**
 * The door rule for one enroll id: known (a user of the terminal in the server's copy, or an
 * active employee with that enroll_id) and not disabled (not disabled on the terminal, and not
 * only deactivated employees).
 */
export function mayOpen(standing: EnrollIdStanding): boolean {
  const activeEmployee = standing.employees.some((e) => e.isActive);
  if (standing.deviceUser?.enabled === false) return false;
  if (standing.employees.length > 0 && !activeEmployee) return false;
  return standing.deviceUser !== undefined || activeEmployee;
}

/**
 * The access of a frame: 1 only when every record is by an enroll id that may open. Door events
 * (enroll id 0) are not people and decide nothing.
 */
export function frameAccess(
  policy: AccessPolicy,
  enrollids: readonly number[],
  standingOf: (enrollid: number) => EnrollIdStanding,
): Access {
  if (policy === 'always') return 1;
  if (policy === 'never') return 0;
  for (const id of enrollids) {
    if (id === 0) continue;
    if (!mayOpen(standingOf(id))) return 0;
  }
  return 1;
}
