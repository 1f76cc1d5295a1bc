import type { NextFunction, Request, Response } from 'express';
import { families } from './metrics';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * Times every HTTP request, labelled by the matched route's pattern (`/api/device/:sn/users`), never
 * by the raw path, so ids in URLs cannot grow the series; no match is `unmatched`.
 */
export function httpMetricsMiddleware(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  res.once('finish', () => {
    const route = (req.route as { path?: unknown } | undefined)?.path;
    families.httpDuration.observe(
      {
        method: METHODS.has(req.method) ? req.method : 'other',
        route: typeof route === 'string' ? `${req.baseUrl}${route}` : 'unmatched',
        status: String(res.statusCode),
      },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
  });
  next();
}
