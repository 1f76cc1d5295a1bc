export * from './fingerprints.module';
export * from './fingerprints.service';
export * from './punch-images.service';
export { InvalidPunchError } from './punch-record';
export { PunchDeviceType, FINGERPRINT_LOG_MODEL } from './schemas/fingerprint-log.schema';
