import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { httpLoggingOptions } from './http-logging';
import { rootLogger } from './root-logger';

/**
 * Structured logs (pino) for Nest's loggers and one access line per HTTP request. The root logger
 * is built when the container is, after the config module has loaded `.env`.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      useFactory: () => ({
        pinoHttp: httpLoggingOptions(rootLogger()),
        forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
      }),
    }),
  ],
})
export class LoggingModule {}
