import { mergeSchemas, schemaFromExample } from './schema-from-example';

describe('schemaFromExample', () => {
  it('types scalars, dates and object ids', () => {
    expect(schemaFromExample('x')).toEqual({ type: 'string' });
    expect(schemaFromExample(3)).toEqual({ type: 'integer' });
    expect(schemaFromExample(3.5)).toEqual({ type: 'number' });
    expect(schemaFromExample(false)).toEqual({ type: 'boolean' });
    expect(schemaFromExample('2025-11-08T10:00:00.000Z')).toEqual({ type: 'string', format: 'date-time' });
    expect(schemaFromExample('673bd98fa14b34d6c9db2009')).toEqual({ type: 'string', format: 'objectid' });
  });

  it('describes nested objects and arrays; a null key is optional and untyped', () => {
    const schema = schemaFromExample({ success: true, items: [{ sn: 'A', name: null }], total: 1 });
    expect(schema).toEqual({
      type: 'object',
      properties: {
        success: { type: 'boolean' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: { sn: { type: 'string' }, name: { description: expect.any(String) } },
            required: ['sn'],
          },
        },
        total: { type: 'integer' },
      },
      required: ['success', 'items', 'total'],
    });
  });

  it('merges array items and named examples: keys shown by all are required, a null becomes nullable', () => {
    const merged = mergeSchemas([
      schemaFromExample({ error: 'a', opId: 'x', n: 1 }),
      schemaFromExample({ error: 'b', n: 1.5, opId: null }),
    ]);
    expect(merged).toEqual({
      type: 'object',
      properties: { error: { type: 'string' }, opId: { type: 'string', nullable: true }, n: { type: 'number' } },
      required: ['error', 'n'],
    });
  });

  it('leaves an empty array untyped inside', () => {
    expect(schemaFromExample([])).toEqual({ type: 'array', items: {} });
  });
});
