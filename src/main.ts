import { Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { appConfig } from './config/app.config';
import { ConfigValidationError } from './config/env';
import { stopEmbeddedDatabase } from './database/embedded-database';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  const app = await NestFactory.create(AppModule, { bodyParser: false, bufferLogs: true });
  configureApp(app);
  const cfg = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  await app.listen(cfg.port, cfg.host);
  logger.log(`HTTP API on :${cfg.port} (Swagger at /api/docs)`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: shutting down`);
    // A stuck dependency must not keep the process alive past the promised deadline.
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${cfg.shutdownTimeoutMs} ms: exiting`);
      process.exit(1);
    }, cfg.shutdownTimeoutMs).unref();
    app
      .close()
      .then(() => stopEmbeddedDatabase())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error(`Shutdown failed: ${String(err)}`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

bootstrap().catch(async (err: unknown) => {
  const message = err instanceof ConfigValidationError || err instanceof Error ? err.message : String(err);
  new Logger('Bootstrap').error(`Failed to start: ${message}`);
  await stopEmbeddedDatabase().catch(() => undefined);
  process.exit(1);
});
