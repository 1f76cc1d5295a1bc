/**
 * Before loading a data directory: does it fit in this process's heap? A directory that does not
 * would die of heap exhaustion halfway through loading; instead the start stops with one line
 * that gives the data size, the heap it needs and the ways out.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatMb, heapLimitBytes } from './memory-budget';

/**
 * Heap bytes per byte of snapshot/journal once loaded (documents as JavaScript objects plus
 * their index entries). Measured: 100,000 punch documents with the app's 9 indexes, 80 MB of
 * snapshot, 509 MB of live heap once loaded (6.35). Change it with the in-memory representation.
 */
export const LOAD_FACTOR = 6.5;
/** Part of the heap the loaded data may take; the rest is for the app and for loading itself. */
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

/** Heap needed to load a data directory of `bytes` on disk. */
export function heapNeededFor(bytes: number): number {
  return Math.ceil((bytes * LOAD_FACTOR) / LOADABLE_SHARE);
}

export class DataTooLargeError extends Error {}

export async function checkDataFits(dir: string, heapLimit = heapLimitBytes()): Promise<void> {
  const bytes = await dataBytes(dir);
  const needed = heapNeededFor(bytes);
  if (needed <= heapLimit) return;
  const neededMb = Math.ceil(needed / 1048576);
  throw new DataTooLargeError(
    `data directory ${path.resolve(dir)} holds ${formatMb(bytes)} on disk and needs about ${neededMb} MB of heap to load, ` +
      `but this process may use ${formatMb(heapLimit)} (machine: ${formatMb(os.totalmem())}): ` +
      `raise HEAP_MEMORY_SHARE (npm start / npm run db) or start node with --max-old-space-size=${neededMb}, ` +
      'use a machine with more memory, or move to MongoDB (npm run db:export)',
  );
}
