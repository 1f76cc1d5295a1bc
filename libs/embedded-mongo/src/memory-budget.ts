/**
 * The embedded database's memory budget. Everything it stores lives in this process's memory, so
 * past a point a write would exhaust the heap and kill the process (and a data directory that
 * grew that far could no longer be loaded). The budget turns that cliff into states:
 *   ok      below WARN_RATIO of the budget;
 *   warning from WARN_RATIO: a log line, `degraded` for the health check;
 *   full    from REFUSE_RATIO: writes that add data are refused (code 14031), reads and deletes work.
 * Memory in use is the process's live JavaScript heap plus its array buffers. The heap figure
 * counts garbage too, so near a threshold a full garbage collection settles the live figure
 * (throttled, so a large heap is not collected over and over).
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { CommandError } from './errors';

export const WARN_RATIO = 0.8;
export const REFUSE_RATIO = 0.95;
/** Default budget: this share of the heap limit (the rest is for the app, compaction and bursts). */
export const DEFAULT_HEAP_SHARE = 0.75;
/** mongod's code for a write refused because storage is exhausted. */
export const STORAGE_FULL_CODE = 14031;

export type MemoryState = 'ok' | 'warning' | 'full';

export interface MemoryStatus {
  state: MemoryState;
  /** `state !== 'ok'`: what a health check reports. */
  degraded: boolean;
  usedBytes: number;
  limitBytes: number;
  /** usedBytes / limitBytes. */
  ratio: number;
  /** Writes refused since the process started. */
  refusedWrites: number;
}

export interface MemoryBudgetOptions {
  /** Budget in bytes; default DEFAULT_HEAP_SHARE of the heap limit. */
  limitBytes?: number;
  log?: (msg: string) => void;
  /** Memory in use, in bytes (tests); default: heap used + array buffers. */
  measure?: () => number;
  /** A full collection before trusting a figure near a threshold (tests may pass a no-op). */
  collect?: () => void;
}

let gcFn: (() => void) | undefined;
/** A full garbage collection (exposes V8's gc to this process on first use). */
export function fullGc(): void {
  if (!gcFn) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gcFn = exposed;
    else {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

function measureProcess(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export function heapLimitBytes(): number {
  return v8.getHeapStatistics().heap_size_limit;
}

export function formatMb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

export class MemoryBudget {
  private limit: number;
  private used = 0;
  private state: MemoryState = 'ok';
  private measuredAt = 0;
  private collectedAt = 0;
  private lastCollectMs = 0;
  private refused = 0;
  private readonly log: (msg: string) => void;
  private readonly measure: () => number;
  private readonly collect: () => void;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: MemoryBudgetOptions = {}) {
    this.limit = opts.limitBytes ?? Math.floor(heapLimitBytes() * DEFAULT_HEAP_SHARE);
    this.log = opts.log ?? (() => undefined);
    this.measure = opts.measure ?? measureProcess;
    this.collect = opts.collect ?? fullGc;
  }

  get limitBytes(): number {
    return this.limit;
  }

  /** Re-evaluates every `intervalMs` so the state (and the health check) follows deletes and garbage. */
  startMonitor(intervalMs = 1000): void {
    this.stopMonitor();
    this.timer = setInterval(() => this.refresh(true), intervalMs);
    this.timer.unref();
  }

  stopMonitor(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A new budget (an operator raised it); takes effect at once. */
  setLimit(bytes: number): void {
    this.limit = bytes;
    this.refresh(true);
  }

  status(): MemoryStatus {
    return {
      state: this.state,
      degraded: this.state !== 'ok',
      usedBytes: this.used,
      limitBytes: this.limit,
      ratio: this.limit > 0 ? this.used / this.limit : 1,
      refusedWrites: this.refused,
    };
  }

  /**
   * Measures (at most every 100 ms unless `force`) and moves between states. Above the warning
   * threshold the raw figure includes garbage, so it is settled by a full collection, no more than
   * once a second and no more than 2% of the time.
   */
  refresh(force = false): MemoryState {
    const now = Date.now();
    if (!force && now - this.measuredAt < 100) return this.state;
    this.measuredAt = now;
    let used = this.measure();
    if (used >= this.limit * WARN_RATIO) {
      const wait = Math.max(1000, this.lastCollectMs * 50);
      if (now - this.collectedAt >= wait) {
        const t0 = Date.now();
        this.collect();
        this.lastCollectMs = Date.now() - t0;
        this.collectedAt = Date.now();
        used = this.measure();
      } else if (this.state !== 'full' && used < this.limit * REFUSE_RATIO) {
        // Between collections keep the settled state unless the raw figure crossed into refusal.
        this.used = used;
        return this.state;
      }
    }
    this.used = used;
    const next: MemoryState =
      used >= this.limit * REFUSE_RATIO ? 'full' : used >= this.limit * WARN_RATIO ? 'warning' : 'ok';
    if (next !== this.state) this.announce(this.state, next);
    this.state = next;
    return next;
  }

  /** Throws the storage-full error when a write that adds data must be refused. */
  admitWrite(): void {
    if (this.refresh() !== 'full') return;
    this.refused++;
    throw new CommandError(STORAGE_FULL_CODE, 'OutOfDiskSpace', this.fullMessage());
  }

  fullMessage(): string {
    return (
      `embedded database memory budget exhausted (${formatMb(this.used)} of ${formatMb(this.limit)} in use): ` +
      'new writes are refused, reads and deletes still work; free space by deleting old data ' +
      '(PUNCH_RETENTION_DAYS), raise the budget (EMBEDDED_DB_MAX_MEMORY, HEAP_MEMORY_SHARE) or move to MongoDB (npm run db:export)'
    );
  }

  private announce(from: MemoryState, to: MemoryState): void {
    const figures = `${formatMb(this.used)} of ${formatMb(this.limit)} (${Math.round((this.used / this.limit) * 100)}%)`;
    if (to === 'full') this.log(`memory budget: ${figures} in use; ${this.fullMessage()}`);
    else if (to === 'warning')
      this.log(
        `memory budget: ${figures} in use, over ${WARN_RATIO * 100}%${from === 'full' ? '; writes are accepted again' : ''}: plan for retention or MongoDB`,
      );
    else
      this.log(`memory budget: ${figures} in use; back to normal${from === 'full' ? ', writes accepted again' : ''}`);
  }
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1048576,
  m: 1048576,
  gb: 1073741824,
  g: 1073741824,
};

/** `536870912`, `512MB`, `512m`, `2GB`, `1.5g` as bytes; undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = SIZE_UNITS[(m[2] || 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(m[1]) * unit);
}
