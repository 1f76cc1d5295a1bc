import { ApiError } from '@app/common';

/** The answers of the per-terminal routes when the serial in the path is malformed or unknown. */
export function invalidSn(): ApiError {
  return new ApiError(400, 'invalid_sn', 'sn must be 1-64 letters, digits, ".", "_" or "-"');
}

export function deviceNotFound(sn: string): ApiError {
  return new ApiError(404, 'device_not_found', `No terminal with sn ${sn}`);
}
