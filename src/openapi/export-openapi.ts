// Writes the OpenAPI document to a file without serving anything: `npm run lint:api` lints it.
// Boots the application on an in-memory embedded database and ephemeral ports, then closes.
import { Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppModule } from '../app.module';
import { applyApiPrefix } from '../app.setup';
import { appConfig } from '../config/app.config';
import { stopEmbeddedDatabase } from '../database/embedded-database';
import { createOpenApiDocument } from './openapi-document';

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf('--out');
  const out = resolve(outIndex > 0 ? process.argv[outIndex + 1] : 'dist/openapi.json');
  const scratch = mkdtempSync(join(tmpdir(), 'timmy-openapi-'));
  Object.assign(process.env, {
    NODE_ENV: 'test',
    PORT: '0',
    WS_PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: scratch,
    EMBEDDED_DB_IN_MEMORY: 'true',
    JWT_SECRET: 'openapi-export-only-0123456789abcdef',
  });
  delete process.env.MONGODB_URI;
  const app = await NestFactory.create(AppModule, { bodyParser: false, logger: ['error'] });
  try {
    applyApiPrefix(app);
    await app.init();
    const cfg = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
    const document = createOpenApiDocument(app, { servers: cfg.swaggerServers });
    writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
    new Logger('OpenAPI').log(`${Object.keys(document.paths).length} paths written to ${out}`);
  } finally {
    await app.close();
    await stopEmbeddedDatabase();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`OpenAPI export failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
