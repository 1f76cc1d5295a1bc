import { CliUsageError, parseCliArgs, serialNumbers } from './cli';

describe('simulator CLI arguments', () => {
  it('uses defaults and adds /pub/chat when the server URL has no path', () => {
    const o = parseCliArgs(['--sn', 'ZXRE06022863', '--users', '200', '--server', 'ws://127.0.0.1:9091']);
    expect(o).toMatchObject({
      sn: 'ZXRE06022863',
      users: 200,
      server: 'ws://127.0.0.1:9091/pub/chat',
      count: 1,
      autoReconnect: true,
    });
  });

  it('keeps an explicit path, accepts --flag=value and the other options', () => {
    const o = parseCliArgs([
      '--server=ws://127.0.0.1:9091/custom',
      '--count',
      '3',
      '--punch-every',
      '2.5',
      '--no-reconnect',
      '--reply-delay',
      '100',
    ]);
    expect(o).toMatchObject({
      server: 'ws://127.0.0.1:9091/custom',
      count: 3,
      punchEverySec: 2.5,
      autoReconnect: false,
      replyDelayMs: 100,
    });
    expect(parseCliArgs(['--path', 'other']).server).toBe('ws://127.0.0.1:9091/other');
  });

  it('rejects bad values with a usage error', () => {
    for (const argv of [
      ['--users', 'many'],
      ['--count', '0'],
      ['--server', 'http://x'],
      ['--server', 'nope'],
      ['--sn', 'bad sn'],
      ['--what'],
    ]) {
      expect(() => parseCliArgs(argv)).toThrow(CliUsageError);
    }
  });

  it('suffixes serial numbers when running several terminals', () => {
    expect(serialNumbers('ZX1', 1)).toEqual(['ZX1']);
    expect(serialNumbers('ZX1', 3)).toEqual(['ZX1001', 'ZX1002', 'ZX1003']);
  });

  it('reads the field quirks, repeatable, and refuses an unknown one', () => {
    const o = parseCliArgs(['--quirk', 'long-ids', '--quirk=count-page-size=5', '--quirk', 'clock-ahead=2']);
    expect(o.quirks).toEqual({ firstEnrollId: 123_456_789_012, countIsPageSize: 5, clockAheadMs: 2 * 86_400_000 });
    expect(() => parseCliArgs(['--quirk', 'haunted'])).toThrow(CliUsageError);
  });

  it('takes --enrol-every for keypad enrolments and refuses a bad value', () => {
    expect(parseCliArgs(['--enrol-every', '5']).enrolEverySec).toBe(5);
    expect(parseCliArgs([]).enrolEverySec).toBe(0);
    expect(() => parseCliArgs(['--enrol-every', 'soon'])).toThrow(CliUsageError);
  });
});
