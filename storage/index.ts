/** The storage layer's public surface: the Store contract, its implementation, the record codec. */
export * from './types.js';
export { LogStore } from './log-store.js';
export { CorruptSegmentError } from './errors.js';
export { StoreFailedError } from './commit-log.js';
export * from './record-batch.js';
export { Compression, compressionNames, UnsupportedCompressionError, zstdAvailable } from './compression.js';

import { LogStore } from './log-store.js';
import type { Store, StoreOptions } from './types.js';

/** Creates the store (call `open()` before use). */
export function createStore(options: StoreOptions): Store {
  return new LogStore(options);
}
export * from './timer/index.js';
