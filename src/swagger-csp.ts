import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * Inline <style> blocks swagger-ui-bundle.js itself inserts (the logo SVG of the top bar). Should a
 * new swagger-ui-dist change it, only the logo's colours are lost; the browser console names the hash.
 */
const BUNDLE_INLINE_STYLES = ['.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}'];

/**
 * The Content-Security-Policy of one Swagger UI page: scripts and stylesheets from this server only,
 * the page's own inline <style> blocks and style attributes allowed by their hashes (nothing else
 * inline), data: images (the UI's icons), fetches to this server (the OpenAPI JSON, "Try it out").
 */
export function swaggerPagePolicy(html: string): string {
  const styleHashes = new Set<string>(BUNDLE_INLINE_STYLES.map(sha256));
  for (const m of html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)) styleHashes.add(sha256(m[1]));
  const attrHashes = new Set<string>();
  for (const m of html.matchAll(/\sstyle="([^"]*)"/gi)) attrHashes.add(sha256(m[1]));
  const styleSrc = ["'self'", ...styleHashes];
  if (attrHashes.size > 0) styleSrc.push("'unsafe-hashes'", ...attrHashes);
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${styleSrc.join(' ')}`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The policy of every other answer (JSON, assets): nothing may run or be framed. */
export const API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Mounted on the Swagger UI path: the HTML page gets its own strict policy (computed once from the
 * page @nestjs/swagger builds, which is the same on every request).
 */
export function swaggerCsp() {
  const cache = new Map<string, string>();
  return (_req: Request, res: Response, next: NextFunction) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      if (typeof body === 'string' && /^\s*(<!--[\s\S]*?-->\s*)?<!DOCTYPE html>/i.test(body)) {
        let policy = cache.get(body);
        if (!policy) {
          policy = swaggerPagePolicy(body);
          if (cache.size < 8) cache.set(body, policy);
        }
        res.setHeader('Content-Security-Policy', policy);
      }
      return send(body);
    };
    next();
  };
}
