import request from 'supertest';
import { createTestApp, TestApp } from './support/test-app';

interface OpenApiOperation {
  summary?: string;
  security?: unknown[];
  parameters?: Array<{ in: string; name: string; example?: unknown; schema?: { example?: unknown } }>;
  responses: Record<string, { content?: Record<string, { example?: unknown; schema?: { example?: unknown } }> }>;
  requestBody?: unknown;
}

/** Routes any client may call without a token (the contract marks them public). */
const PUBLIC = new Set([
  'POST /api/auth/login',
  'POST /api/employees/login',
  'GET /api/health',
  'GET /api/health/live',
  'GET /api/health/ready',
  // Prometheus scrape route, outside /api; its optional METRICS_TOKEN is not a JWT.
  'GET /metrics',
  'POST /api/device-log',
]);

/** Routes for the mobile app's employee token; every other non-public route is for admins. */
const EMPLOYEE = new Set(['POST /api/fingerprints/app', 'GET /api/fingerprints/employee', 'GET /api/employees/me']);

function concretePath(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) =>
    name === 'sn' ? 'ZXRE06022863' : '0123456789abcdef01234567',
  );
}

function call(t: TestApp, key: string, token?: string) {
  const [method, path] = key.split(' ');
  const agent = request(t.httpServer);
  const url = concretePath(path);
  const req =
    method === 'GET'
      ? agent.get(url)
      : method === 'POST'
        ? agent.post(url)
        : method === 'PUT'
          ? agent.put(url)
          : method === 'PATCH'
            ? agent.patch(url)
            : agent.delete(url);
  return token ? req.set('Authorization', `Bearer ${token}`) : req;
}

describe('OpenAPI document (e2e)', () => {
  let t: TestApp;
  let operations: Array<{ key: string; op: OpenApiOperation }>;
  let document: { servers?: Array<{ url: string }> };

  beforeAll(async () => {
    t = await createTestApp();
    const res = await request(t.httpServer).get('/api/docs-json').expect(200);
    document = res.body as typeof document;
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

  it('refuses every non-public route without a token (401) and with the wrong role (403)', async () => {
    const admin = await t.adminToken();
    await request(t.httpServer)
      .post('/api/employees')
      .set('Authorization', `Bearer ${admin}`)
      .send({ enroll_id: '77', username: 'matrix.user', password: 'password123', fullName: 'Matrix' })
      .expect(201);
    const login = await request(t.httpServer)
      .post('/api/employees/login')
      .send({ username: 'matrix.user', password: 'password123' })
      .expect(200);
    const employee = login.body.token as string;

    const wrong: string[] = [];
    let tested = 0;
    for (const { key } of operations) {
      if (PUBLIC.has(key)) continue;
      tested += 1;
      const anonymous = await call(t, key);
      if (anonymous.status !== 401 || anonymous.body.error !== 'unauthorized') {
        wrong.push(`${key} without token: ${anonymous.status}`);
      }
      const garbage = await call(t, key, 'not.a.jwt');
      if (garbage.status !== 401) wrong.push(`${key} with a garbage token: ${garbage.status}`);
      const wrongRole = await call(t, key, EMPLOYEE.has(key) ? admin : employee);
      if (wrongRole.status !== 403 || wrongRole.body.success !== false) {
        wrong.push(`${key} with the wrong role: ${wrongRole.status}`);
      }
    }
    expect(tested).toBeGreaterThan(25);
    expect(wrong).toEqual([]);
  });

  it('lists the configured servers and states "no token" on public routes', () => {
    expect(document.servers).toEqual([{ url: '/' }]);
    const unstated = operations.filter(({ key, op }) => PUBLIC.has(key) && op.security === undefined);
    expect(unstated.map((o) => o.key)).toEqual([]);
    expect(operations.find((o) => o.key === 'POST /api/auth/login')?.op.security).toEqual([]);
  });

  it('pre-fills no query filter in "Try it out" (examples live in the description)', () => {
    const prefilled = operations.flatMap(({ key, op }) =>
      (op.parameters ?? [])
        .filter((p) => p.in === 'query' && (p.example !== undefined || p.schema?.example !== undefined))
        .map((p) => `${key} ?${p.name}`),
    );
    expect(prefilled).toEqual([]);
  });

  it('describes every JSON success answer by a schema, not by an example alone', () => {
    const untyped: string[] = [];
    for (const { key, op } of operations) {
      for (const [code, response] of Object.entries(op.responses)) {
        if (!code.startsWith('2')) continue;
        const json = (response.content ?? {})['application/json'] as
          { schema?: { type?: string; $ref?: string; allOf?: unknown } } | undefined;
        if (json && !json.schema?.type && !json.schema?.$ref && !json.schema?.allOf) untyped.push(`${key} ${code}`);
      }
    }
    expect(untyped).toEqual([]);
  });
});
