/**
 * The longest stretches a V8 CPU profile spent without going idle (what held the event loop), and
 * what ran in each: the top functions by self time and the deepest frames of our code.
 *   node dist/bench/tools/profile-stalls.js <file.cpuprofile> [stretches=5] [top=8]
 */
import { readCpuProfile, type ProfileNode } from '../lib/cpu-profile';

interface Stretch {
  startUs: number;
  durUs: number;
  samples: Array<{ node: number; us: number }>;
}

function label(n: ProfileNode): string {
  const url = n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
}

function main(): void {
  const [file, stretchArg, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-stalls <file.cpuprofile> [stretches] [top]');
  const prof = readCpuProfile(file);
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const idle = (id: number): boolean => byId.get(id)?.callFrame.functionName === '(idle)';

  const stretches: Stretch[] = [];
  let cur: Stretch | undefined;
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    const id = prof.samples[i];
    if (idle(id)) {
      if (cur) stretches.push(cur);
      cur = undefined;
      continue;
    }
    cur ??= { startUs: t, durUs: 0, samples: [] };
    const next = prof.timeDeltas[i + 1] ?? 0;
    cur.durUs += next;
    cur.samples.push({ node: id, us: next });
  }
  if (cur) stretches.push(cur);
  stretches.sort((a, b) => b.durUs - a.durUs);
  const top = Number(topArg ?? 8);
  for (const s of stretches.slice(0, Number(stretchArg ?? 5))) {
    console.log(
      `\n== ${(s.durUs / 1000).toFixed(1)} ms busy, starting ${((s.startUs - prof.startTime) / 1e6).toFixed(2)} s into the profile`,
    );
    const self = new Map<number, number>();
    const ours = new Map<string, number>();
    for (const { node, us } of s.samples) {
      self.set(node, (self.get(node) ?? 0) + us);
      // The innermost frame of the product's own code (src/ or libs/) on this sample's stack.
      for (let id: number | undefined = node; id !== undefined; id = parent.get(id)) {
        const n = byId.get(id)!;
        if (/dist\/(src|libs)\//.test(n.callFrame.url)) {
          const l = label(n);
          ours.set(l, (ours.get(l) ?? 0) + us);
          break;
        }
      }
    }
    const show = (m: Map<string, number>, title: string): void => {
      console.log(`  ${title}`);
      for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
        console.log(`    ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
      }
    };
    const selfByLabel = new Map<string, number>();
    for (const [id, us] of self) {
      const l = label(byId.get(id)!);
      selfByLabel.set(l, (selfByLabel.get(l) ?? 0) + us);
    }
    show(selfByLabel, 'self time');
    show(ours, 'innermost product frame');
  }
}

main();
