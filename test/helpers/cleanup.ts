import { afterAll } from 'vitest';
import { removeTempDirs } from './broker.js';

// Registered before each test file's own hooks, so with vitest's stacked hook order it runs
// after them: brokers are stopped by then and their data dirs can go.
afterAll(() => removeTempDirs());
