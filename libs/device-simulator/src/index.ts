export * from './fleet';
export * from './sim-data';
export * from './terminal-store';
export * from './virtual-terminal';
