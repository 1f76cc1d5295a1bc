import { VirtualTerminal, type VirtualTerminalOptions } from './virtual-terminal';

export interface FleetOptions extends Omit<VirtualTerminalOptions, 'sn' | 'url'> {
  count: number;
  url: string;
  /** serial numbers are `${snPrefix}${index}` with the index zero-padded to 4 digits */
  snPrefix?: string;
  firstIndex?: number;
  /** how many terminals connect at the same time (default 50) */
  concurrency?: number;
  /** wait for every terminal's reg to be answered (default true) */
  waitForRegistration?: boolean;
}

export interface Fleet {
  terminals: VirtualTerminal[];
  closeAll(): Promise<void>;
}

/** Starts `count` virtual terminals in this process, for load generation and multi-terminal tests. */
export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const { count, url, snPrefix = 'SIM', firstIndex = 1, concurrency = 50, waitForRegistration = true, ...rest } = opts;
  const terminals = Array.from(
    { length: count },
    (_, i) => new VirtualTerminal({ ...rest, url, sn: `${snPrefix}${String(firstIndex + i).padStart(4, '0')}` }),
  );
  const fleet: Fleet = {
    terminals,
    closeAll: async () => {
      await Promise.allSettled(terminals.map((t) => t.close()));
    },
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < terminals.length) {
      const t = terminals[next++];
      const connecting = t.connect();
      if (waitForRegistration) await connecting;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  } catch (err) {
    await fleet.closeAll();
    throw err;
  }
  return fleet;
}
