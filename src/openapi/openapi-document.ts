import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { mergeSchemas, schemaFromExample, type JsonSchema } from './schema-from-example';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
type MediaType = { schema?: JsonSchema; example?: unknown; examples?: Record<string, { value?: unknown }> };
type Parameter = { in?: string; name?: string; description?: string; example?: unknown; schema?: JsonSchema };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface OpenApiOptions {
  /** Base URLs listed under `servers`; the first is what Swagger UI's "Try it out" calls. */
  servers: string[];
}

/**
 * The OpenAPI document of every route, finished for generated clients and the Swagger UI:
 * - `servers` from configuration;
 * - `security: []` on public routes, so "no token" is stated rather than implied;
 * - query filters carry no pre-filled value (their example moves into the description), so
 *   "Try it out" runs an unfiltered listing unless the operator types a filter;
 * - every answer documented by example only also gets a schema derived from that example.
 */
export function createOpenApiDocument(app: INestApplication, opts: OpenApiOptions): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Timmy Device Manager')
    .setDescription(
      'Device manager for biometric attendance terminals. Admin routes need an admin JWT from ' +
        '`POST /api/auth/login`; employee routes need an employee JWT from `POST /api/employees/login`. ' +
        'Terminals connect to the WebSocket gateway (default port 9091). ' +
        'Any route that stores data may answer 507 `{"success":false,"error":"storage_full","message":...}` ' +
        'when the database refuses new data (the embedded database past 95% of its memory budget); reads keep working.',
    )
    .setVersion('1.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const url of opts.servers) builder.addServer(url);
  return finishOpenApiDocument(SwaggerModule.createDocument(app, builder.build()));
}

/** The post-processing above, on a document already built (exported for unit tests). */
export function finishOpenApiDocument(doc: OpenAPIObject): OpenAPIObject {
  for (const pathItem of Object.values(doc.paths)) {
    for (const method of METHODS) {
      const op = pathItem[method];
      if (op) finishOperation(op);
    }
  }
  return doc;
}

function finishOperation(op: Operation): void {
  op.security ??= [];
  for (const param of (op.parameters ?? []) as Parameter[]) {
    if (param.in === 'query') unprefill(param);
  }
  for (const response of Object.values(op.responses ?? {})) {
    const content = (response as { content?: Record<string, MediaType> }).content;
    for (const media of Object.values(content ?? {})) addSchema(media);
  }
  const body = op.requestBody as { content?: Record<string, MediaType> } | undefined;
  for (const media of Object.values(body?.content ?? {})) addSchema(media);
}

/** Swagger UI fills a parameter's `example` into the form; an example in prose does not run. */
function unprefill(param: Parameter): void {
  const example = param.example ?? param.schema?.example;
  if (example === undefined) return;
  delete param.example;
  if (param.schema) delete param.schema.example;
  const hint = `Example: \`${typeof example === 'string' ? example : JSON.stringify(example)}\``;
  param.description = param.description ? `${param.description.replace(/\.?\s*$/, '.')} ${hint}` : hint;
}

function examplesOf(media: MediaType): unknown[] {
  if (media.example !== undefined) return [media.example];
  if (media.schema?.example !== undefined) return [media.schema.example];
  return Object.values(media.examples ?? {})
    .map((e) => e.value)
    .filter((v) => v !== undefined);
}

/** A response given as `{schema: {example}}` or `examples` alone gets a typed schema from its example. */
function addSchema(media: MediaType): void {
  const schema = media.schema;
  const described = schema && (schema.$ref || schema.type || schema.properties || schema.allOf || schema.oneOf);
  if (described) return;
  const examples = examplesOf(media);
  if (examples.length === 0) return;
  // Several named examples (say, two kinds of 409) are one schema: keys shown by all are required.
  const derived = mergeSchemas(examples.map(schemaFromExample));
  media.schema = { ...derived, ...(schema?.example !== undefined ? { example: schema.example } : {}) };
}
