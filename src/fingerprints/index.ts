export * from './fingerprints.module';
export * from './fingerprints.service';
export * from './punch-images.service';
export type { FingerPrintLogResponse } from './fingerprint-log.response';
export { InvalidPunchError } from './punch-record';
export { PunchDeviceType, FINGERPRINT_LOG_MODEL } from './schemas/fingerprint-log.schema';
export * from './forward-backlog.service';
