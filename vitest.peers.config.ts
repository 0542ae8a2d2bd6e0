import { defineConfig } from 'vitest/config';

// Tests that compare polybroker with a peer broker started by ../shared/peers (RabbitMQ with its
// management plugin, ...). Not part of `npm test`: a fresh machine has no peer installed.
export default defineConfig({
  test: {
    include: ['interop/**/*.peer.test.ts'],
    setupFiles: ['test/helpers/cleanup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
