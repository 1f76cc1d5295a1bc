import { round } from './stats';
import type { ResultRow, System } from './types';

/** One figure per run, for each of the three systems. */
export type RunFigures<T> = Record<System, T[]>;

interface RateAndLatency<T> {
  rate: { metric: string; unit: string; get: (x: T) => number };
  p50: { metric: string; get: (x: T) => number };
  p99: { metric: string; get: (x: T) => number };
}

/**
 * The three rows most benchmarks report for one load case: a throughput (target >= 0.5x the peer),
 * its p50 latency (target <= 2x the peer) and its p99, each with the product's, peer's and bare figures.
 */
export function rateAndLatencyRows<T>(caseLabel: string, figs: RunFigures<T>, spec: RateAndLatency<T>): ResultRow[] {
  const pick = (sys: System, get: (x: T) => number) => figs[sys].map((x) => round(get(x), 2));
  const figures = (get: (x: T) => number) => ({
    product: pick('product', get),
    peer: pick('peer', get),
    bare: pick('bare', get),
  });
  return [
    {
      case: caseLabel,
      metric: spec.rate.metric,
      unit: spec.rate.unit,
      better: 'higher',
      ...figures(spec.rate.get),
      target: { vs: 'peer', ratio: 0.5 },
    },
    {
      case: caseLabel,
      metric: spec.p50.metric,
      unit: 'ms',
      better: 'lower',
      ...figures(spec.p50.get),
      target: { vs: 'peer', ratio: 2 },
    },
    { case: caseLabel, metric: spec.p99.metric, unit: 'ms', better: 'lower', ...figures(spec.p99.get) },
  ];
}
