// Starts a built entry point (the app or the standalone database) with a heap sized from the
// machine's memory instead of Node's default, which is far too small for a site's punches:
//   node scripts/launch.js dist/src/main.js [args...]
// HEAP_MEMORY_SHARE (default 0.5) is the share of the machine's memory (or the container's limit)
// given to the heap. An explicit --max-old-space-size in NODE_OPTIONS wins. Signals are passed on
// and the exit code is the child's, so this is transparent to process managers.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const DEFAULT_SHARE = 0.5;

/** HEAP_MEMORY_SHARE from the environment, else from ./.env (the app reads that file too). */
function readShareText() {
  if (process.env.HEAP_MEMORY_SHARE !== undefined && process.env.HEAP_MEMORY_SHARE.trim() !== '') {
    return process.env.HEAP_MEMORY_SHARE.trim();
  }
  if (process.env.NODE_ENV === 'test') return undefined;
  try {
    const m = /^\s*HEAP_MEMORY_SHARE\s*=\s*["']?([^"'\s#]*)/m.exec(fs.readFileSync(path.resolve('.env'), 'utf8'));
    return m && m[1] !== '' ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

function parseShare(text) {
  if (text === undefined) return DEFAULT_SHARE;
  const n = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || n < 0.1 || n > 0.9) {
    console.error(`Invalid configuration: HEAP_MEMORY_SHARE must be a fraction between 0.1 and 0.9, got "${text}"`);
    process.exit(1);
  }
  return n;
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

function heapArgs() {
  if (/--max-old-space-size/.test(process.env.NODE_OPTIONS || '')) return [];
  const share = parseShare(readShareText());
  const mb = Math.max(256, Math.floor((machineMemoryBytes() * share) / 1048576));
  return [`--max-old-space-size=${mb}`];
}

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/launch.js <entry.js> [args...]');
  process.exit(2);
}
const child = spawn(process.execPath, [...heapArgs(), entry, ...args], { stdio: 'inherit' });
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
