import type { Store } from '../../storage/types.js';
import type { Core, CoreOptions } from './api.js';

/**
 * Creates the core on a Store (not yet opened). Call `open()` before use.
 * The implementation lands in the following commits.
 */
export function createCore(store: Store, options: CoreOptions = {}): Core {
  void store;
  void options;
  throw new Error('createCore: implementation in progress');
}
