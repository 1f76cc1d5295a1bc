import { ChildProcess, fork } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_BENCH, tempDir } from './paths';

/**
 * Child processes of a run: every one is tracked and killed when the run ends, however it ends.
 * Their output goes to a log file (never a pipe that could fill up and stall them).
 */
const live = new Set<ChildProcess>();
/** Processes started by a child (the product's server under its launcher): killed with the rest. */
const adopted = new Set<number>();
let logDir: string | undefined;

export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
  for (const pid of adopted) killPid(pid);
  adopted.clear();
}

/** Kills `pid` too when the run ends (a grandchild: killing its parent would leave it running). */
export function adoptPid(pid: number): void {
  adopted.add(pid);
}

/** SIGKILL to a process that may already be gone. */
export function killPid(pid: number): void {
  adopted.delete(pid);
  if (!isRunning(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
}

/** Whether a process is still running (not a zombie). */
export function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The first child process of `pid` (Linux /proc), waiting up to `timeoutMs` for it to appear. */
export async function childPid(pid: number, timeoutMs = 10_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
      if (first) return Number(first);
    } catch {
      // The parent is gone or not started yet.
    }
    if (Date.now() > until) throw new Error(`process ${pid} started no child within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

process.once('exit', killAll);

export interface IpcMessage {
  id?: number;
  type: string;
  ok?: boolean;
  result?: unknown;
  error?: string;
  msg?: string;
}

/** A child process started with an IPC channel; `call` sends a request and waits for its answer. */
export class Proc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<number | null>;
  onProgress?: (msg: string) => void;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    child.on('message', (m: IpcMessage) => {
      if (m.type === 'progress') {
        this.onProgress?.(m.msg ?? '');
        return;
      }
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${this.name}: ${m.error ?? 'failed'}`));
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        live.delete(child);
        for (const p of this.pending.values()) {
          p.reject(new Error(`${this.name} exited (code ${code}) during a call; log tail:\n${this.logTail()}`));
        }
        this.pending.clear();
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  call<T>(type: string, payload: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: '${type}' took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, type, ...payload });
    });
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts a compiled script with IPC. `script` is absolute or relative to dist/bench. */
export function startProc(
  name: string,
  script: string,
  opts: { env?: Record<string, string | undefined>; execArgv?: string[]; args?: string[] } = {},
): Proc {
  logDir ??= tempDir('logs');
  const logFile = join(logDir, `${name.replace(/[^a-z0-9_.-]/gi, '_')}-${Date.now()}.log`);
  const fd = openSync(logFile, 'a');
  const path = script.startsWith('/') ? script : join(DIST_BENCH, script);
  const child = fork(path, opts.args ?? [], {
    env: { ...process.env, ...opts.env },
    execArgv: opts.execArgv ?? [],
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  live.add(child);
  return new Proc(name, child, logFile);
}

/** Resident memory of a process, in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which is in parentheses and may contain spaces).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}
