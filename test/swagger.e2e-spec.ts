import request from 'supertest';
import { createTestApp, TestApp } from './support/test-app';

interface OpenApiOperation {
  summary?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { example?: unknown; schema?: { example?: unknown } }> }>;
  requestBody?: unknown;
}

/** Routes any client may call without a token (the contract marks them public). */
const PUBLIC = new Set([
  'POST /api/auth/login',
  'POST /api/employees/login',
  'GET /api/health',
  'POST /api/device-log',
]);

describe('OpenAPI document (e2e)', () => {
  let t: TestApp;
  let operations: Array<{ key: string; op: OpenApiOperation }>;

  beforeAll(async () => {
    t = await createTestApp();
    const res = await request(t.httpServer).get('/api/docs-json').expect(200);
    const paths = res.body.paths as Record<string, Record<string, OpenApiOperation>>;
    operations = Object.entries(paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
    );
  });

  afterAll(async () => {
    await t?.close();
  });

  it('documents every route of the contract', () => {
    const keys = operations.map((o) => o.key);
    for (const route of [
      'POST /api/auth/login',
      'GET /api/operations',
      'POST /api/operations/{id}/cancel',
      'POST /api/operations/{id}/retry',
      'GET /api/stats',
      'GET /api/device/{sn}/users',
      'POST /api/device/{sn}/delete-users',
      'POST /api/transfer-users',
      'POST /api/device/{sn}/add-user',
      'POST /api/device/{sn}/clean-log',
      'POST /api/device-log',
      'POST /api/employees/login',
      'GET /api/employees',
      'POST /api/employees',
      'PUT /api/employees/{id}',
      'DELETE /api/employees/{id}',
      'POST /api/fingerprints/app',
      'GET /api/fingerprints/employee',
      'GET /api/fingerprints/mobile-logs',
      'POST /api/fingerprints/retry-failed',
    ]) {
      expect(keys).toContain(route);
    }
  });

  it('gives every route a summary, an example answer and its error answers', () => {
    const missing: string[] = [];
    for (const { key, op } of operations) {
      if (!op.summary) missing.push(`${key}: summary`);
      const codes = Object.keys(op.responses);
      if (!codes.some((c) => c.startsWith('2'))) missing.push(`${key}: success response`);
      const success = codes.filter((c) => c.startsWith('2')).map((c) => op.responses[c]);
      const hasExample = success.some((r) =>
        Object.values(r.content ?? {}).some((m) => m.example !== undefined || m.schema?.example !== undefined),
      );
      if (!hasExample && !key.startsWith('GET /api/fingerprints/images')) missing.push(`${key}: success example`);
      if (!codes.some((c) => c.startsWith('4') || c.startsWith('5'))) missing.push(`${key}: error answers`);
    }
    expect(missing).toEqual([]);
  });

  it('marks every non-public route with the bearer token, and public ones without', () => {
    const wrong: string[] = [];
    for (const { key, op } of operations) {
      const secured = (op.security ?? []).length > 0;
      const isPublic = PUBLIC.has(key);
      if (!isPublic && !secured) wrong.push(`${key} lacks the bearer token`);
      if (isPublic && key !== 'POST /api/device-log' && secured) wrong.push(`${key} is public but asks for a token`);
    }
    expect(wrong).toEqual([]);
  });
});
