import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppConfigModule } from '../src/config/config.module';
import { createTestApp, TestApp } from './support/test-app';

describe('application (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { HTTP_BODY_LIMIT: '64kb' } });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('reports health without a token', async () => {
    const res = await request(t.httpServer).get('/api/health').expect(200);
    expect(res.body).toMatchObject({ success: true, status: 'ok', checks: { database: 'up' } });
  });

  it('serves the OpenAPI document with the bearer scheme', async () => {
    const res = await request(t.httpServer).get('/api/docs-json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(res.body.paths)).toContain('/api/health');
  });

  it('serves Swagger UI', async () => {
    const res = await request(t.httpServer).get('/api/docs/').expect(200);
    expect(res.text).toContain('swagger-ui');
  });

  it('answers an unknown route with the error envelope', async () => {
    const res = await request(t.httpServer).get('/api/nope').expect(404);
    expect(res.body).toEqual({ success: false, error: 'not_found', message: expect.any(String) });
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const res = await request(t.httpServer)
      .post('/api/nope')
      .set('Content-Type', 'application/json')
      .send('{"broken": ')
      .expect(400);
    expect(res.body).toEqual({ success: false, error: 'malformed_json', message: 'Request body is not valid JSON' });
  });

  it('answers an oversized body with 413', async () => {
    const res = await request(t.httpServer)
      .post('/api/nope')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ blob: 'x'.repeat(100 * 1024) }))
      .expect(413);
    expect(res.body).toMatchObject({ success: false, error: 'payload_too_large' });
  });

  it('sets security headers', async () => {
    const res = await request(t.httpServer).get('/api/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('configuration validation (e2e)', () => {
  it('refuses to start on an invalid value and names the variable', async () => {
    const saved = process.env.OP_MAX_ATTEMPTS;
    process.env.OP_MAX_ATTEMPTS = 'many';
    try {
      await expect(Test.createTestingModule({ imports: [AppConfigModule] }).compile()).rejects.toThrow(
        /OP_MAX_ATTEMPTS must be an integer/,
      );
    } finally {
      if (saved === undefined) delete process.env.OP_MAX_ATTEMPTS;
      else process.env.OP_MAX_ATTEMPTS = saved;
    }
  });
});
