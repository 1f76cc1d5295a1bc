import { MAX_ENROLL_ID as PROTOCOL_MAX_ENROLL_ID } from '@app/device-protocol';

/** Enroll ids the terminals accept (0 is reserved for door events, 12 digits at most). */
export const MIN_ENROLL_ID = 1;
export const MAX_ENROLL_ID = PROTOCOL_MAX_ENROLL_ID;
/** Fingerprint slots 0-9 and the face/photo slot 50: what remote enrolment can capture. */
export const ENROLL_BACKUPNUMS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50] as const;
