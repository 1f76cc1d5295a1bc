import pino, { type Logger as PinoInstance } from 'pino';
import pinoPretty from 'pino-pretty';
import { loggingOptions, type LogFormat, type LogLevel } from '../config/ops.config';
import { currentLogFields } from './log-context';

export interface RootLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  colour: boolean;
}

let root: PinoInstance | undefined;

export function createRootLogger(opts: RootLoggerOptions): PinoInstance {
  const options: pino.LoggerOptions = {
    level: opts.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => currentLogFields(),
  };
  // Both destinations write synchronously: the line explaining a failed start must be out before exit.
  if (opts.format === 'pretty') {
    return pino(
      options,
      pinoPretty({
        colorize: opts.colour,
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,context',
        messageFormat: '{if context}[{context}] {end}{msg}',
        singleLine: true,
        messageKey: 'msg',
      }),
    );
  }
  return pino(options, pino.destination({ fd: 1, sync: true }));
}

/**
 * The process's logger, built from LOG_LEVEL / LOG_FORMAT on first use. An invalid value must not
 * hide the reason the start failed, so it falls back to the defaults and the config check names it.
 */
export function rootLogger(): PinoInstance {
  if (!root) {
    let opts: RootLoggerOptions;
    try {
      opts = loggingOptions();
    } catch {
      opts = loggingOptions({});
    }
    root = createRootLogger(opts);
  }
  return root;
}
