import { Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { CONFIG_NAMESPACES } from '../config/config.module';
import { databaseConfig } from '../config/database.config';
import { startEmbeddedDatabase } from './embedded-database';

@Module({
  imports: [
    MongooseModule.forRootAsync({
      // Every namespace is injected so that an invalid value anywhere stops the boot before we connect.
      inject: [databaseConfig.KEY, ...CONFIG_NAMESPACES.filter((n) => n !== databaseConfig).map((n) => n.KEY)],
      useFactory: async (cfg: ConfigType<typeof databaseConfig>) => {
        const retry = { retryAttempts: cfg.connectRetries, retryDelay: 3000 };
        if (cfg.uri) return { uri: cfg.uri, autoIndex: true, autoCreate: true, ...retry };
        const db = await startEmbeddedDatabase({
          tcpPort: cfg.embeddedPort,
          dataDir: cfg.embeddedInMemory ? undefined : cfg.embeddedDataDir,
          maxMemoryBytes: cfg.embeddedMaxMemory,
        });
        return { uri: `${db.uri}/${cfg.embeddedDbName}`, autoIndex: true, autoCreate: true, ...retry };
      },
    }),
  ],
})
export class DatabaseModule {}
