/**
 * Group convergence: a group of 3 terminals holding the same 1,000 users; one is wiped (or loses a
 * tenth of its users), and the time until it again holds exactly what the others hold is measured.
 * Product: POST /api/device-sync/plan (fresh reads of source and target) + /apply, until the parent
 * operation finished. Baseline (the "peer" column here): the same pushes through the existing route,
 * POST /api/transfer-users from a healthy member (all users, copy), until its parent finished.
 * Both run in the same product server, against the same virtual terminals, alternating.
 */
import { generateUsers, type SimUser, VirtualTerminal } from '@app/device-simulator';
import { httpJson, pollUntil } from './lib/http';
import { startProduct, ProductServer } from './lib/product';
import type { BenchOptions, BenchResult, ResultRow } from './lib/types';

function snapshot(u: SimUser): string {
  return JSON.stringify([u.enrollid, u.name, u.admin, [...u.credentials].sort((a, b) => a.backupnum - b.backupnum)]);
}

function sameUsers(a: VirtualTerminal, b: VirtualTerminal): boolean {
  if (a.users.size !== b.users.size) return false;
  for (const [id, u] of a.users) {
    const other = b.users.get(id);
    if (!other || snapshot(u) !== snapshot(other)) return false;
  }
  return true;
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const userCount = opts.quick ? 100 : 1000;
  // One terminal holds one command at a time: 1,000 users are thousands of exchanges in a row, minutes on
  // the shared 2 cores. The full run measures the wipe once per system; --quick adds the partial case.
  const runs = opts.quick ? 2 : 1;
  const rows: ResultRow[] = [];
  const checks: NonNullable<BenchResult['checks']> = [];
  const notes: string[] = [];
  const cut: string[] = [];

  opts.progress('starting product (durable data dir)');
  const product: ProductServer = await startProduct({
    name: 'group-sync',
    durable: true,
    env: { GROUP_DRIFT_INTERVAL: '0', GROUP_SYNC_RECONCILE_INTERVAL: '500ms', OP_WAIT_TIMEOUT: '300s' },
  });
  const users = generateUsers(userCount, 'group-bench');
  const credentials = users.reduce((n, u) => n + u.credentials.length, 0);
  const sns = ['GRPBENCHA', 'GRPBENCHB', 'GRPBENCHC'];
  const terminals = sns.map((sn) => new VirtualTerminal({ sn, url: product.wsUrl, users }));
  const [a, , c] = terminals;
  const auth = { authorization: `Bearer ${product.token}` };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await httpJson(method, `${product.httpUrl}${path}`, { body, headers: auth, timeoutMs: 600_000 });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.body.slice(0, 300)}`);
    return res.json;
  };
  // The runner stops a benchmark after 15 minutes: a run that takes longer is cut here and reported
  // as a lower bound instead of failing the whole benchmark.
  const capMs = opts.quick ? 120_000 : 360_000;
  const finished = (opId: string) =>
    pollUntil(
      `operation ${opId}`,
      async () => {
        const { op } = await call('GET', `/api/operations/${opId}`);
        return op.status !== 'pending' ? (op as { status: string }) : undefined;
      },
      capMs,
      50,
    ).catch(() => ({ status: 'cut' }));

  try {
    await Promise.all(terminals.map((t) => t.connect()));
    // Propagation off: the measured work is the repair only (pushes into C must not fan out to A and B).
    await call('POST', '/api/device-groups', { name: 'bench site', sns, syncUsers: false });

    const cases: { label: string; damage: () => number }[] = [
      {
        label: `wipe of one terminal (${userCount} users)`,
        damage: () => {
          const n = c.users.size;
          c.users.clear();
          return n;
        },
      },
      {
        label: `a tenth of the users removed from one terminal (of ${userCount})`,
        damage: () => {
          let removed = 0;
          for (const id of [...c.users.keys()]) if (id % 10 === 3 && c.users.delete(id)) removed++;
          return removed;
        },
      },
    ].slice(0, opts.quick ? 2 : 1);
    for (const { label, damage } of cases) {
      const repair: number[] = [];
      const transfer: number[] = [];
      for (let r = 0; r < runs; r++) {
        for (const sys of ['product', 'peer'] as const) {
          const step = `${label}, ${sys === 'product' ? 'plan+apply' : 'transfer route'} run ${r + 1}`;
          const removed = damage();
          opts.progress(`${step}: ${removed} users removed from C`);
          const started = performance.now();
          let pushed = 0;
          if (sys === 'product') {
            const { plan } = await call('POST', '/api/device-sync/plan', { fromSn: sns[0], toSn: sns[2] });
            const applied = await call('POST', '/api/device-sync/apply', { planId: plan._id });
            const op = await finished(applied.opId as string);
            if (op.status !== 'success') throw new Error(`${step}: apply ended ${op.status}`);
            pushed = applied.total as number;
          } else {
            const res = await call('POST', '/api/transfer-users', {
              fromSn: sns[0],
              toSn: sns[2],
              deleteFromSource: false,
            });
            const op = await finished(res.opId as string);
            if (op.status === 'cut') {
              cut.push(step);
              await call('POST', `/api/operations/${res.opId as string}/cancel`).catch(() => undefined);
            } else if (op.status !== 'success') throw new Error(`${step}: transfer ended ${op.status}`);
            pushed = credentials;
          }
          const seconds = (performance.now() - started) / 1000;
          (sys === 'product' ? repair : transfer).push(Math.round(seconds * 100) / 100);
          if (cut.includes(step)) {
            opts.progress(`${step}: not converged after ${seconds.toFixed(1)} s (cut)`);
            // The next case starts from a converged C, whatever the cut run left.
            for (const u of a.users.values()) c.store.putUser(u);
            continue;
          }
          opts.progress(`${step}: converged in ${seconds.toFixed(1)} s (${pushed} credential pushes)`);
          const ok = sameUsers(a, c);
          checks.push({
            what: `${step}: C holds exactly A's ${userCount} users afterwards`,
            ok,
            detail: `${pushed} credential pushes, ${seconds.toFixed(2)} s`,
          });
          if (!ok) throw new Error(`${step}: C does not hold A's users`);
        }
      }
      rows.push({
        case: `3 terminals, ${label}; peer column = the transfer route`,
        metric: 'time to converge',
        unit: 's',
        better: 'lower',
        product: repair,
        peer: transfer,
      });
    }
    for (const step of cut) {
      notes.push(
        `${step}: its parent operation had not finished ${capMs / 1000} s after the route answered; canceled, and the time until then is given (a lower bound).`,
      );
    }
    notes.push(
      'The "peer" column of this benchmark is not the driver peer: it is the existing POST /api/transfer-users ' +
        '(copy of every user from a healthy member) in the same product, the bare way to converge before groups.',
      'plan+apply reads source and target (getuserlist with every credential), then pushes only what differs; ' +
        'the transfer reads the source and pushes every credential. Both wait until the parent operation finished.',
      `Users: ${userCount}, ${credentials} credentials (fingerprints, cards, passwords, photos). The machine is shared; figures are noisy.`,
    );
  } finally {
    await Promise.allSettled(terminals.map((t) => t.close()));
    await product.stop();
  }
  return {
    name: 'group-sync',
    title: 'Group convergence after a wipe',
    rows,
    checks,
    notes,
    config: { users: userCount, terminals: 3, runs },
  };
}
