import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** scripts/launch.js: how `npm start` and `npm run db` size the heap. */
describe('scripts/launch.js', () => {
  const root = path.resolve(__dirname, '../..');
  let dir: string;
  let probe: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'timmy-launch-'));
    probe = path.join(dir, 'probe.js');
    writeFileSync(
      probe,
      'console.log(JSON.stringify({ heap: require("v8").getHeapStatistics().heap_size_limit, argv: process.argv.slice(2), ' +
        'execArgv: process.execArgv, arenas: process.env.MALLOC_ARENA_MAX })); process.exitCode = 3;',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function launch(env: Record<string, string>, ...args: string[]): ReturnType<typeof spawnSync> {
    const clean = { ...process.env };
    delete clean.NODE_OPTIONS;
    delete clean.HEAP_MEMORY_SHARE;
    delete clean.HEAP_GROWTH_PERCENT;
    delete clean.MALLOC_ARENA_MAX;
    return spawnSync(process.execPath, [path.join(root, 'scripts/launch.js'), probe, ...args], {
      cwd: dir,
      env: { ...clean, ...env },
      encoding: 'utf8',
    });
  }

  it("gives the heap a share of the machine's memory, passes arguments and the exit code on", () => {
    const r = launch({ HEAP_MEMORY_SHARE: '0.2' }, '--data', 'x');
    expect(r.status).toBe(3);
    const out = JSON.parse(String(r.stdout)) as { heap: number; argv: string[] };
    expect(out.argv).toEqual(['--data', 'x']);
    let memory = os.totalmem();
    for (const f of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
      try {
        const limit = Number(readFileSync(f, 'utf8').trim());
        if (Number.isFinite(limit) && limit > 0) memory = Math.min(memory, limit);
      } catch {
        // No cgroup limit here.
      }
    }
    const expected = Math.max(256 * 1048576, memory * 0.2);
    // V8 adds its young generation to the old-space size it is given.
    expect(out.heap).toBeGreaterThanOrEqual(expected * 0.95);
    expect(out.heap).toBeLessThanOrEqual(expected * 1.1 + 64 * 1048576);
  });

  it('leaves an explicit --max-old-space-size alone', () => {
    const r = launch({ NODE_OPTIONS: '--max-old-space-size=300' });
    const out = JSON.parse(String(r.stdout)) as { heap: number };
    expect(out.heap).toBeLessThan(400 * 1048576);
  });

  type Probe = { heap: number; argv: string[]; execArgv: string[]; arenas?: string };
  const probed = (r: ReturnType<typeof spawnSync>): Probe => JSON.parse(String(r.stdout)) as Probe;

  it('caps heap growth at 100% and native memory arenas at 2 by default', () => {
    const out = probed(launch({}));
    expect(out.execArgv).toContain('--heap-growing-percent=100');
    expect(out.arenas).toBe('2');
  });

  it('takes HEAP_GROWTH_PERCENT and MALLOC_ARENA_MAX from the environment; 0 leaves V8 its own growth', () => {
    const out = probed(launch({ HEAP_GROWTH_PERCENT: '40', MALLOC_ARENA_MAX: '8' }));
    expect(out.execArgv).toContain('--heap-growing-percent=40');
    expect(out.arenas).toBe('8');
    const own = probed(launch({ HEAP_GROWTH_PERCENT: '0' }));
    expect(own.execArgv.some((a) => a.startsWith('--heap-growing-percent'))).toBe(false);
  });

  it('passes node flags given before the entry point on, and an explicit one wins over the setting', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'scripts/launch.js'), '--heap-growing-percent=70', '--no-warnings', probe, '--data'],
      { cwd: dir, env: { ...process.env, NODE_OPTIONS: '', HEAP_GROWTH_PERCENT: '' }, encoding: 'utf8' },
    );
    const out = probed(r);
    expect(out.argv).toEqual(['--data']);
    expect(out.execArgv).toContain('--no-warnings');
    expect(out.execArgv.filter((a) => a.startsWith('--heap-growing-percent'))).toEqual(['--heap-growing-percent=70']);
  });

  it.each([
    ['HEAP_GROWTH_PERCENT', '500', 'an integer between 0 and 300'],
    ['HEAP_GROWTH_PERCENT', '-1', 'an integer between 0 and 300'],
    ['MALLOC_ARENA_MAX', '0', 'an integer between 1 and 64'],
    ['MALLOC_ARENA_MAX', 'two', 'an integer between 1 and 64'],
  ])('refuses %s=%s with one line naming it', (name, value, expected) => {
    const r = launch({ [name]: value });
    expect(r.status).toBe(1);
    expect(String(r.stderr).trim()).toBe(`Invalid configuration: ${name} must be ${expected}, got "${value}"`);
  });

  it('refuses a bad HEAP_MEMORY_SHARE with one line naming it', () => {
    const r = launch({ HEAP_MEMORY_SHARE: '2' });
    expect(r.status).toBe(1);
    expect(String(r.stderr).trim()).toBe(
      'Invalid configuration: HEAP_MEMORY_SHARE must be a fraction between 0.1 and 0.9, got "2"',
    );
  });
});
