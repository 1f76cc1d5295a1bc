/**
 * Before loading a data directory: does it fit in this process's heap? A directory that does not
 * would die of heap exhaustion halfway through loading; instead the start stops with one line
 * that gives the data size, the heap it needs and the ways out.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatMb, fullGc, heapLimitBytes } from './memory-budget';

/**
 * Memory per byte of snapshot/journal once loaded (documents packed as BSON in slabs, key columns,
 * index entries). Measured with a million punches and a million operations and the app's indexes
 * (`npm run bench -- embedded-store`): about 610 bytes of snapshot and 880 bytes of memory per row
 * (1.45), with room for the load's working arrays. Binary data (photos) costs less, so this only
 * estimates the memory to ask for; the load itself is watched (see `loadGuard`).
 */
export const LOAD_FACTOR = 1.8;
/** Part of the heap the loading data may fill before the load is stopped. */
const LOADABLE_SHARE = 0.9;

const DATA_FILE = /^(snapshot\.bson|journal\.\d{10})$/;

/** Bytes of snapshot and journals in a data directory (0 when it does not exist). */
export async function dataBytes(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  let total = 0;
  for (const n of names) {
    if (!DATA_FILE.test(n)) continue;
    total += (await fsp.stat(path.join(dir, n))).size;
  }
  return total;
}

/** Heap to ask for to load a data directory of `bytes` on disk (an estimate, see LOAD_FACTOR). */
export function heapNeededFor(bytes: number): number {
  return Math.ceil((bytes * LOAD_FACTOR) / LOADABLE_SHARE);
}

export class DataTooLargeError extends Error {}

function tooLarge(dir: string, bytes: number, heapLimit: number, how: string): DataTooLargeError {
  const neededMb = Math.ceil(Math.max(heapNeededFor(bytes), heapLimit * 1.25) / 1048576);
  return new DataTooLargeError(
    `data directory ${path.resolve(dir)} holds ${formatMb(bytes)} on disk and ${how}; it needs about ${neededMb} MB of heap, ` +
      `this process may use ${formatMb(heapLimit)} (machine: ${formatMb(os.totalmem())}): ` +
      `raise HEAP_MEMORY_SHARE (npm start / npm run db) or start node with --max-old-space-size=${neededMb}, ` +
      'use a machine with more memory, or move to MongoDB (npm run db:export)',
  );
}

/**
 * Before loading: data that cannot fit whatever its shape (more bytes than the heap) is refused at
 * once; anything else is loaded under `loadGuard`.
 */
export async function checkDataFits(dir: string, heapLimit = heapLimitBytes()): Promise<number> {
  const bytes = await dataBytes(dir);
  if (bytes > heapLimit * LOADABLE_SHARE) {
    throw tooLarge(dir, bytes, heapLimit, 'cannot fit in this heap');
  }
  return bytes;
}

/**
 * Watches a load: called once per applied record, it measures the heap every few thousand records
 * and stops the load (DataTooLargeError, one line) before the heap is exhausted, instead of dying.
 */
export function loadGuard(
  dir: string,
  bytes: number,
  heapLimit = heapLimitBytes(),
  measure: () => number = () => process.memoryUsage().heapUsed,
): () => void {
  let n = 0;
  return () => {
    if (++n % 5000 !== 0) return;
    if (measure() < heapLimit * LOADABLE_SHARE) return;
    fullGc();
    if (measure() >= heapLimit * LOADABLE_SHARE) {
      throw tooLarge(
        dir,
        bytes,
        heapLimit,
        `filled ${Math.round(LOADABLE_SHARE * 100)}% of the heap before it was loaded`,
      );
    }
  };
}
