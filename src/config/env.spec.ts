import {
  ConfigValidationError,
  parseDurationMs,
  readBool,
  readDurationMs,
  readInt,
  readList,
  readTimeZone,
  readUrl,
} from './env';

describe('config readers', () => {
  it('falls back to the default when a variable is unset or blank', () => {
    expect(readInt({}, 'PORT', 9090)).toBe(9090);
    expect(readInt({ PORT: '  ' }, 'PORT', 9090)).toBe(9090);
  });

  it('names the variable when a value is invalid', () => {
    expect(() => readInt({ PORT: 'abc' }, 'PORT', 1)).toThrow(/PORT must be an integer/);
    expect(() => readInt({ PORT: '70000' }, 'PORT', 1, { max: 65535 })).toThrow(ConfigValidationError);
    expect(() => readBool({ SWAGGER_ENABLED: 'maybe' }, 'SWAGGER_ENABLED', true)).toThrow(/SWAGGER_ENABLED/);
    expect(() => readUrl({ FORWARD_LOG_URL: 'not a url' }, 'FORWARD_LOG_URL')).toThrow(/FORWARD_LOG_URL/);
    expect(() => readUrl({ FORWARD_LOG_URL: 'ftp://x' }, 'FORWARD_LOG_URL')).toThrow(/http/);
    expect(() => readTimeZone({ TZ_X: 'Mars/Olympus' }, 'TZ_X', 'UTC')).toThrow(/TZ_X/);
    expect(() => readDurationMs({ T: '10 parsecs' }, 'T', 1)).toThrow(/T must be a duration/);
    expect(() => readDurationMs({ T: '1ms' }, 'T', 1, { min: 100 })).toThrow(/at least 100/);
  });

  it('parses booleans, lists and durations', () => {
    expect(readBool({ X: 'YES' }, 'X', false)).toBe(true);
    expect(readBool({ X: '0' }, 'X', true)).toBe(false);
    expect(readList({ L: 'a, b,,c ' }, 'L')).toEqual(['a', 'b', 'c']);
    expect(parseDurationMs('250')).toBe(250);
    expect(parseDurationMs('10s')).toBe(10_000);
    expect(parseDurationMs('15m')).toBe(900_000);
    expect(parseDurationMs('12h')).toBe(43_200_000);
    expect(parseDurationMs('30d')).toBe(2_592_000_000);
    expect(parseDurationMs('-5s')).toBeUndefined();
    expect(readTimeZone({}, 'TZ_X', 'Asia/Baghdad')).toBe('Asia/Baghdad');
  });
});
