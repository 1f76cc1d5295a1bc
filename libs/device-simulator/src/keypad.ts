import { generateUsers, type SimUser } from './sim-data';
import type { VirtualTerminal } from './virtual-terminal';

/**
 * A person enrolled at the terminal's keypad: a new user (the next free enroll id from `firstId`)
 * with generated credentials, stored on the terminal and pushed with `senduser` when the server allows.
 */
export async function enrolNewUserAtKeypad(
  terminal: VirtualTerminal,
  opts: { firstId?: number; seed?: string | number } = {},
): Promise<SimUser> {
  let enrollid = opts.firstId ?? 1;
  while (terminal.users.has(enrollid)) enrollid++;
  const [user] = generateUsers(1, opts.seed ?? `${terminal.sn}:keypad:${enrollid}`, enrollid);
  await terminal.enrolAtKeypad({ ...user, admin: 0 });
  return user;
}
