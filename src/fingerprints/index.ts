export * from './fingerprints.module';
export * from './fingerprints.service';
export * from './punch-images.service';
export { decodeBase64Image, sniffImageMime, type PunchImageMime } from './image-decoding';
export type { FingerPrintLogResponse } from './fingerprint-log.response';
export { InvalidPunchError, type InvalidPunch } from './punch-record';
export { PunchDeviceType, FINGERPRINT_LOG_MODEL, type TerminalPunchSource } from './schemas/fingerprint-log.schema';
export * from './forward-backlog.service';
