// Starts a built entry point (the app or the standalone database) the way a long-running server
// should run, instead of with Node's defaults:
//   node scripts/launch.js [node flags...] dist/src/main.js [args...]
// - HEAP_MEMORY_SHARE (default 0.5): the share of the machine's memory (or the container's limit)
//   given to the heap (--max-old-space-size). An explicit --max-old-space-size in NODE_OPTIONS wins.
// - HEAP_GROWTH_PERCENT (default 100): how far the heap may grow past what was live after the last
//   full garbage collection before the next one (V8 --heap-growing-percent). V8's own factor goes up
//   to 300%, which after a burst (thousands of terminals registering at once) leaves the process
//   holding several times the memory it uses. 0 = V8's own factor. An explicit
//   --heap-growing-percent (in NODE_OPTIONS or before the entry point) wins.
// - MALLOC_ARENA_MAX (default 2): native memory arenas (glibc). One arena per thread that ever
//   allocated (up to 8 per core) keeps what a burst freed as unreturned fragments; two are shared.
// Node flags before the entry point are passed on to it. Settings come from the environment, else
// from ./.env (the app reads that file too). Signals are passed on and the exit code is the
// child's, so this is transparent to process managers.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const DEFAULT_SHARE = 0.5;
const DEFAULT_GROWTH_PERCENT = 100;
const DEFAULT_ARENAS = 2;

let dotenv;
/** A setting from the environment, else from ./.env. */
function readSetting(name) {
  const value = process.env[name];
  if (value !== undefined && value.trim() !== '') return value.trim();
  if (process.env.NODE_ENV === 'test') return undefined;
  if (dotenv === undefined) {
    try {
      dotenv = fs.readFileSync(path.resolve('.env'), 'utf8');
    } catch {
      dotenv = '';
    }
  }
  const m = new RegExp(`^\\s*${name}\\s*=\\s*["']?([^"'\\s#]*)`, 'm').exec(dotenv);
  return m && m[1] !== '' ? m[1] : undefined;
}

function invalid(name, expected, text) {
  console.error(`Invalid configuration: ${name} must be ${expected}, got "${text}"`);
  process.exit(1);
}

function parseShare(text) {
  if (text === undefined) return DEFAULT_SHARE;
  const n = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || n < 0.1 || n > 0.9)
    invalid('HEAP_MEMORY_SHARE', 'a fraction between 0.1 and 0.9', text);
  return n;
}

function parseInteger(name, text, fallback, min, max) {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    invalid(name, `an integer between ${min} and ${max}`, text);
  }
  return Number(text);
}

/** The machine's memory, or the container's memory limit when lower (cgroup v2, then v1). */
function machineMemoryBytes() {
  let mem = os.totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const limit = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isFinite(limit) && limit > 0 && limit < mem) mem = limit;
    } catch {
      // Not in a cgroup with a limit.
    }
  }
  return mem;
}

function heapArgs(given) {
  const out = [];
  const explicit = `${process.env.NODE_OPTIONS || ''} ${given.join(' ')}`;
  // Validated even when an explicit flag wins: a typo is said at once, not when the flag goes.
  const share = parseShare(readSetting('HEAP_MEMORY_SHARE'));
  const growth = parseInteger(
    'HEAP_GROWTH_PERCENT',
    readSetting('HEAP_GROWTH_PERCENT'),
    DEFAULT_GROWTH_PERCENT,
    0,
    300,
  );
  if (!/--max-old-space-size/.test(explicit)) {
    out.push(`--max-old-space-size=${Math.max(256, Math.floor((machineMemoryBytes() * share) / 1048576))}`);
  }
  if (growth > 0 && !/--heap-growing-percent/.test(explicit)) out.push(`--heap-growing-percent=${growth}`);
  return out;
}

function childEnv() {
  const arenas = parseInteger('MALLOC_ARENA_MAX', readSetting('MALLOC_ARENA_MAX'), DEFAULT_ARENAS, 1, 64);
  return { ...process.env, MALLOC_ARENA_MAX: String(arenas) };
}

const argv = process.argv.slice(2);
const first = argv.findIndex((a) => !a.startsWith('-'));
if (first < 0) {
  console.error('usage: node scripts/launch.js [node flags...] <entry.js> [args...]');
  process.exit(2);
}
const nodeFlags = argv.slice(0, first);
const [entry, ...args] = argv.slice(first);
const child = spawn(process.execPath, [...nodeFlags, ...heapArgs(nodeFlags), entry, ...args], {
  stdio: 'inherit',
  env: childEnv(),
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => {
  if (signal) {
    // Die of the same signal so the caller sees what happened to the real process.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
