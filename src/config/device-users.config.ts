import { registerAs } from '@nestjs/config';
import { readDurationMs } from './env';

export const deviceUsersConfig = registerAs('deviceUsers', () => {
  const env = process.env;
  return {
    /**
     * How often open transfers are checked and their parent operation finished. A child finishing on
     * this instance triggers the check at once; the interval covers children finished elsewhere.
     */
    transferReconcileIntervalMs: readDurationMs(env, 'TRANSFER_RECONCILE_INTERVAL', 5_000, { min: 100 }),
  };
});
export type DeviceUsersConfig = ReturnType<typeof deviceUsersConfig>;
