import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { rootLogger } from './root-logger';

/** Nest's own start-up chatter (one line per module, per controller, per route): debug, not info. */
const CHATTY_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
  'WebSocketsController',
]);

/**
 * The Nest LoggerService behind every `new Logger(context)`: pino lines, with Nest's route mapping
 * moved to debug. An initialisation error is reported once, in one line, by main.ts: Nest's own
 * stack-trace report of it (context ExceptionHandler) is kept for debug.
 */
export class AppLogger extends PinoNestLogger {
  override log(message: unknown, ...optionalParams: unknown[]): void {
    if (CHATTY_CONTEXTS.has(String(optionalParams[optionalParams.length - 1]))) {
      super.debug(message, ...optionalParams);
    } else {
      super.log(message, ...optionalParams);
    }
  }

  override error(message: unknown, ...optionalParams: unknown[]): void {
    const context = String(optionalParams[optionalParams.length - 1]);
    // Both report a failed start that main.ts explains in one line.
    if (context === 'ExceptionHandler' || context === 'NestApplication') super.debug(message, ...optionalParams);
    else if (context === 'MongooseModule') {
      // "Unable to connect to the database. Retrying (n)...": a warning, its stack is noise.
      super.warn(message, context);
    } else super.error(message, ...optionalParams);
  }

  /** One for the whole process, usable before Nest's container exists. */
  static create(): AppLogger {
    return new AppLogger(new PinoLogger({ pinoHttp: { logger: rootLogger() } }), {});
  }
}
