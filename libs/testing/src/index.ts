export * from './test-db';
export * from './tokens';
export * from './wait';
