export * from './fleet';
export * from './sim-data';
export * from './terminal-store';
export * from './virtual-terminal';
export * from './keypad';
