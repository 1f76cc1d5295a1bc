import { registerAs } from '@nestjs/config';
import { readDurationMs } from './env';

export const deviceGroupsConfig = registerAs('deviceGroups', () => {
  const env = process.env;
  return {
    /** How often each terminal group's rosters are re-read and its drift counted; 0 turns the check off. */
    driftIntervalMs: readDurationMs(env, 'GROUP_DRIFT_INTERVAL', 6 * 3_600_000, { min: 0 }),
    /** How long the scheduled drift check waits for one member's roster read before counting without it. */
    driftReadTimeoutMs: readDurationMs(env, 'GROUP_DRIFT_READ_TIMEOUT', 10 * 60_000, { min: 1_000 }),
    /**
     * How often open propagations and device-sync applies are checked and their parent operation
     * finished (a step finishing on this instance triggers the check at once).
     */
    reconcileIntervalMs: readDurationMs(env, 'GROUP_SYNC_RECONCILE_INTERVAL', 5_000, { min: 100 }),
  };
});
export type DeviceGroupsConfig = ReturnType<typeof deviceGroupsConfig>;
