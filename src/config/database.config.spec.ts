import { databaseConfig } from './database.config';

describe('databaseConfig', () => {
  const saved = { ...process.env };

  beforeEach(() => {
    for (const key of Object.keys(process.env)) {
      if (
        /^(EMBEDDED_DB_|MONGODB_|HEAP_MEMORY_SHARE$|HEAP_GROWTH_PERCENT$|MALLOC_ARENA_MAX$|PUNCH_RETENTION_DAYS$)/.test(
          key,
        )
      )
        delete process.env[key];
    }
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('has private, unbounded-by-choice defaults', () => {
    expect(databaseConfig()).toMatchObject({
      uri: undefined,
      embeddedPort: undefined,
      embeddedMaxMemory: undefined,
      heapMemoryShare: 0.5,
      heapGrowthPercent: 100,
      mallocArenaMax: 2,
      punchRetentionDays: 0,
    });
  });

  it('reads the TCP port, the memory budget, the heap share and the retention', () => {
    process.env.EMBEDDED_DB_PORT = '0';
    process.env.EMBEDDED_DB_MAX_MEMORY = '512MB';
    process.env.HEAP_MEMORY_SHARE = '0.7';
    process.env.PUNCH_RETENTION_DAYS = '365';
    expect(databaseConfig()).toMatchObject({
      embeddedPort: 0,
      embeddedMaxMemory: 512 * 1048576,
      heapMemoryShare: 0.7,
      punchRetentionDays: 365,
    });
  });

  it.each([
    ['EMBEDDED_DB_PORT', '70000'],
    ['EMBEDDED_DB_MAX_MEMORY', 'lots'],
    ['EMBEDDED_DB_MAX_MEMORY', '1MB'],
    ['HEAP_MEMORY_SHARE', '1.5'],
    ['HEAP_MEMORY_SHARE', 'half'],
    ['HEAP_GROWTH_PERCENT', '301'],
    ['MALLOC_ARENA_MAX', '0'],
    ['PUNCH_RETENTION_DAYS', '-1'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    process.env[name] = value;
    expect(() => databaseConfig()).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });
});
