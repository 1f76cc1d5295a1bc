import request from 'supertest';
import { createTestApp, TestApp } from './support/test-app';

/** Every listing ignores query keys it does not know (cache busters), and still refuses bad values of known ones. */
describe('Listing query strings (e2e)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.adminToken();
  });

  afterAll(async () => {
    await t?.close();
  });

  const get = (path: string) => request(t.httpServer).get(path).set('Authorization', `Bearer ${admin}`);

  it.each([
    '/api/operations',
    '/api/stats',
    '/api/devices',
    '/api/employees',
    '/api/fingerprints/device-logs',
    '/api/fingerprints/mobile-logs',
  ])('%s ignores an unknown key such as ?_=123', async (path) => {
    const res = await get(`${path}?_=1733450000000&utm_source=x`).expect(200);
    expect(res.body.success).toBe(true);
  });

  it.each([
    ['/api/operations?status=bogus', 'status'],
    ['/api/operations?from=yesterday', 'from'],
    ['/api/fingerprints/device-logs?is_send=maybe', 'is_send'],
    ['/api/devices?page=0', 'page'],
  ])('%s is still a 400 naming %s', async (path, field) => {
    const res = await get(`${path}&_=1`).expect(400);
    expect(res.body).toMatchObject({ success: false, error: 'validation_failed' });
    expect(JSON.stringify(res.body)).toContain(field);
  });

  it('refuses a date that ISO 8601 allows but no Date can hold (a week date) in the query DTO, naming from', async () => {
    const res = await get('/api/fingerprints/device-logs?from=2025-W05').expect(400);
    expect(res.body).toEqual({
      success: false,
      error: 'validation_failed',
      message: 'from: from must be a valid ISO 8601 date string',
      errors: [{ field: 'from', messages: ['from must be a valid ISO 8601 date string'] }],
    });
  });
});
