import { defineConfig } from 'vitest/config';

// The machine has 2 cores shared by the broker children the tests spawn, so at most 2 workers.
// Forks (not threads) because tests spawn and signal child processes and open many sockets.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'interop/**/*.test.ts'],
    // *.peer.test.ts need a peer broker installed and started (../shared/peers): `npm run test:peers`.
    exclude: ['node_modules/**', 'dist/**', '**/*.peer.test.ts'],
    // Removes the temp data dirs that test/helpers/broker.ts made, after each test file.
    setupFiles: ['test/helpers/cleanup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    // Interop tests start a broker child and drive it with stock clients (some in Python).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
