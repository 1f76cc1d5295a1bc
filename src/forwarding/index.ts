export * from './forwarding.module';
export * from './forwarding.service';
export * from './forward-payload';
