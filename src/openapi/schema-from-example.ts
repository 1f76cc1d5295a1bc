/** The subset of JSON Schema (OpenAPI 3.0 flavour) this module writes. */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  nullable?: boolean;
  format?: string;
  example?: unknown;
  $ref?: string;
  allOf?: unknown[];
  oneOf?: unknown[];
  additionalProperties?: boolean | JsonSchema;
  description?: string;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const OBJECT_ID = /^[0-9a-f]{24}$/;

/**
 * A schema that describes the shape of a documented example: types, nesting and the keys it
 * shows. Routes keep one source of truth (the contract's example) and generated clients still get
 * typed answers. `null` in an example means "nullable, type not shown".
 */
export function schemaFromExample(value: unknown): JsonSchema {
  // OpenAPI 3.0 cannot say "nullable" without a type, and an example's null does not show one.
  if (value === null) return { description: 'null in the example; a value when set' };
  if (Array.isArray(value)) {
    return { type: 'array', items: value.length > 0 ? mergeSchemas(value.map(schemaFromExample)) : {} };
  }
  switch (typeof value) {
    case 'string':
      if (ISO_DATE_TIME.test(value)) return { type: 'string', format: 'date-time' };
      if (OBJECT_ID.test(value)) return { type: 'string', format: 'objectid' };
      return { type: 'string' };
    case 'number':
      return { type: Number.isInteger(value) ? 'integer' : 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'object': {
      const entries = Object.entries(value as Record<string, unknown>);
      // A key whose example is null is optional: the example does not show its type.
      return withRequired(
        { type: 'object', properties: Object.fromEntries(entries.map(([k, v]) => [k, schemaFromExample(v)])) },
        entries.filter(([, v]) => v !== null).map(([k]) => k),
      );
    }
    case 'bigint':
      return { type: 'integer' };
    case 'undefined':
    case 'function':
    case 'symbol':
      break;
  }
  return {};
}

function isUntyped(s: JsonSchema): boolean {
  return s.type === undefined && s.$ref === undefined && s.properties === undefined;
}

/** OpenAPI 3.0 wants `required` absent rather than empty. */
function withRequired(schema: JsonSchema, required: string[]): JsonSchema {
  return required.length > 0 ? { ...schema, required } : schema;
}

/** Items of an example array may differ (optional keys, an integer next to a fraction). */
export function mergeSchemas(schemas: JsonSchema[]): JsonSchema {
  return schemas.reduce((a, b) => mergeTwo(a, b));
}

function mergeTwo(a: JsonSchema, b: JsonSchema): JsonSchema {
  if (isUntyped(a)) return b.type ? { ...b, nullable: true } : a;
  if (isUntyped(b)) return a.type ? { ...a, nullable: true } : b;
  if (a.type !== b.type) {
    const numeric = new Set([a.type, b.type]);
    if (numeric.has('integer') && numeric.has('number') && numeric.size === 2) return { type: 'number' };
    return {};
  }
  if (a.type === 'object') {
    const keys = new Set([...Object.keys(a.properties ?? {}), ...Object.keys(b.properties ?? {})]);
    const properties: Record<string, JsonSchema> = {};
    for (const key of keys) {
      const pa = a.properties?.[key];
      const pb = b.properties?.[key];
      properties[key] = pa && pb ? mergeTwo(pa, pb) : (pa ?? pb)!;
    }
    const inBoth = (a.required ?? []).filter((k) => (b.required ?? []).includes(k));
    return withRequired({ type: 'object', properties }, inBoth);
  }
  if (a.type === 'array') return { type: 'array', items: mergeTwo(a.items ?? {}, b.items ?? {}) };
  return a.format === b.format ? a : { type: a.type };
}
