import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { appConfig } from './app.config';
import { authConfig } from './auth.config';
import { databaseConfig } from './database.config';
import { deviceGroupsConfig } from './device-groups.config';
import { deviceUsersConfig } from './device-users.config';
import { devicesConfig } from './devices.config';
import { forwardingConfig } from './forwarding.config';
import { operationsConfig } from './operations.config';
import { opsConfig } from './ops.config';

/** Every configuration namespace; the database connection waits until all of them validated. */
export const CONFIG_NAMESPACES = [
  appConfig,
  databaseConfig,
  authConfig,
  devicesConfig,
  operationsConfig,
  forwardingConfig,
  deviceUsersConfig,
  deviceGroupsConfig,
  opsConfig,
];

/**
 * Loads `.env` (optional) and the typed namespaces. Every default lives in the namespaces, so an
 * empty environment starts. Tests set NODE_ENV=test and skip `.env` so a developer's file cannot
 * leak into them.
 */
@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: false,
      ignoreEnvFile: process.env.NODE_ENV === 'test',
      load: [...CONFIG_NAMESPACES],
    }),
  ],
})
export class AppConfigModule {}
