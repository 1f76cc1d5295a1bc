export * from './env';
export * from './app.config';
export * from './database.config';
export * from './auth.config';
export * from './devices.config';
export * from './operations.config';
export * from './forwarding.config';
export * from './ops.config';
