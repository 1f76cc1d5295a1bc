/**
 * `npm run bench` runs every benchmark; `npm run bench -- ingest` one; `--quick` tiny sizes.
 * Each benchmark is bench/<name>.bench.ts (compiled to dist/bench/<name>.bench.js).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineInfo } from './lib/machine';
import { DIST_BENCH, RESULTS_DIR, removeTempDirs } from './lib/paths';
import { killAll } from './lib/procs';
import { BenchReport, markdownTable, tableRows, textTable, withRatios } from './lib/report';
import type { BenchModule, BenchResult } from './lib/types';

const ORDER = [
  'capacity',
  'ingest',
  'command',
  'forwarding',
  'under-load',
  'listing',
  'embedded-mongo',
  'data-scale',
  'frame-stall',
];
/** Run only when named (`npm run bench -- data-scale`): seeding and restarting at a million rows takes minutes. */
const EXPLICIT_ONLY = ['data-scale', 'embedded-store'];

function available(): string[] {
  const found = readdirSync(DIST_BENCH)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.slice(0, -'.bench.js'.length));
  return [...ORDER.filter((n) => found.includes(n)), ...found.filter((n) => !ORDER.includes(n)).sort()];
}

/** Every result in the directory (this run's and earlier ones of other benchmarks), in the usual order. */
function allResults(dir: string): BenchReport[] {
  const reports = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      try {
        return JSON.parse(readFileSync(join(dir, f), 'utf8')) as BenchReport;
      } catch {
        return undefined;
      }
    })
    .filter((r): r is BenchReport => Array.isArray(r?.rows) && typeof r?.name === 'string');
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return reports.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

class ProgressLine {
  private last = 0;
  private shown = '';
  private readonly tty = Boolean(process.stdout.isTTY);

  update(msg: string): void {
    const now = Date.now();
    if (this.tty) {
      const width = (process.stdout.columns ?? 120) - 1;
      const line = msg.length > width ? `${msg.slice(0, width - 1)}…` : msg;
      process.stdout.write(`\r${line.padEnd(Math.min(width, Math.max(this.shown.length, line.length)))}`);
      this.shown = line;
    } else if (now - this.last > 3000) {
      this.last = now;
      console.log(`  … ${msg}`);
    }
  }

  clear(): void {
    if (this.tty && this.shown) process.stdout.write(`\r${' '.repeat(this.shown.length)}\r`);
    this.shown = '';
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const names = args.filter((a) => !a.startsWith('--'));
  const all = available();
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${all.join(', ')}`);
    process.exit(2);
  }
  const selected = names.length > 0 ? names : all.filter((n) => !EXPLICIT_ONLY.includes(n));
  const outDir = quick ? join(tmpdir(), 'timmy-bench-quick-results') : RESULTS_DIR;
  mkdirSync(outDir, { recursive: true });
  const machine = machineInfo();
  console.log(
    `Timmy benchmarks${quick ? ' (quick smoke sizes: figures not meaningful)' : ''}: ${selected.join(', ')}\n` +
      `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryMB} MB, node ${machine.node}, ` +
      `database: ${machine.database}, load average ${machine.loadAverage ?? '?'}` +
      (machine.git
        ? `, code ${machine.git.commit}${machine.git.dirty ? ' + uncommitted changes in src/ or libs/' : ''}`
        : ''),
  );
  const progress = new ProgressLine();
  const reports: BenchReport[] = [];
  let failed = 0;
  for (const name of selected) {
    const started = Date.now();
    const mod = (await import(join(DIST_BENCH, `${name}.bench.js`))) as BenchModule;
    let result: BenchResult;
    let error: string | undefined;
    try {
      // A benchmark bounds its own loops; this is the last guard so a stuck one cannot hold the run.
      const own = mod.limitMs;
      const limitMs = own ? (quick ? own.quick : own.full) : quick ? 120_000 : 900_000;
      let timer: NodeJS.Timeout | undefined;
      result = await Promise.race([
        mod.run({ quick, progress: (msg) => progress.update(`${name}: ${msg}`) }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`took longer than ${limitMs / 1000}s: stopped`)), limitMs);
        }),
      ]).finally(() => clearTimeout(timer));
    } catch (e) {
      error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      result = { name, title: name, rows: [], notes: [] };
      failed++;
    } finally {
      killAll();
    }
    progress.clear();
    const report: BenchReport = {
      ...result,
      name,
      machine: machineInfo(),
      date: new Date().toISOString(),
      quick,
      durationSeconds: Math.round((Date.now() - started) / 1000),
      rows: (result.rows ?? []).map(withRatios),
      ...(error ? { error } : {}),
    };
    reports.push(report);
    writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
    const checks = (report.checks ?? []).map(
      (c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}${c.detail ? ` (${c.detail})` : ''}`,
    );
    console.log(
      `${error ? 'FAILED' : 'done'} ${name} in ${report.durationSeconds}s${error ? `: ${error}` : ''}` +
        (checks.length ? `\n${checks.join('\n')}` : ''),
    );
    if ((report.checks ?? []).some((c) => !c.ok)) failed++;
  }
  const rows = reports.flatMap(tableRows);
  console.log(`\n${textTable(rows)}\n`);
  for (const r of reports) for (const n of r.notes ?? []) console.log(`note (${r.name}): ${n}`);
  writeFileSync(join(outDir, 'table.md'), `${markdownTable(allResults(outDir).flatMap(tableRows))}\n`);
  console.log(`\nresults written to ${outDir}`);
  removeTempDirs();
  process.exit(failed > 0 ? 1 : 0);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    removeTempDirs();
    process.exit(130);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  killAll();
  removeTempDirs();
  process.exit(1);
});
