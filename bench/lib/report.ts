import type { BenchResult, ResultRow } from './types';
import type { MachineInfo } from './machine';
import { round } from './stats';

export interface RowReport extends ResultRow {
  /** product / peer for each run pair. */
  ratioPeer?: number[];
  ratioBare?: number[];
  targetMet?: boolean;
}

export interface BenchReport extends Omit<BenchResult, 'rows'> {
  machine: MachineInfo;
  date: string;
  quick: boolean;
  durationSeconds: number;
  rows: RowReport[];
  error?: string;
}

function ratios(a: number[], b: number[] | undefined): number[] | undefined {
  if (!b || b.length === 0) return undefined;
  return a.map((v, i) => {
    const d = b[Math.min(i, b.length - 1)];
    return d === undefined || d === 0 ? NaN : round(v / d, 3);
  });
}

export function withRatios(row: ResultRow): RowReport {
  const ratioPeer = ratios(row.product, row.peer);
  const ratioBare = ratios(row.product, row.bare);
  let targetMet: boolean | undefined;
  const target = row.target;
  if (target) {
    const [figures, bound] =
      'value' in target ? [row.product, target.value] : [target.vs === 'peer' ? ratioPeer : ratioBare, target.ratio];
    if (figures && figures.length > 0) {
      targetMet = figures.every((r) => (row.better === 'higher' ? r >= bound : Number.isFinite(r) && r <= bound));
    }
  }
  return { ...row, ratioPeer, ratioBare, targetMet };
}

export function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

const list = (xs: number[] | undefined) => (xs && xs.length ? xs.map(fmt).join(' / ') : '-');
const ratioList = (xs: number[] | undefined) => (xs && xs.length ? xs.map((x) => `${fmt(x)}x`).join(' / ') : '-');

function targetText(r: RowReport): string {
  if (!r.target) return '';
  const op = r.better === 'higher' ? '>=' : '<=';
  const verdict = r.targetMet === undefined ? '?' : r.targetMet ? 'met' : 'MISSED';
  if ('value' in r.target) return `${op} ${fmt(r.target.value)} ${r.unit}: ${verdict}`;
  return `${op} ${r.target.ratio}x ${r.target.vs}: ${verdict}`;
}

export function tableRows(report: BenchReport): string[][] {
  return report.rows.map((r) => [
    report.name,
    r.case,
    `${r.metric} (${r.unit})`,
    list(r.product),
    list(r.peer),
    list(r.bare),
    ratioList(r.ratioPeer),
    ratioList(r.ratioBare),
    targetText(r),
  ]);
}

export const TABLE_HEAD = ['bench', 'case', 'metric', 'product', 'peer', 'bare', 'prod/peer', 'prod/bare', 'target'];

export function textTable(rows: string[][], head = TABLE_HEAD): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function markdownTable(rows: string[][], head = TABLE_HEAD): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
