import { ConfigValidationError } from '../config/env';

interface ErrnoLike {
  code?: unknown;
  port?: unknown;
  address?: unknown;
  name?: unknown;
  message?: unknown;
}

function text(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

/** The port a listen error names (`listen EADDRINUSE: address already in use 0.0.0.0:9091`). */
function portOf(err: ErrnoLike, message: string): string {
  if (typeof err.port === 'number') return String(err.port);
  const match = /:(\d+)(?:\D*)$/.exec(message) ?? /:(\d+)/.exec(message);
  return match ? match[1] : '?';
}

const DB_ERROR_NAMES = new Set([
  'MongooseServerSelectionError',
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoTopologyClosedError',
]);

/**
 * One line, cause then fix, for a start that failed; an operator reads it in `docker logs` or a
 * terminal without the stack (which main.ts logs at debug).
 */
export function describeStartupFailure(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrnoLike;
  const message = firstLine(text(err));

  if (err instanceof ConfigValidationError || message.startsWith('Invalid configuration:')) {
    const variable =
      err instanceof ConfigValidationError ? err.variable : (/([A-Z][A-Z0-9_]+)/.exec(message)?.[1] ?? '');
    const detail = message.replace(/^Invalid configuration:\s*/, '');
    return (
      `Cannot start: invalid configuration: ${detail}. ` +
      `Fix: correct ${variable || 'the variable'} in the environment or .env (.env.example lists every variable with its default).`
    );
  }

  const gateway = message.includes('Terminal gateway');
  const portVar = gateway ? 'WS_PORT' : 'PORT';
  const hostVar = gateway ? 'WS_HOST' : 'HOST';
  const what = gateway ? 'the terminal gateway' : 'the HTTP API';
  if (e.code === 'EADDRINUSE' || message.includes('EADDRINUSE')) {
    const port = portOf(e, message);
    return (
      `Cannot start: port ${port} for ${what} is already in use by another process. ` +
      `Fix: stop that process (often a second instance on this machine) or set ${portVar} to a free port.`
    );
  }
  if (e.code === 'EACCES' || message.includes('EACCES')) {
    const port = portOf(e, message);
    return (
      `Cannot start: not allowed to listen on port ${port} for ${what} (ports below 1024 need privileges). ` +
      `Fix: set ${portVar} to a port above 1023, or put a proxy in front.`
    );
  }
  if (e.code === 'EADDRNOTAVAIL' || message.includes('EADDRNOTAVAIL')) {
    return (
      `Cannot start: ${what} cannot bind to its address, which is not on this machine (${message}). ` +
      `Fix: set ${hostVar} to an address of this machine, or 0.0.0.0.`
    );
  }

  const dataDir = /data directory (.+?) is in use by process (\d+)/.exec(message);
  if (dataDir) {
    return (
      `Cannot start: the embedded database's data directory ${dataDir[1]} is in use by process ${dataDir[2]}. ` +
      'Fix: stop that process (another instance on the same DATA_DIR), give this instance its own DATA_DIR, ' +
      'or run several instances on MongoDB (MONGODB_URI).'
    );
  }

  const name = typeof e.name === 'string' ? e.name : '';
  if (/Authentication failed|auth.*failed/i.test(message) && name.startsWith('Mongo')) {
    return (
      `Cannot start: the database refused the credentials (${message}). ` +
      'Fix: correct the user, password and authSource in MONGODB_URI.'
    );
  }
  if (
    DB_ERROR_NAMES.has(name) ||
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|getaddrinfo|Server selection timed out|connection .* closed/i.test(message)
  ) {
    return (
      `Cannot start: the database is unreachable (${message}). ` +
      'Fix: start MongoDB or correct MONGODB_URI (host, port, replica set); unset MONGODB_URI to use the embedded database.'
    );
  }

  return `Cannot start: ${message || name || 'unknown error'}. Fix: see the line above, or run with LOG_LEVEL=debug for the stack.`;
}
