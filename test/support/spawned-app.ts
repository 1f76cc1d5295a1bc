import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '..', '..');
const ALIAS_RE = /require\("@app\/(common|embedded-mongo|device-protocol|device-simulator|testing)(\/[^"]*)?"\)/g;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) {
      out.push(full);
    }
  }
  return out;
}

let built: string | undefined;

/**
 * The app's sources transpiled (no type check: tsc does that) into a folder of the repository, so
 * that a test can run the real `main.ts` as a child process quickly, several times, and without
 * touching dist/. Removed when the test process exits.
 */
export function transpiledApp(): string {
  if (built) return built;
  const out = join(ROOT, '.test-build', String(process.pid));
  rmSync(out, { recursive: true, force: true });
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    allowSyntheticDefaultImports: true,
    useDefineForClassFields: false,
    isolatedModules: true,
    resolveJsonModule: true,
  };
  for (const file of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'libs'))]) {
    const rel = relative(ROOT, file);
    const target = join(out, rel.replace(/\.ts$/, '.js'));
    const js = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file }).outputText;
    const rewritten = js.replace(ALIAS_RE, (_m, lib: string, rest: string | undefined) => {
      const abs = join(out, 'libs', lib, 'src', rest ?? '');
      let path = relative(dirname(target), abs);
      if (!path.startsWith('.')) path = `./${path}`;
      return `require(${JSON.stringify(path)})`;
    });
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, rewritten);
  }
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  built = out;
  return out;
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** A child process of ours whose stdout is JSON log lines (or text, kept as `msg`). */
export class Child {
  readonly lines: LogLine[] = [];
  readonly text: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();

  constructor(readonly proc: ChildProcess) {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.trim()) continue;
        this.text.push(line);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ level: 'text', msg: line });
        }
        for (const w of [...this.waiters]) w();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    this.exited = new Promise((res) => proc.once('exit', (code, signal) => res({ code, signal })));
    void this.exited.then(() => {
      for (const w of [...this.waiters]) w();
    });
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  /** Resolves with the first line matching `pred`; rejects when the process exits first or on timeout. */
  waitForLine(pred: (l: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    return new Promise((resolvePromise, reject) => {
      let exited = false;
      void this.exited.then(() => (exited = true));
      const check = () => {
        const found = this.lines.find(pred);
        if (found) return done(() => resolvePromise(found));
        if (exited || this.proc.exitCode !== null || this.proc.signalCode !== null) {
          done(() => reject(new Error(`process exited before the line appeared:\n${this.text.slice(-15).join('\n')}`)));
        }
      };
      const timer = setTimeout(
        () =>
          done(() => reject(new Error(`line not seen within ${timeoutMs} ms:\n${this.text.slice(-15).join('\n')}`))),
        timeoutMs,
      );
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        fn();
      };
      this.waiters.add(check);
      check();
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }

  async stop(): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }
}

/** Starts `src/main.ts` (transpiled) with `env` over a clean environment. */
export function spawnApp(env: Record<string, string>): Child {
  const dir = transpiledApp();
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info' };
  const proc = spawn(process.execPath, [join(dir, 'src', 'main.js')], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Child(proc);
}

/** The standalone embedded database (`npm run db`), in memory, on a free port. */
export async function spawnDatabase(): Promise<{ child: Child; uri: string }> {
  const dir = transpiledApp();
  const proc = spawn(process.execPath, [join(dir, 'libs', 'embedded-mongo', 'src', 'cli.js'), '--port', '0'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = new Child(proc);
  const line = await child.waitForLine((l) => /listening: mongodb:\/\//.test(l.msg), 30_000);
  const uri = /(mongodb:\/\/[^\s]+)/.exec(line.msg)![1];
  return { child, uri };
}

export function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
