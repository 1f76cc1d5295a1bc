import { Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { appConfig } from './config/app.config';
import { authConfig, DEFAULT_ADMIN_PASSWORD } from './config/auth.config';
import { devicesConfig } from './config/devices.config';
import { forwardingConfig } from './config/forwarding.config';
import { opsConfig } from './config/ops.config';
import { stopEmbeddedDatabase } from './database/embedded-database';
import { TerminalGateway } from './devices';
import { HealthService } from './health/health.service';
import { AppLogger } from './logging/app-logger';
import { rootLogger } from './logging/root-logger';
import { OperationDrainService } from './operations';
import { integrationNotices } from './startup/integration-notices';
import { describeStartupFailure } from './startup/startup-failure';

async function bootstrap(): Promise<void> {
  const appLogger = AppLogger.create();
  const logger = new Logger('Bootstrap');
  // abortOnError off: a failed start is reported by the catch below in one line, not by Nest's abort.
  const app = await NestFactory.create(AppModule, { bodyParser: false, logger: appLogger, abortOnError: false });
  configureApp(app);
  const cfg = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  const ops = app.get<ConfigType<typeof opsConfig>>(opsConfig.KEY);
  announceIntegrations(app.get(forwardingConfig.KEY), app.get(devicesConfig.KEY), app.get(authConfig.KEY), cfg, ops);

  await app.listen(cfg.port, cfg.host);
  const httpPort = (app.getHttpServer() as { address(): AddressInfo | string | null }).address();
  const wsPort = app.get(TerminalGateway).port;
  logger.log({
    msg: `Ready: HTTP API on :${typeof httpPort === 'object' && httpPort ? httpPort.port : cfg.port} (Swagger at /api/docs, metrics at /metrics), terminal gateway on :${wsPort}`,
    httpPort: typeof httpPort === 'object' && httpPort ? httpPort.port : cfg.port,
    wsPort,
  });

  const health = app.get(HealthService);
  const drain = app.get(OperationDrainService);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Readiness goes off first; balancers stop sending while commands in flight finish.
    health.startDraining();
    logger.log(
      `${signal} received: readiness off, draining for ${ops.drainDelayMs} ms, then stopping (deadline ${cfg.shutdownTimeoutMs} ms)`,
    );
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${ops.drainDelayMs + cfg.shutdownTimeoutMs} ms: exiting`);
      process.exit(1);
    }, ops.drainDelayMs + cfg.shutdownTimeoutMs).unref();
    Promise.all([drain.quiesce(ops.drainDelayMs), new Promise((r) => setTimeout(r, ops.drainDelayMs))])
      .then(() => drain.handBack())
      .catch((err: unknown) => logger.warn(`Operations not handed back (their leases will expire): ${String(err)}`))
      .then(() => app.close())
      .then(() => stopEmbeddedDatabase())
      .then(() => {
        logger.log('Stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error(`Shutdown failed: ${String(err)}`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

function announceIntegrations(
  forwarding: ConfigType<typeof forwardingConfig>,
  devices: ConfigType<typeof devicesConfig>,
  auth: ConfigType<typeof authConfig>,
  app: ConfigType<typeof appConfig>,
  ops: ConfigType<typeof opsConfig>,
): void {
  const logger = new Logger('Config');
  const notices = integrationNotices({
    nodeEnv: app.nodeEnv,
    forwardLogUrl: forwarding.logUrl,
    forwardFingerprintUrl: forwarding.fingerprintUrl,
    deviceAdmission: (devices as { admission?: string }).admission ?? ops.deviceAdmission,
    allowListSize: devices.allowList.length,
    adminPasswordIsDefault: auth.adminPassword === DEFAULT_ADMIN_PASSWORD,
    metricsToken: ops.metricsToken,
  });
  for (const notice of notices) {
    if (notice.level === 'warn') logger.warn(notice.message);
    else logger.log(notice.message);
  }
}

bootstrap().catch(async (err: unknown) => {
  const log = rootLogger();
  log.debug({ err }, 'Start-up failure, with its stack');
  log.fatal(describeStartupFailure(err));
  await stopEmbeddedDatabase().catch(() => undefined);
  process.exit(1);
});
