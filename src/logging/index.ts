export * from './app-logger';
export * from './http-logging';
export * from './log-context';
export * from './logging.module';
export * from './root-logger';
