/**
 * The data directory's LOCK file. It names the holder by pid AND that process's start time, so a
 * LOCK left behind by a crash (kill -9, power loss, container restart) never keeps the directory
 * shut: a pid that now belongs to another process, a zombie, or a process started after the LOCK
 * was written is not the holder.
 */
import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const LOCK_FILE = 'LOCK';

/** Start time of a process in clock ticks since boot (Linux /proc), or undefined when unknown. */
export function processStartTicks(pid: number): { ticks: string; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ticks: fields[19] };
  } catch {
    return undefined;
  }
}

function bootTimeMs(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOwner {
  pid: number;
  /** Start time in clock ticks since boot; absent in LOCK files written by older versions. */
  start?: string;
}

export function parseLock(text: string): LockOwner | undefined {
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, start: start && /^\d+$/.test(start) ? start : undefined };
}

/** This process's LOCK line: `<pid> <start ticks>` (just the pid where /proc does not exist). */
export function ownLockText(): string {
  const own = processStartTicks(process.pid);
  return own ? `${process.pid} ${own.ticks}\n` : `${process.pid}\n`;
}

/**
 * Whether the process named by a LOCK may still hold the directory. `lockWrittenMs` (the file's
 * mtime) settles LOCK files without a start time: a process that started after it was written
 * cannot have written it.
 */
export function holderAlive(owner: LockOwner, lockWrittenMs: number): boolean {
  const proc = processStartTicks(owner.pid);
  if (!proc) {
    // No /proc (not Linux) or the process is gone.
    return process.platform !== 'linux' && pidExists(owner.pid);
  }
  if (proc.state === 'Z' || proc.state === 'X') return false;
  if (owner.start !== undefined) return proc.ticks === owner.start;
  const boot = bootTimeMs();
  if (boot === undefined) return true;
  const startedMs = boot + (Number(proc.ticks) * 1000) / 100;
  // 2 s of slack for the clock-tick rounding and clock adjustments.
  return startedMs <= lockWrittenMs + 2000;
}

/**
 * Takes the directory's LOCK or throws naming the live holder. A stale LOCK is replaced; the
 * file is created exclusively so two processes starting together cannot both win.
 */
export async function acquireLock(dir: string): Promise<void> {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fsp.writeFile(file, ownLockText(), { flag: 'wx', mode: 0o600 });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let text: string;
    let mtimeMs: number;
    try {
      [text, { mtimeMs }] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const owner = parseLock(text);
    if (owner && owner.pid !== process.pid && holderAlive(owner, mtimeMs)) {
      throw new Error(
        `data directory ${path.resolve(dir)} is in use by process ${owner.pid}; stop that process first (the LOCK file is released when it exits)`,
      );
    }
    // A LOCK from a process that is gone (or from this very pid in an earlier life, as pid 1 in a container).
    await fsp.rm(file, { force: true });
  }
  throw new Error(`could not take the LOCK of data directory ${path.resolve(dir)}`);
}

export async function releaseLock(dir: string): Promise<void> {
  const file = path.join(dir, LOCK_FILE);
  try {
    const owner = parseLock(await fsp.readFile(file, 'utf8'));
    if (owner && owner.pid !== process.pid) return;
  } catch {
    return;
  }
  await fsp.rm(file, { force: true });
}

/** The live holder of a data directory, if any (for tools that must not touch a directory in use). */
export async function lockHolder(dir: string): Promise<number | undefined> {
  const file = path.join(dir, LOCK_FILE);
  try {
    const [text, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
    const owner = parseLock(text);
    if (owner && holderAlive(owner, st.mtimeMs)) return owner.pid;
  } catch {
    // No LOCK: nobody holds it.
  }
  return undefined;
}
