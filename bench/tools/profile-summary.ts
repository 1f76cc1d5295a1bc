/**
 * Summarises a V8 CPU profile (from BENCH_CPU_PROF=<dir> npm run bench -- <name>): self time by
 * area (our src/, each lib, each npm package, node internals, GC, idle) and the top functions.
 *   node dist/bench/tools/profile-summary.js <file.cpuprofile> [top]
 */
import { readCpuProfile } from '../lib/cpu-profile';

function area(url: string, fn: string): string {
  if (fn === '(garbage collector)') return '(gc)';
  if (fn === '(idle)' || fn === '(program)' || fn === '(root)') return fn;
  if (!url) return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  const lib = /dist\/libs\/([^/]+)/.exec(url);
  if (lib) return `libs/${lib[1]}`;
  const src = /dist\/src\/([^/]+)/.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

function main(): void {
  const file = process.argv[2];
  const top = Number(process.argv[3] ?? 25);
  if (!file) {
    console.error('usage: node dist/bench/tools/profile-summary.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const prof = readCpuProfile(file);
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const a = area(n.callFrame.url, n.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
    const short = n.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${short}:${n.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const busy = total - (areas.get('(idle)') ?? 0);
  const pct = (us: number) => `${((us * 100) / Math.max(1, busy)).toFixed(1)}%`;
  console.log(
    `profile ${file}: ${(total / 1e6).toFixed(1)}s sampled, ${(busy / 1e6).toFixed(1)}s busy (percentages of busy time)`,
  );
  console.log('\nby area:');
  for (const [a, us] of [...areas]
    .filter(([a]) => a !== '(idle)')
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)) {
    console.log(`  ${pct(us).padStart(6)}  ${a}`);
  }
  console.log('\ntop functions (self time):');
  for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) {
    if (f.startsWith('(idle)')) continue;
    console.log(`  ${pct(us).padStart(6)}  ${f}`);
  }
}

main();
