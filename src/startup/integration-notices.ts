export interface NoticeInputs {
  nodeEnv: string;
  forwardLogUrl?: string;
  forwardFingerprintUrl?: string;
  /** DEVICE_ADMISSION as configured (unset = open). */
  deviceAdmission?: string;
  allowListSize: number;
  adminPasswordIsDefault: boolean;
  metricsToken?: string;
}

export interface Notice {
  level: 'warn' | 'log';
  message: string;
}

/**
 * One line per integration left unset that changes what the app does, so that an operator reading
 * the first screen of the log learns why punches pile up or why any terminal gets in.
 */
export function integrationNotices(i: NoticeInputs): Notice[] {
  const notices: Notice[] = [];
  if (!i.forwardLogUrl) {
    notices.push({
      level: 'warn',
      message:
        'FORWARD_LOG_URL is not set: terminal punches are stored but not forwarded; they wait in the outbox and go out once it is set.',
    });
  }
  if (!i.forwardFingerprintUrl) {
    notices.push({
      level: 'warn',
      message:
        'FORWARD_FINGERPRINT_URL is not set: mobile-app punches are stored but not forwarded; they wait in the outbox and go out once it is set.',
    });
  }
  const admission = (i.deviceAdmission ?? 'open').toLowerCase();
  if (admission === 'open' && i.allowListSize === 0) {
    notices.push({
      level: 'warn',
      message:
        'Terminal admission is open (DEVICE_ADMISSION and DEVICE_ALLOWLIST unset): any serial number that reaches the gateway is registered.',
    });
  }
  if (i.adminPasswordIsDefault && i.nodeEnv !== 'production') {
    notices.push({
      level: 'warn',
      message:
        'ADMIN_PASSWORD is not set: a first admin created now gets the default password; set ADMIN_PASSWORD before others can reach the API.',
    });
  }
  if (!i.metricsToken) {
    notices.push({
      level: 'log',
      message: 'METRICS_TOKEN is not set: GET /metrics answers anyone who reaches the HTTP port.',
    });
  }
  return notices;
}
