/**
 * What every benchmark module (`bench/<name>.bench.ts`) exports:
 *   export async function run(opts: BenchOptions): Promise<BenchResult>
 * The runner adds the machine, the date, the ratios and the verdicts, prints the table and writes
 * bench/results/<name>.json.
 */
export interface BenchOptions {
  /** Tiny sizes for a smoke run (well under a minute). */
  quick: boolean;
  /** One line of live progress ("ingest: 100 terminals x 10 records, product run 1: 12,345 records"). */
  progress: (msg: string) => void;
}

export type System = 'product' | 'peer' | 'bare';

export interface ResultRow {
  /** The load case, e.g. "100 terminals, 10 records/frame". */
  case: string;
  /** What is measured, e.g. "records/s", "ack p50". */
  metric: string;
  unit: string;
  better: 'higher' | 'lower';
  /** One figure per run (runs of a pair are repeated, so usually two). */
  product: number[];
  /** The minimal program doing the same protocol work and the same durable writes with the driver. */
  peer?: number[];
  /** The bare ceiling: `ws` / `node:http` only. */
  bare?: number[];
  /**
   * product / <vs> must be >= ratio (higher is better) or <= ratio (lower is better); or, with
   * `value`, the product's own figure must be >= / <= value (an absolute target, in `unit`).
   */
  target?: { vs: 'peer' | 'bare'; ratio: number } | { value: number };
}

export interface BenchResult {
  name: string;
  title: string;
  rows: ResultRow[];
  /** Checks that must hold for the figures to mean anything (e.g. "20000 records at the sink, 0 duplicates"). */
  checks?: { what: string; ok: boolean; detail?: string }[];
  notes: string[];
  /** Sizes, durations and settings used. */
  config?: Record<string, unknown>;
}

export interface BenchModule {
  run(opts: BenchOptions): Promise<BenchResult>;
  /** The runner's last-resort time limit, when a benchmark needs another than 2 min (quick) / 15 min. */
  limitMs?: { quick: number; full: number };
}
