import { type EmbeddedMongo, type EmbeddedMongoOptions, launch } from './launcher';

export type { EmbeddedMongo, EmbeddedMongoOptions } from './launcher';
export { socketUri, SOCKET_NAME } from './launcher';
export {
  formatMb,
  type MemoryState,
  type MemoryStatus,
  parseSize,
  REFUSE_RATIO,
  STORAGE_FULL_CODE,
  WARN_RATIO,
} from './memory-budget';
export { DataTooLargeError } from './load-check';

/**
 * Starts the embedded MongoDB-compatible server inside this process and resolves once it listens.
 * `start({ port: 0 })` picks an ephemeral port; connect with `mongoose.connect(uri + '/<db>')`.
 */
export function start(opts: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  return launch(opts);
}
export { encodeRecord } from './journal';
export { journalObserver } from './journal-observer';
