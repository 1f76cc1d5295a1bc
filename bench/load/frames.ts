/** The hostile frames of the frame-stall benchmark, each the largest/worst the gateway's defaults accept. */
export type FrameKind = 'concatenated' | 'deep' | 'big-string' | 'many-strings' | 'max-sendlog' | 'over-sendlog';

export const FRAME_KINDS: Record<FrameKind, { label: string; register: boolean }> = {
  concatenated: { label: '8 MB of concatenated {"ret":"x"} objects, before registration', register: false },
  deep: { label: '8 MB of "[" (nesting), registered', register: true },
  'big-string': { label: 'one 8 MB string in an unknown request, registered', register: true },
  'many-strings': { label: '8 MB: as many strings as DEVICE_FRAME_MAX_VALUES allows, registered', register: true },
  'max-sendlog': { label: 'sendlog of DEVICE_SENDLOG_MAX_RECORDS (100) records, stored, registered', register: true },
  'over-sendlog': {
    label: 'sendlog with as many records as DEVICE_FRAME_MAX_VALUES allows (refused), registered',
    register: true,
  },
};

export function buildFrame(
  kind: FrameKind,
  sn: string,
  maxBytes: number,
  maxValues: number,
  maxRecords: number,
): string {
  const room = maxBytes - 1024;
  switch (kind) {
    case 'concatenated':
      return '{"ret":"x"}'.repeat(Math.floor(room / 11));
    case 'deep':
      return '['.repeat(room);
    case 'big-string':
      return `{"cmd":"sendbench","sn":"${sn}","x":"${'A'.repeat(room - 64)}"}`;
    case 'many-strings': {
      const count = maxValues - 10;
      const each = Math.floor((room - 64) / count) - 3;
      const item = `"${'B'.repeat(each)}"`;
      return `{"cmd":"sendbench","sn":"${sn}","a":[${new Array<string>(count).fill(item).join(',')}]}`;
    }
    case 'max-sendlog':
    case 'over-sendlog': {
      // Each record counts 5 values ({, two ':', one ',' inside, one ',' between records).
      const count = kind === 'max-sendlog' ? maxRecords : Math.floor((maxValues - 20) / 5);
      const base = Date.UTC(2025, 10, 8, 6, 0, 0);
      const records: string[] = [];
      for (let i = 0; i < count; i++) {
        const t = new Date(base + i * 1000).toISOString().slice(0, 19).replace('T', ' ');
        records.push(`{"enrollid":${1000 + i},"time":"${t}"}`);
      }
      return `{"cmd":"sendlog","sn":"${sn}","count":${count},"logindex":1,"record":[${records.join(',')}]}`;
    }
  }
}
