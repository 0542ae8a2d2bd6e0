/** The durable timer (timer log + time wheel) and its clocks. */
export { TimerStore, type TimerStoreOptions, type DueTimer, type PendingTimer } from './timer-store.js';
export { systemClock, ManualClock, type TimerClock } from './clock.js';
