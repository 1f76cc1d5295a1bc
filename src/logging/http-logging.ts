import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
import type { Logger as PinoInstance } from 'pino';

export const REQUEST_ID_HEADER = 'x-request-id';
/** A caller's id is kept when it is short and plain (it ends up in our logs and headers). */
const CALLER_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** X-Request-Id: the caller's (a balancer's) when it is sane, else a fresh one; always answered. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers[REQUEST_ID_HEADER];
  const id = typeof given === 'string' && CALLER_ID_RE.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0];
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
}

/** Scrapes and probes every few seconds: not worth a line each. */
function isProbe(url: string | undefined): boolean {
  const path = pathOf(url);
  return path === '/metrics' || path.startsWith('/api/health');
}

/**
 * pino-http: one line per request (method, path without its query, status, time) with the request
 * id; every line written while a request is handled carries `requestId` too. Headers and bodies
 * are never logged (tokens, passwords). Terminal uploads (/api/device-log) are per-frame traffic: debug.
 */
export function httpLoggingOptions(logger: PinoInstance): Options {
  return {
    logger,
    genReqId: requestId,
    customAttributeKeys: { reqId: 'requestId' },
    quietReqLogger: true,
    autoLogging: { ignore: (req) => isProbe(req.url) },
    customLogLevel: (req, res, err) => {
      // A 500 is a fault of ours; 502-504 (a terminal that did not answer in time) is an outcome.
      if (err || res.statusCode === 500) return 'error';
      if (res.statusCode > 500) return 'warn';
      if (res.statusCode < 400 && pathOf(req.url) === '/api/device-log') return 'debug';
      return 'info';
    },
    customSuccessMessage: (req, res, ms) => `${req.method} ${pathOf(req.url)} ${res.statusCode} ${Math.round(ms)}ms`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req.url)} ${res.statusCode} failed`,
    serializers: {
      req: (req: { method?: string; url?: string; remoteAddress?: string }) => ({
        method: req.method,
        path: pathOf(req.url),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      // pino-http makes up an Error for every 5xx; the real one, if any, is logged by the exception filter.
      err: (err: { type?: string; message?: string }) => ({ type: err.type, message: err.message }),
    },
  };
}
