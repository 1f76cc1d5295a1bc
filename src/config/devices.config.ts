import { registerAs } from '@nestjs/config';
import { readPort, readTimeZone } from './env';

export const devicesConfig = registerAs('devices', () => {
  const env = process.env;
  return {
    /** Port of the terminal WebSocket gateway. */
    wsPort: readPort(env, 'WS_PORT', 9091),
    /** Time zone of terminals that have none configured (default: the server's). */
    defaultTimeZone: readTimeZone(env, 'DEVICE_DEFAULT_TIMEZONE', Intl.DateTimeFormat().resolvedOptions().timeZone),
  };
});
export type DevicesConfig = ReturnType<typeof devicesConfig>;
