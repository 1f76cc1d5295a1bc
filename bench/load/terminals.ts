/**
 * Load generator process: holds many terminals (VirtualTerminal or RawTerminal) and drives them on request from the
 * benchmark (IPC): connect/register, closed-loop sendlog, command answering, close.
 */
import { childProgress, serveIpc } from '../lib/ipc-child';
import { punch } from './records';
import { RawTerminal } from './raw-terminal';
import { SimTerminal } from './sim-terminal';

type Terminal = RawTerminal | SimTerminal;
let terminals: Terminal[] = [];

async function connectAll(p: Record<string, unknown>): Promise<unknown> {
  const url = String(p.url);
  const sns = p.sns as string[];
  const concurrency = Number(p.concurrency ?? 100);
  const timeoutMs = Number(p.timeoutMs ?? 30_000);
  // 'sim' = libs/device-simulator's VirtualTerminal; 'raw' = the lean RawTerminal for many thousands.
  const make = (sn: string): Terminal => (p.impl === 'raw' ? new RawTerminal(sn, url) : new SimTerminal(sn, url));
  const deadline = Date.now() + Number(p.deadlineMs ?? 300_000);
  const started = Date.now();
  const before = terminals.length;
  const regMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < sns.length && Date.now() < deadline) {
      const sn = sns[next++];
      const t = make(sn);
      const t0 = performance.now();
      try {
        await t.connect(timeoutMs);
        regMs.push(performance.now() - t0);
        terminals.push(t);
      } catch (e) {
        t.terminate();
        if (errors.length < 20) errors.push(e instanceof Error ? e.message : String(e));
      }
      childProgress(`${terminals.length}/${sns.length} registered`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sns.length) }, worker));
  regMs.sort((a, b) => a - b);
  return {
    connected: terminals.length - before,
    held: terminals.length,
    requested: sns.length,
    failed: sns.length - (terminals.length - before),
    errors,
    ms: Date.now() - started,
    regP50: regMs[Math.floor(regMs.length / 2)] ?? null,
    regP95: regMs[Math.min(regMs.length - 1, Math.floor(regMs.length * 0.95))] ?? null,
    regP99: regMs[Math.min(regMs.length - 1, Math.floor(regMs.length * 0.99))] ?? null,
    regMax: regMs[regMs.length - 1] ?? null,
  };
}

/**
 * Every terminal sends a frame, waits for its ack, sends the next (closed loop). Acks received in
 * [warmup, warmup+duration] are measured; all frames are counted for the exactly-once check.
 */
async function ingest(p: Record<string, unknown>): Promise<unknown> {
  const perFrame = Number(p.recordsPerFrame);
  const warmupMs = Number(p.warmupMs ?? 0);
  const durationMs = Number(p.durationMs);
  const ackTimeoutMs = Number(p.ackTimeoutMs ?? 30_000);
  const maxFramesPerTerminal = Number(p.maxFramesPerTerminal ?? 1_000_000);
  const startAt = Number(p.firstRecord ?? 0);
  const t0 = Date.now();
  const windowStart = t0 + warmupMs;
  const windowEnd = windowStart + durationMs;
  const latencies: number[] = [];
  let measuredRecords = 0;
  let refused = 0;
  let timeouts = 0;
  const acked: Record<string, number> = {};
  const sent: Record<string, number> = {};
  const loop = async (t: Terminal) => {
    let r = startAt;
    let frames = 0;
    acked[t.sn] = 0;
    sent[t.sn] = 0;
    while (Date.now() < windowEnd && frames < maxFramesPerTerminal && t.open) {
      const records = Array.from({ length: perFrame }, (_, i) => punch(r + i));
      const s = performance.now();
      sent[t.sn] += perFrame;
      try {
        const ack = await t.sendLogs(records, ackTimeoutMs);
        const ms = performance.now() - s;
        if (ack.result === true) {
          acked[t.sn] += perFrame;
          const at = Date.now();
          if (at >= windowStart && at < windowEnd) {
            latencies.push(ms);
            measuredRecords += perFrame;
          }
        } else refused++;
      } catch {
        timeouts++;
        break;
      }
      r += perFrame;
      frames++;
      childProgress(`${measuredRecords.toLocaleString('en-US')} records acked in the measured window`);
    }
  };
  await Promise.all(terminals.map(loop));
  return {
    latencies,
    measuredRecords,
    windowMs: durationMs,
    refused,
    timeouts,
    acked,
    sent,
  };
}

async function stats(): Promise<unknown> {
  const commands: Record<string, number> = {};
  for (const t of terminals) for (const [cmd, n] of t.commands) commands[cmd] = (commands[cmd] ?? 0) + n;
  return {
    open: terminals.filter((t) => t.open).length,
    closedUnexpectedly: terminals.filter((t) => t.closedUnexpectedly).length,
    total: terminals.length,
    commands,
    rss: process.memoryUsage().rss,
  };
}

async function closeAll(): Promise<unknown> {
  const n = terminals.length;
  for (const t of terminals) t.close();
  const deadline = Date.now() + 5000;
  while (terminals.some((t) => t.open) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const t of terminals) t.terminate();
  terminals = [];
  return { closed: n };
}

serveIpc({ connect: connectAll, ingest, stats, close: closeAll });
