import { INestApplication, RequestMethod } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import express, { NextFunction, Request, Response } from 'express';
import { jsonNestsDeeperThan } from '@app/common';
import helmet from 'helmet';
import { appConfig } from './config/app.config';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { createOpenApiDocument } from './openapi/openapi-document';
import { API_POLICY, swaggerCsp } from './swagger-csp';

export const API_PREFIX = 'api';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

const TOO_DEEP = 'entity.too.deep';

/**
 * Body parsing with our error bodies: malformed JSON is a 400 and an oversized body a 413, never a
 * 500. A JSON body nested deeper than `maxDepth` is refused (400 validation_failed) by a linear scan
 * of the raw bytes before it is parsed, so no later step (validation, its error report) recurses
 * over an attacker's nesting.
 */
function jsonBody(limit: string, maxDepth: number) {
  const parse = express.json({
    limit,
    verify: (_req, _res, buf) => {
      if (jsonNestsDeeperThan(buf, maxDepth)) {
        throw Object.assign(new Error(`JSON nested deeper than ${maxDepth} levels`), { type: TOO_DEEP, status: 400 });
      }
    },
  });
  const urlencoded = express.urlencoded({ extended: false, limit });
  return (req: Request, res: Response, next: NextFunction) => {
    const done = (err?: BodyParserError) => {
      if (!err) return next();
      if (err.type === TOO_DEEP) {
        const message = `must not nest objects or arrays deeper than ${maxDepth} levels`;
        res.status(400).json({
          success: false,
          error: 'validation_failed',
          message: `body: ${message}`,
          errors: [{ field: 'body', messages: [message] }],
        });
      } else if (err.type === 'entity.too.large') {
        res.status(413).json({ success: false, error: 'payload_too_large', message: `Request body exceeds ${limit}` });
      } else if (err.type === 'entity.parse.failed') {
        res.status(400).json({ success: false, error: 'malformed_json', message: 'Request body is not valid JSON' });
      } else {
        res
          .status(err.status && err.status < 500 ? err.status : 400)
          .json({ success: false, error: 'bad_request', message: 'Request body could not be read' });
      }
    };
    parse(req, res, (err?: BodyParserError) => (err ? done(err) : urlencoded(req, res, done)));
  };
}

/** `/api` before every route but the Prometheus scrape, which stays at /metrics, where scrapers look by default. */
export function applyApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: [{ path: 'metrics', method: RequestMethod.GET }] });
}

/** Everything main.ts and the e2e tests share: prefix, body limits, security headers, CORS, Swagger. */
export function configureApp(app: INestApplication): void {
  const cfg = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  const expressApp = app as NestExpressApplication;
  expressApp.disable('x-powered-by');
  expressApp.set('trust proxy', 'loopback');
  app.use(httpMetricsMiddleware);
  app.use(helmet({ contentSecurityPolicy: false }));
  // JSON answers need no resources at all; the Swagger UI page gets a policy of its own.
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', API_POLICY);
    next();
  });
  if (cfg.swaggerEnabled) app.use(`/${API_PREFIX}/docs`, swaggerCsp());
  app.use(jsonBody(cfg.bodyLimit, cfg.jsonMaxDepth));
  if (cfg.corsOrigins.length > 0) {
    app.enableCors({ origin: cfg.corsOrigins.includes('*') ? true : cfg.corsOrigins });
  }
  applyApiPrefix(app);
  if (cfg.swaggerEnabled) setupSwagger(app, cfg.swaggerServers);
}

function setupSwagger(app: INestApplication, servers: string[]): void {
  const document = createOpenApiDocument(app, { servers });
  SwaggerModule.setup(`${API_PREFIX}/docs`, app, document, {
    jsonDocumentUrl: `${API_PREFIX}/docs-json`,
    swaggerOptions: { persistAuthorization: true },
  });
}
