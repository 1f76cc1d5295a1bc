/** Deterministic punches: record r of a terminal is unique (its time is base + r seconds). */
const BASE = Date.UTC(2024, 0, 1, 6, 0, 0);

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function recordTime(r: number): string {
  const d = new Date(BASE + r * 1000);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

export function punch(r: number): Record<string, unknown> {
  return { enrollid: 1 + (r % 997), time: recordTime(r), mode: 1, inout: r % 2, event: 0, verifymode: 1 };
}
