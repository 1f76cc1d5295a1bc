/**
 * Database commands the product sends per unit of work (what the peer does with fewer is ours to
 * cut): per terminal registration, per idle last-seen round, per sendlog frame, per add-user.
 *   node dist/bench/tools/db-commands.js [terminals=100]
 */
import { join } from 'node:path';
import { TerminalFleet, httpLoad, sleep, sns } from '../lib/harness';
import { DIST_BENCH, removeTempDirs } from '../lib/paths';
import { startProduct, type ProductServer } from '../lib/product';
import { killAll } from '../lib/procs';

async function snapshot(server: ProductServer): Promise<Record<string, number>> {
  process.kill(server.pid, 'SIGUSR1');
  await sleep(700);
  const lines = server.proc
    .logTail(50_000)
    .split('\n')
    .filter((l) => l.startsWith('DBCOUNTS '));
  return lines.length ? (JSON.parse(lines[lines.length - 1].slice('DBCOUNTS '.length)) as Record<string, number>) : {};
}

function show(title: string, counts: Record<string, number>, units: number, unit: string): void {
  console.log(`\n${title} (${units} ${unit}s):`);
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  let total = 0;
  for (const [k, v] of rows) {
    if (k.startsWith('ismaster') || k.startsWith('hello')) continue;
    total += v;
    console.log(`  ${k.padEnd(34)} ${String(v).padStart(7)}  ${(v / units).toFixed(2)} per ${unit}`);
  }
  console.log(`  ${'total'.padEnd(34)} ${String(total).padStart(7)}  ${(total / units).toFixed(2)} per ${unit}`);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100);
  const server = await startProduct({
    name: 'db-commands',
    durable: true,
    execArgv: ['--require', join(DIST_BENCH, 'tools', 'db-command-counter.js')],
    env: { DEVICE_LAST_SEEN_WRITE_INTERVAL: '5s', WS_PING_INTERVAL: '2s' },
  });
  const fleet = await TerminalFleet.start(n);
  try {
    const list = sns('DBC', n);
    await sleep(1000);
    await snapshot(server);
    await fleet.connect(server.wsUrl, list);
    await sleep(1500);
    show('registration', await snapshot(server), n, 'terminal');
    await sleep(6000);
    show('idle, 6 s (one last-seen round per terminal expected)', await snapshot(server), n, 'terminal');
    const ingest = await fleet.ingest({ recordsPerFrame: 10, warmupMs: 0, durationMs: 3000 });
    await sleep(500);
    show('sendlog of 10 records', await snapshot(server), ingest.totalAcked / 10, 'frame');
    const out = await httpLoad({
      baseUrl: server.httpUrl,
      perWorker: list.map((sn) => [
        {
          method: 'POST',
          path: `/api/device/${sn}/add-user`,
          body: '{"enrollid":{seq},"name":"Bench User {seq}","aliasid":"B{seq}","backupnum":0}',
        },
      ]),
      headers: { authorization: `Bearer ${server.token}` },
      warmupMs: 0,
      durationMs: 3000,
    });
    await sleep(1000);
    show('add-user', await snapshot(server), out.total, 'operation');
  } finally {
    await fleet.stop();
    await server.stop();
    killAll();
    removeTempDirs();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  killAll();
  process.exit(1);
});
